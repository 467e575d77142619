//! Behavioural model of a LAN9118 for host tests: RX/TX FIFOs, TX command
//! parsing, indirect MAC CSR and MII access with busy bits, soft reset
//! (FIFOs flushed, EEPROM reloaded), the PHY's reset, advertisement and
//! auto-negotiation, W1C status, the TX data FIFO's level interrupt (TDFA:
//! set again after a clear while the FIFO's free space stays above
//! FIFO_INT's level, as the data sheet's level interrupts are).
//!
//! Where the data sheet says the silicon takes time, the model does too:
//! MAC_CSR_CMD.CSR_BUSY, MII_ACC.MIIBZY, E2P_CMD.EPC_BUSY, the PHY's reset
//! bit and auto-negotiation stay busy for a number of polls, and their
//! results (MAC_CSR_DATA, MII_DATA, the EEPROM's MAC address) appear only
//! when they finish. Frames move only while the transmitter (TX_ON and
//! TXEN) or receiver (RXEN) is on.

use std::collections::VecDeque;
use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::regs::Register;

enum TransmitState {
    Idle,
    CommandB { command_a: u32 },
    Data { remaining: usize, frame: Vec<u8>, tag: u32 },
}

/// A MAC CSR command in progress.
#[derive(Clone, Copy)]
enum CsrCommand {
    Read(u32),
    Write(u32, u32),
}

pub const MAC_CR_RXEN: u32 = 1 << 2;
pub const MAC_CR_TXEN: u32 = 1 << 3;
pub const INT_PHY: u32 = 1 << 18;
pub const INT_RXE: u32 = 1 << 14;
pub const INT_TXE: u32 = 1 << 13;
pub const INT_RXSTOP: u32 = 1 << 24;
pub const INT_TXSTOP: u32 = 1 << 25;
pub const INT_TDFA: u32 = 1 << 9;
/// RSFL: more RX statuses wait than FIFO_INT's RX Status Level.
pub const INT_RSFL: u32 = 1 << 3;
/// FIFO_INT after reset: TX Data Available Level 0x48 (the whole FIFO).
pub const FIFO_INT_RESET: u32 = 0x4800_0000;
/// PHY interrupt sources: INT6 auto-negotiation complete, INT4 link down.
pub const PHY_INT_AUTONEGOTIATION: u32 = 1 << 6;
pub const PHY_INT_LINK_DOWN: u32 = 1 << 4;

pub struct ModelNic {
    pub byte_test: u32,
    pub rx_status: VecDeque<u32>,
    pub rx_data: VecDeque<u32>,
    /// Set if the driver read an empty RX data FIFO.
    pub rx_underflow: bool,
    pub rx_drop: u32,
    /// Frames that arrived while the receiver was off.
    pub missed_while_off: u32,
    transmit: TransmitState,
    pub transmitted: Vec<Vec<u8>>,
    /// Frames written while the transmitter was off (lost).
    pub sent_while_off: u32,
    pub tx_status: VecDeque<u32>,
    /// Mark the next transmitted frame as failed (e.g. excessive collisions).
    pub fail_next_transmit: bool,
    pub tx_free_bytes: u32,
    pub tx_cfg: u32,
    pub rx_cfg: u32,
    /// TX FIFO dumps (TX_CFG TXS_DUMP/TXD_DUMP) and RX dumps (RX_CFG.RX_DUMP).
    pub tx_dumps: u32,
    pub rx_dumps: u32,
    pub int_sts: u32,
    pub int_en: u32,
    pub irq_cfg: u32,
    pub fifo_int: u32,
    /// The last HW_CFG value written other than a soft reset.
    pub hw_cfg: u32,
    /// HW_CFG reads that still show SRST after a reset request.
    pub reset_polls: u32,
    pub resets: u32,
    /// E2P_CMD reads that show EPC_BUSY after a reset (the EEPROM load).
    pub eeprom_load_polls: u32,
    eeprom_busy_left: u32,
    /// The MAC address the EEPROM holds; loaded into ADDRL/ADDRH when the
    /// post-reset load finishes (all ones until then).
    pub eeprom_mac_address: [u8; 6],
    pub mac_cr: u32,
    pub flow: u32,
    pub afc_cfg: u32,
    pub mac_address: [u8; 6],
    mac_csr_data: u32,
    /// MAC_CSR_CMD reads a command stays busy for (`u32::MAX`: forever).
    pub csr_busy_polls: u32,
    csr_busy_left: u32,
    csr_command: Option<CsrCommand>,
    mii_data: u32,
    /// MII_ACC reads (through MAC CSR) a PHY access stays busy for.
    pub mii_busy_polls: u32,
    mii_busy_left: u32,
    mii_command: Option<u32>,
    /// PHY reads and writes the driver started (MII_ACC writes).
    pub phy_accesses: u32,
    pub link_up: bool,
    pub phy_control: u32,
    pub phy_advertisement: u32,
    /// What the link partner advertises (PHY register 5).
    pub partner_ability: u32,
    pub phy_interrupt_mask: u32,
    pub phy_interrupt_source: u32,
    pub phy_resets: u32,
    /// BCR reads that still show Reset after a PHY reset.
    pub phy_reset_polls: u32,
    phy_reset_left: u32,
    /// BSR reads before a (re)started auto-negotiation completes.
    pub autonegotiation_polls: u32,
    autonegotiation_left: Option<u32>,
    pub autonegotiation_complete: bool,
}

