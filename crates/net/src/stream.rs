//! A smoltcp device over the two packet streams of a NIC session, with no
//! copy of its own: smoltcp parses received frames where the driver put
//! them, and builds frames to send in the slot the driver sends from.

use ferrode_hal::MAX_FRAME_LEN;
use ferrode_packet_stream::{
    Notify, ReceiveError, Refused, Sink, SinkPacket, Source, SourcePacket,
};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::time::Instant;

use crate::NetDevice;
use crate::checksum::{self, Verdict};

/// A smoltcp [`Device`] over a NIC session's streams: `tx` is the transmit
/// stream's source (this end allocates slots, fills and submits them; the
/// driver sends and acknowledges them), `rx` the receive stream's sink
/// (the driver submits received frames; this end lends each to smoltcp in
/// place and acknowledges it).
///
/// Malformed descriptors the driver might submit are rejected and counted
/// by the stream ([`StreamPhy::rejected`]); they never reach smoltcp.
pub struct StreamPhy<'s, const SLOTS: usize, const QUEUE: usize, N> {
    tx: Source<'s, SLOTS, QUEUE, N>,
    rx: Sink<'s, SLOTS, QUEUE, N>,
    mac_address: [u8; 6],
    transmit_failures: u32,
    checksum_errors: u32,
    /// Where smoltcp writes a frame when no transmit slot is free for it
    /// (the frame is then dropped and counted; TCP retransmits).
    discard: [u8; MAX_FRAME_LEN],
}

impl<'s, const SLOTS: usize, const QUEUE: usize, N: Notify> StreamPhy<'s, SLOTS, QUEUE, N> {
    /// The device over `tx` and `rx`, with station address `mac_address`.
    ///
    /// The driver's acknowledgements of sent frames wake this end only
    /// when it is out of transmit slots
    /// ([`Source::signal_acknowledgements_when_exhausted`]): it takes them
    /// when a frame to send finds no free slot, and only a frame that
    /// still finds none waits for one; any other would be a wakeup with
    /// nothing to do.
    pub fn new(
        mut tx: Source<'s, SLOTS, QUEUE, N>,
        rx: Sink<'s, SLOTS, QUEUE, N>,
        mac_address: [u8; 6],
    ) -> Self {
        tx.signal_acknowledgements_when_exhausted(true);
        Self {
            tx,
            rx,
            mac_address,
            transmit_failures: 0,
            checksum_errors: 0,
            discard: [0; MAX_FRAME_LEN],
        }
    }

    /// Frames smoltcp produced that found no free transmit slot (or were
    /// longer than one); they are dropped, and TCP retransmits.
    pub const fn transmit_failures(&self) -> u32 {
        self.transmit_failures
    }

    /// Received TCP segments and UDP datagrams dropped (acknowledged to
    /// the driver unread) because their checksum did not hold.
    pub const fn checksum_errors(&self) -> u32 {
        self.checksum_errors
    }

    /// Descriptors the receive stream rejected (outside the shared buffer,
    /// or naming no submitted slot), and acknowledgements of the transmit
    /// stream that named no outstanding slot.
    pub fn rejected(&self) -> u32 {
        self.rx.rejected_descriptors().saturating_add(self.tx.rejected_acknowledgements())
    }

    /// The two stream ends back (transmit source, receive sink), to hand
    /// them back to the driver when the session closes. A token smoltcp
    /// took from this device borrows it, so none is out now.
    pub fn into_ends(self) -> (Source<'s, SLOTS, QUEUE, N>, Sink<'s, SLOTS, QUEUE, N>) {
        (self.tx, self.rx)
    }
}

impl<const SLOTS: usize, const QUEUE: usize, N: Notify> NetDevice
    for StreamPhy<'_, SLOTS, QUEUE, N>
{
    fn mac_address(&self) -> [u8; 6] {
        self.mac_address
    }
}

/// A received frame, lent to smoltcp where it lies in the shared buffer;
/// acknowledged to the driver when smoltcp is done with it (or drops it).
pub struct StreamRxToken<'a, 's, const SLOTS: usize, const QUEUE: usize, N: Notify> {
    sink: &'a mut Sink<'s, SLOTS, QUEUE, N>,
    packet: Option<SinkPacket<'s>>,
}

/// Permission to send one frame: smoltcp writes it straight into a slot of
/// the transmit stream, which is then submitted to the driver.
pub struct StreamTxToken<'a, 's, const SLOTS: usize, const QUEUE: usize, N: Notify> {
    source: &'a mut Source<'s, SLOTS, QUEUE, N>,
    failures: &'a mut u32,
    discard: &'a mut [u8; MAX_FRAME_LEN],
}

