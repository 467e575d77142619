//! The two register blocks the driver reaches: the AXI Ethernet MAC's
//! (PG138, "Register Space") and the AXI DMA's (PG021, "Register Space",
//! scatter-gather mode), and the fields of the DMA's buffer descriptors.

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The AXI Ethernet MAC's registers the driver uses, at their PG138
/// offsets (the block is 256 KiB; everything past FMI is left out).
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct MacRegs {
    /// RAF, Reset and Address Filter: multicast reject (bit 1), broadcast
    /// reject (bit 2).
    pub raf: u32,
    /// TPF, Transmit Pause Frame.
    pub tpf: u32,
    /// IFGP, Transmit Inter Frame Gap Adjustment.
    pub ifgp: u32,
    /// IS, Interrupt Status (write 1 to clear).
    pub is: u32,
    /// IP, Interrupt Pending.
    pub ip: u32,
    /// IE, Interrupt Enable.
    pub ie: u32,
    /// Reserved, statistics counters and the rest up to RCW0.
    #[access(NoAccess)]
    _reserved0: [u32; (0x400 - 0x018) / 4],
    /// RCW0, Receiver Configuration Word 0 (pause frame address).
    pub rcw0: u32,
    /// RCW1, Receiver Configuration Word 1.
    pub rcw1: u32,
    /// TC, Transmitter Configuration.
    pub tc: u32,
    /// FCC, Flow Control Configuration.
    pub fcc: u32,
    /// EMMC, Ethernet MAC Mode Configuration (link speed).
    pub emmc: u32,
    /// Reserved up to MDIO.
    #[access(NoAccess)]
    _reserved1: [u32; (0x500 - 0x414) / 4],
    /// MC, MDIO Setup (enable, clock divider).
    pub mc: u32,
    /// MCR, MDIO Control (PHY and register address, operation, initiate,
    /// ready).
    pub mcr: u32,
    /// MWD, MDIO Write Data.
    pub mwd: u32,
    /// MRD, MDIO Read Data.
    pub mrd: u32,
    /// Reserved up to the address filter.
    #[access(NoAccess)]
    _reserved2: [u32; (0x700 - 0x510) / 4],
    /// UAW0, Unicast Address Word 0: station address bytes 0..=3, byte 0
    /// in bits 7:0.
    pub uaw0: u32,
    /// UAW1, Unicast Address Word 1: station address bytes 4 and 5 in
    /// bits 15:0.
    pub uaw1: u32,
    /// FMI, Filter Mask Index: promiscuous mode (bit 31), multicast table
    /// entry (bits 1:0).
    pub fmi: u32,
}

ferrode_hal::register_names! {
    block MacRegs;
    /// The MAC registers the driver and its model speak of.
    pub enum MacRegister {
        /// RAF.
        Raf => raf @ 0x000,
        /// IS.
        Is => is @ 0x00C,
        /// IP.
        Ip => ip @ 0x010,
        /// IE.
        Ie => ie @ 0x014,
        /// RCW0.
        Rcw0 => rcw0 @ 0x400,
        /// RCW1.
        Rcw1 => rcw1 @ 0x404,
        /// TC.
        Tc => tc @ 0x408,
        /// EMMC.
        Emmc => emmc @ 0x410,
        /// MC.
        Mc => mc @ 0x500,
        /// MCR.
        Mcr => mcr @ 0x504,
        /// MWD.
        Mwd => mwd @ 0x508,
        /// MRD.
        Mrd => mrd @ 0x50C,
        /// UAW0.
        Uaw0 => uaw0 @ 0x700,
        /// UAW1.
        Uaw1 => uaw1 @ 0x704,
        /// FMI.
        Fmi => fmi @ 0x708,
    }
}

const _: () = assert!(core::mem::size_of::<MacRegs>() == 0x70C);

/// One DMA channel's registers (MM2S at 0x00, S2MM at 0x30).
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct DmaChannelRegs {
    /// DMACR, DMA Control.
    pub dmacr: u32,
    /// DMASR, DMA Status.
    pub dmasr: u32,
    /// CURDESC, Current Descriptor Pointer (bits 31:6).
    pub curdesc: u32,
    /// CURDESC_MSB, its upper 32 bits (address spaces over 32 bits).
    pub curdesc_msb: u32,
    /// TAILDESC, Tail Descriptor Pointer (bits 31:6).
    pub taildesc: u32,
    /// TAILDESC_MSB, its upper 32 bits.
    pub taildesc_msb: u32,
    /// Reserved (SG_CTL at 0x2C, direct-mode registers of S2MM).
    #[access(NoAccess)]
    _reserved: [u32; 6],
}

