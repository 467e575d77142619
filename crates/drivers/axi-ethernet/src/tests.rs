extern crate std;

use core::cell::RefCell;
use core::mem::offset_of;
use std::boxed::Box;
use std::vec::Vec;

use ferrode_hal::{EthernetDevice, FrameBuffer, MAX_FRAME_LEN, RegisterModel};

use crate::model::*;
use crate::{AxiEthernet, BUFFER_LEN, Channel, ChannelRestarts, Config, DmaRegister, Error, Rings};

const MAC: [u8; 6] = [0x02, 0x00, 0x4d, 0x42, 0x56, 0x01];
const PEER: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const BROADCAST: [u8; 6] = [0xFF; 6];

type Bus = RefCell<Model>;
type Driver<'m, const TX: usize, const RX: usize> = AxiEthernet<'static, &'m Bus, &'m Bus, TX, RX>;

/// Rings for one test's driver (leaked: they must outlive it).
fn rings<const TX: usize, const RX: usize>() -> &'static mut Rings<TX, RX> {
    Box::leak(Box::new(Rings::new()))
}

/// A model whose DMA reaches `rings` only.
fn model_for<const TX: usize, const RX: usize>(rings: &Rings<TX, RX>) -> Bus {
    RefCell::new(Model::new(rings.bus_range()))
}

fn config(phy_address: Option<u8>) -> Config {
    Config { mac_address: MAC, phy_address, mdio_clock_divider: 29 }
}

/// Rings of `TX` and `RX` descriptors, a model of QEMU's MAC and DMA on
/// them, and the start of the rings (their address).
fn setup<const TX: usize, const RX: usize>() -> (Bus, &'static mut Rings<TX, RX>, usize) {
    let rings = rings::<TX, RX>();
    let bus = model_for(rings);
    let base = rings.bus_range().start;
    (bus, rings, base)
}

/// A frame to `destination`, `length` bytes long, carrying `number` (and
/// bytes that differ from frame to frame).
fn numbered(destination: [u8; 6], number: u32, length: usize) -> Vec<u8> {
    let mut frame = Vec::with_capacity(length);
    frame.extend_from_slice(&destination);
    frame.extend_from_slice(&PEER);
    frame.extend_from_slice(&0x88B5u16.to_be_bytes());
    frame.extend_from_slice(&number.to_be_bytes());
    let mut byte = number as u8;
    while frame.len() < length {
        frame.push(byte);
        byte = byte.wrapping_mul(31).wrapping_add(7);
    }
    frame.truncate(length);
    frame
}

/// Every frame `receive` hands out, into buffers like the network stack's
/// (a frame [`ferrode_hal::FRAME_OFFSET`] bytes past a word), as a network
/// stack takes them: until `receive` finds none, and again whenever the
/// receive interrupt comes (a call drops at most a ring's worth of bad
/// frames: the interrupt brings the caller back for the rest).
fn receive_all<const TX: usize, const RX: usize>(
    eth: &mut AxiEthernet<'_, &Bus, &Bus, TX, RX>,
    bus: &Bus,
) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buffer = FrameBuffer::new();
    loop {
        while let Some(length) = eth.receive(buffer.frame_mut()).unwrap() {
            frames.push(buffer.frame()[..length].to_vec());
        }
        if !bus.borrow().interrupt(Channel::S2mm) {
            break;
        }
        eth.on_interrupt();
    }
    if eth.rx_interrupt {
        assert!(!eth.frame_waiting(), "a frame left waiting without an interrupt");
    }
    frames
}

/// The number a [`numbered`] frame carries.
fn number_of(frame: &[u8]) -> u32 {
    u32::from_be_bytes(frame[14..18].try_into().unwrap())
}

fn descriptor_address<const TX: usize, const RX: usize>(base: usize, rx: bool, n: usize) -> u64 {
    let ring = if rx {
        offset_of!(Rings<TX, RX>, rx_descriptors)
    } else {
        offset_of!(Rings<TX, RX>, tx_descriptors)
    };
    (base + ring + 64 * n) as u64
}

const DMACR_RUN: u32 = 1 | 1 << 1 | 1 << 16;
const DMACR_IRQS: u32 = 1 << 12 | 1 << 14;

