//! Behavioural model of the AXI Ethernet MAC, its PHY and the AXI DMA, for
//! host tests, as QEMU 10.0's models behave (`hw/net/xilinx_axienet.c`,
//! `hw/dma/xilinx_axidma.c`), with a few switches for real hardware's ways
//! and for faults.
//!
//! The DMA walks the descriptor chain in memory through the addresses the
//! driver wrote, as QEMU does: it loads a descriptor from CURDESC, moves
//! data to or from the buffer it names, stores the status, follows
//! NXTDESC and stops (Idle) after the descriptor TAILDESC names. Memory is
//! reached through those integers (exposed provenance), checked against
//! the rings the test lent the driver, so a bad address fails the test
//! instead of touching other memory.

extern crate std;

use std::collections::VecDeque;
use std::ops::Range;
use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::regs::{Channel, DmaRegister, MacRegister};

// Register bits, as the QEMU models name them.
const DMACR_RS: u32 = 1 << 0;
const DMACR_TAILPTR_MODE: u32 = 1 << 1;
const DMACR_RESET: u32 = 1 << 2;
pub const DMASR_HALTED: u32 = 1 << 0;
pub const DMASR_IDLE: u32 = 1 << 1;
pub const DMASR_DMA_INT_ERR: u32 = 1 << 4;
pub const DMASR_DMA_DEC_ERR: u32 = 1 << 6;
pub const DMASR_IOC_IRQ: u32 = 1 << 12;
pub const DMASR_ERR_IRQ: u32 = 1 << 14;
const DMASR_IRQ_MASK: u32 = 7 << 12;

const CONTROL_LENGTH: u32 = (1 << 23) - 1;
pub const CONTROL_EOF: u32 = 1 << 26;
pub const CONTROL_SOF: u32 = 1 << 27;
pub const STATUS_RXEOF: u32 = 1 << 26;
pub const STATUS_RXSOF: u32 = 1 << 27;
pub const STATUS_DMA_SLV_ERR: u32 = 1 << 29;
pub const STATUS_CMPLT: u32 = 1 << 31;

pub const RAF_MCAST_REJ: u32 = 1 << 1;
pub const RAF_BCAST_REJ: u32 = 1 << 2;
pub const RCW1_VLAN: u32 = 1 << 27;
pub const RCW1_RX: u32 = 1 << 28;
pub const RCW1_FCS: u32 = 1 << 29;
pub const RCW1_JUM: u32 = 1 << 30;
const RCW1_RST: u32 = 1 << 31;
pub const TC_VLAN: u32 = 1 << 27;
pub const TC_TX: u32 = 1 << 28;
pub const TC_JUM: u32 = 1 << 30;
const TC_RST: u32 = 1 << 31;
pub const MC_EN: u32 = 1 << 6;
const MCR_READY: u32 = 1 << 7;
const MCR_INITIATE: u32 = 1 << 11;
pub const FMI_PM: u32 = 1 << 31;

/// QEMU's MAC buffer (`rxmem`, 0x1000 on the board) less the FCS room.
const RX_MEM: usize = 0x1000 - 4;

/// Descriptor byte offsets.
const NXTDESC: u64 = 0x00;
const BUFFER_ADDRESS: u64 = 0x08;
const CONTROL: u64 = 0x18;
const STATUS: u64 = 0x1C;
const APP0: u64 = 0x20;

/// A buffer descriptor as the DMA loads it.
#[derive(Clone, Copy, Debug)]
pub struct Descriptor {
    pub next: u64,
    pub buffer: u64,
    pub control: u32,
    pub status: u32,
    pub app: [u32; 5],
}

/// One DMA channel's registers and state.
#[derive(Clone, Debug, Default)]
pub struct DmaChannel {
    pub dmacr: u32,
    pub dmasr: u32,
    pub curdesc: [u32; 2],
    pub taildesc: [u32; 2],
    /// Writes of TAILDESC's low word.
    pub taildesc_writes: u32,
    /// Writes of DMACR.
    pub dmacr_writes: u32,
    /// Times the channel met a descriptor already Complete and halted.
    pub complete_halts: u32,
    /// Resets.
    pub resets: u32,
    complete_count: u32,
    reset_reads_left: u32,
}

