//! Behavioural model of a LAN9118 for host tests: RX/TX FIFOs, TX command
//! parsing, indirect MAC CSR and MII access, soft reset, W1C status.

use std::collections::VecDeque;
use std::vec::Vec;

use crate::regs::{Register, Registers};

enum TransmitState {
    Idle,
    CommandB {
        command_a: u32,
    },
    Data {
        remaining: usize,
        frame: Vec<u8>,
        tag: u32,
    },
}

pub struct ModelNic {
    pub byte_test: u32,
    pub rx_status: VecDeque<u32>,
    pub rx_data: VecDeque<u32>,
    /// Set if the driver read an empty RX data FIFO.
    pub rx_underflow: bool,
    pub rx_drop: u32,
    transmit: TransmitState,
    pub transmitted: Vec<Vec<u8>>,
    pub tx_status: VecDeque<u32>,
    /// Mark the next transmitted frame as failed (e.g. excessive collisions).
    pub fail_next_transmit: bool,
    pub tx_free_bytes: u32,
    pub tx_cfg: u32,
    pub int_sts: u32,
    pub int_en: u32,
    pub irq_cfg: u32,
    /// HW_CFG reads that still show SRST after a reset request.
    pub reset_polls: u32,
    pub resets: u32,
    pub mac_cr: u32,
    pub mac_address: [u8; 6],
    mac_csr_data: u32,
    mii_data: u32,
    pub link_up: bool,
    pub phy_control: u32,
}

impl ModelNic {
    pub fn new() -> Self {
        Self {
            byte_test: 0x8765_4321,
            rx_status: VecDeque::new(),
            rx_data: VecDeque::new(),
            rx_underflow: false,
            rx_drop: 0,
            transmit: TransmitState::Idle,
            transmitted: Vec::new(),
            tx_status: VecDeque::new(),
            fail_next_transmit: false,
            tx_free_bytes: 4608,
            tx_cfg: 0,
            int_sts: 0,
            int_en: 0,
            irq_cfg: 0,
            reset_polls: 0,
            resets: 0,
            mac_cr: 1 << 18,
            mac_address: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            mac_csr_data: 0,
            mii_data: 0,
            link_up: true,
            phy_control: 0x3000,
        }
    }

    /// A frame arrives from the wire with extra RX status `flags`; the FIFO
    /// holds it followed by its 4-byte FCS.
    pub fn deliver(&mut self, frame: &[u8], flags: u32) {
        self.rx_status
            .push_back((((frame.len() + 4) as u32) << 16) | flags);
        let mut bytes = frame.to_vec();
        bytes.extend_from_slice(&[0xfc; 4]);
        for chunk in bytes.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.rx_data.push_back(u32::from_le_bytes(word));
        }
        self.int_sts |= 1 << 3;
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
            TransmitState::Data {
                remaining,
                mut frame,
                tag,
            } => {
                let take = remaining.min(4);
                frame.extend_from_slice(&value.to_le_bytes()[..take]);
                if remaining > 4 {
                    TransmitState::Data {
                        remaining: remaining - 4,
                        frame,
                        tag,
                    }
                } else {
                    self.transmitted.push(frame);
                    let error = if std::mem::take(&mut self.fail_next_transmit) {
                        1 << 15
                    } else {
                        0
                    };
                    self.tx_status.push_back((tag << 16) | error);
                    TransmitState::Idle
                }
            }
        };
    }

    fn mac_read(&self, index: u32) -> u32 {
        let a = self.mac_address;
        match index {
            1 => self.mac_cr,
            2 => u32::from_le_bytes([a[4], a[5], 0, 0]),
            3 => u32::from_le_bytes([a[0], a[1], a[2], a[3]]),
            6 => 0,
            7 => self.mii_data,
            other => panic!("driver read unimplemented MAC CSR {other}"),
        }
    }

    fn mac_write(&mut self, index: u32, value: u32) {
        match index {
            1 => self.mac_cr = value,
            2 => self.mac_address[4..].copy_from_slice(&value.to_le_bytes()[..2]),
            3 => self.mac_address[..4].copy_from_slice(&value.to_le_bytes()),
            6 => {
                assert_eq!((value >> 11) & 0x1f, 1, "internal PHY is at MII address 1");
                let phy_register = (value >> 6) & 0x1f;
                if value & 2 != 0 {
                    assert_eq!(phy_register, 0, "driver wrote an unexpected PHY register");
                    self.phy_control = self.mii_data;
                } else {
                    self.mii_data = match phy_register {
                        0 => self.phy_control,
                        1 => 0x7809 | if self.link_up { 0x24 } else { 0 },
                        other => panic!("driver read unexpected PHY register {other}"),
                    };
                }
            }
            7 => self.mii_data = value & 0xffff,
            other => panic!("driver wrote unimplemented MAC CSR {other}"),
        }
    }
}

impl Registers for ModelNic {
    fn read_register(&mut self, register: Register) -> u32 {
        match register {
            Register::RxDataFifo => self.rx_data.pop_front().unwrap_or_else(|| {
                self.rx_underflow = true;
                0
            }),
            Register::RxStatusFifo => self.rx_status.pop_front().unwrap_or(0),
            Register::TxStatusFifo => self.tx_status.pop_front().unwrap_or(0),
            Register::IdRev => 0x0118_0001,
            Register::IrqCfg => self.irq_cfg,
            Register::IntSts => self.int_sts,
            Register::IntEn => self.int_en,
            Register::ByteTest => self.byte_test,
            Register::TxCfg => self.tx_cfg,
            Register::HwCfg => {
                if self.reset_polls > 0 {
                    self.reset_polls -= 1;
                    1
                } else {
                    0x0005_0000
                }
            }
            Register::RxFifoInf => {
                ((self.rx_status.len() as u32) << 16) | (self.rx_data.len() as u32 * 4)
            }
            Register::TxFifoInf => ((self.tx_status.len() as u32) << 16) | self.tx_free_bytes,
            Register::PmtCtrl => u32::from(self.reset_polls == 0),
            Register::RxDrop => std::mem::take(&mut self.rx_drop),
            Register::MacCsrCmd => 0,
            Register::MacCsrData => self.mac_csr_data,
            Register::TxDataFifo => 0,
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        match register {
            Register::TxDataFifo => self.push_transmit(value),
            Register::IrqCfg => self.irq_cfg = value,
            Register::IntSts => self.int_sts &= !value,
            Register::IntEn => self.int_en = value,
            Register::TxCfg => self.tx_cfg = value,
            Register::HwCfg => {
                if value & 1 != 0 {
                    self.resets += 1;
                    self.reset_polls = 3;
                    self.mac_cr = 1 << 18;
                    self.tx_cfg = 0;
                    self.int_en = 0;
                }
            }
            Register::MacCsrCmd => {
                if value & (1 << 31) != 0 {
                    if value & (1 << 30) != 0 {
                        self.mac_csr_data = self.mac_read(value & 0xff);
                    } else {
                        self.mac_write(value & 0xff, self.mac_csr_data);
                    }
                }
            }
            Register::MacCsrData => self.mac_csr_data = value,
            Register::PmtCtrl
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
