//! The 16550 register block as the AXI UART 16550 maps it (PG143, table
//! 2-4): eight registers, one per 32-bit word. RBR, THR and DLL share
//! offset 0x00 and IER and DLM offset 0x04, told apart by LCR.DLAB; IIR
//! (read) and FCR (write) share 0x08.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;

/// The 16550 registers, from offset 0x1000 of the core.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// RBR (read) / THR (write) / DLL (DLAB = 1).
    pub rbr_thr_dll: u32,
    /// IER / DLM (DLAB = 1).
    pub ier_dlm: u32,
    /// IIR (read) / FCR (write).
    pub iir_fcr: u32,
    /// LCR: line control.
    pub lcr: u32,
    /// MCR: modem control (bit 4 loopback).
    pub mcr: u32,
    /// LSR: line status.
    pub lsr: u32,
    /// MSR: modem status.
    pub msr: u32,
    /// SCR: scratch.
    pub scr: u32,
}

/// The TX and RX FIFO depth.
pub const FIFO_DEPTH: usize = 16;

ferrode_hal::register_names! {
    block Regs;
    /// The 16550 registers, by their DLAB = 0 names (DLL and DLM are
    /// `RbrThr` and `Ier` with LCR.DLAB set).
    pub enum Register {
        /// RBR / THR / DLL.
        RbrThr => rbr_thr_dll @ 0x00,
        /// IER / DLM.
        Ier => ier_dlm @ 0x04,
        /// IIR / FCR.
        IirFcr => iir_fcr @ 0x08,
        /// LCR.
        Lcr => lcr @ 0x0c,
        /// MCR.
        Mcr => mcr @ 0x10,
        /// LSR.
        Lsr => lsr @ 0x14,
        /// MSR.
        Msr => msr @ 0x18,
        /// SCR.
        Scr => scr @ 0x1c,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// RBR (read) and THR (write): one character.
    pub(crate) RBR_THR [
        /// The character (8 data bits).
        DATA OFFSET(0) NUMBITS(8) [],
    ],
    /// DLL and DLM (LCR.DLAB set): the low and high byte of the divisor.
    pub(crate) DIVISOR_LATCH [
        /// One byte of the 16-bit divisor.
        BYTE OFFSET(0) NUMBITS(8) [],
    ],
    /// IER, Interrupt Enable Register (PG143 table 2-7).
    pub(crate) IER [
        /// ERBFI: received data available (and, with FIFOs, character
        /// timeout).
        ERBFI OFFSET(0) NUMBITS(1) [],
        /// ETBEI: transmitter holding register empty.
        ETBEI OFFSET(1) NUMBITS(1) [],
        /// ELSI: receiver line status.
        ELSI OFFSET(2) NUMBITS(1) [],
        /// EDSSI: modem status.
        EDSSI OFFSET(3) NUMBITS(1) [],
    ],
    /// IIR, Interrupt Identification Register (PG143 table 2-8).
    pub(crate) IIR [
        /// INTPEND: set while *no* interrupt is pending.
        INTPEND OFFSET(0) NUMBITS(1) [],
        /// INTID2 in PG143: the pending interrupt, highest priority first.
        INTID OFFSET(1) NUMBITS(3) [
            /// An overrun, parity or framing error or a break (cleared by
            /// reading LSR).
            ReceiverLineStatus = 0b011,
            /// Received data at the FIFO's trigger level (cleared below it).
            ReceivedDataAvailable = 0b010,
            /// Data below the trigger level and no character for four
            /// character times (cleared by reading RBR).
            CharacterTimeout = 0b110,
            /// THR empty (cleared by reading IIR or writing THR).
            TransmitterHoldingRegisterEmpty = 0b001,
            /// A modem status input changed (cleared by reading MSR).
            ModemStatus = 0b000,
        ],
        /// FIFOEN: both bits set while FCR.FIFOEN is.
        FIFOEN OFFSET(6) NUMBITS(2) [
            Enabled = 0b11,
        ],
    ],
    /// FCR, FIFO Control Register (PG143).
    pub(crate) FCR [
        /// FIFOEN: FIFOs on.
        FIFOEN OFFSET(0) NUMBITS(1) [],
        /// RCVR FIFO Reset (self-clearing).
        RCVR_FIFO_RESET OFFSET(1) NUMBITS(1) [],
        /// XMIT FIFO Reset (self-clearing).
        XMIT_FIFO_RESET OFFSET(2) NUMBITS(1) [],
        /// DMA Mode Select.
        DMA_MODE_SELECT OFFSET(3) NUMBITS(1) [],
        /// RCVR FIFO Trigger Level: received characters that raise the
        /// received-data interrupt.
        RCVR_FIFO_TRIGGER_LEVEL OFFSET(6) NUMBITS(2) [
            One = 0b00,
            Four = 0b01,
            Eight = 0b10,
            Fourteen = 0b11,
        ],
    ],
    /// LCR, Line Control Register (PG143).
    pub(crate) LCR [
        /// WLS: word length select.
        WLS OFFSET(0) NUMBITS(2) [
            Five = 0b00,
            Six = 0b01,
            Seven = 0b10,
            Eight = 0b11,
        ],
        /// STB: two stop bits (1.5 with five-bit words).
        STB OFFSET(2) NUMBITS(1) [],
        /// PEN: parity enable.
        PEN OFFSET(3) NUMBITS(1) [],
        /// EPS: even parity select.
        EPS OFFSET(4) NUMBITS(1) [],
        /// Stick Parity.
        STICK_PARITY OFFSET(5) NUMBITS(1) [],
        /// Set Break.
        SET_BREAK OFFSET(6) NUMBITS(1) [],
        /// DLAB: offsets 0x00 and 0x04 are the divisor latch.
        DLAB OFFSET(7) NUMBITS(1) [],
    ],
    /// MCR, Modem Control Register (PG143).
    pub(crate) MCR [
        /// DTR: data terminal ready output asserted.
        DTR OFFSET(0) NUMBITS(1) [],
        /// RTS: request to send output asserted.
        RTS OFFSET(1) NUMBITS(1) [],
        /// OUT1: user output 1.
        OUT1 OFFSET(2) NUMBITS(1) [],
        /// OUT2: user output 2 (on PC-style designs it gates the interrupt
        /// line).
        OUT2 OFFSET(3) NUMBITS(1) [],
        /// LOOP: transmitted characters come back as received ones.
        LOOP OFFSET(4) NUMBITS(1) [],
    ],
    /// LSR, Line Status Register (PG143 table 2-13): OE, PE, FE and BI are
    /// cleared by reading it.
    pub(crate) LSR [
        /// DR: a received character waits in RBR / the RX FIFO.
        DR OFFSET(0) NUMBITS(1) [],
        /// OE: a character was lost because the RX FIFO was full.
        OE OFFSET(1) NUMBITS(1) [],
        /// PE: the character at the top of the FIFO has a parity error.
        PE OFFSET(2) NUMBITS(1) [],
        /// FE: the character at the top of the FIFO has no valid stop bit.
        FE OFFSET(3) NUMBITS(1) [],
        /// BI: a break was received (reported with a zero character).
        BI OFFSET(4) NUMBITS(1) [],
        /// THRE: THR / the TX FIFO is empty.
        THRE OFFSET(5) NUMBITS(1) [],
        /// TEMT: the TX FIFO and the shift register are empty.
        TEMT OFFSET(6) NUMBITS(1) [],
        /// Error in RCVR FIFO: some character in the FIFO has an error.
        ERROR_IN_RCVR_FIFO OFFSET(7) NUMBITS(1) [],
    ],
    /// MSR, Modem Status Register (PG143): the delta bits are
    /// cleared by reading it.
    pub(crate) MSR [
        /// DCTS: CTS changed.
        DCTS OFFSET(0) NUMBITS(1) [],
        /// DDSR: DSR changed.
        DDSR OFFSET(1) NUMBITS(1) [],
        /// TERI: RI went inactive.
        TERI OFFSET(2) NUMBITS(1) [],
        /// DDCD: DCD changed.
        DDCD OFFSET(3) NUMBITS(1) [],
        /// CTS: clear to send.
        CTS OFFSET(4) NUMBITS(1) [],
        /// DSR: data set ready.
        DSR OFFSET(5) NUMBITS(1) [],
        /// RI: ring indicator.
        RI OFFSET(6) NUMBITS(1) [],
        /// DCD: data carrier detect.
        DCD OFFSET(7) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the 16550's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests). Registers
    /// that share an offset have an accessor each, with its own access
    /// right and fields; reads that change the UART's state (RBR pops the
    /// RX FIFO; IIR, LSR and MSR clear what they report) take `&mut self`.
    pub trait Registers for Register {
        /// RBR (LCR.DLAB clear): reading pops the RX FIFO.
        fn rbr(&mut self) -> ReadOnly<RBR_THR::Register> = Register::RbrThr;
        /// THR (LCR.DLAB clear): writing pushes the TX FIFO.
        fn thr() -> WriteOnly<RBR_THR::Register> = Register::RbrThr;
        /// DLL (LCR.DLAB set): the divisor's low byte.
        fn dll() -> ReadWrite<DIVISOR_LATCH::Register> = Register::RbrThr;
        /// IER (LCR.DLAB clear).
        fn ier() -> ReadWrite<IER::Register> = Register::Ier;
        /// DLM (LCR.DLAB set): the divisor's high byte.
        fn dlm() -> ReadWrite<DIVISOR_LATCH::Register> = Register::Ier;
        /// IIR: reading it clears a THR-empty interrupt.
        fn iir(&mut self) -> ReadOnly<IIR::Register> = Register::IirFcr;
        /// FCR.
        fn fcr() -> WriteOnly<FCR::Register> = Register::IirFcr;
        /// LCR.
        fn lcr() -> ReadWrite<LCR::Register> = Register::Lcr;
        /// MCR.
        fn mcr() -> ReadWrite<MCR::Register> = Register::Mcr;
        /// LSR: reading it clears OE, PE, FE and BI.
        fn lsr(&mut self) -> ReadOnly<LSR::Register> = Register::Lsr;
        /// MSR: reading it clears the delta bits.
        fn msr(&mut self) -> ReadOnly<MSR::Register> = Register::Msr;
        /// SCR: scratch.
        fn scr() -> ReadWrite = Register::Scr;
    }
}
