//! PL011 register block (PrimeCell UART TRM DDI 0183, table 3-1).

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::{NoAccess, ReadOnly, WriteOnly};

/// The PL011 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// UARTDR: data register; reading pops the receive FIFO.
    dr: u32,
    /// UARTRSR/UARTECR: receive status (read) / error clear (write).
    rsr_ecr: u32,
    #[access(NoAccess)]
    _reserved0: [u32; 4],
    /// UARTFR: flag register.
    #[access(ReadOnly)]
    fr: u32,
    #[access(NoAccess)]
    _reserved1: u32,
    /// UARTILPR: IrDA low-power counter.
    ilpr: u32,
    /// UARTIBRD: integer baud rate divisor.
    ibrd: u32,
    /// UARTFBRD: fractional baud rate divisor.
    fbrd: u32,
    /// UARTLCR_H: line control; writing it latches IBRD and FBRD.
    lcr_h: u32,
    /// UARTCR: control register.
    cr: u32,
    /// UARTIFLS: interrupt FIFO level select.
    ifls: u32,
    /// UARTIMSC: interrupt mask set/clear.
    imsc: u32,
    /// UARTRIS: raw interrupt status.
    #[access(ReadOnly)]
    ris: u32,
    /// UARTMIS: masked interrupt status.
    #[access(ReadOnly)]
    mis: u32,
    /// UARTICR: interrupt clear (write 1 to clear).
    #[access(WriteOnly)]
    icr: u32,
    /// UARTDMACR: DMA control.
    dmacr: u32,
    #[access(NoAccess)]
    _reserved2: [u32; 997],
    /// UARTPeriphID0-3: peripheral identification.
    #[access(ReadOnly)]
    periph_id: [u32; 4],
    /// UARTPCellID0-3: PrimeCell identification.
    #[access(ReadOnly)]
    pcell_id: [u32; 4],
}

const _: () = assert!(core::mem::offset_of!(Regs, dr) == 0x000);
const _: () = assert!(core::mem::offset_of!(Regs, rsr_ecr) == 0x004);
const _: () = assert!(core::mem::offset_of!(Regs, fr) == 0x018);
const _: () = assert!(core::mem::offset_of!(Regs, ilpr) == 0x020);
const _: () = assert!(core::mem::offset_of!(Regs, ibrd) == 0x024);
const _: () = assert!(core::mem::offset_of!(Regs, fbrd) == 0x028);
const _: () = assert!(core::mem::offset_of!(Regs, lcr_h) == 0x02c);
const _: () = assert!(core::mem::offset_of!(Regs, cr) == 0x030);
const _: () = assert!(core::mem::offset_of!(Regs, ifls) == 0x034);
const _: () = assert!(core::mem::offset_of!(Regs, imsc) == 0x038);
const _: () = assert!(core::mem::offset_of!(Regs, ris) == 0x03c);
const _: () = assert!(core::mem::offset_of!(Regs, mis) == 0x040);
const _: () = assert!(core::mem::offset_of!(Regs, icr) == 0x044);
const _: () = assert!(core::mem::offset_of!(Regs, dmacr) == 0x048);
const _: () = assert!(core::mem::offset_of!(Regs, periph_id) == 0xfe0);
const _: () = assert!(core::mem::offset_of!(Regs, pcell_id) == 0xff0);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

/// The registers the driver uses, by data-sheet name (the bus's names;
/// the driver reaches them through [`Registers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// UARTDR.
    Dr,
    /// UARTRSR/UARTECR.
    RsrEcr,
    /// UARTFR (read only).
    Fr,
    /// UARTIBRD.
    Ibrd,
    /// UARTFBRD.
    Fbrd,
    /// UARTLCR_H.
    LcrH,
    /// UARTCR.
    Cr,
    /// UARTIFLS.
    Ifls,
    /// UARTIMSC.
    Imsc,
    /// UARTRIS (read only).
    Ris,
    /// UARTMIS (read only).
    Mis,
    /// UARTICR (write only).
    Icr,
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        match self {
            Register::Dr => offset_of!(Regs, dr),
            Register::RsrEcr => offset_of!(Regs, rsr_ecr),
            Register::Fr => offset_of!(Regs, fr),
            Register::Ibrd => offset_of!(Regs, ibrd),
            Register::Fbrd => offset_of!(Regs, fbrd),
            Register::LcrH => offset_of!(Regs, lcr_h),
            Register::Cr => offset_of!(Regs, cr),
            Register::Ifls => offset_of!(Regs, ifls),
            Register::Imsc => offset_of!(Regs, imsc),
            Register::Ris => offset_of!(Regs, ris),
            Register::Mis => offset_of!(Regs, mis),
            Register::Icr => offset_of!(Regs, icr),
        }
    }
}

