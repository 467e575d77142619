//! The MAC: address programming, ping-pong transmit and receive.

use ferrode_hal::{EthernetDevice, FrameCounters, MAX_FRAME_LEN, words};

use crate::error::Error;
use crate::frame::{ETHERNET_HEADER_LEN, FrameLength, HEADER_BYTES_NEEDED, frame_length};
use crate::regs::{Buffer, GIE, RX_CONTROL, Registers, TX_CONTROL};
use crate::ring::ReceiveRing;
use ferrode_hal::mmio::{LocalRegisterCopy, ReadWriteable, Readable, Writeable};

/// Polls of a status bit before a wait gives up with [`Error::Timeout`]:
/// a bound in time, since each poll is an AXI read of at least one bus
/// clock (100,000 reads are at least 1 ms at 100 MHz), forty times the
/// slowest thing waited for, an MDIO frame (64 bits at 2.5 MHz, 26 us).
pub const MAX_POLLS: u32 = 100_000;
/// Received frames the driver holds between its interrupt and the network
/// stack, by default.
pub const RECEIVE_RING_FRAMES: usize = 8;
/// Shortest frame put on the wire without FCS; shorter ones are padded.
pub const MIN_FRAME_LEN: usize = 60;

/// Synthesis options and station settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Station MAC address, programmed into the core by [`EmacLite::new`].
    pub mac_address: [u8; 6],
    /// C_TX_PING_PONG: a second transmit buffer exists (QEMU's
    /// amd-microblaze-v-generic: no).
    pub tx_ping_pong: bool,
    /// C_RX_PING_PONG: a second receive buffer exists (QEMU's board: no).
    pub rx_ping_pong: bool,
    /// MDIO address of the PHY, or `None` if the core has no MDIO (C_INCLUDE_MDIO
    /// = 0) or nothing to manage (QEMU): the link is then reported up.
    pub phy_address: Option<u8>,
}

/// An AXI EthernetLite MAC, with a ring of `RING` received frames that its
/// interrupt fills (see [`EmacLite::on_interrupt`]). The ring (about 1.5
/// KiB a frame) is the caller's memory, lent for `'r`: a platform keeps it
/// in a static of its own (`.bss`), so the driver value stays small and
/// moving it never copies the frames through a stack.
#[derive(Debug)]
pub struct EmacLite<'r, R, const RING: usize = RECEIVE_RING_FRAMES> {
    pub(crate) regs: R,
    pub(crate) config: Config,
    next_tx: Buffer,
    next_rx: Buffer,
    /// The receive control value that hands a buffer back to the core
    /// (Status clear, Interrupt Enable as set).
    rx_control: LocalRegisterCopy<u32, RX_CONTROL::Register>,
    counters: FrameCounters,
    ring: &'r mut ReceiveRing<RING>,
    /// Transmit buffers (ping, pong) handed out by
    /// [`EmacLite::reserve_transmit`] and not yet sent: no other
    /// transmission may use them.
    reserved: [bool; 2],
    /// The ping Transmit Control Register's Interrupt Enable is set
    /// ([`EthernetDevice::interrupt_when_transmit_ready`]) and not yet
    /// cleared by an interrupt or a send into the ping buffer.
    transmit_interrupt_armed: bool,
}

/// A transmit buffer reserved for one frame (see
/// [`EmacLite::reserve_transmit`]): fill it with [`fill_transmit_slot`],
/// which needs only the register access, then send it with
/// [`EmacLite::send_reserved`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a reserved transmit buffer stays unusable until it is sent"]
pub struct TransmitSlot {
    buffer: Buffer,
    len: usize,
}

/// Copies `frame` into the reserved buffer (zero-padded to 60 bytes), with
/// 32-bit writes. It touches only the slot's buffer RAM, which nothing else
/// uses while the slot is reserved, so the caller need not hold the MAC
/// (and may leave interrupts open: a full frame is 379 bus writes, long
/// enough at 100 Mb/s for several frames to arrive and be drained).
pub fn fill_transmit_slot(regs: &impl Registers, slot: &TransmitSlot, frame: &[u8]) {
    write_tx_bytes(regs, slot.buffer, frame, slot.len);
}

