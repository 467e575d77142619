//! Behavioural model of the AXI EthernetLite (PG135) for host tests.

extern crate std;

use core::cell::RefCell;
use std::vec::Vec;

use ferrode_hal::mmio::{FieldValue, LocalRegisterCopy, RegisterLongName};

use crate::regs::{Buffer, GIE, MDIO_DATA, MDIOADDR, MDIOCTRL, RX_CONTROL, Register, TX_CONTROL};

type TxControl = LocalRegisterCopy<u32, TX_CONTROL::Register>;
type RxControl = LocalRegisterCopy<u32, RX_CONTROL::Register>;

/// A written `value` as the register keeps it: only the bits of `fields`
/// exist, the rest read 0.
fn only<R: RegisterLongName>(value: u32, fields: FieldValue<u32, R>) -> LocalRegisterCopy<u32, R> {
    LocalRegisterCopy::new(value & fields.mask())
}

fn index(buffer: Buffer) -> usize {
    match buffer {
        Buffer::Ping => 0,
        Buffer::Pong => 1,
    }
}

const BUFFERS: [Buffer; 2] = [Buffer::Ping, Buffer::Pong];

pub struct State {
    mem: Vec<u8>,
    tx_control: [TxControl; 2],
    tx_length: [u32; 2],
    rx_control: [RxControl; 2],
    gie: LocalRegisterCopy<u32, GIE::Register>,
    mdio_addr: LocalRegisterCopy<u32, MDIOADDR::Register>,
    mdio_wr: u32,
    mdio_rd: u32,
    mdio_ctrl: LocalRegisterCopy<u32, MDIOCTRL::Register>,
    mdio_busy_left: u32,
    pub mac: [u8; 6],
    pub sent: Vec<Vec<u8>>,
    /// Interrupt pulses: received frames and transmit-done.
    pub irq_pulses: u32,
    pub hw_dropped: u32,
    pub phy: [u16; 32],
    rx_next: usize,
    /// Reads of a Transmit Control Register that still show the frames in
    /// progress; the next one finds them sent (`None`: the line waits for
    /// `complete_tx`). A frame that ends while the driver looks.
    pub tx_reads_until_done: Option<u32>,
}