/// The AXI DMA's registers: the MM2S (transmit) channel, then the S2MM
/// (receive) channel. QEMU decodes exactly these 0x60 bytes.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct DmaRegs {
    /// MM2S, memory to stream: frames to the MAC.
    pub mm2s: DmaChannelRegs,
    /// S2MM, stream to memory: frames from the MAC.
    pub s2mm: DmaChannelRegs,
}

const _: () = assert!(offset_of!(DmaChannelRegs, dmacr) == 0x00);
const _: () = assert!(offset_of!(DmaChannelRegs, dmasr) == 0x04);
const _: () = assert!(offset_of!(DmaChannelRegs, curdesc) == 0x08);
const _: () = assert!(offset_of!(DmaChannelRegs, curdesc_msb) == 0x0C);
const _: () = assert!(offset_of!(DmaChannelRegs, taildesc) == 0x10);
const _: () = assert!(offset_of!(DmaChannelRegs, taildesc_msb) == 0x14);
const _: () = assert!(offset_of!(DmaRegs, mm2s) == 0x00);
const _: () = assert!(offset_of!(DmaRegs, s2mm) == 0x30);
const _: () = assert!(core::mem::size_of::<DmaRegs>() == 0x60);

/// A DMA channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// MM2S (memory to stream): transmit.
    Mm2s,
    /// S2MM (stream to memory): receive.
    S2mm,
}

impl Channel {
    /// Both channels, MM2S first.
    pub const BOTH: [Channel; 2] = [Channel::Mm2s, Channel::S2mm];

    /// Byte offset of the channel's registers in the block.
    pub const fn base(self) -> usize {
        match self {
            Channel::Mm2s => offset_of!(DmaRegs, mm2s),
            Channel::S2mm => offset_of!(DmaRegs, s2mm),
        }
    }
}

/// One 32-bit DMA register, for [`ferrode_hal::RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaRegister {
    /// DMACR of a channel.
    Dmacr(Channel),
    /// DMASR of a channel.
    Dmasr(Channel),
    /// CURDESC of a channel.
    Curdesc(Channel),
    /// CURDESC_MSB of a channel.
    CurdescMsb(Channel),
    /// TAILDESC of a channel.
    Taildesc(Channel),
    /// TAILDESC_MSB of a channel.
    TaildescMsb(Channel),
}

impl DmaRegister {
    /// The channel the register belongs to.
    pub const fn channel(self) -> Channel {
        match self {
            DmaRegister::Dmacr(c)
            | DmaRegister::Dmasr(c)
            | DmaRegister::Curdesc(c)
            | DmaRegister::CurdescMsb(c)
            | DmaRegister::Taildesc(c)
            | DmaRegister::TaildescMsb(c) => c,
        }
    }

    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        self.channel().base()
            + match self {
                DmaRegister::Dmacr(_) => offset_of!(DmaChannelRegs, dmacr),
                DmaRegister::Dmasr(_) => offset_of!(DmaChannelRegs, dmasr),
                DmaRegister::Curdesc(_) => offset_of!(DmaChannelRegs, curdesc),
                DmaRegister::CurdescMsb(_) => offset_of!(DmaChannelRegs, curdesc_msb),
                DmaRegister::Taildesc(_) => offset_of!(DmaChannelRegs, taildesc),
                DmaRegister::TaildescMsb(_) => offset_of!(DmaChannelRegs, taildesc_msb),
            }
    }
}

impl RegisterName for DmaRegister {
    type Block = DmaRegs;

    #[inline]
    fn offset(self) -> usize {
        DmaRegister::offset(self)
    }
}

/// The memory-mapped AXI Ethernet MAC: its bus on hardware.
pub type MacMmio<'a> = ferrode_hal::mmio::Mmio<'a, MacRegs>;
/// The memory-mapped AXI DMA: its bus on hardware.
pub type DmaMmio<'a> = ferrode_hal::mmio::Mmio<'a, DmaRegs>;

