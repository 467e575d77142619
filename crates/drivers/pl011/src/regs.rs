//! PL011 register block (PrimeCell UART TRM DDI 0183, table 3-1).

use volatile::access::{NoAccess, ReadOnly, WriteOnly};
use volatile::{VolatileFieldAccess, VolatilePtr};

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

/// The registers the driver uses, by data-sheet name.
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

/// 32-bit access to the PL011's registers.
///
/// Implemented for the memory-mapped block ([`VolatilePtr<Regs>`]) and, in
/// tests, by behavioural models. Reads of write-only registers return 0 and
/// writes to read-only registers are ignored, as on the bus.
pub trait Registers {
    /// Reads `register`, with its side effects (UARTDR pops the FIFO).
    fn read_register(&mut self, register: Register) -> u32;
    /// Writes `value` to `register`.
    fn write_register(&mut self, register: Register, value: u32);
}

impl Registers for VolatilePtr<'_, Regs> {
    fn read_register(&mut self, register: Register) -> u32 {
        let regs = *self;
        match register {
            Register::Dr => regs.dr().read(),
            Register::RsrEcr => regs.rsr_ecr().read(),
            Register::Fr => regs.fr().read(),
            Register::Ibrd => regs.ibrd().read(),
            Register::Fbrd => regs.fbrd().read(),
            Register::LcrH => regs.lcr_h().read(),
            Register::Cr => regs.cr().read(),
            Register::Ifls => regs.ifls().read(),
            Register::Imsc => regs.imsc().read(),
            Register::Ris => regs.ris().read(),
            Register::Mis => regs.mis().read(),
            Register::Icr => 0,
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        let regs = *self;
        match register {
            Register::Dr => regs.dr().write(value),
            Register::RsrEcr => regs.rsr_ecr().write(value),
            Register::Ibrd => regs.ibrd().write(value),
            Register::Fbrd => regs.fbrd().write(value),
            Register::LcrH => regs.lcr_h().write(value),
            Register::Cr => regs.cr().write(value),
            Register::Ifls => regs.ifls().write(value),
            Register::Imsc => regs.imsc().write(value),
            Register::Icr => regs.icr().write(value),
            Register::Fr | Register::Ris | Register::Mis => {}
        }
    }
}

/// UARTFR bits (TRM 3.3.3).
pub(crate) mod fr {
    pub const BUSY: u32 = 1 << 3;
    pub const RXFE: u32 = 1 << 4;
    pub const TXFF: u32 = 1 << 5;
}

/// UARTIFLS fields (TRM 3.3.9): FIFO levels at which RXIM and TXIM assert.
pub(crate) mod ifls {
    /// RXIFLSEL = 0b010: receive FIFO becomes at least 1/2 full (8 of 16).
    pub const RX_HALF: u32 = 0b010 << 3;
    /// TXIFLSEL = 0b010: transmit FIFO becomes at most 1/2 full (8 of 16).
    pub const TX_HALF: u32 = 0b010;
}

/// UARTDR receive error bits (TRM 3.3.1).
pub(crate) mod dr {
    pub const FE: u32 = 1 << 8;
    pub const PE: u32 = 1 << 9;
    pub const BE: u32 = 1 << 10;
    pub const OE: u32 = 1 << 11;
}

/// UARTCR bits (TRM 3.3.8).
pub(crate) mod cr {
    pub const UARTEN: u32 = 1 << 0;
    pub const TXE: u32 = 1 << 8;
    pub const RXE: u32 = 1 << 9;
}

/// UARTLCR_H bits (TRM 3.3.7).
pub(crate) mod lcr_h {
    pub const PEN: u32 = 1 << 1;
    pub const EPS: u32 = 1 << 2;
    pub const STP2: u32 = 1 << 3;
    pub const FEN: u32 = 1 << 4;
    pub const WLEN_SHIFT: u32 = 5;
}