impl DmaChannel {
    fn new() -> Self {
        Self { dmacr: 1 << 16, dmasr: DMASR_HALTED, complete_count: 1, ..Self::default() }
    }

    fn current(&self) -> u64 {
        u64::from(self.curdesc[1]) << 32 | u64::from(self.curdesc[0])
    }

    fn tail(&self) -> u64 {
        u64::from(self.taildesc[1]) << 32 | u64::from(self.taildesc[0])
    }

    fn set_current(&mut self, address: u64) {
        self.curdesc = [address as u32, (address >> 32) as u32];
    }

    fn resetting(&self) -> bool {
        self.dmacr & DMACR_RESET != 0
    }

    /// QEMU's test before it moves data: running, not idle, not halted.
    fn active(&self) -> bool {
        self.dmacr & DMACR_RS != 0 && self.dmasr & (DMASR_IDLE | DMASR_HALTED) == 0
    }

    fn reload_complete_count(&mut self) {
        self.complete_count = (self.dmacr >> 16) & 0xFF;
    }

    /// A frame completed: IOC once the threshold's count is reached (an
    /// unsigned count, as QEMU's: from 0 it wraps and IOC never comes).
    fn complete(&mut self) {
        self.complete_count = self.complete_count.wrapping_sub(1);
        if self.complete_count == 0 {
            self.dmasr |= DMASR_IOC_IRQ;
            self.reload_complete_count();
        }
    }

    /// An error halt, as QEMU's failed descriptor load: Run/Stop cleared,
    /// Halted, the error bit and the error interrupt set.
    fn error_halt(&mut self, error: u32) {
        self.dmacr &= !DMACR_RS;
        self.dmasr |= DMASR_HALTED | error | DMASR_ERR_IRQ;
    }
}

/// A frame the MAC took from the wire, being pushed to the DMA.
#[derive(Debug)]
struct InMac {
    data: Vec<u8>,
    position: usize,
    app: [u32; 5],
}

#[derive(Debug)]
pub struct Model {
    /// Memory the DMA may reach (the rings lent to the driver).
    memory: Range<usize>,

    // The MAC.
    pub raf: u32,
    pub is: u32,
    pub ie: u32,
    pub rcw0: u32,
    pub rcw1: u32,
    pub tc: u32,
    pub emmc: u32,
    pub mc: u32,
    pub mcr: u32,
    pub mwd: u32,
    pub mrd: u32,
    pub uaw: [u32; 2],
    pub fmi: u32,
    /// MDIO transactions started.
    pub mdio_transactions: u32,
    /// MCR reads that show the interface busy after a transaction starts
    /// (QEMU: 0; `u32::MAX`: busy for ever).
    pub mdio_busy_reads: u32,
    mdio_busy_left: u32,

    // The PHY.
    pub phy_address: u8,
    pub phy: [u16; 32],
    pub link: bool,

    // The DMA, MM2S then S2MM.
    pub channels: [DmaChannel; 2],
    /// DMACR reads that still show Reset after a reset starts (QEMU: 0;
    /// `u32::MAX`: it never ends).
    pub reset_reads: u32,
    /// A reset through one channel resets both (the hardware; QEMU resets
    /// the one written).
    pub reset_resets_both: bool,
    /// Mark every descriptor a pushed frame fills as start and end of
    /// frame, each with the frame's APP words (QEMU); off, only the first
    /// is start and only the last end, with the APP words (the hardware).
    pub qemu_split_flags: bool,
    /// MM2S leaves the descriptors alone until `resume_transmit` (a slow
    /// line on the hardware; QEMU sends within the TAILDESC write).
    pub transmit_paused: bool,
    /// TAILDESC was written while transmit was paused.
    transmit_kicked: bool,
    /// Descriptors MM2S may still process (`None`: no limit).
    transmit_budget: Option<u32>,
    /// Frames that arrive right after the next read of S2MM's DMASR (a
    /// race with the driver's look at the channel).
    pub frames_after_status_read: Vec<Vec<u8>>,
    /// ORed into the STATUS of the next S2MM descriptor completed.
    pub rx_status_error: u32,
    /// ORed into the STATUS of the next MM2S descriptor completed.
    pub tx_status_error: u32,
    s2mm_start_of_frame: bool,

