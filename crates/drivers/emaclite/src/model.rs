//! Behavioural model of the AXI EthernetLite (PG135) for host tests.

extern crate std;

use core::cell::RefCell;
use std::vec::Vec;

use crate::regs::*;

fn index(buffer: Buffer) -> usize {
    match buffer {
        Buffer::Ping => 0,
        Buffer::Pong => 1,
    }
}

const BUFFERS: [Buffer; 2] = [Buffer::Ping, Buffer::Pong];

pub struct State {
    mem: Vec<u8>,
    tx_control: [u32; 2],
    tx_length: [u32; 2],
    rx_control: [u32; 2],
    gie: u32,
    mdio_addr: u32,
    mdio_wr: u32,
    mdio_rd: u32,
    mdio_ctrl: u32,
    mdio_busy_left: u32,
    pub mac: [u8; 6],
    pub sent: Vec<Vec<u8>>,
    pub irq_pulses: u32,
    pub hw_dropped: u32,
    pub phy: [u16; 32],
    rx_next: usize,
}

/// Ping-pong buffers in dual-port RAM (word access), transmit on Status,
/// MAC load on Program | Status, receive into the buffers in turn with the
/// Status bit as the only "frame present" flag, a destination-address
/// filter, an interrupt pulse per received frame (ping's Interrupt Enable
/// and GIE), and a PHY at `phy_address` behind MDIO.
pub struct EthModel {
    pub tx_ping_pong: bool,
    pub rx_ping_pong: bool,
    /// Transmissions finish at once (true) or on `complete_tx`.
    pub tx_auto_complete: bool,
    /// MDIO transactions stay busy for this many MDIOCTRL reads
    /// (`u32::MAX`: forever).
    pub mdio_busy_reads: u32,
    pub phy_address: u8,
    pub state: RefCell<State>,
}

impl EthModel {
    pub fn new(ping_pong: bool) -> Self {
        let state = State {
            mem: std::vec![0xEE; 0x2000],
            tx_control: [0; 2],
            tx_length: [0; 2],
            rx_control: [0; 2],
            gie: 0,
            mdio_addr: 0,
            mdio_wr: 0,
            mdio_rd: 0,
            mdio_ctrl: 0,
            mdio_busy_left: 0,
            mac: [0; 6],
            sent: Vec::new(),
            irq_pulses: 0,
            hw_dropped: 0,
            phy: [0; 32],
            rx_next: 0,
        };
        Self {
            tx_ping_pong: ping_pong,
            rx_ping_pong: ping_pong,
            tx_auto_complete: true,
            mdio_busy_reads: 2,
            phy_address: 1,
            state: RefCell::new(state),
        }
    }

    fn send(s: &mut State, buffer: Buffer) {
        let start = Register::TxBuffer(buffer, 0).offset();
        let len = s.tx_length[index(buffer)] as usize;
        let frame = s.mem[start..start + len].to_vec();
        s.sent.push(frame);
        s.tx_control[index(buffer)] &= !CONTROL_STATUS;
    }

    /// The line finishes every transmission in progress.
    pub fn complete_tx(&self) {
        let mut s = self.state.borrow_mut();
        for b in BUFFERS {
            if s.tx_control[index(b)] & CONTROL_STATUS != 0 {
                Self::send(&mut s, b);
            }
        }
    }

    /// A frame (no FCS) arrives from the wire; false if the hardware had
    /// nowhere to put it or filtered it.
    pub fn deliver(&self, frame: &[u8]) -> bool {
        let mut s = self.state.borrow_mut();
        let broadcast_or_multicast = frame[0] & 1 != 0;
        if !broadcast_or_multicast && frame[..6] != s.mac {
            return false;
        }
        let port = s.rx_next;
        if s.rx_control[port] & CONTROL_STATUS != 0 {
            s.hw_dropped += 1;
            return false;
        }
        let start = Register::RxBuffer(BUFFERS[port], 0).offset();
        s.mem[start..start + frame.len()].copy_from_slice(frame);
        s.rx_control[port] |= CONTROL_STATUS;
        if s.rx_control[0] & CONTROL_INTERRUPT_ENABLE != 0
            && s.gie & GIE_GLOBAL_INTERRUPT_ENABLE != 0
        {
            s.irq_pulses += 1;
        }
        if self.rx_ping_pong {
            s.rx_next ^= 1;
        }
        true
    }
}