/// A transmit buffer is idle when neither Status (sending) nor Program
/// (loading the MAC address) is set.
fn tx_idle(regs: &impl Registers, buffer: Buffer) -> bool {
    let busy = TX_CONTROL::STATUS::SET + TX_CONTROL::PROGRAM::SET;
    !regs.tx_control(buffer).any_matching_bits_set(busy)
}

const fn buffer_index(buffer: Buffer) -> usize {
    match buffer {
        Buffer::Ping => 0,
        Buffer::Pong => 1,
    }
}

/// Copies `len` bytes (zero-padded to whole words) into a transmit buffer
/// with 32-bit writes, as the buffer RAM requires.
fn write_tx_bytes(regs: &impl Registers, buffer: Buffer, bytes: &[u8], len: usize) {
    let bytes = &bytes[..len.min(bytes.len())];
    // The closure owns its counter (`move`), so it stays in a register
    // instead of memory: this runs once per word of every frame.
    let mut word = 0;
    let written = words::write_words(bytes, move |value| {
        regs.tx_buffer(buffer, word).set(value);
        word += 1;
    });
    for padding in written..len.div_ceil(4) {
        regs.tx_buffer(buffer, padding).set(0);
    }
}

impl<'r, R: Registers, const RING: usize> EmacLite<'r, R, RING> {
    /// Takes over the MAC: GIE = 0, drops any frame left in the receive
    /// buffers (control = 0), enables MDIO if a PHY is configured, and
    /// programs `config.mac_address` (address into the ping transmit
    /// buffer, then Program | Status, waiting for both to clear). Received
    /// frames wait in `ring` (emptied here) until taken.
    pub fn new(regs: R, config: Config, ring: &'r mut ReceiveRing<RING>) -> Result<Self, Error> {
        ring.clear();
        regs.gie().write(GIE::GLOBAL_INTERRUPT_ENABLE::CLEAR);
        let drop_frame = RX_CONTROL::STATUS::CLEAR + RX_CONTROL::INTERRUPT_ENABLE::CLEAR;
        regs.rx_control(Buffer::Ping).write(drop_frame);
        if config.rx_ping_pong {
            regs.rx_control(Buffer::Pong).write(drop_frame);
        }
        let mut mac = Self {
            regs,
            config,
            next_tx: Buffer::Ping,
            next_rx: Buffer::Ping,
            rx_control: LocalRegisterCopy::new(0),
            counters: FrameCounters::default(),
            ring,
            reserved: [false; 2],
            transmit_interrupt_armed: false,
        };
        if config.phy_address.is_some() {
            mac.enable_mdio();
        }
        mac.program_mac_address(config.mac_address)?;
        Ok(mac)
    }

    /// Polls until `done` holds, giving up after [`MAX_POLLS`] register
    /// reads with [`Error::Timeout`].
    pub(crate) fn wait_until(&self, done: impl Fn(&R) -> bool) -> Result<(), Error> {
        for _ in 0..MAX_POLLS {
            if done(&self.regs) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout)
    }

    /// Loads a new station address through the ping transmit buffer.
    pub fn program_mac_address(&mut self, mac: [u8; 6]) -> Result<(), Error> {
        self.wait_until(|regs| tx_idle(regs, Buffer::Ping))?;
        self.write_tx_bytes(Buffer::Ping, &mac, mac.len());
        self.regs
            .tx_control(Buffer::Ping)
            .write(TX_CONTROL::PROGRAM::SET + TX_CONTROL::STATUS::SET);
        self.wait_until(|regs| tx_idle(regs, Buffer::Ping))?;
        self.config.mac_address = mac;
        Ok(())
    }

