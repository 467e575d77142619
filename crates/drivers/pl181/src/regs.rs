//! PL181 register block (PrimeCell MultiMedia Card Interface TRM DDI 0172,
//! table 3-1): the power and clock controls, the command path (argument,
//! command, response), the data path (timer, length, control, counter), the
//! status flags with their clear register, and the 16-word data FIFO,
//! reachable at any of the 16 words from 0x080.

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::{NoAccess, ReadOnly, WriteOnly};

/// The PL181 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// MCIPower: power control of the card's supply.
    power: u32,
    /// MCIClock: the card clock's divider, enable, power save and bypass.
    clock: u32,
    /// MCIArgument: the command's 32-bit argument.
    argument: u32,
    /// MCICommand: index and response type; writing with Enable sends it.
    command: u32,
    /// MCIRespCmd: index of the last command response received.
    #[access(ReadOnly)]
    resp_cmd: u32,
    /// MCIResponse0-3: the card's response (0 holds the most significant
    /// word of a long one).
    #[access(ReadOnly)]
    response: [u32; 4],
    /// MCIDataTimer: data timeout, in card bus clock periods.
    data_timer: u32,
    /// MCIDataLength: bytes to transfer (16 bits).
    data_length: u32,
    /// MCIDataCtrl: data path enable, direction, mode, block size.
    data_ctrl: u32,
    /// MCIDataCnt: bytes still to transfer.
    #[access(ReadOnly)]
    data_cnt: u32,
    /// MCIStatus: static and dynamic flags.
    #[access(ReadOnly)]
    status: u32,
    /// MCIClear: write 1 to clear a static flag of MCIStatus.
    #[access(WriteOnly)]
    clear: u32,
    /// MCIMask0: interrupt 0's enables (unused: the driver polls).
    mask0: u32,
    /// MCIMask1: interrupt 1's enables (unused: the driver polls).
    mask1: u32,
    #[access(NoAccess)]
    _reserved0: u32,
    /// MCIFifoCnt: words still to transfer through the FIFO.
    #[access(ReadOnly)]
    fifo_cnt: u32,
    #[access(NoAccess)]
    _reserved1: [u32; 13],
    /// MCIFIFO: the data FIFO; every word of the window is its head.
    fifo: [u32; 16],
    #[access(NoAccess)]
    _reserved2: [u32; 968],
    /// MCIPeriphID0-3: peripheral identification (part number 0x181).
    #[access(ReadOnly)]
    periph_id: [u32; 4],
    /// MCIPCellID0-3: PrimeCell identification.
    #[access(ReadOnly)]
    pcell_id: [u32; 4],
}

const _: () = assert!(offset_of!(Regs, power) == 0x000);
const _: () = assert!(offset_of!(Regs, clock) == 0x004);
const _: () = assert!(offset_of!(Regs, argument) == 0x008);
const _: () = assert!(offset_of!(Regs, command) == 0x00c);
const _: () = assert!(offset_of!(Regs, resp_cmd) == 0x010);
const _: () = assert!(offset_of!(Regs, response) == 0x014);
const _: () = assert!(offset_of!(Regs, data_timer) == 0x024);
const _: () = assert!(offset_of!(Regs, data_length) == 0x028);
const _: () = assert!(offset_of!(Regs, data_ctrl) == 0x02c);
const _: () = assert!(offset_of!(Regs, data_cnt) == 0x030);
const _: () = assert!(offset_of!(Regs, status) == 0x034);
const _: () = assert!(offset_of!(Regs, clear) == 0x038);
const _: () = assert!(offset_of!(Regs, mask0) == 0x03c);
const _: () = assert!(offset_of!(Regs, mask1) == 0x040);
const _: () = assert!(offset_of!(Regs, fifo_cnt) == 0x048);
const _: () = assert!(offset_of!(Regs, fifo) == 0x080);
const _: () = assert!(offset_of!(Regs, periph_id) == 0xfe0);
const _: () = assert!(offset_of!(Regs, pcell_id) == 0xff0);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

