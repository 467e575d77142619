//! The LAN9118 driver proper: bring-up, frame transmit and receive, and the
//! interrupt entry point.

use embedded_hal::delay::DelayNs;
use ferrode_hal::mmio::{FieldValue, ReadWriteable, Readable, Writeable};
use ferrode_hal::{EthernetDevice, FrameCounters, MAX_FRAME_LEN, words};

use crate::Error;
use crate::csr::{self, LinkMode, flow, mac, mac_cr, phy, resolve_link};
use crate::error::Operation;
use crate::fifo::{ReceiveStatus, receive_words, transmit_commands, transmit_failed};
use crate::regs::{
    AFC_CFG, E2P_CMD, FIFO_INT, HW_CFG, INT, IRQ_CFG, PMT_CTRL, RX_CFG, RX_FIFO_INF, Registers,
    TX_CFG, TX_FIFO_INF,
};
use crate::wait::{Budget, timeouts};

const BYTE_TEST_VALUE: u32 = 0x8765_4321;
/// AFC_CFG: AFC_HI 110 and AFC_LO 55 (of 64-byte RX FIFO blocks), BACK_DUR
/// 4 (the SMSC application note's values).
fn afc_levels() -> FieldValue<u32, AFC_CFG::Register> {
    AFC_CFG::AFC_HI.val(110) + AFC_CFG::AFC_LO.val(55) + AFC_CFG::BACK_DUR.val(4)
}
/// AFC_CFG: FCANY, FCADD, FCMULT and FCBRD: send PAUSE frames (full duplex)
/// or back pressure (half duplex) when the RX FIFO fills past AFC_HI.
fn afc_trigger_on_any_frame() -> FieldValue<u32, AFC_CFG::Register> {
    AFC_CFG::FCANY::SET + AFC_CFG::FCADD::SET + AFC_CFG::FCMULT::SET + AFC_CFG::FCBRD::SET
}
/// Shortest frame worth passing up: an Ethernet header.
const MIN_FRAME_LEN: usize = 14;
/// TX data FIFO bytes a frame of [`MAX_FRAME_LEN`] takes: the frame in
/// whole words and its two command words (TX command A and B, 3.12).
const MAX_TRANSMIT_SPACE: usize = MAX_FRAME_LEN.next_multiple_of(4) + 8;

/// FIFO_INT's TX Data Available Level for `bytes` free: TDFA is raised
/// while the TX data FIFO has more free space than the level's 64-byte
/// blocks, so the level is `bytes` rounded up to whole blocks (a level
/// rounded down could raise TDFA with less than `bytes` free).
pub(crate) const fn transmit_available_level(bytes: usize) -> u32 {
    bytes.div_ceil(64) as u32
}
/// What the driver advertises: 10/100, half and full duplex, symmetric
/// PAUSE.
const ADVERTISEMENT: u16 = phy::ABILITY_100_FULL
    | phy::ABILITY_100_HALF
    | phy::ABILITY_10_FULL
    | phy::ABILITY_10_HALF
    | phy::ABILITY_PAUSE
    | phy::SELECTOR_802_3;

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
    /// TXE: transmitter error (e.g. a malformed TX command sequence).
    pub const TRANSMIT_ERROR: Self = Self(1 << 13);
    /// RXE: receiver error (e.g. the RX data FIFO read past a frame).
    pub const RECEIVE_ERROR: Self = Self(1 << 14);
    /// TDFA: the TX data FIFO has room for a frame of
    /// [`ferrode_hal::MAX_FRAME_LEN`] (its level, FIFO_INT, is set so at
    /// bring-up). A level that stays while the room does: enabled only
    /// by [`EthernetDevice::interrupt_when_transmit_ready`], and disabled
    /// again by [`Lan9118::take_interrupts`] when it comes.
    pub const TRANSMIT_READY: Self = Self(1 << 9);
    /// RXE and TXE.
    pub const ERRORS: Self = Self::TRANSMIT_ERROR.union(Self::RECEIVE_ERROR);
    /// PHY: the PHY raised an interrupt (auto-negotiation done, link down).
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