impl ModelNic {
    pub fn new() -> Self {
        Self {
            byte_test: 0x8765_4321,
            rx_status: VecDeque::new(),
            rx_data: VecDeque::new(),
            rx_underflow: false,
            rx_drop: 0,
            missed_while_off: 0,
            transmit: TransmitState::Idle,
            transmitted: Vec::new(),
            sent_while_off: 0,
            tx_status: VecDeque::new(),
            fail_next_transmit: false,
            tx_free_bytes: 4608,
            tx_cfg: 0,
            rx_cfg: 0,
            tx_dumps: 0,
            rx_dumps: 0,
            int_sts: 0,
            int_en: 0,
            irq_cfg: 0,
            fifo_int: FIFO_INT_RESET,
            hw_cfg: 0x0005_0000,
            reset_polls: 0,
            resets: 0,
            eeprom_load_polls: 3,
            eeprom_busy_left: 0,
            eeprom_mac_address: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            mac_cr: 1 << 18,
            flow: 0,
            afc_cfg: 0,
            mac_address: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            mac_csr_data: 0,
            csr_busy_polls: 2,
            csr_busy_left: 0,
            csr_command: None,
            mii_data: 0,
            mii_busy_polls: 2,
            mii_busy_left: 0,
            mii_command: None,
            phy_accesses: 0,
            link_up: true,
            phy_control: 0x3000,
            phy_advertisement: 0x01e1,
            partner_ability: 0x05e1,
            phy_interrupt_mask: 0,
            phy_interrupt_source: 0,
            phy_resets: 0,
            phy_reset_polls: 2,
            phy_reset_left: 0,
            autonegotiation_polls: 3,
            autonegotiation_left: None,
            autonegotiation_complete: false,
        }
    }

