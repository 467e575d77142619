//! Interrupt-driven PL011: heapless receive and transmit rings between the
//! UART's interrupt and the application.
//!
//! The owner (a platform) keeps a [`BufferedPl011`] where both its
//! interrupt handler and the application reach it exclusively (e.g. behind
//! a lock that masks interrupts), calls [`BufferedPl011::enable_interrupts`]
//! once, routes the UART's interrupt line to [`BufferedPl011::on_interrupt`],
//! and reads and writes through the non-blocking [`BufferedPl011::read_buffered`]
//! and [`BufferedPl011::queue`], sleeping between calls. The blocking
//! `embedded_io` impls (in `buffered_io.rs`) poll the FIFOs themselves when
//! they have to wait, so they also work with interrupts masked.
//!
//! Reception (TRM 3.4.2, 3.4.3): RXIM (FIFO at its UARTIFLS level) and RTIM
//! (data waiting, line idle) trigger a drain of the receive FIFO into the
//! receive ring. When the ring is full the drain stops and reception is
//! masked, so the rest waits in the UART's FIFO: a sender with flow control
//! then waits, one without makes the UART report an overrun, which is
//! counted. Taking bytes out of the ring drains the FIFO again and unmasks.
//!
//! Transmission (TRM 3.4.4): queued bytes go straight into the transmit
//! FIFO while it has room; the rest waits in the transmit ring with TXIM
//! unmasked, and each transmit interrupt (the FIFO drained through its
//! level) refills the FIFO. TXIM is masked again as soon as the ring is
//! empty: the transmit interrupt is raised by the FIFO *draining*, so it
//! cannot be used to start a transfer, and leaving it unmasked with nothing
//! to send would be pointless (or, on level-style models, a storm).

use heapless::Deque;

use crate::regs::{DR, IFLS, Registers};
use crate::{Error, Interrupts, Pl011};

/// Line errors remembered between the interrupt handler and the reader.
const ERROR_QUEUE_LEN: usize = 4;

/// The sources used for reception: level, timeout and line errors.
const RECEIVE_INTERRUPTS: Interrupts =
    Interrupts::RECEIVE.union(Interrupts::RECEIVE_TIMEOUT).union(Interrupts::ERRORS);

/// A line error and where it happened in the received byte stream.
#[derive(Clone, Copy, Debug)]
struct LineError {
    /// The number of bytes pushed into the receive ring before the error
    /// (wrapping), so that it is reported exactly between its neighbours.
    position: u32,
    error: Error,
}

/// A PL011 with a receive ring of `RECEIVE_LEN` bytes and a transmit ring of
/// `TRANSMIT_LEN` bytes, filled and drained by its interrupt.
pub struct BufferedPl011<R, const RECEIVE_LEN: usize, const TRANSMIT_LEN: usize> {
    uart: Pl011<R>,
    receive: Deque<u8, RECEIVE_LEN>,
    transmit: Deque<u8, TRANSMIT_LEN>,
    errors: Deque<LineError, ERROR_QUEUE_LEN>,
    /// Bytes ever pushed into / popped from the receive ring (wrapping).
    pushed: u32,
    popped: u32,
    overruns: u32,
    line_errors: u32,
    /// The UARTIMSC value last written.
    mask: Interrupts,
}