/// The registers the driver uses, by data-sheet name (the bus's names; the
/// driver reaches them through [`Registers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// MCIPower.
    Power,
    /// MCIClock.
    Clock,
    /// MCIArgument.
    Argument,
    /// MCICommand.
    Command,
    /// MCIRespCmd (read only).
    RespCmd,
    /// MCIResponse0-3 (read only).
    Response(usize),
    /// MCIDataTimer.
    DataTimer,
    /// MCIDataLength.
    DataLength,
    /// MCIDataCtrl.
    DataCtrl,
    /// MCIDataCnt (read only).
    DataCnt,
    /// MCIStatus (read only).
    Status,
    /// MCIClear (write only).
    Clear,
    /// MCIMask0.
    Mask0,
    /// MCIMask1.
    Mask1,
    /// MCIFifoCnt (read only).
    FifoCnt,
    /// MCIFIFO, at its first word.
    Fifo,
    /// MCIPeriphID0-3 (read only).
    PeriphId(usize),
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        match self {
            Register::Power => offset_of!(Regs, power),
            Register::Clock => offset_of!(Regs, clock),
            Register::Argument => offset_of!(Regs, argument),
            Register::Command => offset_of!(Regs, command),
            Register::RespCmd => offset_of!(Regs, resp_cmd),
            Register::Response(n) => offset_of!(Regs, response) + 4 * n,
            Register::DataTimer => offset_of!(Regs, data_timer),
            Register::DataLength => offset_of!(Regs, data_length),
            Register::DataCtrl => offset_of!(Regs, data_ctrl),
            Register::DataCnt => offset_of!(Regs, data_cnt),
            Register::Status => offset_of!(Regs, status),
            Register::Clear => offset_of!(Regs, clear),
            Register::Mask0 => offset_of!(Regs, mask0),
            Register::Mask1 => offset_of!(Regs, mask1),
            Register::FifoCnt => offset_of!(Regs, fifo_cnt),
            Register::Fifo => offset_of!(Regs, fifo),
            Register::PeriphId(n) => offset_of!(Regs, periph_id) + 4 * n,
        }
    }
}

