//! LAN9118 system control and status registers (datasheet section 5.3,
//! table 5-1), 32-bit bus.

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::{NoAccess, ReadOnly, WriteOnly};

/// The LAN9118 register block, 256 bytes.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// RX Data FIFO port; reading pops a word.
    #[access(ReadOnly)]
    rx_data_fifo: u32,
    #[access(NoAccess)]
    _rx_data_fifo_alias: [u32; 7],
    /// TX Data FIFO port; writing pushes a word.
    #[access(WriteOnly)]
    tx_data_fifo: u32,
    #[access(NoAccess)]
    _tx_data_fifo_alias: [u32; 7],
    /// RX_STATUS_FIFO: reading pops a status word.
    #[access(ReadOnly)]
    rx_status_fifo: u32,
    /// RX_STATUS_FIFO_PEEK.
    #[access(ReadOnly)]
    rx_status_fifo_peek: u32,
    /// TX_STATUS_FIFO: reading pops a status word.
    #[access(ReadOnly)]
    tx_status_fifo: u32,
    /// TX_STATUS_FIFO_PEEK.
    #[access(ReadOnly)]
    tx_status_fifo_peek: u32,
    /// ID_REV: chip ID and revision.
    #[access(ReadOnly)]
    id_rev: u32,
    /// IRQ_CFG: interrupt pin configuration.
    irq_cfg: u32,
    /// INT_STS: interrupt status, write 1 to clear.
    int_sts: u32,
    /// INT_EN: interrupt enable.
    int_en: u32,
    #[access(NoAccess)]
    _reserved0: u32,
    /// BYTE_TEST: reads 0x87654321.
    #[access(ReadOnly)]
    byte_test: u32,
    /// FIFO_INT: FIFO level interrupt thresholds.
    fifo_int: u32,
    /// RX_CFG: receive configuration.
    rx_cfg: u32,
    /// TX_CFG: transmit configuration.
    tx_cfg: u32,
    /// HW_CFG: hardware configuration (SRST soft reset).
    hw_cfg: u32,
    /// RX_DP_CTRL: receive datapath control (fast-forward).
    rx_dp_ctrl: u32,
    /// RX_FIFO_INF: RX FIFO usage.
    #[access(ReadOnly)]
    rx_fifo_inf: u32,
    /// TX_FIFO_INF: TX FIFO free space and status usage.
    #[access(ReadOnly)]
    tx_fifo_inf: u32,
    /// PMT_CTRL: power management (READY bit).
    pmt_ctrl: u32,
    /// GPIO_CFG: general purpose I/O and LED configuration.
    gpio_cfg: u32,
    /// GPT_CFG: general purpose timer configuration.
    gpt_cfg: u32,
    /// GPT_CNT: general purpose timer count.
    #[access(ReadOnly)]
    gpt_cnt: u32,
    #[access(NoAccess)]
    _reserved1: u32,
    /// WORD_SWAP: word swap control.
    word_swap: u32,
    /// FREE_RUN: free-running 25 MHz counter.
    #[access(ReadOnly)]
    free_run: u32,
    /// RX_DROP: frames dropped by the receiver, clear on read.
    #[access(ReadOnly)]
    rx_drop: u32,
    /// MAC_CSR_CMD: indirect MAC register command.
    mac_csr_cmd: u32,
    /// MAC_CSR_DATA: indirect MAC register data.
    mac_csr_data: u32,
    /// AFC_CFG: automatic flow control.
    afc_cfg: u32,
    /// E2P_CMD: EEPROM command.
    e2p_cmd: u32,
    /// E2P_DATA: EEPROM data.
    e2p_data: u32,
    #[access(NoAccess)]
    _reserved2: [u32; 18],
}

