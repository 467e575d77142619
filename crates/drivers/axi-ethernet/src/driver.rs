//! The driver: bring-up, the transmit and receive rings, the interrupt.

use core::marker::PhantomData;
use core::sync::atomic::{Ordering, fence};

use ferrode_hal::mmio::{LocalRegisterCopy, Writeable};
use ferrode_hal::{EthernetDevice, FrameCounters, MAX_FRAME_LEN};

use crate::error::Error;
use crate::regs::{Channel, DESC_CONTROL, DESC_STATUS, Dma, FMI, MC, Mac, RAF, RCW1, TC, UAW1};
use crate::ring::{BUFFER_LEN, Ring, Rings, split, word};

/// Polls of a status bit before a wait gives up with [`Error::Timeout`]:
/// each poll is an AXI read of at least one bus clock (100,000 reads are at
/// least 1 ms at 100 MHz), far more than the slowest thing waited for, an
/// MDIO frame (64 bits at 2.5 MHz, 26 us) or a DMA reset.
pub const MAX_POLLS: u32 = 100_000;
const _: () = assert!(MAX_FRAME_LEN <= BUFFER_LEN, "a frame fits a buffer");

/// Shortest frame handed to the MAC: shorter ones are padded with zeros
/// (the hardware pads too; QEMU's model sends what it is given).
pub const MIN_FRAME_LEN: usize = 60;
/// An Ethernet header (destination, source, type): shorter received
/// frames are runts, shorter frames to send are refused.
pub const ETHERNET_HEADER_LEN: usize = 14;

/// Station settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Station MAC address, programmed into the unicast address filter.
    pub mac_address: [u8; 6],
    /// MDIO address of the PHY whose link [`EthernetDevice::link_up`]
    /// reports, or `None` if there is none to ask (the link is then
    /// reported up). QEMU's model has one at 7.
    pub phy_address: Option<u8>,
    /// MC's clock divider (0..=63): MDC is the AXI4-Lite clock divided by
    /// twice (1 + divider), at most 2.5 MHz (29 at 100 MHz gives 1.67
    /// MHz). Used only with a PHY.
    pub mdio_clock_divider: u8,
}

/// How often the driver re-initialised a DMA channel that had halted (see
/// [`AxiEthernet::on_interrupt`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelRestarts {
    /// The MM2S (transmit) channel.
    pub transmit: u32,
    /// The S2MM (receive) channel.
    pub receive: u32,
}

/// What the receive side made of a completed descriptor.
enum Received {
    /// A good frame of this many bytes, in the descriptor's buffer.
    Frame(usize),
    /// Dropped (and counted).
    Dropped,
}

/// An AXI Ethernet MAC and its AXI DMA, with `TX` transmit and `RX`
/// receive descriptors in the [`Rings`] lent for `'r`.
///
/// `M` reaches the MAC's registers ([`Mac`]: [`crate::MacMmio`] on
/// hardware), `D` the DMA's ([`Dma`]: [`crate::DmaMmio`]).
#[derive(Debug)]
pub struct AxiEthernet<'r, M, D, const TX: usize, const RX: usize> {
    pub(crate) mac: M,
    pub(crate) dma: D,
    pub(crate) config: Config,
    pub(crate) tx: Ring<TX>,
    pub(crate) rx: Ring<RX>,
    /// The transmit descriptor the next frame goes into.
    pub(crate) tx_next: usize,
    /// Transmit descriptors with the DMA, the oldest `tx_busy` before
    /// `tx_next`.
    pub(crate) tx_busy: usize,
    /// The receive descriptor the next frame comes from. The descriptors
    /// from here on that the DMA completed hold frames; the others, up to
    /// the one before the head (which TAILDESC names), are the DMA's.
    pub(crate) rx_head: usize,
    /// The S2MM channel runs. False after a restart found every receive
    /// descriptor holding a frame: it starts again when one is handed back.
    pub(crate) rx_running: bool,
    /// Dropping the rest of a frame that came in several descriptors.
    pub(crate) rx_discarding: bool,
    /// The S2MM interrupts (IOC, Err) are wanted.
    pub(crate) rx_interrupt: bool,
    /// The S2MM DMACR value last written while running (a write waits
    /// while the channel is idle: see `apply_receive_control`).
    pub(crate) rx_control_written: u32,
    /// The S2MM channel ran dry (it filled the descriptor TAILDESC named,
    /// or stopped) since the receiver configuration was last written: see
    /// `give_back_head`.
    pub(crate) rx_flush_owed: bool,
    pub(crate) counters: FrameCounters,
    pub(crate) restarts: ChannelRestarts,
    _rings: PhantomData<&'r mut Rings<TX, RX>>,
}

