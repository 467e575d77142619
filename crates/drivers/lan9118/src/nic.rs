//! The LAN9118 driver proper: bring-up, frame transmit and receive, and the
//! interrupt entry point.

use ferrode_hal::{EthernetDevice, FrameCounters, MAX_FRAME_LEN};

use crate::Error;
use crate::csr::{self, mac, mac_cr};
use crate::fifo::{ReceiveStatus, receive_words, transmit_commands, transmit_failed};
use crate::regs::{Register, Registers};

const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const HW_CFG_SRST: u32 = 1 << 0;
const PMT_CTRL_READY: u32 = 1 << 0;
const TX_CFG_TX_ON: u32 = 1 << 1;
/// IRQ_CFG: IRQ_EN (bit 8), IRQ_POL (bit 4, active high), IRQ_TYPE (bit 0,
/// push-pull).
const IRQ_CFG_IRQ_EN: u32 = 1 << 8;
const IRQ_CFG_ACTIVE_HIGH_PUSH_PULL: u32 = (1 << 4) | (1 << 0);
/// Shortest frame worth passing up: an Ethernet header.
const MIN_FRAME_LEN: usize = 14;
/// Polls of HW_CFG.SRST and PMT_CTRL.READY before giving up.
const RESET_POLL_LIMIT: u32 = 1_000_000;

/// Board wiring and identity, from the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Station address to program, or `None` to keep the one the chip
    /// loaded from its EEPROM (QEMU provides one).
    pub mac_address: Option<[u8; 6]>,
    /// Drive the IRQ pin active-high push-pull instead of the reset default
    /// (active-low open-drain). QEMU's RealView model needs this.
    pub irq_active_high: bool,
    /// Receive every frame regardless of destination address.
    pub promiscuous: bool,
    /// Full duplex MAC operation (match the link partner).
    pub full_duplex: bool,
}

/// INT_STS / INT_EN sources (datasheet 5.3.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interrupts(pub u32);

impl Interrupts {
    /// No source.
    pub const NONE: Self = Self(0);
    /// RSFL: a received frame's status is waiting.
    pub const RECEIVE: Self = Self(1 << 3);
    /// TSFL: a transmit status is waiting.
    pub const TRANSMIT_DONE: Self = Self(1 << 7);
    /// RXE and TXE: receiver or transmitter error.
    pub const ERRORS: Self = Self((1 << 14) | (1 << 13));
    /// PHY: the PHY raised an interrupt (link change).
    pub const PHY: Self = Self(1 << 18);

