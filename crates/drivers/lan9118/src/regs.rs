//! LAN9118 system control and status registers (datasheet section 5.3,
//! table 5-1), 32-bit bus.

use volatile::access::{NoAccess, ReadOnly, WriteOnly};
use volatile::{VolatileFieldAccess, VolatilePtr};

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

/// 32-bit access to the LAN9118's registers.
///
/// Implemented for the memory-mapped block ([`VolatilePtr<Regs>`]) and, in
/// tests, by a behavioural model. Reads of write-only registers return 0;
/// writes to read-only registers are ignored.
pub trait Registers {
    /// Reads `register`, with its side effects (FIFO ports pop).
    fn read_register(&mut self, register: Register) -> u32;
    /// Writes `value` to `register`, with its side effects.
    fn write_register(&mut self, register: Register, value: u32);
}

impl Registers for VolatilePtr<'_, Regs> {
    fn read_register(&mut self, register: Register) -> u32 {
        let regs = *self;
        match register {
            Register::RxDataFifo => regs.rx_data_fifo().read(),
            Register::RxStatusFifo => regs.rx_status_fifo().read(),
            Register::TxStatusFifo => regs.tx_status_fifo().read(),
            Register::IdRev => regs.id_rev().read(),
            Register::IrqCfg => regs.irq_cfg().read(),
            Register::IntSts => regs.int_sts().read(),
            Register::IntEn => regs.int_en().read(),
            Register::ByteTest => regs.byte_test().read(),
            Register::RxCfg => regs.rx_cfg().read(),
            Register::TxCfg => regs.tx_cfg().read(),
            Register::HwCfg => regs.hw_cfg().read(),
            Register::RxFifoInf => regs.rx_fifo_inf().read(),
            Register::TxFifoInf => regs.tx_fifo_inf().read(),
            Register::PmtCtrl => regs.pmt_ctrl().read(),
            Register::RxDrop => regs.rx_drop().read(),
            Register::MacCsrCmd => regs.mac_csr_cmd().read(),
            Register::MacCsrData => regs.mac_csr_data().read(),
            Register::AfcCfg => regs.afc_cfg().read(),
            Register::E2pCmd => regs.e2p_cmd().read(),
            Register::TxDataFifo => 0,
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        let regs = *self;
        match register {
            Register::TxDataFifo => regs.tx_data_fifo().write(value),
            Register::IrqCfg => regs.irq_cfg().write(value),
            Register::IntSts => regs.int_sts().write(value),
            Register::IntEn => regs.int_en().write(value),
            Register::RxCfg => regs.rx_cfg().write(value),
            Register::TxCfg => regs.tx_cfg().write(value),
            Register::HwCfg => regs.hw_cfg().write(value),
            Register::PmtCtrl => regs.pmt_ctrl().write(value),
            Register::MacCsrCmd => regs.mac_csr_cmd().write(value),
            Register::MacCsrData => regs.mac_csr_data().write(value),
            Register::AfcCfg => regs.afc_cfg().write(value),
            Register::E2pCmd => regs.e2p_cmd().write(value),
            Register::RxDataFifo
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