    /// A frame arrives from the wire with extra RX status `flags`; the FIFO
    /// holds it followed by its 4-byte FCS. Lost if the receiver is off.
    pub fn deliver(&mut self, frame: &[u8], flags: u32) {
        if self.mac_cr & MAC_CR_RXEN == 0 {
            self.missed_while_off += 1;
            return;
        }
        self.rx_status.push_back((((frame.len() + 4) as u32) << 16) | flags);
        let mut bytes = frame.to_vec();
        bytes.extend_from_slice(&[0xfc; 4]);
        for chunk in bytes.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.rx_data.push_back(u32::from_le_bytes(word));
        }
        self.int_sts |= INT_RSFL;
    }

    /// The RX data FIFO loses its frame boundary (as after a read past a
    /// frame on silicon) and the chip raises RXE.
    pub fn corrupt_receive_fifo(&mut self) {
        self.rx_data.push_front(0xdead_beef);
        self.int_sts |= INT_RXE;
    }

    /// The link goes down or comes back; the PHY raises its interrupt.
    pub fn set_link(&mut self, up: bool) {
        self.link_up = up;
        if up {
            self.phy_interrupt_source |= PHY_INT_AUTONEGOTIATION;
        } else {
            self.autonegotiation_complete = false;
            self.phy_interrupt_source |= PHY_INT_LINK_DOWN;
        }
        self.update_phy_interrupt();
    }

    /// The FIFO level sources: TDFA follows the TX data FIFO's free space
    /// (set while it is greater than FIFO_INT's TX Data Available Level,
    /// in 64-byte blocks), RSFL the RX status FIFO (set while more
    /// statuses wait than its RX Status Level); a clear does not stick
    /// while the level stands.
    fn update_fifo_levels(&mut self) {
        if self.tx_free_bytes > (self.fifo_int >> 24) * 64 {
            self.int_sts |= INT_TDFA;
        }
        if self.rx_status.len() as u32 > self.fifo_int & 0xff {
            self.int_sts |= INT_RSFL;
        }
    }

    /// Whether the IRQ pin is asserted: an enabled source is pending and
    /// IRQ_CFG.IRQ_EN is set.
    pub fn irq_asserted(&mut self) -> bool {
        self.update_fifo_levels();
        self.int_sts & self.int_en != 0 && self.irq_cfg & (1 << 8) != 0
    }

    fn transmitter_on(&self) -> bool {
        self.tx_cfg & 2 != 0 && self.mac_cr & MAC_CR_TXEN != 0
    }

    fn push_transmit(&mut self, value: u32) {
        self.transmit = match std::mem::replace(&mut self.transmit, TransmitState::Idle) {
            TransmitState::Idle => TransmitState::CommandB { command_a: value },
            TransmitState::CommandB { command_a } => {
                assert_eq!(
                    command_a & 0x3000,
                    0x3000,
                    "single-buffer frames must be FIRST_SEG and LAST_SEG"
                );
                assert_eq!(
                    command_a & 0x7ff,
                    value & 0x7ff,
                    "buffer size and packet length differ"
                );
                TransmitState::Data {
                    remaining: (value & 0x7ff) as usize,
                    frame: Vec::new(),
                    tag: value >> 16,
                }
            }
            TransmitState::Data { remaining, mut frame, tag } => {
                let take = remaining.min(4);
                frame.extend_from_slice(&value.to_le_bytes()[..take]);
                if remaining > 4 {
                    TransmitState::Data { remaining: remaining - 4, frame, tag }
                } else {
                    if !self.transmitter_on() {
                        self.sent_while_off += 1;
                        return;
                    }
                    self.transmitted.push(frame);
                    let error =
                        if std::mem::take(&mut self.fail_next_transmit) { 1 << 15 } else { 0 };
                    self.tx_status.push_back((tag << 16) | error);
                    TransmitState::Idle
                }
            }
        };
    }

    fn soft_reset(&mut self) {
        self.resets += 1;
        self.reset_polls = 3;
        self.rx_status.clear();
        self.rx_data.clear();
        self.tx_status.clear();
        self.transmit = TransmitState::Idle;
        self.mac_cr = 1 << 18;
        self.flow = 0;
        self.afc_cfg = 0;
        self.tx_cfg = 0;
        self.rx_cfg = 0;
        self.int_en = 0;
        self.int_sts = 0;
        self.fifo_int = FIFO_INT_RESET;
        self.hw_cfg = 0x0005_0000;
        self.csr_busy_left = 0;
        self.csr_command = None;
        self.mii_busy_left = 0;
        self.mii_command = None;
        self.mac_address = [0xff; 6];
        self.eeprom_busy_left = self.eeprom_load_polls;
        if self.eeprom_busy_left == 0 {
            self.mac_address = self.eeprom_mac_address;
        }
        // QEMU resets the PHY with the chip; the driver's own PHY reset is
        // what the tests count.
        self.reset_phy();
        self.phy_reset_left = 0;
        self.phy_resets = 0;
    }

    fn reset_phy(&mut self) {
        self.phy_resets += 1;
        self.phy_control = 0x3000;
        self.phy_advertisement = 0x01e1;
        self.phy_interrupt_mask = 0;
        self.phy_interrupt_source = 0;
        self.autonegotiation_complete = false;
        self.autonegotiation_left = None;
        self.phy_reset_left = self.phy_reset_polls;
        self.update_phy_interrupt();
    }

    fn update_phy_interrupt(&mut self) {
        if self.phy_interrupt_source & self.phy_interrupt_mask != 0 {
            self.int_sts |= INT_PHY;
        } else {
            self.int_sts &= !INT_PHY;
        }
    }

    fn phy_read(&mut self, index: u32) -> u32 {
        match index {
            0 => {
                let resetting = if self.phy_reset_left > 0 {
                    self.phy_reset_left -= 1;
                    1 << 15
                } else {
                    0
                };
                self.phy_control | resetting
            }
            1 => {
                if let Some(left) = self.autonegotiation_left {
                    if left == 0 {
                        self.autonegotiation_left = None;
                        if self.link_up {
                            self.autonegotiation_complete = true;
                            self.phy_interrupt_source |= PHY_INT_AUTONEGOTIATION;
                            self.update_phy_interrupt();
                        }
                    } else {
                        self.autonegotiation_left = Some(left - 1);
                    }
                }
                let mut status = 0x7809;
                if self.autonegotiation_complete {
                    status |= 1 << 5;
                }
                if self.link_up {
                    status |= 1 << 2;
                }
                status
            }
            4 => self.phy_advertisement,
            5 => {
                if self.autonegotiation_complete {
                    self.partner_ability
                } else {
                    0
                }
            }
            29 => {
                let source = std::mem::take(&mut self.phy_interrupt_source);
                self.update_phy_interrupt();
                source
            }
            30 => self.phy_interrupt_mask,
            other => panic!("driver read unexpected PHY register {other}"),
        }
    }

    fn phy_write(&mut self, index: u32, value: u32) {
        assert_eq!(self.phy_reset_left, 0, "PHY written while still in reset");
        match index {
            0 => {
                if value & (1 << 15) != 0 {
                    self.reset_phy();
                    return;
                }
                self.phy_control = value & 0x7d80;
                if value & (1 << 12) != 0 && value & (1 << 9) != 0 {
                    self.autonegotiation_complete = false;
                    self.autonegotiation_left = Some(self.autonegotiation_polls);
                }
            }
            4 => self.phy_advertisement = value & 0x2fff,
            30 => {
                self.phy_interrupt_mask = value & 0xff;
                self.update_phy_interrupt();
            }
            other => panic!("driver wrote unexpected PHY register {other}"),
        }
    }

    fn mac_read(&mut self, index: u32) -> u32 {
        let a = self.mac_address;
        match index {
            1 => self.mac_cr,
            2 => u32::from_le_bytes([a[4], a[5], 0, 0]),
            3 => u32::from_le_bytes([a[0], a[1], a[2], a[3]]),
            6 => {
                if self.mii_busy_left > 0 {
                    self.mii_busy_left -= 1;
                    if self.mii_busy_left == 0 {
                        self.finish_mii();
                    }
                    1
                } else {
                    0
                }
            }
            7 => self.mii_data,
            8 => self.flow,
            other => panic!("driver read unimplemented MAC CSR {other}"),
        }
    }

    fn finish_mii(&mut self) {
        let Some(command) = self.mii_command.take() else {
            return;
        };
        let phy_register = (command >> 6) & 0x1f;
        if command & 2 != 0 {
            self.phy_write(phy_register, self.mii_data);
        } else {
            self.mii_data = self.phy_read(phy_register);
        }
    }

    fn mac_write(&mut self, index: u32, value: u32) {
        match index {
            1 => {
                if self.mac_cr & MAC_CR_RXEN != 0 && value & MAC_CR_RXEN == 0 {
                    self.int_sts |= INT_RXSTOP;
                }
                self.mac_cr = value;
            }
            2 => self.mac_address[4..].copy_from_slice(&value.to_le_bytes()[..2]),
            3 => self.mac_address[..4].copy_from_slice(&value.to_le_bytes()),
            6 => {
                assert_eq!(self.mii_busy_left, 0, "MII_ACC written while MIIBZY");
                assert_eq!((value >> 11) & 0x1f, 1, "internal PHY is at MII address 1");
                assert_eq!(value & 1, 1, "MII access without MIIBZY");
                self.phy_accesses += 1;
                self.mii_command = Some(value);
                self.mii_busy_left = self.mii_busy_polls;
                if self.mii_busy_left == 0 {
                    self.finish_mii();
                }
            }
            7 => {
                assert_eq!(self.mii_busy_left, 0, "MII_DATA written while MIIBZY");
                self.mii_data = value & 0xffff;
            }
            8 => self.flow = value,
            other => panic!("driver wrote unimplemented MAC CSR {other}"),
        }
    }

    fn finish_csr(&mut self) {
        match self.csr_command.take() {
            Some(CsrCommand::Read(index)) => self.mac_csr_data = self.mac_read(index),
            Some(CsrCommand::Write(index, value)) => self.mac_write(index, value),
            None => {}
        }
    }
}