/// A LAN9118 Ethernet controller; `D` is the platform's delay, the time
/// base of every wait on the chip.
pub struct Lan9118<R, D> {
    registers: R,
    delay: D,
    mac_address: [u8; 6],
    control: u32,
    link: Option<LinkMode>,
    counters: FrameCounters,
    next_tag: u16,
}

impl<R: Registers, D: DelayNs> Lan9118<R, D> {
    /// Detects, resets and starts the controller at `registers` (data
    /// sheet 3.11 and 5): soft reset, wait for the chip and its EEPROM load,
    /// HW_CFG with its must-be-one bit, station address, PHY reset,
    /// advertisement and interrupt mask, auto-negotiation (awaited up to
    /// [`timeouts::AUTONEGOTIATION_US`]), then the MAC with the negotiated
    /// duplex and flow control, TX and RX on. Interrupt sources stay
    /// masked, the pin enabled.
    pub fn new(registers: R, mut delay: D, config: &Config) -> Result<Self, Error> {
        let byte_test = registers.byte_test().get();
        if byte_test != BYTE_TEST_VALUE {
            return Err(Error::NotDetected { byte_test });
        }
        registers.hw_cfg().write(HW_CFG::SRST::SET);
        let mut budget = Budget::new(Operation::SoftReset, timeouts::RESET_US);
        while registers.hw_cfg().is_set(HW_CFG::SRST) {
            budget.tick(&mut delay)?;
        }
        let mut budget = Budget::new(Operation::PowerReady, timeouts::RESET_US);
        while !registers.pmt_ctrl().is_set(PMT_CTRL::READY) {
            budget.tick(&mut delay)?;
        }
        // The MAC address registers hold the EEPROM's address only once
        // its load is done.
        let mut budget = Budget::new(Operation::EepromLoad, timeouts::EEPROM_LOAD_US);
        while registers.e2p_cmd().is_set(E2P_CMD::EPC_BUSY) {
            budget.tick(&mut delay)?;
        }
        registers.hw_cfg().write(HW_CFG::MBO::SET + HW_CFG::TX_FIF_SZ.val(5));

        let mut chip = Self {
            registers,
            delay,
            mac_address: [0; 6],
            control: mac_cr::TXEN | mac_cr::RXEN,
            link: None,
            counters: FrameCounters::default(),
            next_tag: 1,
        };
        if config.promiscuous {
            chip.control |= mac_cr::PRMS;
        }
        chip.mac_address = match config.mac_address {
            Some(address) => {
                let [a0, a1, a2, a3, a4, a5] = address;
                chip.mac_write(mac::ADDRL, u32::from_le_bytes([a0, a1, a2, a3]))?;
                chip.mac_write(mac::ADDRH, u32::from_le_bytes([a4, a5, 0, 0]))?;
                address
            }
            None => {
                let low = chip.mac_read(mac::ADDRL)?.to_le_bytes();
                let high = chip.mac_read(mac::ADDRH)?.to_le_bytes();
                [low[0], low[1], low[2], low[3], high[0], high[1]]
            }
        };
        chip.start_phy()?;

        let polarity = if config.irq_active_high {
            IRQ_CFG::IRQ_POL::SET + IRQ_CFG::IRQ_TYPE::SET
        } else {
            IRQ_CFG::IRQ_POL::CLEAR + IRQ_CFG::IRQ_TYPE::CLEAR
        };
        chip.registers.int_en().set(0);
        chip.registers.int_sts().set(u32::MAX);
        // TDFA (armed by `interrupt_when_transmit_ready`) means "a frame of
        // MAX_FRAME_LEN fits"; the reset level, the whole FIFO, would never
        // raise it. The status levels stay as they are.
        chip.registers.fifo_int().modify(
            FIFO_INT::TX_DATA_AVAILABLE_LEVEL.val(transmit_available_level(MAX_TRANSMIT_SPACE)),
        );
        chip.registers.irq_cfg().write(IRQ_CFG::IRQ_EN::SET + polarity);
        chip.await_autonegotiation()?;
        chip.apply_link()?;
        chip.registers.tx_cfg().write(TX_CFG::TX_ON::SET);
        Ok(chip)
    }