    /// Turns on the receive interrupt: sets Interrupt Enable in the receive
    /// control register(s), keeping a pending frame's Status bit, then GIE.
    /// PG135 has the bit in the ping register only; QEMU checks it per
    /// buffer, so it is set in both when there is a pong buffer.
    pub fn enable_rx_interrupt(&mut self) {
        self.rx_control.write(RX_CONTROL::STATUS::CLEAR + RX_CONTROL::INTERRUPT_ENABLE::SET);
        for buffer in self.rx_buffers() {
            // Status written back as read: 1 keeps a waiting frame.
            self.regs.rx_control(buffer).modify(RX_CONTROL::INTERRUPT_ENABLE::SET);
        }
        self.regs.gie().write(GIE::GLOBAL_INTERRUPT_ENABLE::SET);
    }

    /// Turns the receive interrupt off (GIE = 0).
    pub fn disable_rx_interrupt(&mut self) {
        self.regs.gie().write(GIE::GLOBAL_INTERRUPT_ENABLE::CLEAR);
    }

    /// Interrupt entry: copies every received frame out of the receive
    /// buffers (ping and pong in turn) into the driver's ring and hands
    /// the buffers back to the core, so the next frames have somewhere to
    /// go: a full buffer makes the core drop what arrives for it. (There
    /// is no interrupt status to clear: the line is a pulse per frame.)
    /// Disarms an armed transmit interrupt once the ping buffer's frame is
    /// sent (see [`EthernetDevice::interrupt_when_transmit_ready`]).
    /// Returns whether a frame is waiting for [`EthernetDevice::receive`].
    /// When the ring is full, frames wait in the buffers.
    pub fn on_interrupt(&mut self) -> bool {
        self.fill_ring();
        self.take_transmit_interrupt();
        !self.ring.is_empty() || self.full_rx_buffer().is_some()
    }

    /// Clears the ping Transmit Control Register's Interrupt Enable if it
    /// is armed and the ping buffer's frame is out: writing the register
    /// writes Status too, which is safe only while it reads 0 (the core
    /// never sets it; software does, to send). While the ping buffer is
    /// still sending (the interrupt was the pong buffer's, or a received
    /// frame's), the bit stays, and its done pulse disarms it later.
    fn take_transmit_interrupt(&mut self) {
        if self.transmit_interrupt_armed && tx_idle(&self.regs, Buffer::Ping) {
            self.regs.tx_control(Buffer::Ping).write(TX_CONTROL::INTERRUPT_ENABLE::CLEAR);
            self.transmit_interrupt_armed = false;
        }
    }

    /// Frames waiting in the driver's ring.
    pub fn ring_len(&self) -> usize {
        self.ring.len()
    }

    /// Moves frames from the receive buffers into the ring while it has
    /// room.
    fn fill_ring(&mut self) {
        while !self.ring.is_full() {
            let Some(length) = self.take_from_buffers(None) else {
                break;
            };
            self.ring.push(length);
        }
    }

    fn rx_buffers(&self) -> impl Iterator<Item = Buffer> + use<R, RING> {
        let pong = self.config.rx_ping_pong;
        [Buffer::Ping, Buffer::Pong].into_iter().filter(move |b| pong || *b == Buffer::Ping)
    }

    fn write_tx_bytes(&self, buffer: Buffer, bytes: &[u8], len: usize) {
        write_tx_bytes(&self.regs, buffer, bytes, len);
    }

    /// Reserves a free transmit buffer for a frame of `frame_len` bytes:
    /// the first step of a transmission whose copy runs without the MAC
    /// (see [`fill_transmit_slot`] and [`EmacLite::send_reserved`]).
    pub fn reserve_transmit(&mut self, frame_len: usize) -> Result<TransmitSlot, Error> {
        self.check_frame_length(frame_len)?;
        let buffer = self.free_tx_buffer().ok_or(Error::TransmitBusy)?;
        self.reserved[buffer_index(buffer)] = true;
        if self.config.tx_ping_pong {
            self.next_tx = buffer.other();
        }
        Ok(TransmitSlot { buffer, len: frame_len.max(MIN_FRAME_LEN) })
    }

