extern crate std;

use std::vec::Vec;

use ferrode_hal::EthernetDevice;

use crate::model::EthModel;
use crate::{Buffer, Config, EmacLite, Error, RECEIVE_RING_FRAMES, ReceiveRing};

const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x12, 0x34, 0x56];

/// A receive ring of the default size for one test's driver.
fn ring() -> &'static mut ReceiveRing<RECEIVE_RING_FRAMES> {
    std::boxed::Box::leak(std::boxed::Box::default())
}

fn config(ping_pong: bool, phy: Option<u8>) -> Config {
    Config { mac_address: MAC, tx_ping_pong: ping_pong, rx_ping_pong: ping_pong, phy_address: phy }
}

/// An Ethernet/IPv4 frame to `dst` whose IP total length is `ip_len`.
fn ipv4_frame(dst: [u8; 6], ip_len: u16, fill: u8) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&[0x52, 0x55, 0x0A, 0x00, 0x02, 0x02]);
    f.extend_from_slice(&[0x08, 0x00, 0x45, 0x00]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.resize(14 + usize::from(ip_len.max(20)), fill);
    f
}

#[test]
fn new_programs_the_mac_address() {
    let model = EthModel::new(false);
    let mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    assert_eq!(model.state.borrow().mac, MAC);
    assert_eq!(mac.mac_address(), MAC);
}

#[test]
fn transmit_sends_the_frame_padded_to_60_bytes() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    let long: Vec<u8> = (0..=255u8).cycle().take(1514).collect();
    mac.transmit(&long).unwrap();
    let short = [0xFFu8; 42];
    mac.transmit(&short).unwrap();
    let sent = model.state.borrow().sent.clone();
    assert_eq!(sent[0], long);
    assert_eq!(&sent[1][..42], &short);
    assert_eq!(sent[1].len(), 60);
    assert!(sent[1][42..].iter().all(|&b| b == 0));
    assert_eq!(mac.counters().tx_frames, 2);
    assert_eq!(mac.transmit(&[0u8; 1515]), Err(Error::FrameTooLong));
}

#[test]
fn ping_pong_transmit_queues_two_frames() {
    let mut model = EthModel::new(true);
    model.tx_auto_complete = false;
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    mac.transmit(&[1u8; 60]).unwrap();
    assert!(mac.can_transmit());
    mac.transmit(&[2u8; 60]).unwrap();
    assert!(!mac.can_transmit());
    assert_eq!(mac.transmit(&[3u8; 60]), Err(Error::TransmitBusy));
    model.complete_tx();
    mac.transmit(&[3u8; 60]).unwrap();
    model.complete_tx();
    let firsts: Vec<u8> = model.state.borrow().sent.iter().map(|f| f[0]).collect();
    assert_eq!(firsts, [1, 2, 3]);
}

#[test]
fn receive_returns_exact_frames_in_arrival_order() {
    let model = EthModel::new(true);
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    // A long frame first leaves stale bytes behind in the ping buffer.
    let big = ipv4_frame(MAC, 1000, 0xAA);
    let small = ipv4_frame(MAC, 28, 0xBB);
    let third = ipv4_frame([0xFF; 6], 40, 0xCC);
    assert!(model.deliver(&big));
    assert!(model.deliver(&small));
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(Some(1014)));
    assert_eq!(&buf[..1014], &big[..]);
    assert!(model.deliver(&third), "ping is free again once read");
    assert_eq!(mac.receive(&mut buf), Ok(Some(42)));
    assert_eq!(&buf[..42], &small[..]);
    assert_eq!(mac.receive(&mut buf), Ok(Some(54)));
    assert_eq!(&buf[..54], &third[..]);
    assert_eq!(mac.receive(&mut buf), Ok(None));
    assert_eq!(mac.counters().rx_frames, 3);
}

#[test]
fn arp_frames_are_42_bytes() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    let mut arp = [0u8; 60];
    arp[..6].copy_from_slice(&[0xFF; 6]);
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    arp[14..42].fill(0x11);
    model.deliver(&arp);
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(Some(42)));
}