#[test]
fn bring_up_programs_the_mac_and_both_channels() {
    let (bus, rings, base) = setup::<4, 8>();
    let eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(Some(7)), rings).unwrap();
    assert_eq!(eth.mac_address(), MAC);
    assert_eq!(eth.config(), &config(Some(7)));
    let model = bus.borrow();
    // Receiver and transmitter on; no in-band FCS, jumbo or VLAN frames.
    assert_eq!(model.rcw1, RCW1_RX);
    assert_eq!(model.tc, TC_TX);
    // The station address, byte 0 in UAW0's bits 7:0.
    assert_eq!(model.uaw, [0x424D_0002, 0x0000_0156]);
    assert_eq!(model.fmi & FMI_PM, 0, "not promiscuous");
    assert_eq!(model.raf & (RAF_BCAST_REJ | RAF_MCAST_REJ), 0, "broadcast accepted");
    assert_eq!(model.ie, 0, "the MAC's own interrupt unused");
    assert_eq!(model.mc, MC_EN | 29);
    for channel in Channel::BOTH {
        assert_eq!(model.channel(channel).resets, 1, "{channel:?} reset");
        assert_eq!(model.channel(channel).dmasr & (DMASR_HALTED | DMASR_IDLE), 0);
    }
    let s2mm = model.channel(Channel::S2mm);
    assert_eq!(s2mm.dmacr, DMACR_RUN | DMACR_IRQS, "running, IOC and Err enabled");
    let first = descriptor_address::<4, 8>(base, true, 0);
    let last = descriptor_address::<4, 8>(base, true, 7);
    assert_eq!(u64::from(s2mm.curdesc[1]) << 32 | u64::from(s2mm.curdesc[0]), first);
    assert_eq!(u64::from(s2mm.taildesc[1]) << 32 | u64::from(s2mm.taildesc[0]), last);
    let mm2s = model.channel(Channel::Mm2s);
    assert_eq!(mm2s.dmacr, DMACR_RUN, "running, no interrupts");
    let first_tx = descriptor_address::<4, 8>(base, false, 0);
    assert_eq!(u64::from(mm2s.curdesc[1]) << 32 | u64::from(mm2s.curdesc[0]), first_tx);
    assert_eq!(mm2s.taildesc_writes, 0, "nothing to send yet");
    // Each ring is a circle of its descriptors, each with a buffer of its
    // own: receive ones empty and waiting for a buffer's worth.
    for (channel, count) in [(Channel::S2mm, 8), (Channel::Mm2s, 4)] {
        let chain = model.chain(channel, count + 1);
        assert_eq!(chain[count], chain[0], "{channel:?} ring closes");
        let mut buffers: Vec<u64> = Vec::new();
        for (n, &at) in chain[..count].iter().enumerate() {
            let rx = channel == Channel::S2mm;
            assert_eq!(at, descriptor_address::<4, 8>(base, rx, n));
            let descriptor = model.descriptor(at);
            assert_eq!(descriptor.buffer % 64, 0, "buffer aligned");
            assert!(!buffers.contains(&descriptor.buffer), "buffers distinct");
            buffers.push(descriptor.buffer);
            assert_eq!(descriptor.status, 0);
            if rx {
                assert_eq!(descriptor.control, BUFFER_LEN as u32);
            }
        }
    }
}

#[test]
fn the_filter_takes_own_unicast_and_broadcast_frames_only() {
    let (bus, rings, _) = setup::<4, 8>();
    let mut eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    let mut other = MAC;
    other[5] ^= 1;
    let multicast = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
    for (number, destination) in [MAC, other, BROADCAST, multicast, MAC].into_iter().enumerate() {
        bus.borrow_mut().arrive(&numbered(destination, number as u32, 64));
    }
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 2, 4]);
    assert_eq!(bus.borrow().filtered, 2);
}

#[test]
fn frames_of_minimum_and_maximum_length_go_out_whole() {
    let (bus, rings, _) = setup::<4, 8>();
    let mut eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    // Every buffer dirty first: padding must not send what was there.
    for number in 0..4 {
        eth.transmit(&[0xA5 ^ number; MAX_FRAME_LEN]).unwrap();
    }
    bus.borrow_mut().sent.clear();
    bus.borrow_mut().sent_control.clear();
    bus.borrow_mut().sent_app.clear();
    let lengths = [14, 59, 60, 61, MAX_FRAME_LEN];
    let mut memory = FrameBuffer::new();
    for (number, &length) in lengths.iter().enumerate() {
        let frame = numbered(PEER, number as u32, length);
        memory.frame_mut()[..length].copy_from_slice(&frame);
        eth.transmit(&memory.frame()[..length]).unwrap();
        let model = bus.borrow();
        let sent = model.sent.last().unwrap();
        assert_eq!(sent.len(), length.max(60), "padded to 60 bytes");
        assert_eq!(&sent[..length], &frame[..]);
        assert!(sent[length..].iter().all(|&byte| byte == 0), "padding is zeros");
        let control = *model.sent_control.last().unwrap();
        assert_eq!(control, CONTROL_SOF | CONTROL_EOF | length.max(60) as u32);
    }
    let model = bus.borrow();
    assert_eq!(model.sent.len(), lengths.len());
    assert!(model.sent_app.iter().all(|app| *app == [0; 5]), "no checksum offload");
    drop(model);
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, 4 + lengths.len() as u32);
    assert_eq!(eth.transmit(&[0; MAX_FRAME_LEN + 1]), Err(Error::FrameTooLong));
    assert_eq!(eth.transmit(&[0; 13]), Err(Error::FrameTooShort));
    assert_eq!(eth.counters().tx_errors, 2);
    assert_eq!(bus.borrow().sent.len(), lengths.len(), "refused frames not sent");
}

#[test]
fn frames_of_minimum_and_maximum_length_come_in_whole() {
    let (bus, rings, _) = setup::<4, 8>();
    let mut eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for (number, length) in [14usize, 15, 60, 1513, MAX_FRAME_LEN].into_iter().enumerate() {
        let frame = numbered(MAC, number as u32, length);
        bus.borrow_mut().arrive(&frame);
        assert!(eth.on_interrupt(), "a frame waits");
        let mut memory = FrameBuffer::new();
        memory.frame_mut().fill(0xEE);
        assert_eq!(eth.receive(memory.frame_mut()), Ok(Some(length)));
        assert_eq!(&memory.frame()[..length], &frame[..], "{length} bytes");
        assert!(memory.frame()[length..].iter().all(|&byte| byte == 0xEE), "wrote past it");
        assert_eq!(eth.receive(memory.frame_mut()), Ok(None));
    }
    assert_eq!(eth.counters().rx_frames, 5);
    assert_eq!(eth.counters().rx_dropped(), 0);
}

