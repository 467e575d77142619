//! AXI EthernetLite register block (PG135, "Register Space") and access.

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// Words in a transmit buffer (0x000..0x7E4).
pub const TX_BUFFER_WORDS: usize = 0x7E4 / 4;
/// Words in a receive buffer (0x1000..0x17FC).
pub const RX_BUFFER_WORDS: usize = 0x7FC / 4;

/// The EthernetLite dual-port buffers and registers at their PG135 offsets.
/// Buffers are accessed as 32-bit words only.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// Transmit ping buffer.
    pub tx_ping_buffer: [u32; TX_BUFFER_WORDS],
    /// MDIOADDR, MDIO Address Register: OP (bit 10, 1 = read), PHYADDR
    /// (9:5), REGADDR (4:0).
    pub mdioaddr: u32,
    /// MDIOWR, MDIO Write Data Register (15:0).
    pub mdiowr: u32,
    /// MDIORD, MDIO Read Data Register (15:0).
    pub mdiord: u32,
    /// MDIOCTRL, MDIO Control Register: MDIO enable (bit 3), MDIO status
    /// (bit 0, write 1 to start, reads 1 while busy).
    pub mdioctrl: u32,
    /// Transmit Length Register (ping).
    pub tx_ping_length: u32,
    /// GIE, Global Interrupt Enable Register: bit 31.
    pub gie: u32,
    /// Transmit Control Register (ping): Status (0), Program (1),
    /// Interrupt Enable (3).
    pub tx_ping_control: u32,
    /// Transmit pong buffer (C_TX_PING_PONG = 1).
    pub tx_pong_buffer: [u32; TX_BUFFER_WORDS],
    /// Reserved.
    #[access(NoAccess)]
    _reserved0: [u32; 4],
    /// Transmit Length Register (pong).
    pub tx_pong_length: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved1: u32,
    /// Transmit Control Register (pong): Status (0), Program (1).
    pub tx_pong_control: u32,
    /// Receive ping buffer.
    pub rx_ping_buffer: [u32; RX_BUFFER_WORDS],
    /// Receive Control Register (ping): Status (0), Interrupt Enable (3).
    pub rx_ping_control: u32,
    /// Receive pong buffer (C_RX_PING_PONG = 1).
    pub rx_pong_buffer: [u32; RX_BUFFER_WORDS],
    /// Receive Control Register (pong): Status (0).
    pub rx_pong_control: u32,
}

const _: () = assert!(offset_of!(Regs, tx_ping_buffer) == 0x0000);
const _: () = assert!(offset_of!(Regs, mdioaddr) == 0x07E4);
const _: () = assert!(offset_of!(Regs, mdiowr) == 0x07E8);
const _: () = assert!(offset_of!(Regs, mdiord) == 0x07EC);
const _: () = assert!(offset_of!(Regs, mdioctrl) == 0x07F0);
const _: () = assert!(offset_of!(Regs, tx_ping_length) == 0x07F4);
const _: () = assert!(offset_of!(Regs, gie) == 0x07F8);
const _: () = assert!(offset_of!(Regs, tx_ping_control) == 0x07FC);
const _: () = assert!(offset_of!(Regs, tx_pong_buffer) == 0x0800);
const _: () = assert!(offset_of!(Regs, tx_pong_length) == 0x0FF4);
const _: () = assert!(offset_of!(Regs, tx_pong_control) == 0x0FFC);
const _: () = assert!(offset_of!(Regs, rx_ping_buffer) == 0x1000);
const _: () = assert!(offset_of!(Regs, rx_ping_control) == 0x17FC);
const _: () = assert!(offset_of!(Regs, rx_pong_buffer) == 0x1800);
const _: () = assert!(offset_of!(Regs, rx_pong_control) == 0x1FFC);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x2000);

/// A ping or pong buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer {
    /// The ping buffer (always present).
    Ping,
    /// The pong buffer (C_TX_PING_PONG / C_RX_PING_PONG).
    Pong,
}

impl Buffer {
    /// The other buffer of the pair.
    pub const fn other(self) -> Self {
        match self {
            Buffer::Ping => Buffer::Pong,
            Buffer::Pong => Buffer::Ping,
        }
    }
}

/// One 32-bit register or buffer word, for [`ferrode_hal::RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// Word `n` of a transmit buffer (n < [`TX_BUFFER_WORDS`]).
    TxBuffer(Buffer, usize),
    /// Word `n` of a receive buffer (n < [`RX_BUFFER_WORDS`]).
    RxBuffer(Buffer, usize),
    /// MDIOADDR.
    MdioAddr,
    /// MDIOWR.
    MdioWr,
    /// MDIORD.
    MdioRd,
    /// MDIOCTRL.
    MdioCtrl,
    /// Transmit Length Register.
    TxLength(Buffer),
    /// GIE.
    Gie,
    /// Transmit Control Register.
    TxControl(Buffer),
    /// Receive Control Register.
    RxControl(Buffer),
}