const _: () = assert!(core::mem::offset_of!(Regs, tx_data_fifo) == 0x20);
const _: () = assert!(core::mem::offset_of!(Regs, rx_status_fifo) == 0x40);
const _: () = assert!(core::mem::offset_of!(Regs, tx_status_fifo) == 0x48);
const _: () = assert!(core::mem::offset_of!(Regs, id_rev) == 0x50);
const _: () = assert!(core::mem::offset_of!(Regs, irq_cfg) == 0x54);
const _: () = assert!(core::mem::offset_of!(Regs, int_sts) == 0x58);
const _: () = assert!(core::mem::offset_of!(Regs, int_en) == 0x5c);
const _: () = assert!(core::mem::offset_of!(Regs, byte_test) == 0x64);
const _: () = assert!(core::mem::offset_of!(Regs, fifo_int) == 0x68);
const _: () = assert!(core::mem::offset_of!(Regs, rx_cfg) == 0x6c);
const _: () = assert!(core::mem::offset_of!(Regs, tx_cfg) == 0x70);
const _: () = assert!(core::mem::offset_of!(Regs, hw_cfg) == 0x74);
const _: () = assert!(core::mem::offset_of!(Regs, rx_fifo_inf) == 0x7c);
const _: () = assert!(core::mem::offset_of!(Regs, tx_fifo_inf) == 0x80);
const _: () = assert!(core::mem::offset_of!(Regs, pmt_ctrl) == 0x84);
const _: () = assert!(core::mem::offset_of!(Regs, word_swap) == 0x98);
const _: () = assert!(core::mem::offset_of!(Regs, rx_drop) == 0xa0);
const _: () = assert!(core::mem::offset_of!(Regs, mac_csr_cmd) == 0xa4);
const _: () = assert!(core::mem::offset_of!(Regs, mac_csr_data) == 0xa8);
const _: () = assert!(core::mem::offset_of!(Regs, afc_cfg) == 0xac);
const _: () = assert!(core::mem::offset_of!(Regs, e2p_cmd) == 0xb0);
const _: () = assert!(core::mem::offset_of!(Regs, e2p_data) == 0xb4);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x100);

/// The registers the driver uses, by data-sheet name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// RX Data FIFO port (read pops).
    RxDataFifo,
    /// TX Data FIFO port (write pushes).
    TxDataFifo,
    /// RX_STATUS_FIFO (read pops).
    RxStatusFifo,
    /// TX_STATUS_FIFO (read pops).
    TxStatusFifo,
    /// ID_REV.
    IdRev,
    /// IRQ_CFG.
    IrqCfg,
    /// INT_STS (write 1 to clear).
    IntSts,
    /// INT_EN.
    IntEn,
    /// BYTE_TEST.
    ByteTest,
    /// FIFO_INT.
    FifoInt,
    /// RX_CFG.
    RxCfg,
    /// TX_CFG.
    TxCfg,
    /// HW_CFG.
    HwCfg,
    /// RX_FIFO_INF.
    RxFifoInf,
    /// TX_FIFO_INF.
    TxFifoInf,
    /// PMT_CTRL.
    PmtCtrl,
    /// RX_DROP (clear on read).
    RxDrop,
    /// MAC_CSR_CMD.
    MacCsrCmd,
    /// MAC_CSR_DATA.
    MacCsrData,
    /// AFC_CFG.
    AfcCfg,
    /// E2P_CMD.
    E2pCmd,
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        match self {
            Register::RxDataFifo => offset_of!(Regs, rx_data_fifo),
            Register::TxDataFifo => offset_of!(Regs, tx_data_fifo),
            Register::RxStatusFifo => offset_of!(Regs, rx_status_fifo),
            Register::TxStatusFifo => offset_of!(Regs, tx_status_fifo),
            Register::IdRev => offset_of!(Regs, id_rev),
            Register::IrqCfg => offset_of!(Regs, irq_cfg),
            Register::IntSts => offset_of!(Regs, int_sts),
            Register::IntEn => offset_of!(Regs, int_en),
            Register::ByteTest => offset_of!(Regs, byte_test),
            Register::FifoInt => offset_of!(Regs, fifo_int),
            Register::RxCfg => offset_of!(Regs, rx_cfg),
            Register::TxCfg => offset_of!(Regs, tx_cfg),
            Register::HwCfg => offset_of!(Regs, hw_cfg),
            Register::RxFifoInf => offset_of!(Regs, rx_fifo_inf),
            Register::TxFifoInf => offset_of!(Regs, tx_fifo_inf),
            Register::PmtCtrl => offset_of!(Regs, pmt_ctrl),
            Register::RxDrop => offset_of!(Regs, rx_drop),
            Register::MacCsrCmd => offset_of!(Regs, mac_csr_cmd),
            Register::MacCsrData => offset_of!(Regs, mac_csr_data),
            Register::AfcCfg => offset_of!(Regs, afc_cfg),
            Register::E2pCmd => offset_of!(Regs, e2p_cmd),
        }
    }
}