#[test]
fn the_rings_wrap_around_many_times() {
    let (bus, rings, _) = setup::<3, 5>();
    let mut eth: Driver<'_, 3, 5> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    let mut buffer = FrameBuffer::new();
    for number in 0..53u32 {
        let length = 60 + (number as usize * 37) % 200;
        let out = numbered(PEER, number, length);
        eth.transmit(&out).unwrap();
        assert_eq!(bus.borrow().sent.last(), Some(&out));
        // One frame, then a second while the first waits.
        let frame = numbered(MAC, number, length + 1);
        bus.borrow_mut().arrive(&frame);
        if number % 2 == 1 {
            bus.borrow_mut().arrive(&numbered(MAC, number + 1000, 70));
        }
        assert_eq!(eth.receive(buffer.frame_mut()), Ok(Some(length + 1)));
        assert_eq!(&buffer.frame()[..length + 1], &frame[..]);
        if number % 2 == 1 {
            assert_eq!(eth.receive(buffer.frame_mut()), Ok(Some(70)));
            assert_eq!(number_of(buffer.frame()), number + 1000);
        }
        assert_eq!(eth.receive(buffer.frame_mut()), Ok(None));
    }
    assert!(eth.can_transmit());
    let counters = eth.counters();
    assert_eq!((counters.tx_frames, counters.rx_frames), (53, 53 + 26));
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
    for channel in Channel::BOTH {
        assert_eq!(bus.borrow().channel(channel).complete_halts, 0, "{channel:?}");
    }
}

#[test]
fn a_full_transmit_ring_refuses_frames_until_the_dma_completes_them() {
    let (bus, rings, _) = setup::<4, 8>();
    let mut eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().transmit_paused = true;
    for number in 0..4 {
        assert!(eth.can_transmit());
        eth.transmit(&numbered(PEER, number, 100)).unwrap();
    }
    assert!(!eth.can_transmit());
    assert_eq!(eth.transmit(&numbered(PEER, 4, 100)), Err(Error::TransmitBusy));
    assert!(bus.borrow().sent.is_empty());
    assert_eq!(eth.counters().tx_frames, 0);
    bus.borrow_mut().resume_transmit();
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, 4);
    eth.transmit(&numbered(PEER, 5, 100)).unwrap();
    let numbers: Vec<u32> = bus.borrow().sent.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 5]);
    assert_eq!(eth.counters().tx_errors, 0);
}

#[test]
fn a_burst_bigger_than_the_receive_ring_waits_and_arrives_whole() {
    let (bus, rings, _) = setup::<4, 8>();
    let mut eth: Driver<'_, 4, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..29 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 60 + number as usize));
    }
    assert_eq!(bus.borrow().waiting(), 29 - 8, "the rest wait outside the ring");
    // Interrupts taken while the ring is full change nothing.
    assert!(eth.on_interrupt());
    assert!(eth.on_interrupt());
    let frames = receive_all(&mut eth, &bus);
    let numbers: Vec<u32> = frames.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (0..29).collect::<Vec<_>>(), "each once, in order");
    for (number, frame) in frames.iter().enumerate() {
        assert_eq!(frame, &numbered(MAC, number as u32, 60 + number));
    }
    assert_eq!(bus.borrow().waiting(), 0);
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 0);
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
    assert_eq!(eth.counters().rx_frames, 29);
    assert!(!eth.on_interrupt());
}

/// QEMU's network stops when the MAC takes a frame the DMA has no
/// descriptor for (the MAC answers it took nothing; the network queues the
/// frame again and waits for a write of the receiver configuration): the
/// driver writes RCW1 again once the channel has room after running dry,
/// so every frame of a burst bigger than the ring arrives, in order, those
/// that met the full ring twice (the copy the MAC held, then the queued
/// one), and the network is not left stopped.
#[test]
fn a_burst_through_qemus_network_is_not_left_stopped() {
    let (bus, rings, _) = setup::<2, 4>();
    bus.borrow_mut().qemu_network = true;
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().receiver_writes = 0;
    for number in 0..20 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64 + number as usize));
    }
    assert!(bus.borrow().network_stopped, "the fifth frame met the full ring");
    let mut numbers: Vec<u32> =
        receive_all(&mut eth, &bus).iter().map(|frame| number_of(frame)).collect();
    assert!(!bus.borrow().network_stopped, "left stopped");
    assert_eq!(bus.borrow().waiting(), 0);
    let received = numbers.len();
    numbers.dedup();
    assert_eq!(numbers, (0..20).collect::<Vec<_>>(), "each in order, repeats next to each other");
    assert!(received > 20 && received < 40, "{received} frames: a copy for each stop only");
    // RCW1 is written again only after the ring ran dry: once per stop,
    // and once more at most (the ring filled with nothing left waiting),
    // not at every descriptor handed back.
    let (stops, writes) = (bus.borrow().network_stops, bus.borrow().receiver_writes);
    assert_eq!(received as u32, 20 + stops, "a copy for each stop");
    assert!((stops..=stops + 1).contains(&writes), "{writes} flushes for {stops} stops");
    assert_eq!(eth.counters().rx_frames, received as u32);
    // The network delivers at once again: a frame arrives, and is taken.
    bus.borrow_mut().arrive(&numbered(MAC, 20, 64));
    let numbers: Vec<u32> =
        receive_all(&mut eth, &bus).iter().map(|frame| number_of(frame)).collect();
    assert_eq!(numbers, [20]);
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
}