/// The memory-mapped PL011: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// UARTDR (TRM 3.3.1): the character and its receive error bits.
    pub(crate) DR [
        DATA OFFSET(0) NUMBITS(8) [],
        FE OFFSET(8) NUMBITS(1) [],
        PE OFFSET(9) NUMBITS(1) [],
        BE OFFSET(10) NUMBITS(1) [],
        OE OFFSET(11) NUMBITS(1) [],
    ],
    /// UARTFR (TRM 3.3.3).
    pub(crate) FR [
        BUSY OFFSET(3) NUMBITS(1) [],
        RXFE OFFSET(4) NUMBITS(1) [],
        TXFF OFFSET(5) NUMBITS(1) [],
        TXFE OFFSET(7) NUMBITS(1) [],
    ],
    /// UARTIBRD (TRM 3.3.6).
    pub(crate) IBRD [
        BAUD_DIVINT OFFSET(0) NUMBITS(16) [],
    ],
    /// UARTFBRD (TRM 3.3.6).
    pub(crate) FBRD [
        BAUD_DIVFRAC OFFSET(0) NUMBITS(6) [],
    ],
    /// UARTLCR_H (TRM 3.3.7).
    pub(crate) LCR_H [
        PEN OFFSET(1) NUMBITS(1) [],
        EPS OFFSET(2) NUMBITS(1) [],
        STP2 OFFSET(3) NUMBITS(1) [],
        FEN OFFSET(4) NUMBITS(1) [],
        WLEN OFFSET(5) NUMBITS(2) [
            Five = 0,
            Six = 1,
            Seven = 2,
            Eight = 3,
        ],
    ],
    /// UARTCR (TRM 3.3.8).
    pub(crate) CR [
        UARTEN OFFSET(0) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        RXE OFFSET(9) NUMBITS(1) [],
    ],
    /// UARTIFLS (TRM 3.3.9): FIFO levels at which TXIM and RXIM assert.
    pub(crate) IFLS [
        TXIFLSEL OFFSET(0) NUMBITS(3) [
            /// The transmit FIFO becomes at most 1/2 full (8 of 16).
            Half = 0b010,
        ],
        RXIFLSEL OFFSET(3) NUMBITS(3) [
            /// The receive FIFO becomes at least 1/2 full (8 of 16).
            Half = 0b010,
        ],
    ],
    /// UARTIMSC, UARTRIS, UARTMIS, UARTICR (TRM 3.3.10-3.3.13): one bit per
    /// source, as [`crate::Interrupts`] names them.
    pub(crate) INT [
        SOURCES OFFSET(0) NUMBITS(11) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the PL011's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests). Access rights
    /// are checked when the driver compiles:
    ///
    /// ```compile_fail
    /// use ferrode_hal::mmio::Writeable;
    /// use ferrode_pl011::{Mmio, Registers};
    ///
    /// fn clear_flags(regs: &Mmio<'_>) {
    ///     regs.fr().set(0); // UARTFR is read only
    /// }
    /// ```
    pub trait Registers for Register {
        /// UARTDR: reading pops the receive FIFO, writing pushes the
        /// transmit FIFO.
        fn dr(&mut self) -> ReadWrite<DR::Register> = Register::Dr;
        /// UARTRSR (read) / UARTECR (write: clears the error flags).
        fn rsr_ecr() -> ReadWrite = Register::RsrEcr;
        /// UARTFR.
        fn fr() -> ReadOnly<FR::Register> = Register::Fr;
        /// UARTIBRD.
        fn ibrd() -> ReadWrite<IBRD::Register> = Register::Ibrd;
        /// UARTFBRD.
        fn fbrd() -> ReadWrite<FBRD::Register> = Register::Fbrd;
        /// UARTLCR_H: writing it latches IBRD and FBRD.
        fn lcr_h() -> ReadWrite<LCR_H::Register> = Register::LcrH;
        /// UARTCR.
        fn cr() -> ReadWrite<CR::Register> = Register::Cr;
        /// UARTIFLS.
        fn ifls() -> ReadWrite<IFLS::Register> = Register::Ifls;
        /// UARTIMSC.
        fn imsc() -> ReadWrite<INT::Register> = Register::Imsc;
        /// UARTRIS.
        fn ris() -> ReadOnly<INT::Register> = Register::Ris;
        /// UARTMIS.
        fn mis() -> ReadOnly<INT::Register> = Register::Mis;
        /// UARTICR: write 1 to clear.
        fn icr() -> WriteOnly<INT::Register> = Register::Icr;
    }
}