#[test]
fn runts_and_oversized_frames_are_dropped_and_counted() {
    let model = EthModel::new(true);
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    let mut runt = ipv4_frame(MAC, 20, 0);
    runt[16..18].copy_from_slice(&12u16.to_be_bytes()); // IP total length below its header
    model.deliver(&runt);
    let mut oversized = ipv4_frame(MAC, 1400, 0);
    oversized[16..18].copy_from_slice(&1600u16.to_be_bytes());
    model.deliver(&oversized);
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(None), "nothing good to pass up");
    let good = ipv4_frame(MAC, 100, 7);
    model.deliver(&good);
    let mut small = [0u8; 64];
    assert_eq!(mac.receive(&mut small), Ok(None), "longer than the caller's buffer");
    model.deliver(&good);
    assert_eq!(mac.receive(&mut buf), Ok(Some(114)));
    let c = mac.counters();
    assert_eq!((c.rx_runt, c.rx_oversized, c.rx_frames), (1, 2, 1));
}

#[test]
fn without_ping_pong_only_the_ping_buffer_is_used() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    let mut buf = [0u8; 1514];
    for fill in 1..4u8 {
        assert!(model.deliver(&ipv4_frame(MAC, 50, fill)));
        assert!(!model.deliver(&ipv4_frame(MAC, 50, 9)), "buffer full until read");
        assert_eq!(mac.receive(&mut buf), Ok(Some(64)));
        assert_eq!(buf[40], fill);
    }
}

#[test]
fn rx_interrupt_keeps_a_waiting_frame_and_pulses_per_frame() {
    let model = EthModel::new(true);
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    model.deliver(&ipv4_frame(MAC, 60, 1));
    mac.enable_rx_interrupt();
    assert!(mac.on_interrupt(), "enabling must not discard the waiting frame");
    model.deliver(&ipv4_frame(MAC, 60, 2));
    assert_eq!(model.state.borrow().irq_pulses, 1);
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(Some(74)));
    assert_eq!(mac.receive(&mut buf), Ok(Some(74)));
    assert!(!mac.on_interrupt());
    model.deliver(&ipv4_frame(MAC, 60, 3));
    assert_eq!(model.state.borrow().irq_pulses, 2, "Interrupt Enable survives buffer release");
}

#[test]
fn mdio_reads_writes_and_link_state() {
    let model = EthModel::new(false);
    model.state.borrow_mut().phy[1] = 0x7809; // BMSR without link
    let mut mac = EmacLite::new(&model, config(false, Some(1)), ring()).unwrap();
    assert!(!mac.link_up());
    model.state.borrow_mut().phy[1] = 0x780D;
    assert!(mac.link_up());
    mac.mdio_write(1, 0, 0x1200).unwrap();
    assert_eq!(model.state.borrow().phy[0], 0x1200);
    assert_eq!(mac.mdio_read(1, 0), Ok(0x1200));
    assert_eq!(mac.mdio_read(32, 0), Err(Error::InvalidMdioAddress));
}

#[test]
fn stuck_mdio_times_out_and_no_phy_means_link_up() {
    let mut model = EthModel::new(false);
    model.mdio_busy_reads = u32::MAX;
    let mut mac = EmacLite::new(&model, config(false, Some(1)), ring()).unwrap();
    assert_eq!(mac.mdio_read(1, 1), Err(Error::Timeout));
    assert!(!mac.link_up());
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    assert!(mac.link_up());
}

/// Frames arriving one after another, each followed by its interrupt,
/// while the network stack is busy elsewhere: the interrupt must free the
/// receive buffer each time, or the core drops the next frame.
fn burst_with_interrupts(ping_pong: bool, frames: u8) {
    let model = EthModel::new(ping_pong);
    let mut mac = EmacLite::new(&model, config(ping_pong, None), ring()).unwrap();
    mac.enable_rx_interrupt();
    for fill in 1..=frames {
        let pulses = model.state.borrow().irq_pulses;
        assert!(model.deliver(&ipv4_frame(MAC, 50, fill)), "frame {fill} dropped by the core");
        if model.state.borrow().irq_pulses > pulses {
            assert!(mac.on_interrupt());
        }
    }
    assert_eq!(model.state.borrow().hw_dropped, 0);
    let mut buf = [0u8; 1514];
    for fill in 1..=frames {
        assert_eq!(mac.receive(&mut buf), Ok(Some(64)), "frame {fill}");
        assert_eq!(buf[40], fill, "frames out of order");
    }
    assert_eq!(mac.receive(&mut buf), Ok(None));
    assert_eq!(mac.counters().rx_frames, u32::from(frames));
}

