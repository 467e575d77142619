//! A NIC session closed by one client and opened by the next.
//!
//! The NIC driver serves one session at a time. `first` asks QEMU's
//! gateway (10.0.2.2) for its MAC address with an ARP request through the
//! session's transmit stream and reads the reply from the receive stream;
//! then checks that closing is refused while it still holds the streams
//! (`SessionError::InUse`), and closes with `Env::close_nic`, which hands
//! them back. `second`, started when `first` exits, gets the session only
//! because it was closed, and repeats the ARP exchange through the
//! restarted streams, whose transmit slots hold nothing `first` wrote in
//! them, and whose counters do not count `first`'s frames. With the command line `bystander`, `first` ends at
//! once without taking its streams, and `second` gets the session all the
//! same (the composer closed it for `first`). With `holder`, `first` ends
//! after its ARP exchange holding its streams and a packet: the composer
//! destroys it and the driver reclaims the session (`Root::reclaim`), so
//! `second` gets it through streams started afresh. With `keeper`,
//! `first` keeps a copy of the driver's signal, closes its session
//! without taking its streams, and checks that the copy died with the
//! session. Each check prints
//! `ok:` or `FAILED:` through LOG; the image exits with the number of
//! failed checks.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::{Env, LogClient, NicClient, NicPhy};
use ferrode_board::{exit_code, kernel};
use ferrode_component::{Nic, SessionError, Timer};
use ferrode_ipc::{CapSel, Capability};
use ferrode_net::smoltcp::phy::{Device, RxToken, TxToken};
use ferrode_net::smoltcp::time::Instant;
use ferrode_net::smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, Ipv4Address,
};
use ferrode_packet_stream::{Notify, Source};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        nic: { priority: 4, stack: 8192, provides: "Nic", root: ferrode_board::component::nic_root },
    }
    clients {
        first: { priority: 3, stack: 8192, main: first },
        // A debug build's `second` keeps all its checks' temporaries in
        // one 7 KiB frame: 8 KiB ran off into the guard page.
        second: { priority: 3, stack: 16384, main: second, after: first },
    }
    routes {
        nic: "IO_MEM" "ethernet" => io_mem,
        nic: "IRQ" "ethernet" => irq,
        first: "LOG" "" => log,
        first: "Timer" "" => timer,
        first: "Nic" "" => nic,
        second: "LOG" "" => log,
        second: "Timer" "" => timer,
        second: "Nic" "" => nic,
    }
}

/// QEMU's user-network addresses: the guest's and the gateway's.
const GUEST: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// Wake-ups (frames or the 50 ms timeout) before the ARP exchange fails.
const TRIES: u32 = 100;

/// Failed checks of both clients.
static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(log: &mut LogClient, what: &str, ok: bool) {
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
    let _ = log.write_fmt(format_args!("{} {}", if ok { "ok:" } else { "FAILED:" }, what));
}

/// An ARP request for the gateway, from `mac`.
fn send_arp_request(phy: &mut NicPhy, mac: EthernetAddress) -> bool {
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: GUEST,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: GATEWAY,
    };
    let ethernet = EthernetRepr {
        src_addr: mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EthernetProtocol::Arp,
    };
    let Some(token) = phy.transmit(Instant::ZERO) else { return false };
    token.consume(ethernet.buffer_len() + arp.buffer_len(), |buffer| {
        let mut frame = EthernetFrame::new_unchecked(buffer);
        ethernet.emit(&mut frame);
        arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    });
    true
}

/// Whether `frame` is the gateway's ARP reply to `mac`.
fn is_gateway_reply(frame: &[u8], mac: EthernetAddress) -> bool {
    let Ok(frame) = EthernetFrame::new_checked(frame) else { return false };
    if frame.ethertype() != EthernetProtocol::Arp {
        return false;
    }
    let Ok(packet) = ArpPacket::new_checked(frame.payload()) else { return false };
    matches!(
        ArpRepr::parse(&packet),
        Ok(ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_protocol_addr,
            target_hardware_addr,
            ..
        }) if source_protocol_addr == GATEWAY && target_hardware_addr == mac
    )
}