    /// Sends a filled slot: writes its length, then sets Status. Into the
    /// ping buffer, that write also clears an armed transmit interrupt
    /// (there was room, so it has done its work).
    pub fn send_reserved(&mut self, slot: TransmitSlot) {
        self.regs.tx_length(slot.buffer).set(slot.len as u32);
        self.regs.tx_control(slot.buffer).write(TX_CONTROL::STATUS::SET);
        if slot.buffer == Buffer::Ping {
            self.transmit_interrupt_armed = false;
        }
        self.reserved[buffer_index(slot.buffer)] = false;
        self.counters.tx_frames = self.counters.tx_frames.saturating_add(1);
    }

    fn check_frame_length(&mut self, frame_len: usize) -> Result<(), Error> {
        if frame_len > MAX_FRAME_LEN {
            self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            return Err(Error::FrameTooLong);
        }
        if frame_len < ETHERNET_HEADER_LEN {
            self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            return Err(Error::FrameTooShort);
        }
        Ok(())
    }

    fn read_rx_bytes(&self, buffer: Buffer, out: &mut [u8]) {
        read_rx_bytes(&self.regs, buffer, out);
    }

    fn tx_free(&self, buffer: Buffer) -> bool {
        !self.reserved[buffer_index(buffer)] && tx_idle(&self.regs, buffer)
    }

    fn free_tx_buffer(&self) -> Option<Buffer> {
        if self.tx_free(self.next_tx) {
            Some(self.next_tx)
        } else if self.config.tx_ping_pong && self.tx_free(self.next_tx.other()) {
            Some(self.next_tx.other())
        } else {
            None
        }
    }

    fn full_rx_buffer(&self) -> Option<Buffer> {
        let full = |b| self.regs.rx_control(b).is_set(RX_CONTROL::STATUS);
        if full(self.next_rx) {
            Some(self.next_rx)
        } else if self.config.rx_ping_pong && full(self.next_rx.other()) {
            Some(self.next_rx.other())
        } else {
            None
        }
    }

    /// Hands a receive buffer back to the core (Status cleared, Interrupt
    /// Enable kept) and moves on to the other one.
    fn release_rx(&mut self, buffer: Buffer) {
        self.regs.rx_control(buffer).set(self.rx_control.get());
        self.next_rx = if self.config.rx_ping_pong { buffer.other() } else { Buffer::Ping };
    }

    fn count_drop(&mut self, length: FrameLength) {
        let c = &mut self.counters;
        match length {
            FrameLength::Runt => c.rx_runt = c.rx_runt.saturating_add(1),
            FrameLength::Malformed => c.rx_errors = c.rx_errors.saturating_add(1),
            _ => c.rx_oversized = c.rx_oversized.saturating_add(1),
        }
    }
}

impl<R: Registers, const RING: usize> EmacLite<'_, R, RING> {
    /// Copies the frame in the next full receive buffer into `out` (the
    /// ring's free slot when `None`) with 32-bit reads and hands the buffer
    /// back; returns its length, or `None` if no buffer holds a frame. Bad
    /// frames, and frames longer than `out`, are counted and skipped (at
    /// most two frames can be waiting, so this is bounded).
    fn take_from_buffers(&mut self, mut out: Option<&mut [u8]>) -> Option<usize> {
        for _ in 0..2 {
            let rx = self.full_rx_buffer()?;
            let mut header = [0u8; HEADER_BYTES_NEEDED];
            self.read_rx_bytes(rx, &mut header);
            let length = match frame_length(&header) {
                FrameLength::Exact(len) => Some(len),
                FrameLength::Unknown => Some(MAX_FRAME_LEN),
                _ => None,
            };
            let capacity = out.as_ref().map_or(MAX_FRAME_LEN, |out| out.len());
            match length {
                Some(len) if len <= capacity => {
                    match out.as_deref_mut() {
                        Some(out) => self.read_rx_bytes(rx, &mut out[..len]),
                        None => {
                            let regs = &self.regs;
                            read_rx_bytes(regs, rx, &mut self.ring.free_slot()[..len]);
                        }
                    }
                    self.release_rx(rx);
                    return Some(len);
                }
                Some(_) => self.count_drop(FrameLength::Oversized),
                None => self.count_drop(frame_length(&header)),
            }
            self.release_rx(rx);
        }
        None
    }
}