/// Ping-pong buffers in dual-port RAM (word access), transmit on Status,
/// MAC load on Program | Status, receive into the buffers in turn with the
/// Status bit as the only "frame present" flag, a destination-address
/// filter, an interrupt pulse per received frame (the ping receive
/// register's Interrupt Enable and GIE) and per finished transmission or
/// address load (the ping transmit register's Interrupt Enable, for either
/// buffer, and GIE), and a PHY at `phy_address` behind MDIO. As in the
/// core, a write of a Transmit Control Register loads every bit, Status
/// included: a 1 written to a buffer that is done sends it again.
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
            tx_control: [TxControl::new(0); 2],
            tx_length: [0; 2],
            rx_control: [RxControl::new(0); 2],
            gie: LocalRegisterCopy::new(0),
            mdio_addr: LocalRegisterCopy::new(0),
            mdio_wr: 0,
            mdio_rd: 0,
            mdio_ctrl: LocalRegisterCopy::new(0),
            mdio_busy_left: 0,
            mac: [0; 6],
            sent: Vec::new(),
            irq_pulses: 0,
            hw_dropped: 0,
            phy: [0; 32],
            rx_next: 0,
            tx_reads_until_done: None,
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
        s.tx_control[index(buffer)].modify(TX_CONTROL::STATUS::CLEAR);
        Self::transmit_done(s);
    }

    /// The done pulse of a transmission or address load.
    fn transmit_done(s: &mut State) {
        if s.tx_control[0].is_set(TX_CONTROL::INTERRUPT_ENABLE)
            && s.gie.is_set(GIE::GLOBAL_INTERRUPT_ENABLE)
        {
            s.irq_pulses += 1;
        }
    }

    /// The line finishes every transmission in progress.
    pub fn complete_tx(&self) {
        for b in BUFFERS {
            self.complete_tx_of(b);
        }
    }

    /// The line finishes the transmission in progress from `buffer`, if any.
    pub fn complete_tx_of(&self, buffer: Buffer) {
        let mut s = self.state.borrow_mut();
        if s.tx_control[index(buffer)].is_set(TX_CONTROL::STATUS) {
            Self::send(&mut s, buffer);
        }
    }

    /// A transmit buffer's Status: a frame waits or is being sent.
    pub fn tx_busy(&self, buffer: Buffer) -> bool {
        self.state.borrow().tx_control[index(buffer)].is_set(TX_CONTROL::STATUS)
    }

    /// The ping Transmit Control Register's Interrupt Enable.
    pub fn tx_interrupt_enabled(&self) -> bool {
        self.state.borrow().tx_control[0].is_set(TX_CONTROL::INTERRUPT_ENABLE)
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
        if s.rx_control[port].is_set(RX_CONTROL::STATUS) {
            s.hw_dropped += 1;
            return false;
        }
        let start = Register::RxBuffer(BUFFERS[port], 0).offset();
        s.mem[start..start + frame.len()].copy_from_slice(frame);
        s.rx_control[port].modify(RX_CONTROL::STATUS::SET);
        if s.rx_control[0].is_set(RX_CONTROL::INTERRUPT_ENABLE)
            && s.gie.is_set(GIE::GLOBAL_INTERRUPT_ENABLE)
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
            Register::MdioAddr => s.mdio_addr.get(),
            Register::MdioWr => s.mdio_wr,
            Register::MdioRd => s.mdio_rd,
            Register::MdioCtrl => {
                if s.mdio_ctrl.is_set(MDIOCTRL::MDIO_STATUS) {
                    if s.mdio_busy_left == 0 {
                        s.mdio_ctrl.modify(MDIOCTRL::MDIO_STATUS::CLEAR);
                        let phy = s.mdio_addr.read(MDIOADDR::PHYADDR);
                        let reg = s.mdio_addr.read(MDIOADDR::REGADDR) as usize;
                        if phy == u32::from(self.phy_address) {
                            if s.mdio_addr.matches_all(MDIOADDR::OP::Read) {
                                s.mdio_rd = u32::from(s.phy[reg]);
                            } else {
                                s.phy[reg] = MDIO_DATA::DATA.read(s.mdio_wr) as u16;
                            }
                        } else {
                            // Nobody drives MDIO: it reads all ones.
                            s.mdio_rd = 0xFFFF;
                        }
                    } else if s.mdio_busy_left != u32::MAX {
                        s.mdio_busy_left -= 1;
                    }
                }
                s.mdio_ctrl.get()
            }
            Register::TxLength(b) => s.tx_length[index(b)],
            Register::Gie => s.gie.get(),
            Register::TxControl(b) => {
                match s.tx_reads_until_done {
                    Some(0) => {
                        s.tx_reads_until_done = None;
                        for buffer in BUFFERS {
                            if s.tx_control[index(buffer)].is_set(TX_CONTROL::STATUS) {
                                Self::send(&mut s, buffer);
                            }
                        }
                    }
                    Some(reads) => s.tx_reads_until_done = Some(reads - 1),
                    None => {}
                }
                s.tx_control[index(b)].get()
            }
            Register::RxControl(b) => s.rx_control[index(b)].get(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        match register {
            Register::TxBuffer(..) | Register::RxBuffer(..) => {
                let at = register.offset();
                s.mem[at..at + 4].copy_from_slice(&value.to_ne_bytes());
            }
            Register::MdioAddr => s.mdio_addr.set(value),
            Register::MdioWr => s.mdio_wr = value,
            Register::MdioRd => {}
            Register::MdioCtrl => {
                let start = MDIOCTRL::MDIO_STATUS::SET + MDIOCTRL::MDIO_ENABLE::SET;
                s.mdio_ctrl = only(value, start);
                if s.mdio_ctrl.matches_all(start) {
                    s.mdio_busy_left = self.mdio_busy_reads;
                }
            }
            Register::TxLength(b) => s.tx_length[index(b)] = value & 0xFFFF,
            Register::Gie => s.gie = only(value, GIE::GLOBAL_INTERRUPT_ENABLE::SET),
            Register::TxControl(b) => {
                assert!(b == Buffer::Ping || self.tx_ping_pong, "no pong transmit buffer");
                let busy = TX_CONTROL::STATUS::SET + TX_CONTROL::PROGRAM::SET;
                let written = only(value, busy + TX_CONTROL::INTERRUPT_ENABLE::SET);
                s.tx_control[index(b)] = written;
                if written.matches_all(busy) {
                    let start = Register::TxBuffer(b, 0).offset();
                    let mac: [u8; 6] = s.mem[start..start + 6].try_into().unwrap();
                    s.mac = mac;
                    s.tx_control[index(b)]
                        .modify(TX_CONTROL::STATUS::CLEAR + TX_CONTROL::PROGRAM::CLEAR);
                    Self::transmit_done(&mut s);
                } else if written.is_set(TX_CONTROL::STATUS) && self.tx_auto_complete {
                    Self::send(&mut s, b);
                }
            }
            Register::RxControl(b) => {
                assert!(b == Buffer::Ping || self.rx_ping_pong, "no pong receive buffer");
                // Status is cleared by writing 0; it is never set by software.
                let written =
                    only(value, RX_CONTROL::STATUS::SET + RX_CONTROL::INTERRUPT_ENABLE::SET);
                let control = &mut s.rx_control[index(b)];
                let frame_kept =
                    control.is_set(RX_CONTROL::STATUS) && written.is_set(RX_CONTROL::STATUS);
                *control = written;
                control.modify(RX_CONTROL::STATUS.val(u32::from(frame_kept)));
            }
        }
    }
}