    // The wire.
    wire: VecDeque<Vec<u8>>,
    /// The wire is QEMU's network, which stops when the MAC takes a frame
    /// the DMA cannot (see `pump`); otherwise frames simply wait.
    pub qemu_network: bool,
    /// QEMU's network delivers nothing until RCW0 or RCW1 is written (see
    /// `pump`).
    pub network_stopped: bool,
    /// How often the network stopped so.
    pub network_stops: u32,
    /// Writes of RCW0 or RCW1 (each flushes QEMU's network).
    pub receiver_writes: u32,
    in_mac: Option<InMac>,
    /// Frames the MAC's filters dropped.
    pub filtered: u32,
    /// Frames sent, as the MAC put them on the wire.
    pub sent: Vec<Vec<u8>>,
    /// The APP words of each frame's first descriptor (the MAC's transmit
    /// control: APP0 bit 0 asks for checksum offload).
    pub sent_app: Vec<[u32; 5]>,
    /// The CONTROL word of each transmit descriptor processed.
    pub sent_control: Vec<u32>,
    tx_frame: Vec<u8>,
}

impl Model {
    /// The MAC, PHY and DMA out of reset (QEMU's reset values), the DMA
    /// reaching `memory` only.
    pub fn new(memory: Range<usize>) -> Self {
        Self {
            memory,
            raf: 0,
            is: 0,
            ie: 0,
            rcw0: 0,
            rcw1: RCW1_JUM | RCW1_FCS | RCW1_RX | RCW1_VLAN,
            tc: TC_JUM | TC_TX | TC_VLAN,
            emmc: 1 << 30,
            mc: 0,
            mcr: 0,
            mwd: 0,
            mrd: 0,
            uaw: [0; 2],
            fmi: 0,
            mdio_transactions: 0,
            mdio_busy_reads: 0,
            mdio_busy_left: 0,
            phy_address: 7,
            phy: [0; 32],
            link: true,
            channels: [DmaChannel::new(), DmaChannel::new()],
            reset_reads: 0,
            reset_resets_both: false,
            qemu_split_flags: true,
            transmit_paused: false,
            transmit_kicked: false,
            transmit_budget: None,
            frames_after_status_read: Vec::new(),
            rx_status_error: 0,
            tx_status_error: 0,
            s2mm_start_of_frame: true,
            wire: VecDeque::new(),
            qemu_network: false,
            network_stopped: false,
            network_stops: 0,
            receiver_writes: 0,
            in_mac: None,
            filtered: 0,
            sent: Vec::new(),
            sent_app: Vec::new(),
            sent_control: Vec::new(),
            tx_frame: Vec::new(),
        }
    }

    /// Channel `channel`'s state.
    pub fn channel(&self, channel: Channel) -> &DmaChannel {
        &self.channels[index(channel)]
    }

    /// The channel's interrupt line: pending DMASR interrupts it enables.
    pub fn interrupt(&self, channel: Channel) -> bool {
        let c = self.channel(channel);
        c.dmasr & c.dmacr & DMASR_IRQ_MASK != 0
    }

    /// Frames waiting outside the DMA: in the MAC and on the wire.
    pub fn waiting(&self) -> usize {
        self.wire.len() + usize::from(self.in_mac.is_some())
    }

    /// A frame (no FCS) arrives from the wire. It waits while the MAC
    /// cannot take it.
    pub fn arrive(&mut self, frame: &[u8]) {
        self.wire.push_back(frame.to_vec());
        self.pump();
    }