impl Register {
    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        match self {
            Register::TxBuffer(Buffer::Ping, w) => offset_of!(Regs, tx_ping_buffer) + 4 * w,
            Register::TxBuffer(Buffer::Pong, w) => offset_of!(Regs, tx_pong_buffer) + 4 * w,
            Register::RxBuffer(Buffer::Ping, w) => offset_of!(Regs, rx_ping_buffer) + 4 * w,
            Register::RxBuffer(Buffer::Pong, w) => offset_of!(Regs, rx_pong_buffer) + 4 * w,
            Register::MdioAddr => offset_of!(Regs, mdioaddr),
            Register::MdioWr => offset_of!(Regs, mdiowr),
            Register::MdioRd => offset_of!(Regs, mdiord),
            Register::MdioCtrl => offset_of!(Regs, mdioctrl),
            Register::TxLength(Buffer::Ping) => offset_of!(Regs, tx_ping_length),
            Register::TxLength(Buffer::Pong) => offset_of!(Regs, tx_pong_length),
            Register::Gie => offset_of!(Regs, gie),
            Register::TxControl(Buffer::Ping) => offset_of!(Regs, tx_ping_control),
            Register::TxControl(Buffer::Pong) => offset_of!(Regs, tx_pong_control),
            Register::RxControl(Buffer::Ping) => offset_of!(Regs, rx_ping_control),
            Register::RxControl(Buffer::Pong) => offset_of!(Regs, rx_pong_control),
        }
    }
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        Register::offset(self)
    }
}

/// The memory-mapped EthernetLite: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// Transmit Control Register, ping (0x07FC) and pong (0x0FFC) (PG135).
    pub(crate) TX_CONTROL [
        /// Status: set to send the buffer's frame (or, with Program, to
        /// load the station address); the core clears it when done.
        STATUS OFFSET(0) NUMBITS(1) [],
        /// Program: with Status, load the MAC address from the buffer.
        PROGRAM OFFSET(1) NUMBITS(1) [],
        /// Interrupt Enable: transmit-done interrupt (ping register only).
        INTERRUPT_ENABLE OFFSET(3) NUMBITS(1) [],
    ],
    /// Receive Control Register, ping (0x17FC) and pong (0x1FFC) (PG135).
    pub(crate) RX_CONTROL [
        /// Status: the buffer holds a received frame; writing 0 gives the
        /// buffer back to the core (software never sets it).
        STATUS OFFSET(0) NUMBITS(1) [],
        /// Interrupt Enable: frame-received interrupt (ping register in
        /// PG135; QEMU checks it per buffer).
        INTERRUPT_ENABLE OFFSET(3) NUMBITS(1) [],
    ],
    /// GIE, Global Interrupt Enable Register (PG135).
    pub(crate) GIE [
        /// GIE: the core's interrupt output is enabled.
        GLOBAL_INTERRUPT_ENABLE OFFSET(31) NUMBITS(1) [],
    ],
    /// MDIOADDR, MDIO Address Register (PG135).
    pub(crate) MDIOADDR [
        /// REGADDR: the PHY register.
        REGADDR OFFSET(0) NUMBITS(5) [],
        /// PHYADDR: the PHY.
        PHYADDR OFFSET(5) NUMBITS(5) [],
        /// OP: the transaction.
        OP OFFSET(10) NUMBITS(1) [
            Write = 0,
            Read = 1,
        ],
    ],
    /// MDIOWR and MDIORD, MDIO Write and Read Data Registers (PG135).
    pub(crate) MDIO_DATA [
        /// The 16-bit PHY register value.
        DATA OFFSET(0) NUMBITS(16) [],
    ],
    /// MDIOCTRL, MDIO Control Register (PG135).
    pub(crate) MDIOCTRL [
        /// MDIO Status: write 1 to start a transaction; reads 1 while it
        /// runs.
        MDIO_STATUS OFFSET(0) NUMBITS(1) [],
        /// MDIO Enable.
        MDIO_ENABLE OFFSET(3) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the EthernetLite's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// Word `word` of a transmit buffer.
        fn tx_buffer(buffer: Buffer, word: usize) -> ReadWrite = Register::TxBuffer(buffer, word);
        /// Word `word` of a receive buffer.
        fn rx_buffer(buffer: Buffer, word: usize) -> ReadWrite = Register::RxBuffer(buffer, word);
        /// MDIOADDR.
        fn mdio_addr() -> ReadWrite<MDIOADDR::Register> = Register::MdioAddr;
        /// MDIOWR.
        fn mdio_wr() -> ReadWrite<MDIO_DATA::Register> = Register::MdioWr;
        /// MDIORD.
        fn mdio_rd() -> ReadOnly<MDIO_DATA::Register> = Register::MdioRd;
        /// MDIOCTRL.
        fn mdio_ctrl() -> ReadWrite<MDIOCTRL::Register> = Register::MdioCtrl;
        /// Transmit Length Register: the frame's length in bytes (15:0).
        fn tx_length(buffer: Buffer) -> ReadWrite = Register::TxLength(buffer);
        /// GIE.
        fn gie() -> ReadWrite<GIE::Register> = Register::Gie;
        /// Transmit Control Register.
        fn tx_control(buffer: Buffer) -> ReadWrite<TX_CONTROL::Register> = Register::TxControl(buffer);
        /// Receive Control Register.
        fn rx_control(buffer: Buffer) -> ReadWrite<RX_CONTROL::Register> = Register::RxControl(buffer);
    }
}