impl<const SLOTS: usize, const QUEUE: usize, N: Notify> RxToken
    for StreamRxToken<'_, '_, SLOTS, QUEUE, N>
{
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        match &self.packet {
            Some(packet) => f(packet.payload()),
            // Not reached: a token is made only around a packet.
            None => f(&[]),
        }
        // `drop(self)` acknowledges the packet.
    }
}

impl<const SLOTS: usize, const QUEUE: usize, N: Notify> Drop
    for StreamRxToken<'_, '_, SLOTS, QUEUE, N>
{
    fn drop(&mut self) {
        if let Some(packet) = self.packet.take() {
            // The acknowledgement ring has room for every slot, so a driver
            // that keeps to the protocol never sees it full; should it be,
            // the slot is given up (the driver has one fewer until the
            // stream restarts), not kept held, which would refuse the
            // restart at the session's close.
            if let Err(refused) = self.sink.acknowledge(packet) {
                let _ = self.sink.discard(refused.into_packet());
            }
        }
    }
}

impl<const SLOTS: usize, const QUEUE: usize, N: Notify> TxToken
    for StreamTxToken<'_, '_, SLOTS, QUEUE, N>
{
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, len: usize, f: F) -> R {
        // smoltcp instantiates this for every kind of frame it sends: the
        // slot handling stays out of line, in one copy.
        match self.alloc(len) {
            Some(mut packet) => {
                let result = f(packet.payload_mut());
                checksum::fill(packet.payload_mut());
                self.submit(packet);
                result
            }
            None => f(&mut self.discard[..len.min(MAX_FRAME_LEN)]),
        }
    }
}

impl<'s, const SLOTS: usize, const QUEUE: usize, N: Notify> StreamTxToken<'_, 's, SLOTS, QUEUE, N> {
    /// A transmit slot of `len` bytes, or `None` (counted) when no slot is
    /// free or the frame is longer than one.
    #[inline(never)]
    fn alloc(&mut self, len: usize) -> Option<SourcePacket<'s>> {
        // The driver's acknowledgements of sent frames, once no slot is
        // free (which also asks for its signal when none comes free:
        // `Source::signal_acknowledgements_when_exhausted`).
        self.source.reclaim_if_exhausted();
        let packet = self.source.alloc(len).ok();
        if packet.is_none() {
            *self.failures = self.failures.saturating_add(1);
        }
        packet
    }

    /// Hands the filled slot to the driver.
    #[inline(never)]
    fn submit(&mut self, packet: SourcePacket<'s>) {
        if let Err(refused) = self.source.submit(packet) {
            // The submit ring has room for every slot; a full one means
            // the driver is not taking frames: drop this one.
            let (Refused::Full(packet) | Refused::Foreign(packet)) = refused;
            // This stream's own packet: the release cannot refuse it.
            let _ = self.source.release(packet);
            *self.failures = self.failures.saturating_add(1);
        }
    }
}

impl<'s, const SLOTS: usize, const QUEUE: usize, N: Notify> Device
    for StreamPhy<'s, SLOTS, QUEUE, N>
{
    type RxToken<'a>
        = StreamRxToken<'a, 's, SLOTS, QUEUE, N>
    where
        Self: 'a;
    type TxToken<'a>
        = StreamTxToken<'a, 's, SLOTS, QUEUE, N>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let packet = loop {
            match self.rx.try_take() {
                Ok(packet) if checksum::verify(packet.payload()) == Verdict::Invalid => {
                    self.checksum_errors = self.checksum_errors.saturating_add(1);
                    if let Err(refused) = self.rx.acknowledge(packet) {
                        // As in `StreamRxToken::drop`.
                        let _ = self.rx.discard(refused.into_packet());
                    }
                }
                Ok(packet) => break packet,
                Err(ReceiveError::Empty) => return None,
                // Counted by the stream; take the next one.
                Err(ReceiveError::Rejected { .. }) => {}
            }
        };
        Some((
            StreamRxToken { sink: &mut self.rx, packet: Some(packet) },
            StreamTxToken {
                source: &mut self.tx,
                failures: &mut self.transmit_failures,
                discard: &mut self.discard,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        self.tx.reclaim_if_exhausted();
        if self.tx.free_slots() == 0 {
            return None;
        }
        Some(StreamTxToken {
            source: &mut self.tx,
            failures: &mut self.transmit_failures,
            discard: &mut self.discard,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = MAX_FRAME_LEN.min(self.tx.slot_size());
        // As the direct drivers' `Phy`: one frame per poll step.
        capabilities.max_burst_size = Some(1);
        checksum::offload(&mut capabilities);
        capabilities
    }
}