    /// Resets the PHY (BCR.Reset, self-clearing), advertises 10/100 half
    /// and full duplex with PAUSE, unmasks its auto-negotiation-complete
    /// and link-down interrupts, and (re)starts auto-negotiation.
    fn start_phy(&mut self) -> Result<(), Error> {
        self.phy_write(phy::BASIC_CONTROL, phy::CONTROL_RESET)?;
        let mut budget = Budget::new(Operation::PhyReset, timeouts::PHY_RESET_US);
        while self.phy_read(phy::BASIC_CONTROL)? & phy::CONTROL_RESET != 0 {
            budget.tick(&mut self.delay)?;
        }
        self.phy_write(phy::ADVERTISEMENT, ADVERTISEMENT)?;
        self.phy_write(
            phy::INTERRUPT_MASK,
            phy::INTERRUPT_AUTONEGOTIATION_COMPLETE | phy::INTERRUPT_LINK_DOWN,
        )?;
        self.phy_write(phy::BASIC_CONTROL, phy::CONTROL_AUTONEGOTIATE)
    }

    /// Waits for auto-negotiation to complete; after
    /// [`timeouts::AUTONEGOTIATION_US`] (no partner, no cable) goes on: the
    /// PHY interrupt reports the link when it comes.
    fn await_autonegotiation(&mut self) -> Result<(), Error> {
        // Polled every millisecond: each poll is a PHY access of its own.
        let mut budget =
            Budget::with_step(Operation::PhyAccess, timeouts::AUTONEGOTIATION_US, 1_000);
        while self.phy_read(phy::BASIC_STATUS)? & phy::STATUS_AUTONEGOTIATION_COMPLETE == 0 {
            if budget.tick(&mut self.delay).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Programs MAC_CR's duplex and the flow control (FLOW, AFC_CFG) from
    /// the negotiation's result: full duplex with PAUSE if both ends
    /// offered it, half duplex with back pressure if the partner is half
    /// duplex or the negotiation has not completed.
    fn apply_link(&mut self) -> Result<(), Error> {
        let status = self.phy_read(phy::BASIC_STATUS)?;
        let link = if status & phy::STATUS_AUTONEGOTIATION_COMPLETE != 0 {
            let advertised = self.phy_read(phy::ADVERTISEMENT)?;
            let partner = self.phy_read(phy::PARTNER_ABILITY)?;
            Some(resolve_link(advertised, partner))
        } else {
            None
        };
        let mode = link.unwrap_or(LinkMode { full_duplex: false, pause: false });
        self.control = if mode.full_duplex {
            self.control | mac_cr::FDPX
        } else {
            self.control & !mac_cr::FDPX
        };
        let (flow, afc) = match (mode.full_duplex, mode.pause) {
            (true, true) => {
                (flow::FCPT_MAX | flow::FCEN, afc_levels() + afc_trigger_on_any_frame())
            }
            (true, false) => (0, afc_levels()),
            (false, _) => (0, afc_levels() + afc_trigger_on_any_frame()),
        };
        self.mac_write(mac::FLOW, flow)?;
        self.registers.afc_cfg().write(afc);
        let control = self.control;
        self.mac_write(mac::MAC_CR, control)?;
        self.link = link;
        Ok(())
    }

    /// The negotiated link mode, `None` while auto-negotiation has not
    /// completed.
    pub fn link_mode(&self) -> Option<LinkMode> {
        self.link
    }

    /// Unmasks exactly the sources in `interrupts` (INT_EN). This replaces
    /// the whole mask, an armed [`Interrupts::TRANSMIT_READY`] included:
    /// set it at bring-up, before anyone arms that.
    pub fn set_interrupt_mask(&mut self, interrupts: Interrupts) {
        self.registers.int_en().set(interrupts.0);
    }

    /// Interrupt entry point: returns the pending enabled sources and
    /// clears them (INT_STS is write-1-to-clear), handling what only the
    /// driver can: a receiver error dumps the RX FIFOs (the frame boundary
    /// is lost), a transmitter error dumps the TX FIFOs (both counted as
    /// errors), a PHY interrupt is acknowledged at the PHY (its source
    /// register clears on read) and the MAC follows the new link, and a
    /// [`Interrupts::TRANSMIT_READY`] is disarmed (masked in INT_EN before
    /// its status is cleared: the level would raise it again at once).
    /// Then call `receive` until it returns `Ok(None)`.
    pub fn take_interrupts(&mut self) -> Interrupts {
        let pending = self.registers.int_sts().get() & self.registers.int_en().get();
        let pending = Interrupts(pending);
        if pending.contains_any(Interrupts::TRANSMIT_READY) {
            self.registers.int_en().modify(INT::TDFA::CLEAR);
        }
        self.registers.int_sts().set(pending.0);
        if pending.contains_any(Interrupts::RECEIVE_ERROR) {
            bump(&mut self.counters.rx_errors);
            // A recovery that times out leaves the receiver off; the next
            // error interrupt tries again.
            let _ = self.recover_receiver();
        }
        if pending.contains_any(Interrupts::TRANSMIT_ERROR) {
            bump(&mut self.counters.tx_errors);
            let _ = self.recover_transmitter();
        }
        if pending.contains_any(Interrupts::PHY) {
            let _ = self.phy_read(phy::INTERRUPT_SOURCE);
            let _ = self.apply_link();
        }
        pending
    }

    /// Stops the receiver (MAC_CR.RXEN off, then INT_STS.RXSTOP_INT),
    /// dumps the RX data and status FIFOs (RX_CFG.RX_DUMP, self-clearing)
    /// and starts the receiver again (data sheet 3.13.4).
    fn recover_receiver(&mut self) -> Result<(), Error> {
        let control = self.control & !mac_cr::RXEN;
        self.mac_write(mac::MAC_CR, control)?;
        let mut budget = Budget::new(Operation::ReceiverStop, timeouts::STOP_US);
        while !self.registers.int_sts().is_set(INT::RXSTOP_INT) {
            budget.tick(&mut self.delay)?;
        }
        self.registers.int_sts().write(INT::RXSTOP_INT::SET);
        self.registers.rx_cfg().modify(RX_CFG::RX_DUMP::SET);
        while self.registers.rx_cfg().is_set(RX_CFG::RX_DUMP) {
            budget.tick(&mut self.delay)?;
        }
        let control = self.control;
        self.mac_write(mac::MAC_CR, control)
    }

    /// Stops the transmitter (TX_CFG.STOP_TX, then TX_ON clears), dumps
    /// the TX data and status FIFOs and turns it on again (data sheet
    /// 3.12.6).
    fn recover_transmitter(&mut self) -> Result<(), Error> {
        self.registers.tx_cfg().write(TX_CFG::STOP_TX::SET);
        let mut budget = Budget::new(Operation::TransmitterStop, timeouts::STOP_US);
        while self.registers.tx_cfg().is_set(TX_CFG::TX_ON) {
            budget.tick(&mut self.delay)?;
        }
        self.registers.tx_cfg().write(TX_CFG::TXS_DUMP::SET + TX_CFG::TXD_DUMP::SET);
        self.registers.tx_cfg().write(TX_CFG::TX_ON::SET);
        Ok(())
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

    fn mac_read(&mut self, index: u32) -> Result<u32, Error> {
        csr::mac_read(&self.registers, &mut self.delay, index)
    }

    fn mac_write(&mut self, index: u32, value: u32) -> Result<(), Error> {
        csr::mac_write(&self.registers, &mut self.delay, index, value)
    }

    fn phy_read(&mut self, index: u32) -> Result<u16, Error> {
        csr::phy_read(&self.registers, &mut self.delay, index)
    }

    fn phy_write(&mut self, index: u32, value: u16) -> Result<(), Error> {
        csr::phy_write(&self.registers, &mut self.delay, index, value)
    }

    /// Pops finished TX statuses, counting failed transmissions.
    fn reap_transmit_status(&mut self) {
        let used = self.registers.tx_fifo_inf().read(TX_FIFO_INF::TXSUSED);
        for _ in 0..used {
            if transmit_failed(self.registers.tx_status_fifo().get()) {
                self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            }
        }
    }

    /// Free bytes in the TX data FIFO (TX_FIFO_INF TDFREE).
    fn transmit_space(&mut self) -> usize {
        self.registers.tx_fifo_inf().read(TX_FIFO_INF::TDFREE) as usize
    }

    /// Reads and throws away `words` words of the RX data FIFO. (The
    /// RX_DP_CTRL fast-forward would be quicker for long frames, but QEMU's
    /// model of it loses FIFO space, so the driver drains by reading.)
    fn discard_words(&mut self, words: usize) {
        for _ in 0..words {
            self.registers.rx_data_fifo().get();
        }
    }
}

fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

impl<R: Registers, D: DelayNs> EthernetDevice for Lan9118<R, D> {
    type Error = Error;

    fn mac_address(&self) -> [u8; 6] {
        self.mac_address
    }

    /// The link as the PHY last reported it: at bring-up, then at each
    /// PHY interrupt ([`Lan9118::take_interrupts`]; its auto-negotiation-
    /// complete and link-down sources are unmasked at the PHY). No PHY
    /// access here: one takes tens of microseconds on the MII with the
    /// chip held, and a NIC session's client may ask as often as it likes.
    fn link_up(&mut self) -> bool {
        self.link.is_some()
    }

    fn can_transmit(&mut self) -> bool {
        self.transmit_space() >= MAX_TRANSMIT_SPACE
    }

    /// Clears a TDFA latched in INT_STS while the FIFO had room earlier
    /// (the level sets it again at once if the room is still there), then
    /// enables TDFA in INT_EN beside the sources already enabled: the chip
    /// raises it once the TX data FIFO has room for a maximal frame, and
    /// [`Lan9118::take_interrupts`] disarms it.
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        self.registers.int_sts().write(INT::TDFA::SET);
        self.registers.int_en().modify(INT::TDFA::SET);
        true
    }

    /// RSFL in INT_EN, the other sources left as they are. RSFL is a
    /// level: while statuses wait it is set again as soon as it is
    /// cleared, so a driver that cannot take frames masks it.
    fn set_receive_interrupt(&mut self, enabled: bool) {
        let rsfl = if enabled { INT::RSFL::SET } else { INT::RSFL::CLEAR };
        self.registers.int_en().modify(rsfl);
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), Error> {
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&frame.len()) {
            // Counted, as the EthernetLite driver counts it: the frame is
            // lost to whoever sent it.
            self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            return Err(Error::InvalidFrameLength(frame.len()));
        }
        self.reap_transmit_status();
        if self.transmit_space() < frame.len().next_multiple_of(4) + 8 {
            return Err(Error::TransmitFifoFull);
        }
        let (command_a, command_b) = transmit_commands(frame.len(), self.next_tag);
        self.next_tag = self.next_tag.wrapping_add(1);
        self.registers.tx_data_fifo().set(command_a);
        self.registers.tx_data_fifo().set(command_b);
        // Whole words, then the last bytes padded to one; the FIFO takes
        // the first byte in bits 7:0.
        let fifo = self.registers.tx_data_fifo();
        words::write_words(frame, |word| fifo.set(u32::from_le_bytes(word.to_ne_bytes())));
        bump(&mut self.counters.tx_frames);
        Ok(())
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Error> {
        self.reap_transmit_status();
        let dropped = self.registers.rx_drop().get();
        self.counters.rx_overruns = self.counters.rx_overruns.saturating_add(dropped);
        loop {
            let statuses = self.registers.rx_fifo_inf().read(RX_FIFO_INF::RXSUSED);
            if statuses == 0 {
                return Ok(None);
            }
            let status = ReceiveStatus(self.registers.rx_status_fifo().get());
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
            // Whole words, then the last bytes of the frame, then the words
            // after it (the FCS): one FIFO read per word, one store per
            // word into a word-aligned buffer, in a loop that runs ~380
            // times a frame.
            let fifo = self.registers.rx_data_fifo();
            let read = words::read_words(&mut buffer[..length], || {
                u32::from_ne_bytes(fifo.get().to_le_bytes())
            });
            self.discard_words(words.saturating_sub(read));
            bump(&mut self.counters.rx_frames);
            return Ok(Some(length));
        }
    }

    fn counters(&self) -> FrameCounters {
        self.counters
    }
}