#[test]
fn the_interrupt_drains_the_single_buffer_so_no_frame_is_dropped() {
    burst_with_interrupts(false, RECEIVE_RING_FRAMES as u8);
}

#[test]
fn the_interrupt_drains_both_ping_pong_buffers() {
    burst_with_interrupts(true, RECEIVE_RING_FRAMES as u8);
}

#[test]
fn a_full_ring_leaves_frames_in_the_buffers_until_the_stack_reads() {
    let model = EthModel::new(false);
    let mut ring = ReceiveRing::<2>::new();
    let mut mac = EmacLite::new(&model, config(false, None), &mut ring).unwrap();
    mac.enable_rx_interrupt();
    for fill in 1..=3 {
        assert!(model.deliver(&ipv4_frame(MAC, 50, fill)));
        mac.on_interrupt();
    }
    assert_eq!(mac.ring_len(), 2);
    assert!(!model.deliver(&ipv4_frame(MAC, 50, 4)), "the buffer holds frame 3");
    let mut buf = [0u8; 1514];
    for fill in 1..=3 {
        assert_eq!(mac.receive(&mut buf), Ok(Some(64)));
        assert_eq!(buf[40], fill);
    }
    assert_eq!(mac.receive(&mut buf), Ok(None));
}

#[test]
fn a_ring_lent_again_starts_empty() {
    let model = EthModel::new(false);
    let mut ring = ReceiveRing::<2>::new();
    let mut mac = EmacLite::new(&model, config(false, None), &mut ring).unwrap();
    mac.enable_rx_interrupt();
    assert!(model.deliver(&ipv4_frame(MAC, 50, 1)));
    mac.on_interrupt();
    assert_eq!(mac.ring_len(), 1);
    // A new driver (the platform bringing the MAC up again) on the same
    // memory: the old frame is not handed out as a new one.
    let mut mac = EmacLite::new(&model, config(false, None), &mut ring).unwrap();
    assert_eq!(mac.ring_len(), 0);
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(None));
}

#[test]
fn a_reserved_slot_is_filled_without_the_mac_and_keeps_others_off_its_buffer() {
    let mut model = EthModel::new(true);
    model.tx_auto_complete = false;
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    let first = ipv4_frame([0xff; 6], 100, 1);
    let slot = mac.reserve_transmit(first.len()).unwrap();
    // While the slot is filled (no MAC borrowed: interrupts may run), the
    // other buffer still sends.
    let second = ipv4_frame([0xff; 6], 40, 2);
    mac.transmit(&second).unwrap();
    assert_eq!(
        mac.reserve_transmit(60).err(),
        Some(Error::TransmitBusy),
        "the reserved buffer is not handed out twice"
    );
    crate::fill_transmit_slot(&&model, &slot, &first);
    mac.send_reserved(slot);
    model.complete_tx();
    let sent = model.state.borrow().sent.clone();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().any(|f| f.starts_with(&second)), "the other buffer sent (padded to 60)");
    assert!(sent.contains(&first), "the slot filled outside the MAC sent");
    assert_eq!(mac.counters().tx_frames, 2);
}

#[test]
fn a_reservation_checks_the_frame_length() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    assert_eq!(mac.reserve_transmit(13).err(), Some(Error::FrameTooShort));
    assert_eq!(mac.reserve_transmit(1515).err(), Some(Error::FrameTooLong));
    assert_eq!(mac.counters().tx_errors, 2);
}

/// Frame memory on a word boundary, with room for a frame one byte past it.
#[repr(C, align(4))]
struct Aligned([u8; 1518]);

/// Frames of every length modulo four, at a word boundary (whole words
/// move between the buffer RAM and memory) and one byte past it (byte by
/// byte).
#[test]
fn frames_of_every_length_modulo_four_go_and_come_whole() {
    let model = EthModel::new(true);
    let mut mac = EmacLite::new(&model, config(true, None), ring()).unwrap();
    for offset in [0, 1] {
        for length in [61usize, 62, 63, 64, 1513] {
            let frame: Vec<u8> = (0..length).map(|i| (i * 7 + length) as u8).collect();
            let mut memory = Aligned([0; 1518]);
            memory.0[offset..offset + length].copy_from_slice(&frame);
            mac.transmit(&memory.0[offset..offset + length]).unwrap();
            assert_eq!(model.state.borrow().sent.last(), Some(&frame), "sent {length} bytes");
            let received = ipv4_frame(MAC, (length - 14) as u16, length as u8);
            assert!(model.deliver(&received));
            let mut memory = Aligned([0xee; 1518]);
            let buffer = &mut memory.0[offset..offset + 1514];
            assert_eq!(mac.receive(buffer), Ok(Some(length)));
            assert_eq!(&buffer[..length], &received[..], "received {length} bytes at {offset}");
            let (before, after) = (&memory.0[..offset], &memory.0[offset + length..]);
            assert!(before.iter().chain(after).all(|&byte| byte == 0xee), "wrote outside");
        }
    }
}