/// QEMU stores what is written to DMASR: acknowledging with Idle written
/// 0 would send the full ring's channel on past its tail, into a
/// descriptor still holding a frame, and halt it.
#[test]
fn acknowledging_a_full_ring_leaves_its_channel_idle() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..5 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    assert!(bus.borrow().interrupt(Channel::S2mm));
    assert!(eth.on_interrupt());
    assert!(!bus.borrow().interrupt(Channel::S2mm), "acknowledged");
    let dmasr = bus.borrow().channel(Channel::S2mm).dmasr;
    assert_eq!(dmasr & (DMASR_IDLE | DMASR_HALTED), DMASR_IDLE);
    bus.borrow_mut().arrive(&numbered(MAC, 5, 64));
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 0);
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
}

/// QEMU restarts an idle channel at a DMACR write with Run/Stop: the
/// interrupt enables change only once the channel is not idle.
#[test]
fn masking_the_receive_interrupt_while_the_ring_is_full_does_not_halt_it() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..7 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    eth.on_interrupt();
    eth.set_receive_interrupt(false);
    eth.set_receive_interrupt(true);
    eth.set_receive_interrupt(false);
    bus.borrow_mut().arrive(&numbered(MAC, 7, 64));
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 0);
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (0..8).collect::<Vec<_>>());
    let model = bus.borrow();
    let s2mm = model.channel(Channel::S2mm);
    assert_eq!(s2mm.complete_halts, 0);
    assert_eq!(s2mm.dmacr, DMACR_RUN, "masked once the channel had room");
    drop(model);
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
    bus.borrow_mut().arrive(&numbered(MAC, 8, 64));
    assert!(!bus.borrow().interrupt(Channel::S2mm), "masked");
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);
}

/// Frames that arrive between the driver's look at the channel (not
/// idle) and its DMACR write fill the ring, and QEMU's restart halts the
/// channel on a full descriptor: the driver sees it at once and repairs it.
#[test]
fn a_halt_racing_the_interrupt_mask_is_repaired_at_once() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..3 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    bus.borrow_mut().frames_after_status_read =
        std::vec![numbered(MAC, 3, 64), numbered(MAC, 4, 64)];
    eth.set_receive_interrupt(false);
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 1, "the race happened");
    assert_eq!(eth.channel_restarts().receive, 1, "found at once");
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (0..5).collect::<Vec<_>>());
    assert_eq!(bus.borrow().channel(Channel::S2mm).dmacr, DMACR_RUN, "masked");
}

#[test]
fn the_receive_interrupt_follows_its_enable() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    assert!(!bus.borrow().interrupt(Channel::S2mm));
    assert!(!eth.on_interrupt(), "nothing waits");
    bus.borrow_mut().arrive(&numbered(MAC, 0, 64));
    assert!(bus.borrow().interrupt(Channel::S2mm), "enabled by bring-up");
    assert!(eth.on_interrupt());
    assert!(!bus.borrow().interrupt(Channel::S2mm), "acknowledged");
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);

    eth.set_receive_interrupt(false);
    let dmacr = bus.borrow().channel(Channel::S2mm).dmacr;
    assert_eq!(dmacr, DMACR_RUN, "IOC and Err off, still running");
    bus.borrow_mut().arrive(&numbered(MAC, 1, 64));
    assert!(!bus.borrow().interrupt(Channel::S2mm), "masked");
    assert!(eth.frame_waiting());
    eth.set_receive_interrupt(true);
    assert_eq!(bus.borrow().channel(Channel::S2mm).dmacr, DMACR_RUN | DMACR_IRQS);
    assert!(bus.borrow().interrupt(Channel::S2mm), "the pending completion interrupts");
    assert!(eth.on_interrupt());
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);
    // Through the trait, as the network stack calls it.
    EthernetDevice::set_receive_interrupt(&mut eth, false);
    assert_eq!(bus.borrow().channel(Channel::S2mm).dmacr, DMACR_RUN);
    // The transmit interrupt stays off.
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    assert!(!bus.borrow().interrupt(Channel::Mm2s));
}

#[test]
fn bad_frames_are_dropped_and_counted_while_good_ones_follow() {
    let (bus, rings, _) = setup::<2, 8>();
    let mut eth: Driver<'_, 2, 8> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    let good = |number| numbered(MAC, number, 80);
    let bad = [
        // Runts: QEMU's MAC passes frames of 12 bytes and more.
        numbered(MAC, 100, 12),
        numbered(MAC, 101, 13),
        // Longer than 1514 bytes, yet within a buffer.
        numbered(MAC, 102, MAX_FRAME_LEN + 1),
        numbered(MAC, 103, 1518),
        // Longer than a buffer: QEMU writes it into two descriptors, each
        // marked whole, each dropped.
        numbered(MAC, 104, 2000),
    ];
    for (number, frame) in bad.iter().enumerate() {
        bus.borrow_mut().arrive(&good(number as u32));
        bus.borrow_mut().arrive(frame);
    }
    bus.borrow_mut().arrive(&good(5));
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
    let counters = eth.counters();
    assert_eq!((counters.rx_runt, counters.rx_oversized, counters.rx_errors), (2, 4, 0));
    // A DMA error in a descriptor's status.
    bus.borrow_mut().rx_status_error = STATUS_DMA_SLV_ERR;
    bus.borrow_mut().arrive(&good(6));
    bus.borrow_mut().arrive(&good(7));
    // A frame longer than the caller's buffer, then one that fits it.
    bus.borrow_mut().arrive(&good(8));
    bus.borrow_mut().arrive(&numbered(MAC, 9, 79));
    let mut buffer = FrameBuffer::new();
    assert_eq!(eth.receive(buffer.frame_mut()), Ok(Some(80)));
    assert_eq!(number_of(buffer.frame()), 7);
    assert_eq!(eth.receive(&mut buffer.frame_mut()[..79]), Ok(Some(79)));
    assert_eq!(number_of(buffer.frame()), 9);
    assert_eq!(eth.receive(buffer.frame_mut()), Ok(None));
    let counters = eth.counters();
    assert_eq!((counters.rx_runt, counters.rx_oversized, counters.rx_errors), (2, 5, 1));
    assert_eq!(counters.rx_frames, 8);
    assert_eq!(eth.channel_restarts(), ChannelRestarts::default());
}