    /// True if any source of `other` is in `self`.
    pub const fn contains_any(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The union of both sets.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// A LAN9118 Ethernet controller.
pub struct Lan9118<R> {
    registers: R,
    mac_address: [u8; 6],
    counters: FrameCounters,
    next_tag: u16,
}

impl<R: Registers> Lan9118<R> {
    /// Detects, resets and starts the controller at `registers`: TX and RX
    /// on, all interrupt sources masked but the pin enabled.
    pub fn new(mut registers: R, config: &Config) -> Result<Self, Error> {
        let byte_test = registers.read_register(Register::ByteTest);
        if byte_test != BYTE_TEST_VALUE {
            return Err(Error::NotDetected { byte_test });
        }
        registers.write_register(Register::HwCfg, HW_CFG_SRST);
        poll_until(&mut registers, Register::HwCfg, |v| v & HW_CFG_SRST == 0)?;
        poll_until(&mut registers, Register::PmtCtrl, |v| {
            v & PMT_CTRL_READY != 0
        })?;

        let mac_address = match config.mac_address {
            Some(address) => {
                let [a0, a1, a2, a3, a4, a5] = address;
                csr::mac_write(
                    &mut registers,
                    mac::ADDRL,
                    u32::from_le_bytes([a0, a1, a2, a3]),
                )?;
                csr::mac_write(
                    &mut registers,
                    mac::ADDRH,
                    u32::from_le_bytes([a4, a5, 0, 0]),
                )?;
                address
            }
            None => {
                let low = csr::mac_read(&mut registers, mac::ADDRL)?.to_le_bytes();
                let high = csr::mac_read(&mut registers, mac::ADDRH)?.to_le_bytes();
                [low[0], low[1], low[2], low[3], high[0], high[1]]
            }
        };
        csr::phy_write(
            &mut registers,
            csr::PHY_BASIC_CONTROL,
            csr::PHY_AUTONEGOTIATE as u16,
        )?;

        let polarity = if config.irq_active_high {
            IRQ_CFG_ACTIVE_HIGH_PUSH_PULL
        } else {
            0
        };
        registers.write_register(Register::IntEn, 0);
        registers.write_register(Register::IntSts, u32::MAX);
        registers.write_register(Register::IrqCfg, IRQ_CFG_IRQ_EN | polarity);
        registers.write_register(Register::TxCfg, TX_CFG_TX_ON);
        let mut control = mac_cr::TXEN | mac_cr::RXEN;
        if config.promiscuous {
            control |= mac_cr::PRMS;
        }
        if config.full_duplex {
            control |= mac_cr::FDPX;
        }
        csr::mac_write(&mut registers, mac::MAC_CR, control)?;
        Ok(Self {
            registers,
            mac_address,
            counters: FrameCounters::default(),
            next_tag: 1,
        })
    }

    /// Unmasks exactly the sources in `interrupts` (INT_EN).
    pub fn set_interrupt_mask(&mut self, interrupts: Interrupts) {
        self.registers.write_register(Register::IntEn, interrupts.0);
    }

    /// Interrupt entry point: returns the pending enabled sources and clears
    /// them (INT_STS is write-1-to-clear). Then call `receive` until it
    /// returns `Ok(None)`.
    pub fn take_interrupts(&mut self) -> Interrupts {
        let pending = self.registers.read_register(Register::IntSts)
            & self.registers.read_register(Register::IntEn);
        self.registers.write_register(Register::IntSts, pending);
        Interrupts(pending)
    }

    /// The register access, for tests that steer a model under the driver.
    #[cfg(test)]
    pub(crate) fn registers_mut(&mut self) -> &mut R {
        &mut self.registers
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }

    /// Pops finished TX statuses, counting failed transmissions.
    fn reap_transmit_status(&mut self) {
        let used = (self.registers.read_register(Register::TxFifoInf) >> 16) & 0xff;
        for _ in 0..used {
            if transmit_failed(self.registers.read_register(Register::TxStatusFifo)) {
                self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            }
        }
    }

    /// Free bytes in the TX data FIFO (TX_FIFO_INF TDFREE).
    fn transmit_space(&mut self) -> usize {
        (self.registers.read_register(Register::TxFifoInf) & 0xffff) as usize
    }

    /// Reads and throws away `words` words of the RX data FIFO. (The
    /// RX_DP_CTRL fast-forward would be quicker for long frames, but QEMU's
    /// model of it loses FIFO space, so the driver drains by reading.)
    fn discard_words(&mut self, words: usize) {
        for _ in 0..words {
            self.registers.read_register(Register::RxDataFifo);
        }
    }
}

fn poll_until(
    registers: &mut impl Registers,
    register: Register,
    done: impl Fn(u32) -> bool,
) -> Result<(), Error> {
    for _ in 0..RESET_POLL_LIMIT {
        if done(registers.read_register(register)) {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(Error::Timeout)
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

impl<R: Registers> EthernetDevice for Lan9118<R> {
    type Error = Error;

    fn mac_address(&self) -> [u8; 6] {
        self.mac_address
    }

    fn link_up(&mut self) -> bool {
        csr::phy_read(&mut self.registers, csr::PHY_BASIC_STATUS)
            .is_ok_and(|status| u32::from(status) & csr::PHY_LINK_STATUS != 0)
    }

    fn can_transmit(&mut self) -> bool {
        self.transmit_space() >= MAX_FRAME_LEN.next_multiple_of(4) + 8
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), Error> {
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&frame.len()) {
            return Err(Error::InvalidFrameLength(frame.len()));
        }
        self.reap_transmit_status();
        if self.transmit_space() < frame.len().next_multiple_of(4) + 8 {
            return Err(Error::TransmitFifoFull);
        }
        let (command_a, command_b) = transmit_commands(frame.len(), self.next_tag);
        self.next_tag = self.next_tag.wrapping_add(1);
        self.registers
            .write_register(Register::TxDataFifo, command_a);
        self.registers
            .write_register(Register::TxDataFifo, command_b);
        for chunk in frame.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.registers
                .write_register(Register::TxDataFifo, u32::from_le_bytes(word));
        }
        bump(&mut self.counters.tx_frames);
        Ok(())
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Error> {
        self.reap_transmit_status();
        let dropped = self.registers.read_register(Register::RxDrop);
        self.counters.rx_overruns = self.counters.rx_overruns.saturating_add(dropped);
        loop {
            let statuses = (self.registers.read_register(Register::RxFifoInf) >> 16) & 0xff;
            if statuses == 0 {
                return Ok(None);
            }
            let status = ReceiveStatus(self.registers.read_register(Register::RxStatusFifo));
            let words = receive_words(status.packet_length());
            let length = status.frame_length();
            let drop_reason = if status.has_error() || status.failed_filter() {
                Some(&mut self.counters.rx_errors)
            } else if status.is_runt() || length < MIN_FRAME_LEN {
                Some(&mut self.counters.rx_runt)
            } else if length > MAX_FRAME_LEN || length > buffer.len() {
                Some(&mut self.counters.rx_oversized)
            } else {
                None
            };
            if let Some(counter) = drop_reason {
                bump(counter);
                self.discard_words(words);
                continue;
            }
            for index in 0..words {
                let word = self
                    .registers
                    .read_register(Register::RxDataFifo)
                    .to_le_bytes();
                let start = index * 4;
                let end = (start + 4).min(length);
                if start < end {
                    buffer[start..end].copy_from_slice(&word[..end - start]);
                }
            }
            bump(&mut self.counters.rx_frames);
            return Ok(Some(length));
        }
    }

    fn counters(&self) -> FrameCounters {
        self.counters
    }
}