/// Sends ARP requests for the gateway (again at every wake-up without the
/// reply: frames are lost under load) until its reply arrives.
fn arp_exchange(env: &Env, phy: &mut NicPhy, mac: EthernetAddress, wake: CapSel) -> bool {
    let Ok(timer) = env.session::<dyn Timer>(ferrode_component::TIMER, "") else { return false };
    let mut timer = kernel::client(timer);
    if timer.sigh(Capability::from_selector(wake)).is_err() || timer.trigger(50_000, true).is_err()
    {
        return false;
    }
    let mut answered = false;
    for _ in 0..TRIES {
        send_arp_request(phy, mac);
        while let Some((rx, _)) = phy.receive(Instant::ZERO) {
            answered |= rx.consume(|frame| is_gateway_reply(frame, mac));
        }
        if answered || kernel::kernel().wait_signal(wake).is_err() {
            break;
        }
    }
    let _ = timer.stop();
    answered
}

/// ARP requests sent at once: more replies than the receive stream has
/// slots (16), so that some wait in the controller.
const BURST: usize = 24;

/// Has every receive slot filled with the gateway's ARP replies (it sends
/// `BURST` requests and takes nothing until the driver holds no free
/// slot, and a little longer, so the replies beyond them wait in the
/// controller, whose receive interrupt the driver masks), then takes and
/// acknowledges them, sending nothing more: only the receive stream's
/// signals to the driver (ready to submit, acknowledgement available)
/// can wake it to take the replies that waited. Whether more than the
/// slots' worth arrived.
fn acknowledgements_wake_driver(
    env: &Env,
    mut phy: NicPhy,
    mac: EthernetAddress,
    wake: CapSel,
) -> bool {
    let Ok(timer) = env.session::<dyn Timer>(ferrode_component::TIMER, "") else { return false };
    let mut timer = kernel::client(timer);
    if timer.sigh(Capability::from_selector(wake)).is_err() || timer.trigger(50_000, true).is_err()
    {
        return false;
    }
    for _ in 0..BURST {
        send_arp_request(&mut phy, mac);
    }
    let (tx, rx) = phy.into_ends();
    // Until every receive slot is the client's (submitted, not taken),
    // then two more periods for the rest of the replies.
    let mut full = None;
    for round in 0..TRIES {
        if rx.pending() >= 16 && full.is_none() {
            full = Some(round);
        }
        if full.is_some_and(|at| round >= at + 2) || kernel::kernel().wait_signal(wake).is_err() {
            break;
        }
    }
    let mut phy = NicPhy::new(tx, rx, mac.0);
    let mut received = 0;
    for _ in 0..20 {
        while let Some((rx, _)) = phy.receive(Instant::ZERO) {
            rx.consume(|_| ());
            received += 1;
        }
        if received > 16 || kernel::kernel().wait_signal(wake).is_err() {
            break;
        }
    }
    let _ = timer.stop();
    full.is_some() && received > 16
}

/// This component's LOG session, a signal of its own and its NIC session
/// raising it; a failure is logged when the LOG session is there.
fn sessions(env: &Env) -> Option<(LogClient, CapSel, NicClient, NicPhy)> {
    let mut log = env.log().ok()?;
    let Ok((_, wake)) = kernel::kernel().create_signal() else { return None };
    match env.nic("", wake) {
        Ok((nic, phy)) => Some((log, wake, nic, phy)),
        Err(error) => {
            let _ = log.write_fmt(format_args!("no NIC session: {}", error));
            None
        }
    }
}