/// On the hardware, a frame of several buffers has start and end of frame
/// on its first and last descriptor only: dropped once, whole.
#[test]
fn a_frame_in_several_descriptors_is_dropped_once() {
    let (bus, rings, _) = setup::<2, 3>();
    let mut eth: Driver<'_, 2, 3> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().qemu_split_flags = false;
    bus.borrow_mut().arrive(&numbered(MAC, 0, 70));
    // Three buffers' worth: the ring has two free descriptors, so its end
    // waits in the MAC until the driver hands one back.
    bus.borrow_mut().arrive(&numbered(MAC, 1, 3100));
    bus.borrow_mut().arrive(&numbered(MAC, 2, 70));
    bus.borrow_mut().arrive(&numbered(MAC, 3, 2000));
    bus.borrow_mut().arrive(&numbered(MAC, 4, 70));
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 2, 4]);
    let counters = eth.counters();
    assert_eq!((counters.rx_oversized, counters.rx_runt, counters.rx_errors), (2, 0, 0));
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 0);
}

#[test]
fn a_halted_receive_channel_is_restarted_and_loses_no_frame() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    let mut buffer = FrameBuffer::new();
    for number in 0..3 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    eth.on_interrupt();
    assert_eq!(eth.receive(buffer.frame_mut()), Ok(Some(64)));
    bus.borrow_mut().halt(Channel::S2mm);
    for number in 3..9 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    assert!(bus.borrow().interrupt(Channel::S2mm), "the error interrupt");
    assert!(eth.on_interrupt());
    assert_eq!(eth.channel_restarts(), ChannelRestarts { transmit: 0, receive: 1 });
    assert_eq!(bus.borrow().channel(Channel::S2mm).dmasr & DMASR_ERR_IRQ, 0, "acknowledged");
    assert_eq!(bus.borrow().channel(Channel::S2mm).resets, 2);
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (1..9).collect::<Vec<_>>());
    assert_eq!(bus.borrow().channel(Channel::Mm2s).resets, 1, "QEMU resets one channel");
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    assert_eq!(bus.borrow().sent.len(), 1);
}

/// Through QEMU's network, a frame that arrives while the receive channel
/// is halted stops the network too: restarting the channel writes the
/// receiver configuration again, and every frame arrives (the one that met
/// the halt twice).
#[test]
fn a_receive_channel_restarted_through_qemus_network_gets_the_frames() {
    let (bus, rings, _) = setup::<2, 4>();
    bus.borrow_mut().qemu_network = true;
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().halt(Channel::S2mm);
    for number in 0..3 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    assert!(bus.borrow().network_stopped);
    eth.on_interrupt();
    assert_eq!(eth.channel_restarts(), ChannelRestarts { transmit: 0, receive: 1 });
    assert!(!bus.borrow().network_stopped, "left stopped");
    let mut numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    numbers.dedup();
    assert_eq!(numbers, [0, 1, 2]);
}

/// A halt with every descriptor full: the channel starts again once one
/// is handed back.
#[test]
fn a_channel_halted_on_a_full_ring_starts_again_when_a_frame_is_taken() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..6 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    bus.borrow_mut().halt(Channel::S2mm);
    assert!(eth.on_interrupt());
    assert_eq!(eth.channel_restarts().receive, 1);
    let dmasr = bus.borrow().channel(Channel::S2mm).dmasr;
    assert_eq!(dmasr & DMASR_HALTED, DMASR_HALTED, "left stopped: nowhere to write");
    assert!(eth.on_interrupt(), "stopped on purpose: no second restart");
    assert_eq!(eth.channel_restarts().receive, 1);
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (0..6).collect::<Vec<_>>());
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 0);
    bus.borrow_mut().arrive(&numbered(MAC, 6, 64));
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);
}

/// QEMU's own halt, on a descriptor that still holds a frame, raises no
/// interrupt: `receive` finds it once the ring is empty.
#[test]
fn a_halt_on_a_full_descriptor_is_found_by_receive() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    for number in 0..7 {
        bus.borrow_mut().arrive(&numbered(MAC, number, 64));
    }
    // Someone else writes DMACR with Run/Stop while the ring is full.
    let dmacr = bus.borrow().channel(Channel::S2mm).dmacr;
    RegisterModel::write(&mut *bus.borrow_mut(), DmaRegister::Dmacr(Channel::S2mm), dmacr);
    assert_eq!(bus.borrow().channel(Channel::S2mm).complete_halts, 1);
    let mut numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(eth.channel_restarts().receive, 1, "found when no frame was left");
    numbers.extend(receive_all(&mut eth, &bus).iter().map(|f| number_of(f)));
    assert_eq!(numbers, (0..7).collect::<Vec<_>>());
}