    /// An error halt of `channel` (QEMU's: a descriptor it could not load).
    pub fn halt(&mut self, channel: Channel) {
        self.channels[index(channel)].error_halt(DMASR_DMA_DEC_ERR);
    }

    /// MM2S processes what it was given while paused.
    pub fn resume_transmit(&mut self) {
        self.transmit_paused = false;
        if core::mem::take(&mut self.transmit_kicked) {
            self.process_mm2s();
        }
    }

    /// MM2S processes `count` more of the descriptors it was given while
    /// paused, and stays paused (frames finishing one by one).
    pub fn send_some(&mut self, count: u32) {
        self.transmit_paused = false;
        self.transmit_budget = Some(count);
        if core::mem::take(&mut self.transmit_kicked) {
            self.process_mm2s();
        }
        self.transmit_budget = None;
        self.transmit_paused = true;
    }

    /// The MAC's frame in progress is lost (a reset of the hardware's
    /// streams: QEMU keeps it).
    pub fn drop_frame_in_mac(&mut self) {
        self.in_mac = None;
    }

    /// The descriptor at `address`, as the DMA loads it.
    pub fn descriptor(&self, address: u64) -> Descriptor {
        let word = |offset| self.read_u32(address + offset);
        let double = |offset| u64::from(word(offset)) | u64::from(word(offset + 4)) << 32;
        Descriptor {
            next: double(NXTDESC),
            buffer: double(BUFFER_ADDRESS),
            control: word(CONTROL),
            status: word(STATUS),
            app: core::array::from_fn(|n| word(APP0 + 4 * n as u64)),
        }
    }

    /// The chain of descriptors from `channel`'s CURDESC, `count` long.
    pub fn chain(&self, channel: Channel, count: usize) -> Vec<u64> {
        let mut at = self.channel(channel).current();
        let mut chain = Vec::new();
        for _ in 0..count {
            chain.push(at);
            at = self.descriptor(at).next;
        }
        chain
    }

    // Memory, reached as the DMA does: from bare addresses.

    /// `len` bytes at `address` as a pointer, checked to lie in the rings.
    fn pointer(&self, address: u64, len: usize) -> *mut u8 {
        let start = usize::try_from(address).expect("address fits the host");
        let end = start.checked_add(len).expect("range fits the host");
        assert!(
            self.memory.start <= start && end <= self.memory.end,
            "DMA access {start:#x}..{end:#x} outside the rings {:#x?}",
            self.memory
        );
        core::ptr::with_exposed_provenance_mut(start)
    }

    fn read_u32(&self, address: u64) -> u32 {
        assert!(address.is_multiple_of(4), "unaligned descriptor word {address:#x}");
        let pointer = self.pointer(address, 4).cast::<u32>();
        // SAFETY: an aligned word inside the rings the test lent the
        // driver (checked by `pointer`), whose provenance the driver
        // exposed; they outlive the model (leaked), and nothing else runs
        // while the model does (one thread, the driver between calls).
        u32::from_le(unsafe { pointer.read_volatile() })
    }

    fn write_u32(&self, address: u64, value: u32) {
        assert!(address.is_multiple_of(4), "unaligned descriptor word {address:#x}");
        let pointer = self.pointer(address, 4).cast::<u32>();
        // SAFETY: as in `read_u32`.
        unsafe { pointer.write_volatile(value.to_le()) }
    }

    fn read_bytes(&self, address: u64, len: usize) -> Vec<u8> {
        let pointer = self.pointer(address, len);
        let mut bytes = std::vec![0; len];
        // SAFETY: `len` bytes inside the rings (checked by `pointer`), as
        // in `read_u32`; `bytes` is the model's own.
        unsafe { core::ptr::copy_nonoverlapping(pointer, bytes.as_mut_ptr(), len) };
        bytes
    }