register_bitfields![u32,
    /// RAF, Reset and Address Filter (PG138).
    pub(crate) RAF [
        /// Multicast Reject: drop every multicast frame.
        MULTICAST_REJECT OFFSET(1) NUMBITS(1) [],
        /// Broadcast Reject: drop every broadcast frame.
        BROADCAST_REJECT OFFSET(2) NUMBITS(1) [],
    ],
    /// RCW1, Receiver Configuration Word 1 (PG138).
    pub(crate) RCW1 [
        /// VLAN enable: accept VLAN-tagged frames (1522 bytes).
        VLAN OFFSET(27) NUMBITS(1) [],
        /// Receiver enable.
        RX OFFSET(28) NUMBITS(1) [],
        /// In-band FCS: pass the FCS up with the frame (and count it in
        /// the length).
        FCS OFFSET(29) NUMBITS(1) [],
        /// Jumbo frame enable.
        JUMBO OFFSET(30) NUMBITS(1) [],
        /// Receiver reset (self-clearing).
        RESET OFFSET(31) NUMBITS(1) [],
    ],
    /// TC, Transmitter Configuration (PG138).
    pub(crate) TC [
        /// VLAN enable.
        VLAN OFFSET(27) NUMBITS(1) [],
        /// Transmitter enable.
        TX OFFSET(28) NUMBITS(1) [],
        /// In-band FCS: the client supplies the FCS.
        FCS OFFSET(29) NUMBITS(1) [],
        /// Jumbo frame enable.
        JUMBO OFFSET(30) NUMBITS(1) [],
        /// Transmitter reset (self-clearing).
        RESET OFFSET(31) NUMBITS(1) [],
    ],
    /// MC, MDIO Setup (PG138).
    pub(crate) MC [
        /// Clock divide: MDC = AXI4-Lite clock / ((1 + divide) * 2).
        CLOCK_DIVIDE OFFSET(0) NUMBITS(6) [],
        /// MDIO enable.
        MDIO_ENABLE OFFSET(6) NUMBITS(1) [],
    ],
    /// MCR, MDIO Control (PG138).
    pub(crate) MCR [
        /// Ready: no transaction in progress (read only).
        READY OFFSET(7) NUMBITS(1) [],
        /// Initiate: start the transaction written with it.
        INITIATE OFFSET(11) NUMBITS(1) [],
        /// Operation.
        OP OFFSET(14) NUMBITS(2) [
            Write = 0b01,
            Read = 0b10,
        ],
        /// PHY register address.
        REGAD OFFSET(16) NUMBITS(5) [],
        /// PHY address.
        PHYAD OFFSET(24) NUMBITS(5) [],
    ],
    /// MWD and MRD, MDIO Write and Read Data (PG138).
    pub(crate) MDIO_DATA [
        /// The 16-bit PHY register value.
        DATA OFFSET(0) NUMBITS(16) [],
    ],
    /// UAW1, Unicast Address Word 1 (PG138).
    pub(crate) UAW1 [
        /// Station address bytes 4 (bits 7:0) and 5 (bits 15:8).
        ADDRESS OFFSET(0) NUMBITS(16) [],
    ],
    /// FMI, Filter Mask Index (PG138).
    pub(crate) FMI [
        /// Multicast address table entry AF0/AF1 reach.
        INDEX OFFSET(0) NUMBITS(2) [],
        /// Promiscuous mode: accept every frame.
        PROMISCUOUS OFFSET(31) NUMBITS(1) [],
    ],
    /// DMACR, DMA Control, both channels (PG021).
    pub(crate) DMACR [
        /// Run/Stop.
        RS OFFSET(0) NUMBITS(1) [],
        /// Soft reset of the whole AXI DMA (self-clearing; QEMU resets the
        /// channel written only).
        RESET OFFSET(2) NUMBITS(1) [],
        /// Interrupt on complete enable.
        IOC_IRQ_EN OFFSET(12) NUMBITS(1) [],
        /// Interrupt on delay timer enable.
        DLY_IRQ_EN OFFSET(13) NUMBITS(1) [],
        /// Interrupt on error enable.
        ERR_IRQ_EN OFFSET(14) NUMBITS(1) [],
        /// Completed frames per IOC interrupt (0 would never interrupt
        /// in QEMU).
        IRQ_THRESHOLD OFFSET(16) NUMBITS(8) [],
        /// Interrupt delay timeout (0: off).
        IRQ_DELAY OFFSET(24) NUMBITS(8) [],
    ],
    /// DMASR, DMA Status, both channels (PG021).
    pub(crate) DMASR [
        /// Halted: the channel is stopped (reset, Run/Stop clear, or an
        /// error).
        HALTED OFFSET(0) NUMBITS(1) [],
        /// Idle: the channel completed the tail descriptor.
        IDLE OFFSET(1) NUMBITS(1) [],
        /// DMA internal error (a descriptor of length 0, ...).
        DMA_INT_ERR OFFSET(4) NUMBITS(1) [],
        /// DMA slave error.
        DMA_SLV_ERR OFFSET(5) NUMBITS(1) [],
        /// DMA decode error.
        DMA_DEC_ERR OFFSET(6) NUMBITS(1) [],
        /// Scatter-gather internal error (a descriptor fetched with
        /// Complete already set).
        SG_INT_ERR OFFSET(8) NUMBITS(1) [],
        /// Scatter-gather slave error.
        SG_SLV_ERR OFFSET(9) NUMBITS(1) [],
        /// Scatter-gather decode error.
        SG_DEC_ERR OFFSET(10) NUMBITS(1) [],
        /// Interrupt on complete (write 1 to clear).
        IOC_IRQ OFFSET(12) NUMBITS(1) [],
        /// Interrupt on delay (write 1 to clear).
        DLY_IRQ OFFSET(13) NUMBITS(1) [],
        /// Interrupt on error (write 1 to clear).
        ERR_IRQ OFFSET(14) NUMBITS(1) [],
        /// Completions left until the next IOC interrupt.
        IRQ_THRESHOLD_STS OFFSET(16) NUMBITS(8) [],
        /// Delay timer count.
        IRQ_DELAY_STS OFFSET(24) NUMBITS(8) [],
    ],
    /// A buffer descriptor's CONTROL word (PG021).
    pub(crate) DESC_CONTROL [
        /// Buffer length in bytes.
        LENGTH OFFSET(0) NUMBITS(23) [],
        /// End of frame: the last buffer of a frame (transmit).
        EOF OFFSET(26) NUMBITS(1) [],
        /// Start of frame: the first buffer of a frame (transmit).
        SOF OFFSET(27) NUMBITS(1) [],
    ],
    /// A buffer descriptor's STATUS word (PG021).
    pub(crate) DESC_STATUS [
        /// Bytes transferred (real hardware; QEMU leaves it for S2MM).
        TRANSFERRED OFFSET(0) NUMBITS(23) [],
        /// End of frame received into this buffer (S2MM).
        RXEOF OFFSET(26) NUMBITS(1) [],
        /// Start of frame received into this buffer (S2MM).
        RXSOF OFFSET(27) NUMBITS(1) [],
        /// DMA internal error.
        DMA_INT_ERR OFFSET(28) NUMBITS(1) [],
        /// DMA slave error.
        DMA_SLV_ERR OFFSET(29) NUMBITS(1) [],
        /// DMA decode error.
        DMA_DEC_ERR OFFSET(30) NUMBITS(1) [],
        /// Complete: the DMA is done with the descriptor.
        CMPLT OFFSET(31) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the AXI Ethernet MAC's registers, for every bus of
    /// [`MacRegister`] ([`MacMmio`] on hardware, a model in tests).
    pub trait Mac for MacRegister {
        /// RAF.
        fn raf() -> ReadWrite<RAF::Register> = MacRegister::Raf;
        /// IS (write 1 to clear).
        fn is() -> ReadWrite = MacRegister::Is;
        /// IE.
        fn ie() -> ReadWrite = MacRegister::Ie;
        /// RCW1.
        fn rcw1() -> ReadWrite<RCW1::Register> = MacRegister::Rcw1;
        /// TC.
        fn tc() -> ReadWrite<TC::Register> = MacRegister::Tc;
        /// MC.
        fn mc() -> ReadWrite<MC::Register> = MacRegister::Mc;
        /// MCR.
        fn mcr() -> ReadWrite<MCR::Register> = MacRegister::Mcr;
        /// MWD.
        fn mwd() -> ReadWrite<MDIO_DATA::Register> = MacRegister::Mwd;
        /// MRD.
        fn mrd() -> ReadOnly<MDIO_DATA::Register> = MacRegister::Mrd;
        /// UAW0: station address bytes 0..=3.
        fn uaw0() -> ReadWrite = MacRegister::Uaw0;
        /// UAW1.
        fn uaw1() -> ReadWrite<UAW1::Register> = MacRegister::Uaw1;
        /// FMI.
        fn fmi() -> ReadWrite<FMI::Register> = MacRegister::Fmi;
    }
}

ferrode_hal::registers! {
    /// Typed access to the AXI DMA's registers, for every bus of
    /// [`DmaRegister`] ([`DmaMmio`] on hardware, a model in tests).
    pub trait Dma for DmaRegister {
        /// DMACR of `channel`.
        fn dmacr(channel: Channel) -> ReadWrite<DMACR::Register> = DmaRegister::Dmacr(channel);
        /// DMASR of `channel`.
        fn dmasr(channel: Channel) -> ReadWrite<DMASR::Register> = DmaRegister::Dmasr(channel);
        /// CURDESC of `channel`.
        fn curdesc(channel: Channel) -> ReadWrite = DmaRegister::Curdesc(channel);
        /// CURDESC_MSB of `channel`.
        fn curdesc_msb(channel: Channel) -> ReadWrite = DmaRegister::CurdescMsb(channel);
        /// TAILDESC of `channel`.
        fn taildesc(channel: Channel) -> ReadWrite = DmaRegister::Taildesc(channel);
        /// TAILDESC_MSB of `channel`.
        fn taildesc_msb(channel: Channel) -> ReadWrite = DmaRegister::TaildescMsb(channel);
    }
}