/// With the hardware's reset (both channels), a receive channel's halt
/// starts the transmit channel again too.
#[test]
fn a_reset_of_both_channels_restarts_both() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().reset_resets_both = true;
    bus.borrow_mut().transmit_paused = true;
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    bus.borrow_mut().halt(Channel::S2mm);
    bus.borrow_mut().arrive(&numbered(MAC, 0, 64));
    assert!(eth.on_interrupt(), "the frame arrived after the restart");
    assert_eq!(eth.channel_restarts(), ChannelRestarts { transmit: 0, receive: 1 });
    assert_eq!(eth.counters().tx_errors, 1, "the frame in flight was lost");
    bus.borrow_mut().resume_transmit();
    assert!(bus.borrow().sent.is_empty());
    eth.transmit(&numbered(PEER, 1, 64)).unwrap();
    let numbers: Vec<u32> = bus.borrow().sent.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [1]);
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);
}

#[test]
fn a_halted_transmit_channel_is_restarted() {
    let (bus, rings, _) = setup::<4, 4>();
    let mut eth: Driver<'_, 4, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    bus.borrow_mut().halt(Channel::Mm2s);
    for number in 1..5 {
        eth.transmit(&numbered(PEER, number, 64)).unwrap();
    }
    assert_eq!(bus.borrow().sent.len(), 1, "nothing goes while halted");
    // The ring is full: the driver looks, finds the halt, restarts.
    assert!(eth.can_transmit());
    assert_eq!(eth.channel_restarts(), ChannelRestarts { transmit: 1, receive: 0 });
    assert_eq!((eth.counters().tx_frames, eth.counters().tx_errors), (1, 4));
    eth.transmit(&numbered(PEER, 5, 64)).unwrap();
    let numbers: Vec<u32> = bus.borrow().sent.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 5]);
    // Through the interrupt, before the ring fills.
    bus.borrow_mut().halt(Channel::Mm2s);
    eth.on_interrupt();
    assert_eq!(eth.channel_restarts().transmit, 2);
    eth.transmit(&numbered(PEER, 6, 64)).unwrap();
    assert_eq!(bus.borrow().sent.len(), 3);
    assert_eq!(bus.borrow().channel(Channel::S2mm).resets, 1, "receive left alone");
}

#[test]
fn dma_errors_of_sent_frames_are_counted() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().tx_status_error = STATUS_DMA_SLV_ERR;
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    eth.transmit(&numbered(PEER, 1, 64)).unwrap();
    assert!(eth.can_transmit());
    assert_eq!((eth.counters().tx_frames, eth.counters().tx_errors), (1, 1));
}

#[test]
fn the_link_is_the_phy_s_bmsr_link_bit() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(Some(7)), rings).unwrap();
    assert!(eth.link_up());
    assert_eq!(bus.borrow().mdio_transactions, 2, "BMSR read twice (latched low)");
    bus.borrow_mut().link = false;
    assert!(!eth.link_up());
    bus.borrow_mut().link = true;
    // A slow interface is waited for.
    bus.borrow_mut().mdio_busy_reads = 5;
    assert!(eth.link_up());
    eth.mdio_write(7, 4, 0x01E1).unwrap();
    assert_eq!(bus.borrow().phy[4], 0x01E1);
    assert_eq!(eth.mdio_read(7, 4), Ok(0x01E1));
    assert_eq!(eth.mdio_read(7, 32), Err(Error::InvalidMdioAddress));
    assert_eq!(eth.mdio_write(32, 0, 0), Err(Error::InvalidMdioAddress));
    // One that never answers.
    bus.borrow_mut().mdio_busy_reads = u32::MAX;
    eth.mdio_read(7, 1).unwrap_err();
    assert_eq!(eth.mdio_read(7, 1), Err(Error::Timeout));
    assert!(!eth.link_up());
}

#[test]
fn without_a_phy_the_link_is_up_and_mdio_stays_off() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().link = false;
    assert!(eth.link_up());
    assert_eq!(bus.borrow().mdio_transactions, 0);
    assert_eq!(bus.borrow().mc, 0, "MDIO not enabled");
}

#[test]
fn a_phy_that_does_not_answer_means_no_link() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(Some(3)), rings).unwrap();
    assert!(!eth.link_up(), "nobody at 3: MDIO reads all ones");
    assert_eq!(eth.mdio_read(3, 1), Ok(0xFFFF));
}

#[test]
fn bring_up_waits_for_the_dma_reset_and_gives_up_on_one_that_never_ends() {
    let (bus, rings, _) = setup::<2, 2>();
    bus.borrow_mut().reset_reads = 10;
    let eth: Result<Driver<'_, 2, 2>, Error> = AxiEthernet::new(&bus, &bus, config(None), rings);
    assert!(eth.is_ok());
    let (bus, rings, _) = setup::<2, 2>();
    bus.borrow_mut().reset_reads = u32::MAX;
    let eth: Result<Driver<'_, 2, 2>, Error> = AxiEthernet::new(&bus, &bus, config(None), rings);
    assert_eq!(eth.err(), Some(Error::Timeout));
}

#[test]
fn a_bad_configuration_is_refused() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut bad = config(Some(32));
    let eth: Result<AxiEthernet<'_, &Bus, &Bus, 2, 2>, Error> =
        AxiEthernet::new(&bus, &bus, bad, &mut *rings);
    assert_eq!(eth.err(), Some(Error::InvalidMdioAddress));
    bad = config(Some(7));
    bad.mdio_clock_divider = 64;
    let eth: Result<AxiEthernet<'_, &Bus, &Bus, 2, 2>, Error> =
        AxiEthernet::new(&bus, &bus, bad, rings);
    assert_eq!(eth.err(), Some(Error::InvalidMdioClockDivider));
    assert_eq!(bus.borrow().channel(Channel::S2mm).resets, 0, "nothing touched");
}