impl ferrode_hal::RegisterAccess<Register> for EthModel {
    fn read(&self, register: Register) -> u32 {
        let mut s = self.state.borrow_mut();
        match register {
            Register::TxBuffer(..) | Register::RxBuffer(..) => {
                let at = register.offset();
                u32::from_ne_bytes(s.mem[at..at + 4].try_into().unwrap())
            }
            Register::MdioAddr => s.mdio_addr,
            Register::MdioWr => s.mdio_wr,
            Register::MdioRd => s.mdio_rd,
            Register::MdioCtrl => {
                if s.mdio_ctrl & MDIOCTRL_STATUS != 0 {
                    if s.mdio_busy_left == 0 {
                        s.mdio_ctrl &= !MDIOCTRL_STATUS;
                        let phy = (s.mdio_addr >> 5) & 31;
                        let reg = (s.mdio_addr & 31) as usize;
                        if phy == u32::from(self.phy_address) {
                            if s.mdio_addr & MDIOADDR_OP_READ != 0 {
                                s.mdio_rd = u32::from(s.phy[reg]);
                            } else {
                                s.phy[reg] = s.mdio_wr as u16;
                            }
                        } else {
                            s.mdio_rd = 0xFFFF;
                        }
                    } else if s.mdio_busy_left != u32::MAX {
                        s.mdio_busy_left -= 1;
                    }
                }
                s.mdio_ctrl
            }
            Register::TxLength(b) => s.tx_length[index(b)],
            Register::Gie => s.gie,
            Register::TxControl(b) => s.tx_control[index(b)],
            Register::RxControl(b) => s.rx_control[index(b)],
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        match register {
            Register::TxBuffer(..) | Register::RxBuffer(..) => {
                let at = register.offset();
                s.mem[at..at + 4].copy_from_slice(&value.to_ne_bytes());
            }
            Register::MdioAddr => s.mdio_addr = value,
            Register::MdioWr => s.mdio_wr = value,
            Register::MdioRd => {}
            Register::MdioCtrl => {
                if value & MDIOCTRL_STATUS != 0 && value & MDIOCTRL_ENABLE != 0 {
                    s.mdio_busy_left = self.mdio_busy_reads;
                }
                s.mdio_ctrl = value & (MDIOCTRL_STATUS | MDIOCTRL_ENABLE);
            }
            Register::TxLength(b) => s.tx_length[index(b)] = value & 0xFFFF,
            Register::Gie => s.gie = value & GIE_GLOBAL_INTERRUPT_ENABLE,
            Register::TxControl(b) => {
                assert!(b == Buffer::Ping || self.tx_ping_pong, "no pong transmit buffer");
                s.tx_control[index(b)] =
                    value & (CONTROL_STATUS | CONTROL_PROGRAM | CONTROL_INTERRUPT_ENABLE);
                if value & (CONTROL_STATUS | CONTROL_PROGRAM) == CONTROL_STATUS | CONTROL_PROGRAM {
                    let start = Register::TxBuffer(b, 0).offset();
                    let mac: [u8; 6] = s.mem[start..start + 6].try_into().unwrap();
                    s.mac = mac;
                    s.tx_control[index(b)] &= !(CONTROL_STATUS | CONTROL_PROGRAM);
                } else if value & CONTROL_STATUS != 0 && self.tx_auto_complete {
                    Self::send(&mut s, b);
                }
            }
            Register::RxControl(b) => {
                assert!(b == Buffer::Ping || self.rx_ping_pong, "no pong receive buffer");
                // Status is cleared by writing 0; it is never set by software.
                let status = s.rx_control[index(b)] & value & CONTROL_STATUS;
                s.rx_control[index(b)] = status | (value & CONTROL_INTERRUPT_ENABLE);
            }
        }
    }
}