    fn write_bytes(&self, address: u64, bytes: &[u8]) {
        let pointer = self.pointer(address, bytes.len());
        // SAFETY: as in `read_bytes`.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer, bytes.len()) };
    }

    /// Loads the descriptor at CURDESC, or halts the channel with a decode
    /// error (QEMU's failed load) if it is not a 64-byte aligned address.
    fn load(&mut self, channel: Channel) -> Option<(u64, Descriptor)> {
        let at = self.channel(channel).current();
        if !at.is_multiple_of(64) {
            self.channels[index(channel)].error_halt(DMASR_DMA_DEC_ERR);
            return None;
        }
        Some((at, self.descriptor(at)))
    }

    /// After descriptor `at` is done: on to NXTDESC, or Idle if it was the
    /// tail. Returns whether the channel goes on.
    fn advance(&mut self, channel: Channel, at: u64, next: u64) -> bool {
        let c = &mut self.channels[index(channel)];
        c.set_current(next);
        if at == c.tail() {
            c.dmasr |= DMASR_IDLE;
            return false;
        }
        true
    }

    // MM2S: transmit.

    fn process_mm2s(&mut self) {
        if self.transmit_paused {
            self.transmit_kicked = true;
            return;
        }
        if !self.channels[0].active() {
            return;
        }
        loop {
            if self.transmit_budget == Some(0) {
                self.transmit_kicked = true;
                return;
            }
            if let Some(budget) = &mut self.transmit_budget {
                *budget -= 1;
            }
            let Some((at, descriptor)) = self.load(Channel::Mm2s) else { return };
            if descriptor.status & STATUS_CMPLT != 0 {
                self.channels[0].dmasr |= DMASR_HALTED;
                self.channels[0].complete_halts += 1;
                return;
            }
            self.sent_control.push(descriptor.control);
            if descriptor.control & CONTROL_SOF != 0 {
                self.sent_app.push(descriptor.app);
            }
            let length = (descriptor.control & CONTROL_LENGTH) as usize;
            if length == 0 {
                self.channels[0].error_halt(DMASR_DMA_INT_ERR);
                return;
            }
            let bytes = self.read_bytes(descriptor.buffer, length);
            self.tx_frame.extend_from_slice(&bytes);
            if descriptor.control & CONTROL_EOF != 0 {
                let frame = core::mem::take(&mut self.tx_frame);
                let oversized = self.tc & TC_JUM == 0
                    && (1519..=1522).contains(&frame.len())
                    && self.tc & TC_VLAN == 0;
                if self.tc & TC_TX != 0 && !oversized {
                    self.sent.push(frame);
                }
                self.channels[0].complete();
            }
            // QEMU writes the status whole: Complete, no length left.
            let status = STATUS_CMPLT | core::mem::take(&mut self.tx_status_error);
            self.write_u32(at + STATUS, status);
            if !self.advance(Channel::Mm2s, at, descriptor.next) {
                return;
            }
        }
    }

    // S2MM: receive.

    /// Whether the MAC's receiver takes a frame from the wire now.
    fn mac_can_receive(&self) -> bool {
        self.in_mac.is_none() && self.rcw1 & RCW1_RST == 0 && self.rcw1 & RCW1_RX != 0
    }