/// A MAC whose transmissions finish only on `complete_tx`, with the
/// platform's interrupts on (GIE), and a frame sent from every transmit
/// buffer: none is free.
fn every_transmit_buffer_sending(model: &EthModel, ping_pong: bool) -> EmacLite<'_, &EthModel> {
    let mut mac = EmacLite::new(model, config(ping_pong, None), ring()).unwrap();
    mac.enable_rx_interrupt();
    let buffers = if ping_pong { 2 } else { 1 };
    for fill in 0..buffers {
        mac.transmit(&[fill; 60]).unwrap();
    }
    assert!(!mac.can_transmit());
    mac
}

fn slow_line(ping_pong: bool) -> EthModel {
    let mut model = EthModel::new(ping_pong);
    model.tx_auto_complete = false;
    model
}

#[test]
fn arming_sets_the_transmit_interrupt_enable_and_the_frame_keeps_going() {
    let model = slow_line(false);
    let mut mac = every_transmit_buffer_sending(&model, false);
    assert!(mac.interrupt_when_transmit_ready());
    assert!(model.tx_interrupt_enabled());
    assert!(model.tx_busy(Buffer::Ping), "arming must keep the frame's Status");
    assert_eq!(model.state.borrow().irq_pulses, 0);
    model.complete_tx();
    assert_eq!(model.state.borrow().sent.len(), 1, "sent once");
    assert_eq!(model.state.borrow().irq_pulses, 1, "the transmit-done interrupt");
}

#[test]
fn the_transmit_done_interrupt_disarms() {
    let model = slow_line(false);
    let mut mac = every_transmit_buffer_sending(&model, false);
    assert!(mac.interrupt_when_transmit_ready());
    model.complete_tx();
    mac.on_interrupt();
    assert!(!model.tx_interrupt_enabled());
    assert!(mac.can_transmit());
    // Disarmed: the next frame's end raises nothing.
    mac.transmit(&[7; 60]).unwrap();
    model.complete_tx();
    assert_eq!(model.state.borrow().irq_pulses, 1);
    assert_eq!(model.state.borrow().sent.len(), 2);
}

#[test]
fn a_receive_interrupt_while_the_frame_is_going_keeps_the_transmit_interrupt_armed() {
    let model = slow_line(false);
    let mut mac = every_transmit_buffer_sending(&model, false);
    assert!(mac.interrupt_when_transmit_ready());
    model.deliver(&ipv4_frame(MAC, 60, 1));
    assert!(mac.on_interrupt());
    assert!(model.tx_interrupt_enabled());
    assert!(model.tx_busy(Buffer::Ping), "the frame's Status must stay");
    let pulses = model.state.borrow().irq_pulses;
    model.complete_tx();
    assert_eq!(model.state.borrow().irq_pulses, pulses + 1);
    assert_eq!(model.state.borrow().sent.len(), 1);
}

#[test]
fn with_ping_pong_the_interrupt_stays_armed_until_the_ping_buffer_is_done() {
    let model = slow_line(true);
    let mut mac = every_transmit_buffer_sending(&model, true);
    assert!(mac.interrupt_when_transmit_ready());
    assert!(model.tx_busy(Buffer::Ping) && model.tx_busy(Buffer::Pong));
    model.complete_tx_of(Buffer::Pong);
    assert_eq!(model.state.borrow().irq_pulses, 1, "pong's end interrupts too");
    mac.on_interrupt();
    assert!(model.tx_interrupt_enabled(), "ping still sending: no write of its register");
    assert!(model.tx_busy(Buffer::Ping));
    assert!(mac.can_transmit());
    model.complete_tx_of(Buffer::Ping);
    assert_eq!(model.state.borrow().irq_pulses, 2);
    mac.on_interrupt();
    assert!(!model.tx_interrupt_enabled());
    let firsts: Vec<u8> = model.state.borrow().sent.iter().map(|f| f[0]).collect();
    assert_eq!(firsts, [1, 0], "each frame sent once");
}