fn first(env: Env) -> u32 {
    let mut buffer = [0u8; 64];
    // The command line starts with the image's name.
    let args = ferrode_board::cmdline(&mut buffer).unwrap_or("");
    let mode = args.split_whitespace().nth(1);
    if mode == Some("keeper") {
        // Keeps a copy of the driver's signal (asked for over the bare
        // session, as a client that means harm would) and closes without
        // taking its streams: the copy must die with the session, or it
        // could wake the driver's data thread for good.
        let Ok(mut log) = env.log() else { return exit_code::FAILURE };
        let kept = env
            .session::<dyn Nic>(ferrode_component::NIC, "")
            .map(kernel::client)
            .and_then(|mut session| session.driver_signal())
            .map(|signal| signal.selector());
        let alive = kept.is_ok_and(|signal| kernel::kernel().submit(signal).is_ok());
        let closed = env.close(ferrode_component::NIC, "").is_ok();
        let dead = kept.is_ok_and(|signal| kernel::kernel().submit(signal).is_err());
        check(
            &mut log,
            "keeper: a closed NIC session's copy of the driver's signal is dead",
            alive && closed && dead,
        );
        if !(alive && closed && dead) {
            let _ = log.write_fmt(format_args!(
                "keeper: alive before close {}, closed {}, dead after {}",
                alive, closed, dead
            ));
        }
        return 0;
    }
    if mode == Some("bystander") {
        // Ends without taking its NIC session's streams: the composer
        // closes the session for it, which must give the NIC back, or
        // `second` could never have one.
        let Ok(mut log) = env.log() else { return exit_code::FAILURE };
        let _ = log.write("bystander: ends without taking its NIC session's streams");
        return 0;
    }
    let Some((mut log, wake, nic, mut phy)) = sessions(&env) else { return exit_code::FAILURE };
    let mac = EthernetAddress(nic.mac_address());
    check(
        &mut log,
        "the gateway answers ARP through the NIC session's streams",
        arp_exchange(&env, &mut phy, mac, wake),
    );
    if mode == Some("holder") {
        // Ends holding its streams and a packet, as a client that fails
        // does: the composer destroys it and the driver reclaims the
        // session, or `second` could never have one.
        let (mut tx, rx) = phy.into_ends();
        let held = tx.alloc(64);
        check(&mut log, "holder: ends holding its streams and a packet", held.is_ok());
        // Dropped without handing back or releasing anything.
        let _ = (tx, rx, held);
        return 0;
    }
    check(
        &mut log,
        "closing while holding the streams is refused (InUse)",
        env.close(ferrode_component::NIC, "") == Err(SessionError::InUse),
    );
    check(
        &mut log,
        "close_nic hands the streams back and closes the session",
        env.close_nic("", nic, phy).is_ok(),
    );
    0
}

/// Whether every free slot of `tx`, at its whole size, holds only zeros
/// (all allocated at once, looked at, and released).
fn erased<const SLOTS: usize, const QUEUE: usize, N: Notify>(
    tx: &mut Source<'_, SLOTS, QUEUE, N>,
) -> bool {
    let size = tx.slot_size();
    let packets: [_; SLOTS] = core::array::from_fn(|_| tx.alloc(size).ok());
    let erased = packets.iter().flatten().all(|packet| packet.payload().iter().all(|&b| b == 0));
    for packet in packets.into_iter().flatten() {
        let _ = tx.release(packet);
    }
    erased
}

fn second(env: Env) -> u32 {
    // The composer opened this NIC session when `first` exited: the driver
    // had one to give only because `first` closed its own.
    // A signal `first` did not have: this client's capabilities lie at
    // other selectors than `first`'s did, so a stream signal raised in the
    // wrong component's space reaches someone else (with the same layout
    // on both sides it would reach the driver by chance).
    let _spare = kernel::kernel().create_signal();
    let Some((mut log, wake, nic, phy)) = sessions(&env) else { return exit_code::FAILURE };
    check(&mut log, "the next client has a NIC session", true);
    let (mut tx, rx) = phy.into_ends();
    check(&mut log, "the transmit slots hold nothing `first` left in them", erased(&mut tx));
    // `first` sent ARP requests (in all but one mode); they are its
    // session's, not this one's.
    check(
        &mut log,
        "the session's counters start at its opening: no frame sent yet",
        nic.counters().tx_frames == 0,
    );
    let mut phy = NicPhy::new(tx, rx, nic.mac_address());
    let mac = EthernetAddress(nic.mac_address());
    check(
        &mut log,
        "the gateway answers ARP through the restarted streams",
        arp_exchange(&env, &mut phy, mac, wake),
    );
    check(
        &mut log,
        "acknowledgements alone wake the driver for frames that waited in the controller",
        acknowledgements_wake_driver(&env, phy, mac, wake),
    );
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = log.write_fmt(format_args!("nic-reopen: {} checks failed", failed));
    failed
}