impl<R: Registers, const RECEIVE_LEN: usize, const TRANSMIT_LEN: usize>
    BufferedPl011<R, RECEIVE_LEN, TRANSMIT_LEN>
{
    /// Wraps a configured UART (see [`Pl011::configure`]); its interrupts
    /// stay masked until [`Self::enable_interrupts`].
    pub const fn new(uart: Pl011<R>) -> Self {
        Self {
            uart,
            receive: Deque::new(),
            transmit: Deque::new(),
            errors: Deque::new(),
            pushed: 0,
            popped: 0,
            overruns: 0,
            line_errors: 0,
            mask: Interrupts::NONE,
        }
    }

    /// Sets both FIFO trigger levels to half full (UARTIFLS) and unmasks
    /// reception. Route the UART's interrupt to [`Self::on_interrupt`] first.
    pub fn enable_interrupts(&mut self) {
        self.uart.write_fifo_levels(IFLS::RXIFLSEL::Half + IFLS::TXIFLSEL::Half);
        self.fill_receive_ring();
        self.fill_transmit_fifo();
        self.update_mask();
    }

    /// The interrupt entry point: clears the pending sources (UARTICR),
    /// drains the receive FIFO into the receive ring and refills the
    /// transmit FIFO from the transmit ring. Returns the sources that were
    /// pending.
    pub fn on_interrupt(&mut self) -> Interrupts {
        let pending = self.uart.take_interrupts();
        self.fill_receive_ring();
        self.fill_transmit_fifo();
        self.update_mask();
        pending
    }

    /// Takes received bytes without waiting: up to `buffer.len()`, stopping
    /// before a line error, which the next call returns (so neither the
    /// good bytes around an error nor the error are lost). `Ok(0)` if
    /// nothing has arrived.
    ///
    /// Whatever it takes from the receive FIFO it returns, unless
    /// `buffer` fills up or an error comes first: a call that returns
    /// fewer bytes than asked leaves the receive ring empty. Taking
    /// characters from the FIFO lowers the UART's receive interrupt, so a
    /// character moved into the ring here and left there would reach no
    /// one: the reader, told there was nothing more, waits for an
    /// interrupt that was taken back.
    pub fn read_buffered(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let mut count = 0;
        loop {
            // The FIFO into the ring (room again after the last round).
            self.fill_receive_ring();
            let mut limit = buffer.len();
            if let Some(front) = self.errors.front() {
                let before_error = front.position.wrapping_sub(self.popped) as usize;
                if before_error == 0 {
                    if count > 0 {
                        // The error comes with the next call.
                        break;
                    }
                    let error = front.error;
                    self.errors.pop_front();
                    self.update_mask();
                    return Err(error);
                }
                limit = limit.min(count + before_error);
            }
            let start = count;
            while count < limit {
                let Some(byte) = self.receive.pop_front() else {
                    break;
                };
                buffer[count] = byte;
                count += 1;
            }
            self.popped = self.popped.wrapping_add((count - start) as u32);
            if count == start || count == buffer.len() {
                break;
            }
        }
        self.update_mask();
        Ok(count)
    }

    /// True if a read would return data or an error without waiting.
    pub fn has_received(&mut self) -> bool {
        self.fill_receive_ring();
        self.update_mask();
        !self.receive.is_empty() || !self.errors.is_empty()
    }

    /// Queues bytes for transmission without waiting: as many as the
    /// transmit FIFO and ring take, in order. Returns how many (0 if both
    /// are full).
    pub fn queue(&mut self, bytes: &[u8]) -> usize {
        self.fill_transmit_fifo();
        let mut count = 0;
        for &byte in bytes {
            if self.transmit.push_back(byte).is_err() {
                // Ring full: make room by moving its head into the FIFO.
                self.fill_transmit_fifo();
                if self.transmit.push_back(byte).is_err() {
                    break;
                }
            }
            count += 1;
        }
        self.fill_transmit_fifo();
        self.update_mask();
        count
    }

    /// True if [`Self::queue`] would take at least one byte.
    pub fn can_queue(&mut self) -> bool {
        self.fill_transmit_fifo();
        self.update_mask();
        !self.transmit.is_full()
    }

    /// Moves every byte of the transmit ring into the FIFO, polling for
    /// room (needs no interrupt: safe with interrupts masked).
    pub fn drain_transmit_ring(&mut self) {
        loop {
            self.fill_transmit_fifo();
            if self.transmit.is_empty() {
                break;
            }
            core::hint::spin_loop();
        }
        self.update_mask();
    }

    /// Writes `bytes` straight to the transmit FIFO, polling, after what the
    /// ring already holds: for a console that must work anywhere (before
    /// interrupts, in fault reports) without reordering queued output.
    pub fn write_polled(&mut self, bytes: &[u8]) {
        self.drain_transmit_ring();
        for &byte in bytes {
            while !self.uart.try_write_byte(byte) {
                core::hint::spin_loop();
            }
        }
    }

    /// One step of console output that never waits for the line: moves
    /// what the transmit ring holds into the FIFO as far as it has room,
    /// then takes as many of `bytes` as the ring and FIFO accept, after
    /// what was queued before. The caller holds the UART (with interrupts
    /// masked) only for this step, and waits for the line between steps
    /// with interrupts open: a full 1 KiB ring at 115200 baud takes 89 ms
    /// to drain, far too long to keep interrupts masked.
    pub fn console_step(&mut self, bytes: &[u8]) -> ConsoleStep {
        let taken = self.queue(bytes);
        ConsoleStep { taken, in_fifo: taken == bytes.len() && self.transmit.is_empty() }
    }

    /// Console output that never waits and never fills the transmit ring:
    /// moves what the ring holds into the FIFO as far as it has room, and
    /// once the ring is empty writes as many of `bytes` straight into the
    /// FIFO as it has room for. Returns how many of `bytes` it wrote: 0
    /// while the ring still holds bytes (they go first) or the FIFO is
    /// full. For a console that keeps its own bytes until the FIFO takes
    /// them, in steps its caller takes with interrupts masked: each step
    /// polls UARTFR at most about twice per FIFO entry.
    pub fn write_after_queued(&mut self, bytes: &[u8]) -> usize {
        self.fill_transmit_fifo();
        self.update_mask();
        if !self.transmit.is_empty() {
            return 0;
        }
        bytes.iter().take_while(|&&byte| self.uart.try_write_byte(byte)).count()
    }

    /// Waits, polling, until the ring and the FIFO are empty and the last
    /// character has left the shift register.
    pub fn flush_polled(&mut self) {
        self.drain_transmit_ring();
        self.uart.wait_idle();
    }

    /// Receive overruns reported by the UART: characters that arrived at a
    /// full receive FIFO and were lost (at least one per overrun).
    pub fn lost_bytes(&self) -> u32 {
        self.overruns
    }

    /// Line errors (overrun, break, parity, framing) seen since creation,
    /// including any not reported because too many were pending at once.
    pub fn line_errors(&self) -> u32 {
        self.line_errors
    }

    /// Bytes waiting in the receive ring.
    pub fn received_len(&self) -> usize {
        self.receive.len()
    }

    /// Bytes waiting in the transmit ring (not yet in the FIFO).
    pub fn transmit_pending(&self) -> usize {
        self.transmit.len()
    }

    /// Masks the UART's interrupts and gives back the UART. Bytes still in
    /// the rings are dropped: flush first.
    pub fn release(mut self) -> Pl011<R> {
        self.uart.set_interrupt_mask(Interrupts::NONE);
        self.uart
    }

    /// Moves characters from the receive FIFO into the ring while both
    /// allow, recording line errors at their place in the stream.
    fn fill_receive_ring(&mut self) {
        while !self.receive.is_full() {
            let Some(data) = self.uart.pop_receive_fifo() else {
                break;
            };
            let (byte, errors) = classify(data);
            if errors.overrun {
                // The lost characters came before this one.
                self.overruns = self.overruns.saturating_add(1);
                self.record(Error::Overrun);
            }
            if let Some(error) = errors.character {
                // The character itself is spoilt: report it, drop it.
                self.record(error);
                continue;
            }
            // Not full: checked by the loop condition.
            let _ = self.receive.push_back(byte);
            self.pushed = self.pushed.wrapping_add(1);
        }
    }

    fn record(&mut self, error: Error) {
        self.line_errors = self.line_errors.saturating_add(1);
        let entry = LineError { position: self.pushed, error };
        // A fifth error while four wait unreported is only counted.
        let _ = self.errors.push_back(entry);
    }

    /// Moves bytes from the transmit ring into the FIFO while it has room.
    fn fill_transmit_fifo(&mut self) {
        while let Some(&byte) = self.transmit.front() {
            if !self.uart.try_write_byte(byte) {
                break;
            }
            self.transmit.pop_front();
        }
    }

    /// Unmasks reception while the ring has room and transmission while
    /// the transmit ring holds bytes; writes UARTIMSC only on a change.
    fn update_mask(&mut self) {
        let mut mask = Interrupts::NONE;
        if !self.receive.is_full() {
            mask = mask.union(RECEIVE_INTERRUPTS);
        }
        if !self.transmit.is_empty() {
            mask = mask.union(Interrupts::TRANSMIT);
        }
        if mask != self.mask {
            self.uart.set_interrupt_mask(mask);
            self.mask = mask;
        }
    }
}

/// What one [`BufferedPl011::console_step`] achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleStep {
    /// Bytes taken from the front of the slice.
    pub taken: usize,
    /// Every byte was taken and the transmit ring is empty: the bytes are
    /// in the UART's FIFO (they leave without further help).
    pub in_fifo: bool,
}

/// What a UARTDR value says about the line.
struct ReceiveErrors {
    /// OE: characters were lost before this one (which is itself good).
    overrun: bool,
    /// BE, PE or FE: this character is spoilt (most severe first).
    character: Option<Error>,
}

/// Splits a UARTDR value (TRM 3.3.1) into its character and error flags.
fn classify(data: u32) -> (u8, ReceiveErrors) {
    let character = if DR::BE.is_set(data) {
        Some(Error::Break)
    } else if DR::PE.is_set(data) {
        Some(Error::Parity)
    } else if DR::FE.is_set(data) {
        Some(Error::Framing)
    } else {
        None
    };
    let errors = ReceiveErrors { overrun: DR::OE.is_set(data), character };
    (data as u8, errors)
}