    /// The MAC's filters and length rules (QEMU's `eth_rx`): the frame as
    /// pushed to the DMA, or `None` if dropped.
    fn accept(&self, frame: &[u8]) -> Option<InMac> {
        let promiscuous = self.fmi & FMI_PM != 0;
        let unicast = frame.first().is_some_and(|byte| byte & 1 == 0);
        let broadcast = frame.len() >= 6 && frame[..6] == [0xFF; 6];
        let jumbo_or_vlan = self.rcw1 & (RCW1_JUM | RCW1_VLAN) != 0;
        if !jumbo_or_vlan && (1519..=1522).contains(&frame.len()) {
            return None;
        }
        if !promiscuous {
            if unicast {
                let mut station = [0u8; 6];
                station[..4].copy_from_slice(&self.uaw[0].to_le_bytes());
                station[4..].copy_from_slice(&self.uaw[1].to_le_bytes()[..2]);
                if frame.len() < 6 || frame[..6] != station {
                    return None;
                }
            } else if broadcast {
                if self.raf & RAF_BCAST_REJ != 0 {
                    return None;
                }
            } else {
                // Multicast: only through the address table, left empty.
                return None;
            }
        }
        if frame.len() < 12 {
            return None;
        }
        let mut data = frame[..frame.len().min(RX_MEM)].to_vec();
        if self.rcw1 & RCW1_FCS != 0 {
            data.extend_from_slice(&[0; 4]);
        }
        let mut app = [0; 5];
        app[0] = 5 << 28;
        app[4] = (data.len() & 0xFFFF) as u32;
        Some(InMac { data, position: 0, app })
    }

    /// Moves frames from the wire through the MAC into the DMA while both
    /// can take them (QEMU: a frame arriving, and the DMA's notification
    /// at a write of an S2MM register or RCW).
    ///
    /// With `qemu_network`, QEMU's network hands the MAC one frame at a time. When the MAC
    /// takes one but the DMA takes none of it (the S2MM channel idle or
    /// stopped), the MAC answers that it took nothing: the network queues
    /// the frame again and delivers nothing more until a write of RCW0 or
    /// RCW1 flushes its queue (`network_stopped`), while the MAC still
    /// holds its copy, which goes into the DMA at the next S2MM register
    /// write. So the frame arrives twice.
    fn pump(&mut self) {
        loop {
            if let Some(mut in_mac) = self.in_mac.take() {
                self.push_s2mm(&mut in_mac);
                if in_mac.position < in_mac.data.len() {
                    self.in_mac = Some(in_mac);
                    return;
                }
                continue;
            }
            if self.network_stopped || !self.mac_can_receive() {
                return;
            }
            let Some(frame) = self.wire.pop_front() else { return };
            let Some(mut in_mac) = self.accept(&frame) else {
                self.filtered += 1;
                continue;
            };
            self.push_s2mm(&mut in_mac);
            if in_mac.position == 0 && self.qemu_network {
                self.network_stopped = true;
                self.network_stops += 1;
                self.wire.push_front(frame);
            }
            if in_mac.position < in_mac.data.len() {
                self.in_mac = Some(in_mac);
                return;
            }
        }
    }

    /// QEMU's `stream_process_s2mem`: the rest of the MAC's frame into
    /// descriptors from CURDESC on, until it is all written or the channel
    /// stops (the tail, a halt).
    fn push_s2mm(&mut self, in_mac: &mut InMac) {
        let s = index(Channel::S2mm);
        while in_mac.position < in_mac.data.len() && self.channels[s].active() {
            let Some((at, descriptor)) = self.load(Channel::S2mm) else { return };
            if descriptor.status & STATUS_CMPLT != 0 {
                self.channels[s].dmasr |= DMASR_HALTED;
                self.channels[s].complete_halts += 1;
                return;
            }
            let room = (descriptor.control & CONTROL_LENGTH) as usize;
            if room == 0 {
                self.channels[s].error_halt(DMASR_DMA_INT_ERR);
                return;
            }
            let chunk = room.min(in_mac.data.len() - in_mac.position);
            let bytes = &in_mac.data[in_mac.position..in_mac.position + chunk];
            self.write_bytes(descriptor.buffer, bytes);
            in_mac.position += chunk;
            let last = in_mac.position == in_mac.data.len();
            let end = self.qemu_split_flags || last;
            let mut status = descriptor.status;
            if end {
                self.channels[s].complete();
                for (n, app) in in_mac.app.iter().enumerate() {
                    self.write_u32(at + APP0 + 4 * n as u64, *app);
                }
                status |= STATUS_RXEOF;
            }
            if self.s2mm_start_of_frame {
                status |= STATUS_RXSOF;
            }
            status |= STATUS_CMPLT | core::mem::take(&mut self.rx_status_error);
            self.write_u32(at + STATUS, status);
            self.s2mm_start_of_frame = end;
            if !self.advance(Channel::S2mm, at, descriptor.next) {
                return;
            }
        }
    }