/// A second bring-up on the same rings (the platform starting over)
/// forgets what the first left in the ring.
#[test]
fn a_new_driver_on_the_same_rings_starts_clean() {
    let rings = rings::<2, 4>();
    let bus = model_for(rings);
    {
        let mut eth: AxiEthernet<'_, &Bus, &Bus, 2, 4> =
            AxiEthernet::new(&bus, &bus, config(None), &mut *rings).unwrap();
        for number in 0..3 {
            bus.borrow_mut().arrive(&numbered(MAC, number, 64));
        }
        eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    }
    let mut eth: AxiEthernet<'_, &Bus, &Bus, 2, 4> =
        AxiEthernet::new(&bus, &bus, config(None), &mut *rings).unwrap();
    assert!(!eth.frame_waiting());
    bus.borrow_mut().arrive(&numbered(MAC, 3, 64));
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [3]);
    eth.transmit(&numbered(PEER, 1, 64)).unwrap();
    assert_eq!(bus.borrow().sent.len(), 2);
}

/// Frames finish one at a time: each is counted once it is done, oldest
/// first, and its descriptor is free again.
#[test]
fn sent_frames_are_reclaimed_oldest_first_as_they_finish() {
    let (bus, rings, _) = setup::<4, 4>();
    let mut eth: Driver<'_, 4, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().transmit_paused = true;
    for number in 0..3 {
        eth.transmit(&numbered(PEER, number, 64)).unwrap();
    }
    bus.borrow_mut().send_some(1);
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, 1);
    eth.transmit(&numbered(PEER, 3, 64)).unwrap();
    eth.transmit(&numbered(PEER, 4, 64)).unwrap();
    assert!(!eth.can_transmit(), "four with the DMA");
    bus.borrow_mut().send_some(2);
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, 3);
    bus.borrow_mut().send_some(2);
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, 5);
    let numbers: Vec<u32> = bus.borrow().sent.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);
    // Any mix of queueing and finishing: every frame counted once it is
    // sent, never before, whatever the ring's position.
    let mut number = 5;
    for step in 0..40 {
        for _ in 0..step % 3 + 1 {
            if eth.can_transmit() {
                eth.transmit(&numbered(PEER, number, 64)).unwrap();
                number += 1;
            }
        }
        bus.borrow_mut().send_some(step % 2 + 1);
        eth.can_transmit();
        assert_eq!(eth.counters().tx_frames as usize, bus.borrow().sent.len(), "step {step}");
    }
    bus.borrow_mut().resume_transmit();
    assert!(eth.can_transmit());
    assert_eq!(eth.counters().tx_frames, number);
    let numbers: Vec<u32> = bus.borrow().sent.iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, (0..number).collect::<Vec<_>>());
}

/// On the hardware, a reset of the DMA cuts a frame it was writing: the
/// part already in the ring is dropped, and the next frame, which starts
/// a new one, is taken.
#[test]
fn a_frame_cut_by_a_reset_is_dropped_and_the_next_one_taken() {
    let (bus, rings, _) = setup::<2, 2>();
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().qemu_split_flags = false;
    // Two buffers full, the rest waiting in the MAC.
    bus.borrow_mut().arrive(&numbered(MAC, 0, 3100));
    bus.borrow_mut().arrive(&numbered(MAC, 1, 70));
    bus.borrow_mut().halt(Channel::S2mm);
    bus.borrow_mut().drop_frame_in_mac();
    eth.on_interrupt();
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [1]);
    let counters = eth.counters();
    assert_eq!((counters.rx_oversized, counters.rx_errors, counters.rx_runt), (1, 0, 0));
}

/// A DMA error in the first descriptor of a frame of several drops the
/// whole frame as one error.
#[test]
fn a_dma_error_in_a_frame_of_several_descriptors_counts_once() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().qemu_split_flags = false;
    bus.borrow_mut().rx_status_error = STATUS_DMA_SLV_ERR;
    bus.borrow_mut().arrive(&numbered(MAC, 0, 2000));
    bus.borrow_mut().arrive(&numbered(MAC, 1, 70));
    let numbers: Vec<u32> = receive_all(&mut eth, &bus).iter().map(|f| number_of(f)).collect();
    assert_eq!(numbers, [1]);
    let counters = eth.counters();
    assert_eq!((counters.rx_errors, counters.rx_oversized), (1, 0));
}

/// With the hardware's reset of both channels, two halts found at once
/// are both counted, and one reset brings both back.
#[test]
fn both_channels_halted_are_counted_and_reset_once() {
    let (bus, rings, _) = setup::<2, 4>();
    let mut eth: Driver<'_, 2, 4> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    bus.borrow_mut().reset_resets_both = true;
    bus.borrow_mut().halt(Channel::Mm2s);
    bus.borrow_mut().halt(Channel::S2mm);
    bus.borrow_mut().arrive(&numbered(MAC, 0, 64));
    assert!(eth.on_interrupt());
    assert_eq!(eth.channel_restarts(), ChannelRestarts { transmit: 1, receive: 1 });
    for channel in Channel::BOTH {
        assert_eq!(bus.borrow().channel(channel).resets, 2, "{channel:?}: bring-up and one");
    }
    eth.transmit(&numbered(PEER, 0, 64)).unwrap();
    assert_eq!(bus.borrow().sent.len(), 1);
    assert_eq!(receive_all(&mut eth, &bus).len(), 1);
}