/// The memory-mapped PL181: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// MCIPower (TRM 3.3.1).
    pub(crate) POWER [
        /// Power control: the card's supply.
        CTRL OFFSET(0) NUMBITS(2) [
            /// Supply off.
            Off = 0b00,
            /// Supply ramping up (the clock not yet running).
            PowerUp = 0b10,
            /// Supply on, clock running.
            PowerOn = 0b11,
        ],
        /// Output voltage to an external regulator (not used here).
        VOLTAGE OFFSET(2) NUMBITS(4) [],
        /// MCICMD output open drain (MultiMedia cards only).
        OPEN_DRAIN OFFSET(6) NUMBITS(1) [],
        /// Rod control (MultiMedia cards only).
        ROD OFFSET(7) NUMBITS(1) [],
    ],
    /// MCIClock (TRM 3.3.2). QEMU keeps only the divider (bits 0..7).
    pub(crate) CLOCK [
        /// Card clock = MCLK / (2 * (CLKDIV + 1)).
        CLKDIV OFFSET(0) NUMBITS(8) [],
        /// Card clock enable.
        ENABLE OFFSET(8) NUMBITS(1) [],
        /// Clock only while the bus is active.
        PWRSAVE OFFSET(9) NUMBITS(1) [],
        /// Card clock = MCLK, the divider bypassed.
        BYPASS OFFSET(10) NUMBITS(1) [],
    ],
    /// MCICommand (TRM 3.3.4).
    pub(crate) COMMAND [
        /// Command index.
        CMD_INDEX OFFSET(0) NUMBITS(6) [],
        /// Wait for a response.
        RESPONSE OFFSET(6) NUMBITS(1) [],
        /// The response is long (136 bits).
        LONG_RSP OFFSET(7) NUMBITS(1) [],
        /// Wait for an interrupt instead of sending (not used; QEMU does
        /// not implement it).
        INTERRUPT OFFSET(8) NUMBITS(1) [],
        /// Wait for the data path's end before sending (not used; QEMU
        /// does not implement it).
        PENDING OFFSET(9) NUMBITS(1) [],
        /// Command path state machine enable: sends the command.
        ENABLE OFFSET(10) NUMBITS(1) [],
    ],
    /// MCIDataCtrl (TRM 3.3.9).
    pub(crate) DATA_CTRL [
        /// Data transfer enable.
        ENABLE OFFSET(0) NUMBITS(1) [],
        /// Direction of the transfer.
        DIRECTION OFFSET(1) NUMBITS(1) [
            /// From the controller to the card (a write).
            ToCard = 0,
            /// From the card to the controller (a read).
            FromCard = 1,
        ],
        /// Stream mode (MultiMedia cards) instead of blocks.
        MODE OFFSET(2) NUMBITS(1) [],
        /// DMA enable (not used: the CPU moves the data).
        DMA_ENABLE OFFSET(3) NUMBITS(1) [],
        /// Block size, as log2 of the bytes.
        BLOCK_SIZE OFFSET(4) NUMBITS(4) [],
    ],
    /// MCIStatus, MCIClear, MCIMask0/1 (TRM 3.3.11-3.3.13). Bits 0..10
    /// are static (they stay until cleared through MCIClear), the rest
    /// follow the hardware's state.
    pub(crate) STATUS [
        /// A response was received with a failed CRC check.
        CMD_CRC_FAIL OFFSET(0) NUMBITS(1) [],
        /// A data block was received (or its CRC status from the card on a
        /// write) with a failed CRC check.
        DATA_CRC_FAIL OFFSET(1) NUMBITS(1) [],
        /// No response within 64 card clocks.
        CMD_TIME_OUT OFFSET(2) NUMBITS(1) [],
        /// No data within MCIDataTimer card clocks.
        DATA_TIME_OUT OFFSET(3) NUMBITS(1) [],
        /// The transmit FIFO ran empty during a write.
        TX_UNDERRUN OFFSET(4) NUMBITS(1) [],
        /// The receive FIFO overflowed during a read.
        RX_OVERRUN OFFSET(5) NUMBITS(1) [],
        /// A response was received and its CRC passed.
        CMD_RESP_END OFFSET(6) NUMBITS(1) [],
        /// A command that needs no response was sent.
        CMD_SENT OFFSET(7) NUMBITS(1) [],
        /// The data counter reached zero.
        DATA_END OFFSET(8) NUMBITS(1) [],
        /// A start bit was missing on a wide bus (not on the PL181).
        START_BIT_ERR OFFSET(9) NUMBITS(1) [],
        /// A data block was sent or received with its CRC passing.
        DATA_BLOCK_END OFFSET(10) NUMBITS(1) [],
        /// A command transfer is in progress.
        CMD_ACTIVE OFFSET(11) NUMBITS(1) [],
        /// A data transmission is in progress.
        TX_ACTIVE OFFSET(12) NUMBITS(1) [],
        /// A data reception is in progress.
        RX_ACTIVE OFFSET(13) NUMBITS(1) [],
        /// The transmit FIFO is half empty or more.
        TX_FIFO_HALF_EMPTY OFFSET(14) NUMBITS(1) [],
        /// The receive FIFO is half full or more.
        RX_FIFO_HALF_FULL OFFSET(15) NUMBITS(1) [],
        /// The transmit FIFO is full.
        TX_FIFO_FULL OFFSET(16) NUMBITS(1) [],
        /// The receive FIFO is full.
        RX_FIFO_FULL OFFSET(17) NUMBITS(1) [],
        /// The transmit FIFO is empty.
        TX_FIFO_EMPTY OFFSET(18) NUMBITS(1) [],
        /// The receive FIFO is empty.
        RX_FIFO_EMPTY OFFSET(19) NUMBITS(1) [],
        /// The transmit FIFO holds data.
        TX_DATA_AVLBL OFFSET(20) NUMBITS(1) [],
        /// The receive FIFO holds data.
        RX_DATA_AVLBL OFFSET(21) NUMBITS(1) [],
        /// The static flags (bits 0..10), as MCIClear clears them.
        STATIC OFFSET(0) NUMBITS(11) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the PL181's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model of the controller and a
    /// card in tests). Access rights are checked when the driver compiles;
    /// reading the FIFO pops it, so it needs `&mut`.
    pub trait Registers for Register {
        /// MCIPower.
        fn power() -> ReadWrite<POWER::Register> = Register::Power;
        /// MCIClock.
        fn clock() -> ReadWrite<CLOCK::Register> = Register::Clock;
        /// MCIArgument.
        fn argument() -> ReadWrite = Register::Argument;
        /// MCICommand.
        fn command() -> ReadWrite<COMMAND::Register> = Register::Command;
        /// MCIResponse0-3: word `n` of the response, 0 the most significant.
        fn response(n: usize) -> ReadOnly = Register::Response(n);
        /// MCIDataTimer.
        fn data_timer() -> ReadWrite = Register::DataTimer;
        /// MCIDataLength.
        fn data_length() -> ReadWrite = Register::DataLength;
        /// MCIDataCtrl.
        fn data_ctrl() -> ReadWrite<DATA_CTRL::Register> = Register::DataCtrl;
        /// MCIStatus. (Under QEMU, reading it also lets the FIFO refill
        /// after a pop.)
        fn status() -> ReadOnly<STATUS::Register> = Register::Status;
        /// MCIClear: a 1 clears that static flag of MCIStatus.
        fn clear() -> WriteOnly<STATUS::Register> = Register::Clear;
        /// MCIMask0.
        fn mask0() -> ReadWrite<STATUS::Register> = Register::Mask0;
        /// MCIMask1.
        fn mask1() -> ReadWrite<STATUS::Register> = Register::Mask1;
        /// MCIFIFO: reading pops a received word, writing pushes one to
        /// send.
        fn fifo(&mut self) -> ReadWrite = Register::Fifo;
        /// MCIPeriphID0-3: byte `n` of the peripheral identification.
        fn periph_id(n: usize) -> ReadOnly = Register::PeriphId(n);
    }
}