    // The PHY.

    fn phy_read(&self, phy: u32, register: usize) -> u16 {
        if phy != u32::from(self.phy_address) {
            return 0xFFFF;
        }
        match register {
            // QEMU's BMSR: speeds and modes, autonegotiation complete and
            // able, link (bit 2), all while its link flag is set; else 0.
            1 if self.link => 0x7800 | 1 << 5 | 1 << 3 | 1 << 2 | 1 << 1,
            1 => 0,
            _ => self.phy[register],
        }
    }

    // The DMA's reset.

    fn begin_reset(&mut self, channel: usize) {
        let reads = self.reset_reads;
        let c = &mut self.channels[channel];
        c.dmacr = DMACR_RESET | DMACR_TAILPTR_MODE | 1 << 16;
        c.dmasr = DMASR_HALTED;
        c.resets += 1;
        c.reset_reads_left = reads;
        c.reload_complete_count();
        if channel == index(Channel::S2mm) {
            self.s2mm_start_of_frame = true;
        } else {
            self.transmit_kicked = false;
            self.tx_frame.clear();
        }
    }
}

fn index(channel: Channel) -> usize {
    match channel {
        Channel::Mm2s => 0,
        Channel::S2mm => 1,
    }
}

impl RegisterModel<MacRegister> for Model {
    fn read(&mut self, register: MacRegister) -> u32 {
        match register {
            MacRegister::Raf => self.raf,
            MacRegister::Is => self.is,
            MacRegister::Ip => self.is & self.ie,
            MacRegister::Ie => self.ie,
            MacRegister::Rcw0 => self.rcw0,
            MacRegister::Rcw1 => self.rcw1,
            MacRegister::Tc => self.tc,
            MacRegister::Emmc => self.emmc,
            MacRegister::Mc => self.mc,
            MacRegister::Mcr => {
                if self.mdio_busy_left > 0 {
                    if self.mdio_busy_left != u32::MAX {
                        self.mdio_busy_left -= 1;
                    }
                    self.mcr & !MCR_READY
                } else {
                    self.mcr | MCR_READY
                }
            }
            MacRegister::Mwd => self.mwd,
            MacRegister::Mrd => self.mrd,
            MacRegister::Uaw0 => self.uaw[0],
            MacRegister::Uaw1 => self.uaw[1],
            MacRegister::Fmi => self.fmi,
        }
    }

    fn write(&mut self, register: MacRegister, value: u32) {
        match register {
            MacRegister::Raf => self.raf = value,
            MacRegister::Is => self.is &= !value,
            MacRegister::Ip => {}
            MacRegister::Ie => self.ie = value,
            MacRegister::Rcw0 => {
                self.receiver_writes += 1;
                self.rcw0 = value;
                self.network_stopped = false;
                self.pump();
            }
            MacRegister::Rcw1 => {
                self.receiver_writes += 1;
                self.rcw1 = value;
                if value & RCW1_RST != 0 {
                    self.rcw1 = RCW1_JUM | RCW1_FCS | RCW1_RX | RCW1_VLAN;
                } else {
                    self.network_stopped = false;
                    self.pump();
                }
            }
            MacRegister::Tc => {
                self.tc = value;
                if value & TC_RST != 0 {
                    self.tc = TC_JUM | TC_TX | TC_VLAN;
                    self.tx_frame.clear();
                }
            }
            MacRegister::Emmc => self.emmc = value,
            MacRegister::Mc => self.mc = value & 0x7F,
            MacRegister::Mcr => {
                let phy = (value >> 24) & 0x1F;
                let register = ((value >> 16) & 0x1F) as usize;
                let op = (value >> 14) & 3;
                // Unlike QEMU, a transaction needs MDIO enabled, as on the
                // hardware.
                if value & MCR_INITIATE != 0 && self.mc & MC_EN != 0 {
                    self.mdio_transactions += 1;
                    match op {
                        0b01 if phy == u32::from(self.phy_address) => {
                            self.phy[register] = self.mwd as u16;
                        }
                        0b10 => self.mrd = u32::from(self.phy_read(phy, register)),
                        _ => {}
                    }
                    self.mdio_busy_left = self.mdio_busy_reads;
                }
                self.mcr = value;
            }
            MacRegister::Mwd => self.mwd = value,
            MacRegister::Mrd => self.mrd = value,
            MacRegister::Uaw0 => self.uaw[0] = value,
            MacRegister::Uaw1 => self.uaw[1] = value,
            MacRegister::Fmi => self.fmi = value,
        }
    }
}