#[test]
fn mdio_addresses_run_from_0_to_31() {
    let (bus, rings, _) = setup::<2, 2>();
    bus.borrow_mut().phy_address = 31;
    let mut eth: Driver<'_, 2, 2> = AxiEthernet::new(&bus, &bus, config(Some(31)), rings).unwrap();
    assert!(eth.link_up());
    bus.borrow_mut().phy[31] = 0xBEEF;
    assert_eq!(eth.mdio_read(31, 31), Ok(0xBEEF));
    eth.mdio_write(31, 31, 0x1234).unwrap();
    assert_eq!(bus.borrow().phy[31], 0x1234);
    assert_eq!(eth.mdio_read(31, 32), Err(Error::InvalidMdioAddress));
    assert_eq!(eth.mdio_write(0, 32, 0), Err(Error::InvalidMdioAddress));
}

/// A driver's debug output shows its rings (guards against an empty
/// `Debug`).
#[test]
fn a_driver_shows_its_rings_when_debug_printed() {
    let (bus, rings, _) = setup::<2, 3>();
    let eth: Driver<'_, 2, 3> = AxiEthernet::new(&bus, &bus, config(None), rings).unwrap();
    let text = std::format!("{eth:?}");
    assert!(text.contains("tx: Ring { descriptors: "), "{text}");
    assert!(text.contains("len: 3 }"), "{text}");
}

/// Catches a register name reaching the wrong offset: on hardware the
/// driver would write another register.
#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    use ferrode_hal::mmio::RamBlock;

    use crate::{DmaMmio, DmaRegs, MacMmio, MacRegister, MacRegs};

    let block = RamBlock::new(Box::leak(Box::new([0; 0x70C / 4])));
    let mac = MacMmio::new(block.view::<MacRegs>());
    let registers = [
        (MacRegister::Raf, 0x000),
        (MacRegister::Is, 0x00C),
        (MacRegister::Ip, 0x010),
        (MacRegister::Ie, 0x014),
        (MacRegister::Rcw0, 0x400),
        (MacRegister::Rcw1, 0x404),
        (MacRegister::Tc, 0x408),
        (MacRegister::Emmc, 0x410),
        (MacRegister::Mc, 0x500),
        (MacRegister::Mcr, 0x504),
        (MacRegister::Mwd, 0x508),
        (MacRegister::Mrd, 0x50C),
        (MacRegister::Uaw0, 0x700),
        (MacRegister::Uaw1, 0x704),
        (MacRegister::Fmi, 0x708),
    ];
    block.check_writes(&mac, &registers);
    block.check_reads(&mac, &registers);

    let block = RamBlock::new(Box::leak(Box::new([0; 0x60 / 4])));
    let dma = DmaMmio::new(block.view::<DmaRegs>());
    let mut registers = Vec::new();
    for (channel, base) in [(Channel::Mm2s, 0x00), (Channel::S2mm, 0x30)] {
        registers.extend([
            (DmaRegister::Dmacr(channel), base),
            (DmaRegister::Dmasr(channel), base + 0x04),
            (DmaRegister::Curdesc(channel), base + 0x08),
            (DmaRegister::CurdescMsb(channel), base + 0x0C),
            (DmaRegister::Taildesc(channel), base + 0x10),
            (DmaRegister::TaildescMsb(channel), base + 0x14),
        ]);
    }
    block.check_writes(&dma, &registers);
    block.check_reads(&dma, &registers);
}

/// The platform keeps the driver in a static behind a lock, which needs
/// it `Send`.
#[test]
fn the_driver_on_memory_mapped_registers_is_send() {
    fn send<T: Send>() {}
    send::<AxiEthernet<'static, crate::MacMmio<'static>, crate::DmaMmio<'static>, 8, 16>>();
}

#[test]
fn rings_are_aligned_descriptors_then_buffers() {
    type R = Rings<3, 5>;
    static _IN_BSS: R = Rings::new();
    assert_eq!(align_of::<R>(), 64);
    assert_eq!(size_of::<R>(), 8 * 64 + 8 * BUFFER_LEN);
    assert_eq!(offset_of!(R, rx_descriptors), 3 * 64);
    assert_eq!(offset_of!(R, tx_buffers), 8 * 64);
    assert_eq!(offset_of!(R, rx_buffers), 8 * 64 + 3 * BUFFER_LEN);
    assert_eq!(std::format!("{:?}", R::default()), "Rings { tx: 3, rx: 5 }");
}

#[test]
fn errors_say_what_went_wrong() {
    use std::string::ToString;
    let table = [
        (Error::Timeout, "AXI Ethernet: timed out waiting for the hardware"),
        (Error::TransmitBusy, "AXI Ethernet: every transmit descriptor is busy"),
        (Error::FrameTooLong, "AXI Ethernet: frame longer than 1514 bytes"),
        (Error::FrameTooShort, "AXI Ethernet: frame shorter than an Ethernet header"),
        (Error::InvalidMdioAddress, "AXI Ethernet: MDIO address above 31"),
        (Error::InvalidMdioClockDivider, "AXI Ethernet: MDIO clock divider above 63"),
    ];
    for (error, text) in table {
        assert_eq!(error.to_string(), text);
    }
}