impl RegisterModel<Register> for ModelNic {
    fn read(&mut self, register: Register) -> u32 {
        match register {
            Register::RxDataFifo => self.rx_data.pop_front().unwrap_or_else(|| {
                self.rx_underflow = true;
                0
            }),
            Register::RxStatusFifo => self.rx_status.pop_front().unwrap_or(0),
            Register::TxStatusFifo => self.tx_status.pop_front().unwrap_or(0),
            Register::IdRev => 0x0118_0001,
            Register::IrqCfg => self.irq_cfg,
            Register::IntSts => {
                self.update_fifo_levels();
                self.int_sts
            }
            Register::IntEn => self.int_en,
            Register::FifoInt => self.fifo_int,
            Register::ByteTest => self.byte_test,
            Register::RxCfg => self.rx_cfg,
            Register::TxCfg => self.tx_cfg,
            Register::HwCfg => {
                if self.reset_polls > 0 {
                    self.reset_polls -= 1;
                    1
                } else {
                    self.hw_cfg
                }
            }
            Register::RxFifoInf => {
                ((self.rx_status.len() as u32) << 16) | (self.rx_data.len() as u32 * 4)
            }
            Register::TxFifoInf => ((self.tx_status.len() as u32) << 16) | self.tx_free_bytes,
            Register::PmtCtrl => u32::from(self.reset_polls == 0),
            Register::RxDrop => std::mem::take(&mut self.rx_drop),
            Register::MacCsrCmd => {
                if self.csr_busy_left > 0 {
                    if self.csr_busy_left != u32::MAX {
                        self.csr_busy_left -= 1;
                    }
                    if self.csr_busy_left == 0 {
                        self.finish_csr();
                    }
                    1 << 31
                } else {
                    0
                }
            }
            Register::MacCsrData => self.mac_csr_data,
            Register::AfcCfg => self.afc_cfg,
            Register::E2pCmd => {
                if self.eeprom_busy_left > 0 {
                    self.eeprom_busy_left -= 1;
                    if self.eeprom_busy_left == 0 {
                        self.mac_address = self.eeprom_mac_address;
                    }
                    1 << 31
                } else {
                    0
                }
            }
            Register::TxDataFifo => 0,
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        match register {
            Register::TxDataFifo => self.push_transmit(value),
            Register::IrqCfg => self.irq_cfg = value,
            Register::IntSts => {
                self.int_sts &= !value;
                // The PHY's line stays asserted until its source is read.
                self.update_phy_interrupt();
            }
            Register::IntEn => self.int_en = value,
            Register::FifoInt => self.fifo_int = value,
            Register::RxCfg => {
                if value & (1 << 15) != 0 {
                    self.rx_dumps += 1;
                    self.rx_status.clear();
                    self.rx_data.clear();
                }
                self.rx_cfg = value & !(1 << 15);
            }
            Register::TxCfg => {
                if value & (1 << 15) != 0 {
                    self.tx_status.clear();
                }
                if value & (1 << 14) != 0 {
                    self.tx_dumps += 1;
                    self.transmit = TransmitState::Idle;
                }
                if value & 1 != 0 {
                    // STOP_TX: the transmitter stops; TX_ON clears.
                    self.tx_cfg &= !2;
                    self.int_sts |= INT_TXSTOP;
                } else {
                    self.tx_cfg = value & 0x6;
                }
            }
            Register::HwCfg => {
                if value & 1 != 0 {
                    self.soft_reset();
                } else {
                    self.hw_cfg = value;
                }
            }
            Register::MacCsrCmd => {
                assert_eq!(self.csr_busy_left, 0, "MAC_CSR_CMD written while CSR_BUSY");
                if value & (1 << 31) != 0 {
                    let index = value & 0xff;
                    self.csr_command = Some(if value & (1 << 30) != 0 {
                        CsrCommand::Read(index)
                    } else {
                        CsrCommand::Write(index, self.mac_csr_data)
                    });
                    self.csr_busy_left = self.csr_busy_polls;
                    if self.csr_busy_left == 0 {
                        self.finish_csr();
                    }
                }
            }
            Register::MacCsrData => {
                assert_eq!(self.csr_busy_left, 0, "MAC_CSR_DATA written while CSR_BUSY");
                self.mac_csr_data = value;
            }
            Register::AfcCfg => self.afc_cfg = value,
            Register::E2pCmd
            | Register::PmtCtrl
            | Register::RxDataFifo
            | Register::RxStatusFifo
            | Register::TxStatusFifo
            | Register::IdRev
            | Register::ByteTest
            | Register::RxFifoInf
            | Register::TxFifoInf
            | Register::RxDrop => {}
        }
    }
}