impl RegisterModel<DmaRegister> for Model {
    fn read(&mut self, register: DmaRegister) -> u32 {
        let channel = index(register.channel());
        let c = &mut self.channels[channel];
        match register {
            DmaRegister::Dmacr(_) => {
                if c.resetting() {
                    match c.reset_reads_left {
                        0 => c.dmacr &= !DMACR_RESET,
                        u32::MAX => {}
                        _ => c.reset_reads_left -= 1,
                    }
                }
                c.dmacr
            }
            // QEMU shows the completion count in bits 23:16.
            DmaRegister::Dmasr(channel) => {
                let status = (c.dmasr & 0xFFFF) | (c.complete_count & 0xFF) << 16;
                if channel == Channel::S2mm && !self.frames_after_status_read.is_empty() {
                    let frames = core::mem::take(&mut self.frames_after_status_read);
                    self.wire.extend(frames);
                    self.pump();
                }
                status
            }
            DmaRegister::Curdesc(_) => c.curdesc[0],
            DmaRegister::CurdescMsb(_) => c.curdesc[1],
            DmaRegister::Taildesc(_) => c.taildesc[0],
            DmaRegister::TaildescMsb(_) => c.taildesc[1],
        }
    }

    fn write(&mut self, register: DmaRegister, value: u32) {
        let channel = register.channel();
        let n = index(channel);
        match register {
            DmaRegister::Dmacr(_) => {
                let c = &mut self.channels[n];
                c.dmacr_writes += 1;
                let was_resetting = c.resetting();
                c.dmacr = value | DMACR_TAILPTR_MODE | (c.dmacr & DMACR_RESET);
                if value & DMACR_RESET != 0 && !was_resetting {
                    if self.reset_resets_both {
                        self.begin_reset(0);
                        self.begin_reset(1);
                    } else {
                        self.begin_reset(n);
                    }
                } else if value & DMACR_RS != 0 && !self.channels[n].resetting() {
                    // QEMU: Run/Stop (re)starts the channel, whatever its
                    // state: Halted and Idle cleared.
                    self.channels[n].dmasr &= !(DMASR_HALTED | DMASR_IDLE);
                }
                self.channels[n].reload_complete_count();
            }
            // QEMU stores the value written, every interrupt bit cleared
            // (the hardware: interrupt bits write 1 to clear, the rest read
            // only).
            DmaRegister::Dmasr(_) => self.channels[n].dmasr = value & !DMASR_IRQ_MASK,
            DmaRegister::Curdesc(_) => self.channels[n].curdesc[0] = value,
            DmaRegister::CurdescMsb(_) => self.channels[n].curdesc[1] = value,
            DmaRegister::Taildesc(_) => {
                let c = &mut self.channels[n];
                c.taildesc[0] = value;
                c.taildesc_writes += 1;
                c.dmasr &= !DMASR_IDLE;
                if channel == Channel::Mm2s {
                    self.process_mm2s();
                }
            }
            DmaRegister::TaildescMsb(_) => self.channels[n].taildesc[1] = value,
        }
        if channel == Channel::S2mm {
            self.pump();
        }
    }
}