impl<R: Registers, const RING: usize> EthernetDevice for EmacLite<'_, R, RING> {
    type Error = Error;

    fn mac_address(&self) -> [u8; 6] {
        self.config.mac_address
    }

    fn link_up(&mut self) -> bool {
        self.phy_link_up().unwrap_or(false)
    }

    fn can_transmit(&mut self) -> bool {
        self.free_tx_buffer().is_some()
    }

    /// Sets the ping Transmit Control Register's Interrupt Enable (PG135:
    /// the one transmit-done interrupt, for the ping and the pong buffer)
    /// while every transmit buffer is sending: the core pulses its
    /// interrupt when one of them finishes, and [`EmacLite::on_interrupt`]
    /// clears the bit again. True at once, writing nothing, if a buffer is
    /// free (the caller checks [`EthernetDevice::can_transmit`] again).
    /// False if GIE is off (the core raises no interrupt at all) or a
    /// buffer is reserved ([`EmacLite::reserve_transmit`]): that one comes
    /// back when its holder sends it, with no interrupt to wait for.
    ///
    /// The register has no bit-wise write: Status is written back as read.
    /// Read 0 (the frame went since the caller looked), nothing is
    /// restarted and no done pulse comes; read 1, the frame is still
    /// going, unless it ends in the few bus cycles between the read and
    /// the write, when the write's 1 sends the buffer again (a duplicate
    /// frame on the wire; Xilinx's and Linux's drivers set and clear the
    /// bit with the same read-modify-write).
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        if !self.regs.gie().is_set(GIE::GLOBAL_INTERRUPT_ENABLE) {
            return false;
        }
        if self.free_tx_buffer().is_some() {
            return true;
        }
        if self.reserved.contains(&true) {
            return false;
        }
        self.regs.tx_control(Buffer::Ping).modify(TX_CONTROL::INTERRUPT_ENABLE::SET);
        self.transmit_interrupt_armed = true;
        true
    }

    /// Copies the frame into a free transmit buffer (padded to 60 bytes),
    /// writes its length, then sets Status to send it.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), Error> {
        let slot = self.reserve_transmit(frame.len())?;
        self.write_tx_bytes(slot.buffer, frame, slot.len);
        self.send_reserved(slot);
        Ok(())
    }

    /// Takes the next received frame: from the ring the interrupt filled,
    /// or straight from the receive buffers (ping and pong in turn) when the
    /// ring is empty. The length comes from the frame's headers; runts,
    /// oversized and malformed frames, and frames longer than `buffer`, are
    /// dropped and counted.
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Error> {
        while let Some(frame) = self.ring.pop() {
            if frame.len() <= buffer.len() {
                let length = frame.len();
                buffer[..length].copy_from_slice(frame);
                self.counters.rx_frames = self.counters.rx_frames.saturating_add(1);
                // A buffer freed now takes the next frame off the wire.
                self.fill_ring();
                return Ok(Some(length));
            }
            self.count_drop(FrameLength::Oversized);
        }
        let length = self.take_from_buffers(Some(buffer));
        if length.is_some() {
            self.counters.rx_frames = self.counters.rx_frames.saturating_add(1);
        }
        Ok(length)
    }

    fn counters(&self) -> FrameCounters {
        self.counters
    }
}

/// Copies `out.len()` bytes of a receive buffer with 32-bit reads, as the
/// buffer RAM requires.
fn read_rx_bytes(regs: &impl Registers, buffer: Buffer, out: &mut [u8]) {
    // As in `write_tx_bytes`: the closure owns its counter.
    let mut word = 0;
    words::read_words(out, move || {
        word += 1;
        regs.rx_buffer(buffer, word - 1).get()
    });
}