/// The low and high words of a bus address.
pub(crate) const fn split_address(address: u64) -> (u32, u32) {
    (address as u32, (address >> 32) as u32)
}

const fn increment(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

impl<'r, M: Mac, D: Dma, const TX: usize, const RX: usize> AxiEthernet<'r, M, D, TX, RX> {
    /// Takes over MAC and DMA: stops the MAC's receiver and transmitter,
    /// resets the DMA (both channels, waiting for the reset to end),
    /// programs the station address (unicast filter, broadcast accepted,
    /// not promiscuous), enables MDIO if a PHY is named, builds both
    /// descriptor rings in `rings` and starts both channels (every
    /// receive descriptor handed to the DMA, the receive interrupt
    /// enabled), then enables the transmitter and the receiver (no
    /// in-band FCS, no jumbo or VLAN frames).
    pub fn new(
        mac: M,
        dma: D,
        config: Config,
        rings: &'r mut Rings<TX, RX>,
    ) -> Result<Self, Error> {
        const { assert!(TX > 0 && RX > 0, "a ring needs a descriptor") };
        if config.phy_address.is_some_and(|phy| phy > 31) {
            return Err(Error::InvalidMdioAddress);
        }
        if config.mdio_clock_divider > 63 {
            return Err(Error::InvalidMdioClockDivider);
        }
        let (tx, rx) = split(rings);
        let mut eth = Self {
            mac,
            dma,
            config,
            tx,
            rx,
            tx_next: 0,
            tx_busy: 0,
            rx_head: 0,
            rx_running: false,
            rx_discarding: false,
            rx_interrupt: true,
            rx_control_written: 0,
            rx_flush_owed: false,
            counters: FrameCounters::default(),
            restarts: ChannelRestarts::default(),
            _rings: PhantomData,
        };
        // Nothing in or out while the DMA is reset and the filter changes;
        // the MAC's own interrupt is not used (the DMA's is).
        eth.mac.rcw1().set(0);
        eth.mac.tc().set(0);
        eth.mac.ie().set(0);
        eth.reset_dma(Channel::Mm2s)?;
        eth.reset_dma(Channel::S2mm)?;
        eth.program_filter();
        if config.phy_address.is_some() {
            let divider = u32::from(config.mdio_clock_divider);
            eth.mac.mc().write(MC::MDIO_ENABLE::SET + MC::CLOCK_DIVIDE.val(divider));
        }
        eth.build_rings();
        eth.start_transmit();
        eth.start_receive();
        eth.mac.tc().write(TC::TX::SET);
        // Enabling the receiver is the write that flushes QEMU's network.
        eth.mac.rcw1().write(RCW1::RX::SET);
        eth.rx_flush_owed = false;
        Ok(eth)
    }

    /// The unicast address filter (UAW0: bytes 0..=3 with byte 0 in bits
    /// 7:0, UAW1: bytes 4 and 5), broadcast accepted (RAF 0), promiscuous
    /// mode off (FMI 0).
    fn program_filter(&mut self) {
        let [a0, a1, a2, a3, a4, a5] = self.config.mac_address;
        self.mac.uaw0().set(u32::from_le_bytes([a0, a1, a2, a3]));
        let high = u32::from(u16::from_le_bytes([a4, a5]));
        self.mac.uaw1().write(UAW1::ADDRESS.val(high));
        self.mac.fmi().write(FMI::PROMISCUOUS::CLEAR + FMI::INDEX.val(0));
        self.mac.raf().write(RAF::BROADCAST_REJECT::CLEAR + RAF::MULTICAST_REJECT::CLEAR);
    }

    /// Chains each ring's descriptors into a circle, each with its buffer;
    /// the receive descriptors wait for a frame of up to a buffer.
    fn build_rings(&mut self) {
        for index in 0..TX {
            link(&self.tx, index);
            clear_descriptor(&self.tx, index, 0);
        }
        for index in 0..RX {
            link(&self.rx, index);
            clear_descriptor(&self.rx, index, BUFFER_LEN as u32);
        }
        self.tx_next = 0;
        self.tx_busy = 0;
        self.rx_head = 0;
        self.rx_discarding = false;
    }

    /// The configuration the driver runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How often a halted DMA channel was re-initialised.
    pub fn channel_restarts(&self) -> ChannelRestarts {
        self.restarts
    }

    /// Whether a received frame (or a bad one, to drop) waits in the
    /// receive ring.
    pub fn frame_waiting(&self) -> bool {
        self.rx_complete(self.rx_head)
    }

    /// The interrupt entry, for the DMA's S2MM (receive) interrupt:
    /// acknowledges the interrupt bits of both channels' DMASR,
    /// re-initialises a channel that halted (an error, or QEMU's halt on a
    /// descriptor still holding a frame), counting it in
    /// [`AxiEthernet::channel_restarts`], reclaims sent frames' descriptors,
    /// and returns whether a received frame waits for
    /// [`EthernetDevice::receive`].
    pub fn on_interrupt(&mut self) -> bool {
        let mut found = [false; 2];
        for (channel, found) in Channel::BOTH.into_iter().zip(&mut found) {
            let status = self.acknowledge(channel);
            *found = status.is_set(crate::regs::DMASR::HALTED) && self.running(channel);
            if *found {
                self.count_restart(channel);
            }
        }
        for (channel, found) in Channel::BOTH.into_iter().zip(found) {
            // The first channel's reset may have restarted the second.
            if found && self.halted(channel) && self.running(channel) {
                self.reinitialise(channel);
            }
        }
        self.reclaim_transmitted();
        self.frame_waiting()
    }

    /// Unmasks (`true`) or masks (`false`) the receive interrupt: S2MM
    /// DMACR's IOC and Err interrupt enables ([`EthernetDevice`]'s method,
    /// also callable without the trait).
    pub fn set_receive_interrupt(&mut self, enabled: bool) {
        self.rx_interrupt = enabled;
        if self.rx_running {
            self.apply_receive_control();
        }
    }

    /// Frees the transmit descriptors the DMA completed, oldest first,
    /// counting each frame sent (or, with a DMA error in its status,
    /// failed).
    pub(crate) fn reclaim_transmitted(&mut self) {
        while self.tx_busy > 0 {
            let index = (self.tx_next + TX - self.tx_busy) % TX;
            let status: LocalRegisterCopy<u32, DESC_STATUS::Register> =
                LocalRegisterCopy::new(self.tx.read(index, word::STATUS));
            if !status.is_set(DESC_STATUS::CMPLT) {
                break;
            }
            if has_dma_error(status) {
                increment(&mut self.counters.tx_errors);
            } else {
                increment(&mut self.counters.tx_frames);
            }
            self.tx_busy -= 1;
        }
    }

    /// A transmit descriptor is free (reclaiming first). With none free,
    /// looks whether the MM2S channel halted, and re-initialises it if so.
    fn transmit_descriptor_free(&mut self) -> bool {
        self.reclaim_transmitted();
        if self.tx_busy == TX && self.halted(Channel::Mm2s) {
            self.recover(Channel::Mm2s);
        }
        self.tx_busy < TX
    }

    /// Descriptor `index` of the receive ring is complete.
    fn rx_complete(&self, index: usize) -> bool {
        LocalRegisterCopy::<u32, DESC_STATUS::Register>::new(self.rx.read(index, word::STATUS))
            .is_set(DESC_STATUS::CMPLT)
    }

    /// Receive descriptors, from the head on, that the DMA completed.
    pub(crate) fn completed_receive_descriptors(&self) -> usize {
        (0..RX).take_while(|&n| self.rx_complete((self.rx_head + n) % RX)).count()
    }

    /// What the completed descriptor `index` holds, for a caller's buffer
    /// of `capacity` bytes: a good frame, or a bad one dropped and counted.
    fn classify(&mut self, index: usize, capacity: usize) -> Received {
        let status: LocalRegisterCopy<u32, DESC_STATUS::Register> =
            LocalRegisterCopy::new(self.rx.read(index, word::STATUS));
        let start = status.is_set(DESC_STATUS::RXSOF);
        let end = status.is_set(DESC_STATUS::RXEOF);
        if self.rx_discarding && !start {
            // The rest of a frame already counted.
            self.rx_discarding = !end;
            return Received::Dropped;
        }
        // A new frame (a discarded one whose end never came is over).
        self.rx_discarding = false;
        let counters = &mut self.counters;
        if has_dma_error(status) {
            self.rx_discarding = !end;
            increment(&mut counters.rx_errors);
            return Received::Dropped;
        }
        if !(start && end) {
            // A frame of more than one buffer: longer than any frame
            // accepted (or the end of one whose start was lost).
            self.rx_discarding = !end;
            increment(&mut counters.rx_oversized);
            return Received::Dropped;
        }
        let length = (self.rx.read(index, word::APP4) & 0xFFFF) as usize;
        // (Within a buffer too: BUFFER_LEN is larger.)
        if length > MAX_FRAME_LEN || length > capacity {
            increment(&mut counters.rx_oversized);
            return Received::Dropped;
        }
        if length < ETHERNET_HEADER_LEN {
            increment(&mut counters.rx_runt);
            return Received::Dropped;
        }
        Received::Frame(length)
    }

    /// Hands the head receive descriptor back to the DMA (Complete and
    /// flags cleared, buffer length restored) and moves the head on:
    /// TAILDESC names it, or, if the channel stopped with every descriptor
    /// full, the channel starts again from it.
    ///
    /// QEMU's model of the MAC takes a frame that arrives while the
    /// channel has no descriptor, holds it until one is handed back, and
    /// tells QEMU's network it took nothing: the network keeps the frame
    /// queued too and delivers nothing more until the receiver
    /// configuration (RCW0 or RCW1) is written. So once the channel ran dry
    /// (the descriptor TAILDESC named is complete: it filled every one it
    /// had), the receiver configuration is written again, unchanged, at the
    /// first hand-back after which the channel has room (the held frame
    /// took the descriptor handed back first). The queued frame then
    /// arrives a second time; every later one once. On the IP, writing
    /// RCW1 with its value changes nothing.
    fn give_back_head(&mut self) {
        let index = self.rx_head;
        if self.rx_complete((index + RX - 1) % RX) {
            self.rx_flush_owed = true;
        }
        clear_descriptor(&self.rx, index, BUFFER_LEN as u32);
        self.rx_head = (index + 1) % RX;
        // The cleared descriptor is in memory before the DMA may load it.
        fence(Ordering::SeqCst);
        if self.rx_running {
            self.set_tail(Channel::S2mm, self.rx.descriptor_address(index));
            if self.rx_control_written != self.receive_control().get() {
                self.apply_receive_control();
            }
        } else {
            self.start_receive();
        }
        if self.rx_flush_owed && self.rx_running {
            self.flush_receiver();
        }
    }
}

/// Points descriptor `index` of `ring` at the next one and at its buffer.
fn link<const N: usize>(ring: &Ring<N>, index: usize) {
    let (next_low, next_high) = split_address(ring.descriptor_address((index + 1) % N));
    let (buffer_low, buffer_high) = split_address(ring.buffer_address(index));
    ring.write(index, word::NXTDESC, next_low);
    ring.write(index, word::NXTDESC_MSB, next_high);
    ring.write(index, word::BUFFER_ADDRESS, buffer_low);
    ring.write(index, word::BUFFER_ADDRESS_MSB, buffer_high);
}

/// Makes descriptor `index` of `ring` new: CONTROL `control`, STATUS and
/// the APP words zero (QEMU ORs its flags into the STATUS it finds).
fn clear_descriptor<const N: usize>(ring: &Ring<N>, index: usize, control: u32) {
    ring.write(index, word::CONTROL, control);
    ring.write(index, word::STATUS, 0);
    for app in word::APP0..=word::APP4 {
        ring.write(index, app, 0);
    }
}

/// A descriptor's status reports a DMA error.
fn has_dma_error(status: LocalRegisterCopy<u32, DESC_STATUS::Register>) -> bool {
    status.any_matching_bits_set(
        DESC_STATUS::DMA_INT_ERR::SET
            + DESC_STATUS::DMA_SLV_ERR::SET
            + DESC_STATUS::DMA_DEC_ERR::SET,
    )
}

impl<M: Mac, D: Dma, const TX: usize, const RX: usize> EthernetDevice
    for AxiEthernet<'_, M, D, TX, RX>
{
    type Error = Error;

    fn mac_address(&self) -> [u8; 6] {
        self.config.mac_address
    }

    /// BMSR's link status of the configured PHY (read twice: the bit
    /// latches low); up without a PHY, down if the PHY does not answer.
    fn link_up(&mut self) -> bool {
        self.phy_link_up().unwrap_or(false)
    }

    /// Reclaims the descriptors of sent frames; true if one is free (a
    /// halted MM2S channel is re-initialised first).
    fn can_transmit(&mut self) -> bool {
        self.transmit_descriptor_free()
    }

    fn set_receive_interrupt(&mut self, enabled: bool) {
        AxiEthernet::set_receive_interrupt(self, enabled);
    }

    /// Copies the frame into the next free transmit buffer (padded with
    /// zeros to [`MIN_FRAME_LEN`]), describes it as one whole frame (SOF,
    /// EOF, no checksum offload) and hands it to the DMA (TAILDESC).
    fn transmit(&mut self, frame: &[u8]) -> Result<(), Error> {
        if frame.len() > MAX_FRAME_LEN {
            increment(&mut self.counters.tx_errors);
            return Err(Error::FrameTooLong);
        }
        if frame.len() < ETHERNET_HEADER_LEN {
            increment(&mut self.counters.tx_errors);
            return Err(Error::FrameTooShort);
        }
        if !self.transmit_descriptor_free() {
            return Err(Error::TransmitBusy);
        }
        let index = self.tx_next;
        self.tx.copy_to_buffer(index, 0, frame);
        let length = frame.len().max(MIN_FRAME_LEN);
        let padding = &[0; MIN_FRAME_LEN][..length - frame.len()];
        self.tx.copy_to_buffer(index, frame.len(), padding);
        let control = DESC_CONTROL::LENGTH.val(length as u32)
            + DESC_CONTROL::SOF::SET
            + DESC_CONTROL::EOF::SET;
        clear_descriptor(&self.tx, index, control.value);
        // Frame and descriptor are in memory before the DMA is told.
        fence(Ordering::SeqCst);
        self.set_tail(Channel::Mm2s, self.tx.descriptor_address(index));
        self.tx_next = (index + 1) % TX;
        self.tx_busy += 1;
        Ok(())
    }

    /// Takes the next frame from the receive ring. A frame is good when it
    /// came in one descriptor (SOF and EOF), without DMA error, of a
    /// length (APP4) of at least [`ETHERNET_HEADER_LEN`] bytes and at most
    /// [`MAX_FRAME_LEN`] and `buffer.len()`; others are dropped and
    /// counted. Each descriptor taken goes back to the DMA at once. When
    /// none waits, looks whether the S2MM channel halted and
    /// re-initialises it if so.
    ///
    /// One call drops at most a ring's worth of bad frames and then says
    /// `None`: every frame completed before the call is behind it by then,
    /// so any left completed during the call, and its IOC interrupt (if
    /// enabled) brings the caller back.
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Error> {
        // At most a ring's worth of descriptors per call (see above).
        for _ in 0..RX {
            let index = self.rx_head;
            if !self.rx_complete(index) {
                if self.rx_running && self.halted(Channel::S2mm) {
                    self.recover(Channel::S2mm);
                }
                return Ok(None);
            }
            // The DMA wrote buffer and APP words before Complete.
            fence(Ordering::Acquire);
            let received = self.classify(index, buffer.len());
            if let Received::Frame(length) = received {
                self.rx.copy_from_buffer(index, &mut buffer[..length]);
            }
            self.give_back_head();
            if let Received::Frame(length) = received {
                increment(&mut self.counters.rx_frames);
                return Ok(Some(length));
            }
        }
        Ok(None)
    }

    fn counters(&self) -> FrameCounters {
        self.counters
    }
}