#[test]
fn arming_once_the_frame_went_writes_nothing_and_reports_room() {
    let model = slow_line(false);
    let mut mac = every_transmit_buffer_sending(&model, false);
    // The frame ends between the caller's check and its arming.
    model.complete_tx();
    assert!(mac.interrupt_when_transmit_ready());
    assert!(mac.can_transmit());
    assert!(!model.tx_interrupt_enabled());
    // Status written as 1 would have sent the buffer again.
    model.complete_tx();
    assert_eq!(model.state.borrow().sent.len(), 1, "no duplicate");
    assert_eq!(model.state.borrow().irq_pulses, 0);
}

#[test]
fn a_frame_that_ends_while_arming_is_not_sent_again() {
    let model = slow_line(false);
    let mut mac = every_transmit_buffer_sending(&model, false);
    // Arming's first look finds the frame going, its read-modify-write of
    // the control register finds it gone.
    model.state.borrow_mut().tx_reads_until_done = Some(1);
    assert!(mac.interrupt_when_transmit_ready());
    assert!(model.state.borrow().tx_reads_until_done.is_none(), "the frame ended meanwhile");
    // The done pulse came before Interrupt Enable: the caller must look.
    assert!(mac.can_transmit());
    model.complete_tx();
    assert_eq!(model.state.borrow().sent.len(), 1, "no duplicate");
    assert_eq!(model.state.borrow().irq_pulses, 0);
}

#[test]
fn without_gie_or_with_a_reserved_buffer_arming_is_refused() {
    let model = slow_line(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    mac.transmit(&[1; 60]).unwrap();
    assert!(!mac.interrupt_when_transmit_ready(), "GIE off: no interrupt would come");
    assert!(!model.tx_interrupt_enabled());

    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    mac.enable_rx_interrupt();
    let slot = mac.reserve_transmit(60).unwrap();
    assert!(!mac.can_transmit());
    assert!(
        !mac.interrupt_when_transmit_ready(),
        "the slot frees by its send, not by an interrupt"
    );
    assert!(!model.tx_interrupt_enabled());
    mac.send_reserved(slot);
}

#[test]
fn frames_of_unknown_type_come_up_whole_and_malformed_ones_count_as_errors() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    // LLDP: the headers say nothing of its length.
    let mut lldp = [0x5Au8; 60];
    lldp[..6].copy_from_slice(&[0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]);
    lldp[12..14].copy_from_slice(&0x88CCu16.to_be_bytes());
    assert!(model.deliver(&lldp));
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(Some(1514)), "the whole buffer is passed up");
    assert_eq!(&buf[..60], &lldp[..]);
    // A type/length in 1501..=1535 is neither.
    let mut malformed = lldp;
    malformed[12..14].copy_from_slice(&1535u16.to_be_bytes());
    assert!(model.deliver(&malformed));
    assert_eq!(mac.receive(&mut buf), Ok(None));
    let c = mac.counters();
    assert_eq!((c.rx_errors, c.rx_oversized, c.rx_runt, c.rx_frames), (1, 0, 0, 1));
}

#[test]
fn a_frame_of_just_an_ethernet_header_is_sent_padded() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    let header = [0xABu8; 14];
    mac.transmit(&header).unwrap();
    let sent = model.state.borrow().sent.clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][..14], &header);
    assert_eq!(sent[0].len(), 60);
    assert_eq!(mac.counters().tx_errors, 0);
}

#[test]
fn disabling_the_receive_interrupt_stops_the_pulses() {
    let model = EthModel::new(false);
    let mut mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    mac.enable_rx_interrupt();
    assert!(model.deliver(&ipv4_frame(MAC, 50, 1)));
    assert_eq!(model.state.borrow().irq_pulses, 1);
    mac.disable_rx_interrupt();
    let mut buf = [0u8; 1514];
    assert_eq!(mac.receive(&mut buf), Ok(Some(64)));
    assert!(model.deliver(&ipv4_frame(MAC, 50, 2)));
    assert_eq!(model.state.borrow().irq_pulses, 1, "no pulse with GIE off");
    assert_eq!(mac.receive(&mut buf), Ok(Some(64)), "the frame still arrives");
}