/// The memory-mapped LAN9118: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// IRQ_CFG (5.3.4).
    pub(crate) IRQ_CFG [
        /// 1 = push-pull, 0 = open drain.
        IRQ_TYPE OFFSET(0) NUMBITS(1) [],
        /// 1 = active high.
        IRQ_POL OFFSET(4) NUMBITS(1) [],
        IRQ_EN OFFSET(8) NUMBITS(1) [],
    ],
    /// INT_STS and INT_EN (5.3.5, 5.3.6): sources as [`crate::Interrupts`]
    /// names them.
    pub(crate) INT [
        /// RX Status FIFO Level: more receive statuses wait than FIFO_INT's
        /// RX Status Level. A level, like TDFA.
        RSFL OFFSET(3) NUMBITS(1) [],
        /// TX Data FIFO Available: the TX data FIFO's free space is above
        /// FIFO_INT's TX Data Available Level. A level, not an event: it
        /// is set again as long as the space stays.
        TDFA OFFSET(9) NUMBITS(1) [],
        RXSTOP_INT OFFSET(24) NUMBITS(1) [],
    ],
    /// FIFO_INT (table 5-1, 0x68): FIFO level interrupt thresholds.
    pub(crate) FIFO_INT [
        /// RX Status Level: RSFL when more statuses wait (reset 0).
        RX_STATUS_LEVEL OFFSET(0) NUMBITS(8) [],
        /// TX Status Level: TSFL when more statuses wait (reset 0).
        TX_STATUS_LEVEL OFFSET(16) NUMBITS(8) [],
        /// TX Data Available Level, in 64-byte blocks: TDFA when the TX
        /// data FIFO's free space is greater (reset 0x48: 4,608 bytes,
        /// the whole FIFO, so never).
        TX_DATA_AVAILABLE_LEVEL OFFSET(24) NUMBITS(8) [],
    ],
    /// RX_CFG (5.3.7).
    pub(crate) RX_CFG [
        /// Empties the RX data and status FIFOs; self-clearing.
        RX_DUMP OFFSET(15) NUMBITS(1) [],
    ],
    /// TX_CFG (5.3.8).
    pub(crate) TX_CFG [
        STOP_TX OFFSET(0) NUMBITS(1) [],
        TX_ON OFFSET(1) NUMBITS(1) [],
        TXD_DUMP OFFSET(14) NUMBITS(1) [],
        TXS_DUMP OFFSET(15) NUMBITS(1) [],
    ],
    /// HW_CFG (5.3.9).
    pub(crate) HW_CFG [
        SRST OFFSET(0) NUMBITS(1) [],
        /// TX FIFO size in KiB (5: the reset default).
        TX_FIF_SZ OFFSET(16) NUMBITS(4) [],
        /// Bit 20: must be written as one.
        MBO OFFSET(20) NUMBITS(1) [],
    ],
    /// RX_FIFO_INF (5.3.10).
    pub(crate) RX_FIFO_INF [
        RXDUSED OFFSET(0) NUMBITS(16) [],
        RXSUSED OFFSET(16) NUMBITS(8) [],
    ],
    /// TX_FIFO_INF (5.3.11).
    pub(crate) TX_FIFO_INF [
        TDFREE OFFSET(0) NUMBITS(16) [],
        TXSUSED OFFSET(16) NUMBITS(8) [],
    ],
    /// PMT_CTRL (5.3.12).
    pub(crate) PMT_CTRL [
        READY OFFSET(0) NUMBITS(1) [],
    ],
    /// MAC_CSR_CMD (5.3.19).
    pub(crate) MAC_CSR_CMD [
        CSR_ADDRESS OFFSET(0) NUMBITS(8) [],
        R_NW OFFSET(30) NUMBITS(1) [],
        CSR_BUSY OFFSET(31) NUMBITS(1) [],
    ],
    /// AFC_CFG (5.3.21).
    pub(crate) AFC_CFG [
        FCANY OFFSET(0) NUMBITS(1) [],
        FCADD OFFSET(1) NUMBITS(1) [],
        FCBRD OFFSET(2) NUMBITS(1) [],
        FCMULT OFFSET(3) NUMBITS(1) [],
        BACK_DUR OFFSET(4) NUMBITS(4) [],
        AFC_LO OFFSET(8) NUMBITS(8) [],
        AFC_HI OFFSET(16) NUMBITS(8) [],
    ],
    /// E2P_CMD (5.3.23).
    pub(crate) E2P_CMD [
        /// The EEPROM controller is loading (after reset) or executing a
        /// command.
        EPC_BUSY OFFSET(31) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the LAN9118's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// RX Data FIFO port: reading pops a word.
        fn rx_data_fifo(&mut self) -> ReadOnly = Register::RxDataFifo;
        /// TX Data FIFO port: writing pushes a word.
        fn tx_data_fifo() -> WriteOnly = Register::TxDataFifo;
        /// RX_STATUS_FIFO: reading pops a status word.
        fn rx_status_fifo(&mut self) -> ReadOnly = Register::RxStatusFifo;
        /// TX_STATUS_FIFO: reading pops a status word.
        fn tx_status_fifo(&mut self) -> ReadOnly = Register::TxStatusFifo;
        /// ID_REV.
        fn id_rev() -> ReadOnly = Register::IdRev;
        /// IRQ_CFG.
        fn irq_cfg() -> ReadWrite<IRQ_CFG::Register> = Register::IrqCfg;
        /// INT_STS: write 1 to clear.
        fn int_sts() -> ReadWrite<INT::Register> = Register::IntSts;
        /// INT_EN.
        fn int_en() -> ReadWrite<INT::Register> = Register::IntEn;
        /// BYTE_TEST.
        fn byte_test() -> ReadOnly = Register::ByteTest;
        /// FIFO_INT.
        fn fifo_int() -> ReadWrite<FIFO_INT::Register> = Register::FifoInt;
        /// RX_CFG.
        fn rx_cfg() -> ReadWrite<RX_CFG::Register> = Register::RxCfg;
        /// TX_CFG.
        fn tx_cfg() -> ReadWrite<TX_CFG::Register> = Register::TxCfg;
        /// HW_CFG.
        fn hw_cfg() -> ReadWrite<HW_CFG::Register> = Register::HwCfg;
        /// RX_FIFO_INF.
        fn rx_fifo_inf() -> ReadOnly<RX_FIFO_INF::Register> = Register::RxFifoInf;
        /// TX_FIFO_INF.
        fn tx_fifo_inf() -> ReadOnly<TX_FIFO_INF::Register> = Register::TxFifoInf;
        /// PMT_CTRL.
        fn pmt_ctrl() -> ReadWrite<PMT_CTRL::Register> = Register::PmtCtrl;
        /// RX_DROP: clear on read.
        fn rx_drop() -> ReadOnly = Register::RxDrop;
        /// MAC_CSR_CMD.
        fn mac_csr_cmd() -> ReadWrite<MAC_CSR_CMD::Register> = Register::MacCsrCmd;
        /// MAC_CSR_DATA.
        fn mac_csr_data() -> ReadWrite = Register::MacCsrData;
        /// AFC_CFG.
        fn afc_cfg() -> ReadWrite<AFC_CFG::Register> = Register::AfcCfg;
        /// E2P_CMD.
        fn e2p_cmd() -> ReadWrite<E2P_CMD::Register> = Register::E2pCmd;
    }
}