#[test]
fn mdio_addresses_run_from_0_to_31() {
    let mut model = EthModel::new(false);
    model.phy_address = 31;
    model.state.borrow_mut().phy[31] = 0xBEEF;
    let mut mac = EmacLite::new(&model, config(false, Some(31)), ring()).unwrap();
    assert_eq!(mac.mdio_read(31, 31), Ok(0xBEEF));
    assert_eq!(mac.mdio_read(31, 32), Err(Error::InvalidMdioAddress));
    assert_eq!(mac.mdio_write(32, 0, 0), Err(Error::InvalidMdioAddress));
    assert_eq!(mac.mdio_write(0, 32, 0), Err(Error::InvalidMdioAddress));
}

/// Catches `==` turned into `!=` in `send_reserved`: a frame sent from the
/// pong buffer would forget an armed transmit interrupt, and the ping
/// buffer's done pulse would leave Interrupt Enable set for good.
#[test]
fn sending_from_the_pong_buffer_keeps_the_transmit_interrupt_armed() {
    let model = slow_line(true);
    let mut mac = every_transmit_buffer_sending(&model, true);
    assert!(mac.interrupt_when_transmit_ready());
    model.complete_tx_of(Buffer::Pong);
    mac.on_interrupt();
    mac.transmit(&[9; 60]).unwrap();
    assert!(model.tx_busy(Buffer::Pong), "the new frame went into the pong buffer");
    model.complete_tx_of(Buffer::Ping);
    mac.on_interrupt();
    assert!(!model.tx_interrupt_enabled(), "the ping buffer's end disarms");
}

#[test]
fn errors_say_what_went_wrong() {
    use std::string::ToString;
    let table = [
        (Error::Timeout, "EthernetLite: timed out waiting for the hardware"),
        (Error::TransmitBusy, "EthernetLite: transmit buffers busy"),
        (Error::FrameTooLong, "EthernetLite: frame longer than 1514 bytes"),
        (Error::FrameTooShort, "EthernetLite: frame shorter than an Ethernet header"),
        (Error::InvalidMdioAddress, "EthernetLite: MDIO address above 31"),
    ];
    for (error, text) in table {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn new_enables_mdio_only_when_a_phy_is_configured() {
    use crate::Register;
    use ferrode_hal::RegisterAccess;

    let mdio_enable = 1 << 3;
    let model = EthModel::new(false);
    let _mac = EmacLite::new(&model, config(false, Some(1)), ring()).unwrap();
    assert_eq!(model.read(Register::MdioCtrl) & mdio_enable, mdio_enable);
    let model = EthModel::new(false);
    let _mac = EmacLite::new(&model, config(false, None), ring()).unwrap();
    assert_eq!(model.read(Register::MdioCtrl) & mdio_enable, 0);
}

/// Catches `RegisterName::offset` returning a constant: on hardware every
/// register would be reached at one address.
#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    use ferrode_hal::mmio::RamBlock;

    use crate::{Mmio, Register, Regs};

    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 0x800])));
    let regs = Mmio::new(block.view::<Regs>());
    // PG135, "Register Space".
    let registers = [
        (Register::TxBuffer(Buffer::Ping, 1), 0x0004),
        (Register::MdioAddr, 0x07E4),
        (Register::MdioWr, 0x07E8),
        (Register::MdioRd, 0x07EC),
        (Register::MdioCtrl, 0x07F0),
        (Register::TxLength(Buffer::Ping), 0x07F4),
        (Register::Gie, 0x07F8),
        (Register::TxControl(Buffer::Ping), 0x07FC),
        (Register::TxBuffer(Buffer::Pong, 1), 0x0804),
        (Register::TxLength(Buffer::Pong), 0x0FF4),
        (Register::TxControl(Buffer::Pong), 0x0FFC),
        (Register::RxBuffer(Buffer::Ping, 1), 0x1004),
        (Register::RxControl(Buffer::Ping), 0x17FC),
        (Register::RxBuffer(Buffer::Pong, 1), 0x1804),
        (Register::RxControl(Buffer::Pong), 0x1FFC),
    ];
    block.check_reads(&regs, &registers);
}

#[test]
fn a_ring_shows_its_frames_and_capacity_when_debug_printed() {
    let ring = ReceiveRing::<2>::new();
    assert_eq!(std::format!("{ring:?}"), "ReceiveRing { frames: 0, capacity: 2 }");
}
