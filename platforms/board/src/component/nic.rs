//! The NIC driver component and the client side of its session.
//!
//! The driver reaches the board's Ethernet controller only through the
//! window its IO_MEM route grants ("ethernet"). A session has two packet
//! streams ([`ferrode_packet_stream`]) in memory the driver sets up when the
//! session opens: *transmit* (the client submits frames, the driver sends
//! and acknowledges them) and *receive* (the driver copies each frame from
//! the controller straight into a slot and submits it, the client reads it
//! in place and acknowledges it). Only control calls (MAC address, link,
//! signals, counters) are RPCs through UTCBs.
//!
//! The driver's data path runs in a thread of its own (`nic-data`), woken by
//! one signal: raised by the driver's interrupt thread (`nic-irq`, which
//! receives the controller's interrupt through the component's IRQ session
//! for "ethernet", has the controller serve it and acknowledges the
//! session) and by the client's "frames submitted / acknowledged". The
//! client is woken by its own signal, which the driver raises on "frame
//! received / acknowledged". While frames wait for a controller whose
//! transmit buffer is full, the data thread arms the controller's
//! interrupt for "a frame fits again"
//! ([`EthernetDevice::interrupt_when_transmit_ready`]) and sleeps too; it
//! polls, yielding, only a controller that cannot interrupt for that.
//!
//! One NIC session at a time (the controller has one station address); a
//! client that closes it with [`Env::close_nic`] hands its stream ends
//! back, and the driver restarts both streams for the next client.
//!
//! So the driver reaches its device only through its IO_MEM and IRQ
//! sessions: the platform brings the controller up for the holder of the
//! IO_MEM window (`devices::ethernet_port`) and registers no interrupt
//! handler of its own for it.

use core::cell::RefCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_component::SignalSource;
use ferrode_component::{Irq, Nic, NicCounters, Root, Session, SessionArgs, SessionError};
use ferrode_hal::{EthernetDevice, FRAME_OFFSET, FrameCounters, MAX_FRAME_LEN};
use ferrode_ipc::{CapSel, Capability, RpcObject};
use ferrode_packet_stream::{PacketStream, ReceiveError, Sink, Source, SourcePacket};

use super::Env;
pub use super::lending::Raises;
use super::lending::{self, DataThreadEnds, to_sink, to_source};
use super::wake::Wake;
use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};
use crate::platform::devices;

/// Bytes per packet slot (a 1514-byte frame, rounded up).
const SLOT: usize = 1536;
/// Slots per stream.
const SLOTS: usize = 16;
/// Entries per ring (at least the slots: the acknowledgement ring of a
/// well-behaved peer is never full).
const QUEUE: usize = 16;

/// Raised by the driver, at the client (in the driver's space).
static TO_CLIENT: Wake = Wake::new();
/// Raised by the client, at the driver (in the client's space).
static TO_DRIVER: Wake = Wake::new();

/// What the client's ends raise (this module makes every end).
const CLIENT_RAISES: Raises = Raises::new(&TO_DRIVER);
/// What the driver's ends raise.
const DRIVER_RAISES: Raises = Raises::new(&TO_CLIENT);

// The client's ends are neither `Send` nor `Sync` (see `Raises`): the
// build fails should they become either, as `Neither<_>` then has two
// impls that fit and the check's `_` is ambiguous.
const _: fn() = || {
    trait Neither<Which> {
        fn check() {}
    }
    struct IfSend;
    struct IfSync;
    impl<T: ?Sized> Neither<()> for T {}
    impl<T: ?Sized + Send> Neither<IfSend> for T {}
    impl<T: ?Sized + Sync> Neither<IfSync> for T {}
    <TxSource as Neither<_>>::check();
    <RxSink as Neither<_>>::check();
    <NicPhy as Neither<_>>::check();
};

/// The client's ends, which only this module moves between threads: from
/// the root that made them to the session's client ([`Env::nic`]) and
/// back ([`Env::close_nic`]).
struct ClientEnds(TxSource, RxSink);

/// The driver's ends, which only this module moves between threads: the
/// root and the driver's data thread.
struct DriverEnds(TxSink, RxSource);

// SAFETY: the ends' state is atomics in the stream and plain data, tied
// to no thread; they are not `Send` only so that the client cannot pass
// them on (`Raises`). The moves this type makes are the session's own:
// root to client and client to root, through `CLIENT_ENDS`, under
// `without_interrupts`.
unsafe impl Send for ClientEnds {}

// SAFETY: as for `ClientEnds`; these move between the root and the data
// thread, both the driver's, through `DRIVER_ENDS`.
unsafe impl Send for DriverEnds {}

type Stream = PacketStream<SLOTS, QUEUE>;
/// A stream's packet memory, lent to the stream from [`FRAME_OFFSET`]
/// bytes past a word on. `SLOT` is a multiple of four, so every packet
/// starts 2 bytes past a word, as a [`FrameBuffer`](ferrode_hal::FrameBuffer)'s
/// frame does: the Ethernet drivers' copy loops move whole words to and
/// from it, and so do smoltcp's copies of the TCP and UDP payload, which
/// begin on a word.
#[repr(C, align(4))]
struct Buffer([u8; FRAME_OFFSET + SLOTS * SLOT]);
const _: () = assert!(SLOT.is_multiple_of(4));

/// The transmit stream's source (the client's end).
pub type TxSource = Source<'static, SLOTS, QUEUE, Raises>;
type TxSink = Sink<'static, SLOTS, QUEUE, Raises>;
type RxSource = Source<'static, SLOTS, QUEUE, Raises>;
/// The receive stream's sink (the client's end).
pub type RxSink = Sink<'static, SLOTS, QUEUE, Raises>;

static TX_STREAM: ConstStaticCell<Stream> = ConstStaticCell::new(PacketStream::new());
static RX_STREAM: ConstStaticCell<Stream> = ConstStaticCell::new(PacketStream::new());
static TX_BUFFER: ConstStaticCell<Buffer> =
    ConstStaticCell::new(Buffer([0; FRAME_OFFSET + SLOTS * SLOT]));
static RX_BUFFER: ConstStaticCell<Buffer> =
    ConstStaticCell::new(Buffer([0; FRAME_OFFSET + SLOTS * SLOT]));

/// The client's ends: to the session's client ([`Env::nic`]), and back
/// from it ([`Env::close_nic`]).
static CLIENT_ENDS: lending::ClientEnds<ClientEnds> = lending::ClientEnds::new();
/// The session object of the one session slot (see
/// [`lending::SessionObjects`]).
static SESSION_OBJECT: lending::SessionObjects<1> = lending::SessionObjects::new();
/// The driver's ends: to its data thread, and back when the root asks.
static DRIVER_ENDS: DataThreadEnds<DriverEnds> = DataThreadEnds::new();

/// The controller's counters as the driver's data thread last saw them.
static COUNTERS: [AtomicU32; 7] = [const { AtomicU32::new(0) }; 7];
/// [`COUNTERS`] when the session opened: a session's counts are the
/// difference ([`snapshot`]), so that the next client does not see the
/// frames of the last. Subtracted where the counters are read, which is
/// rare, not in the data thread's every round.
static BASE: [AtomicU32; 7] = [const { AtomicU32::new(0) }; 7];

fn publish(counters: &FrameCounters) {
    let values = [
        counters.rx_frames,
        counters.tx_frames,
        counters.rx_runt,
        counters.rx_oversized,
        counters.rx_errors,
        counters.rx_overruns,
        counters.tx_errors,
    ];
    for (slot, value) in COUNTERS.iter().zip(values) {
        slot.store(value, Ordering::Relaxed);
    }
}

/// The session's counters: the controller's since the session opened.
fn snapshot() -> NicCounters {
    let [rx_frames, tx_frames, rx_runt, rx_oversized, rx_errors, rx_overruns, tx_errors] =
        core::array::from_fn(|i| {
            COUNTERS[i].load(Ordering::Relaxed).wrapping_sub(BASE[i].load(Ordering::Relaxed))
        });
    NicCounters { rx_frames, tx_frames, rx_runt, rx_oversized, rx_errors, rx_overruns, tx_errors }
}

// ----- the driver -----------------------------------------------------------

/// The data thread's signal, as a selector in the driver's space (its
/// interrupt thread submits it; the client's stream notifications too).
static DRIVER_SIGNAL: Wake = Wake::new();

type Device = devices::Ethernet;

/// The controller, once the IO_MEM window was granted and it came up.
struct DriverCell(RefCell<Option<Device>>);

// SAFETY: the cell holds a `Copy` handle whose methods serialise access to
// the controller themselves; it is set once, by the entrypoint thread,
// before the data thread starts, and only read afterwards, with interrupts
// masked around every access.
unsafe impl Sync for DriverCell {}

static DEVICE: DriverCell = DriverCell(RefCell::new(None));

fn device() -> Option<Device> {
    crate::arch::without_interrupts(|| *DEVICE.0.borrow())
}

/// On first use: the component's IO_MEM window for "ethernet", and the
/// controller behind it.
fn bring_up() -> Result<Device, SessionError> {
    if let Some(device) = device() {
        return Ok(device);
    }
    let window = super::devices::granted_window("ethernet")?;
    // SAFETY: this is the NIC driver component, and `window` is what its
    // IO_MEM session for "ethernet" granted it.
    let device = unsafe { devices::ethernet_port(&window) }
        .ok_or(SessionError::Denied)?
        .map_err(|_| SessionError::Denied)?;
    crate::arch::without_interrupts(|| *DEVICE.0.borrow_mut() = Some(device));
    // The interrupt thread may have left the line masked (see
    // `devices::irq_session`): it serves the controller and unmasks it
    // now.
    IRQ_THREAD.raise();
    Ok(device)
}

crate::thread_stack!(static DATA_MEMORY: 4096);
static DATA_UTCB: super::runtime::UtcbCell = super::runtime::utcb();
crate::thread_stack!(static IRQ_MEMORY: 2048);
static IRQ_UTCB: super::runtime::UtcbCell = super::runtime::utcb();

/// The data thread's start: its signal, then serving whenever it is
/// raised (by the interrupt thread or by the client).
extern "C" fn data_start(_: usize) -> ! {
    let k = kernel();
    let Ok((_, selector)) = k.create_signal() else { k.exit_current() };
    DRIVER_SIGNAL.set(selector);
    // Whether the controller's receive interrupt is masked (see `serve`).
    let mut receive_masked = false;
    // A receive slot kept allocated between rounds for the next frame
    // (see `serve`); given back before the ends are.
    let mut spare = None;
    // One session after another.
    loop {
        // The ends exist once a session opened; until then nothing to do.
        let DriverEnds(mut tx, mut rx) = loop {
            if let Some(ends) = DRIVER_ENDS.to_thread.take() {
                break ends;
            }
            if k.wait_signal(selector).is_err() {
                k.exit_current();
            }
        };
        let Some(mut device) = device() else { k.exit_current() };
        // The client's acknowledgements of received frames wake this
        // thread only when it is out of receive slots: a round takes them
        // when it needs a slot (`serve`), and any other wakeup would find
        // nothing to do.
        rx.signal_acknowledgements_when_exhausted(true);
        // Until the root, closing the session, asks for the ends back (it
        // raises the signal after setting the flag, so a round in progress
        // ends, the wait returns at once and the flag is seen). Taking the
        // flag claims the request: the ends go back without a wait.
        while !DRIVER_ENDS.asked_back() {
            serve(&mut device, &mut tx, &mut rx, &mut receive_masked, &mut spare);
            if k.wait_signal(selector).is_err() {
                k.exit_current();
            }
        }
        // Until the next session no one takes frames: they wait in the
        // controller, and its receive interrupt is masked meanwhile, as
        // when the client holds every slot. A level interrupt (the
        // LAN9118's) would otherwise keep the interrupt thread busy at the
        // driver's priority for as long as a frame waits, and starve the
        // composer that is to open the next session. The next session's
        // first round unmasks it.
        if !receive_masked {
            device.set_receive_interrupt(false);
            receive_masked = true;
        }
        // The ends go back holding no packet (a restart or replacement
        // refuses ends that hold one); the spare is this stream's own.
        if let Some(packet) = spare.take() {
            let _ = rx.release(packet);
        }
        DRIVER_ENDS.hand_back(DriverEnds(tx, rx));
    }
}

/// The driver's interrupt thread: opens the component's IRQ session
/// (route `nic: "IRQ" "ethernet" => irq`; without one no interrupt ever
/// comes and the thread ends), then per interrupt has the controller's
/// interrupt served ([`devices::Ethernet::service_interrupt`]: acknowledge
/// the chip, recover from errors, move received frames where the chip
/// needs that), acknowledges the session, which opens the line again, and
/// wakes the data thread. Interrupt handlers only submit signals: the
/// IRQ service's handler masks the line and signals this thread.
///
/// Before the controller is brought up (at the first session) its line
/// means nothing, and may read asserted (a LAN9118 out of reset holds it:
/// see [`devices::irq_session`]), so until then the line stays masked after its
/// first interrupt; [`bring_up`] wakes this thread once the controller is
/// set up, and it acknowledges then.
extern "C" fn irq_start(_: usize) -> ! {
    let k = kernel();
    let Some((mut irq, signal)) = super::devices::irq_session("ethernet", &IRQ_THREAD) else {
        k.exit_current()
    };
    loop {
        if k.wait_signal(signal).is_err() {
            k.exit_current();
        }
        let Some(device) = device() else { continue };
        device.service_interrupt();
        let _ = irq.ack();
        wake_data_thread();
    }
}

/// The interrupt thread's signal, which [`bring_up`] raises when the
/// controller is set up.
static IRQ_THREAD: Wake = Wake::new();

/// Raises the data thread's signal (once the thread made it).
fn wake_data_thread() {
    DRIVER_SIGNAL.raise();
}

/// Moves frames until neither direction can: received frames into free
/// receive slots (a frame waits in the controller while the client holds
/// every slot), submitted frames to the controller. Returns when there is
/// nothing to move, or when frames wait for a controller whose transmit
/// buffer is full and which will interrupt once a frame fits again; then
/// publishes the controller's counters.
///
/// While the client holds every receive slot, the controller's receive
/// interrupt is masked (`receive_masked` says whether it is): frames wait
/// in the controller, and a controller whose receive interrupt is a level
/// (the LAN9118's) would raise it again as soon as the interrupt thread
/// cleared it, keeping this driver busy at its priority and the client,
/// which is to free a slot, from running. The client's acknowledgement wakes this
/// thread instead, and the next round unmasks it and takes the frames.
///
/// `spare` is a receive slot allocated for a frame that was not there (the
/// controller had none waiting): it waits for the next one, rather than
/// going back to the allocator and being taken again on every round.
fn serve(
    device: &mut Device,
    tx: &mut TxSink,
    rx: &mut RxSource,
    receive_masked: &mut bool,
    spare: &mut Option<SourcePacket<'static>>,
) {
    move_frames(device, tx, rx, receive_masked, spare);
    publish(&device.counters());
}

/// [`serve`]'s rounds.
fn move_frames(
    device: &mut Device,
    tx: &mut TxSink,
    rx: &mut RxSource,
    receive_masked: &mut bool,
    spare: &mut Option<SourcePacket<'static>>,
) {
    loop {
        let mut moved = false;
        // The client's acknowledgements wait in their ring (room for every
        // slot) until this end is out of slots: taking them then is one
        // look at the ring rather than one per round.
        if spare.is_none() {
            rx.reclaim_if_exhausted();
        }
        let no_slot = spare.is_none() && rx.free_slots() == 0;
        if no_slot != *receive_masked {
            device.set_receive_interrupt(!no_slot);
            *receive_masked = no_slot;
        }
        // No free slot: the frames wait in the controller.
        loop {
            let mut packet = match spare.take() {
                Some(packet) => packet,
                None => match rx.alloc(SLOT) {
                    Ok(packet) => packet,
                    Err(_) => break,
                },
            };
            match device.receive(packet.payload_mut()) {
                Ok(Some(length)) => {
                    // The device wrote at most the payload it was given.
                    let _ = packet.set_len(length);
                    // The ring holds as many entries as there are slots;
                    // the packets are this stream's own.
                    if let Err(refused) = rx.submit(packet) {
                        let _ = rx.release(refused.into_packet());
                    }
                    moved = true;
                }
                Ok(None) | Err(_) => {
                    // Still the whole slot: it was not shortened.
                    *spare = Some(packet);
                    break;
                }
            }
        }
        // The ring is looked at first: it is shared memory, the
        // controller's room a register behind a critical section.
        while tx.pending() > 0 && device.can_transmit() {
            match tx.try_take() {
                Ok(packet) => {
                    // A failed send is counted by the driver; the slot goes
                    // back either way.
                    let _ = device.transmit(packet.payload());
                    // A full acknowledgement ring (a client that makes it
                    // look full): the slot is given up, not kept held,
                    // which would refuse every restart and replacement of
                    // the stream, keeping the NIC from later clients.
                    if let Err(refused) = tx.acknowledge(packet) {
                        let _ = tx.discard(refused.into_packet());
                    }
                    moved = true;
                }
                Err(ReceiveError::Empty) => break,
                Err(ReceiveError::Rejected { .. }) => moved = true,
            }
        }
        if tx.pending() > 0 && !device.can_transmit() {
            // The controller's transmit buffer is full and drains at wire
            // speed; the client does not signal again while frames wait in
            // the ring. Sleep on the data thread's signal, which the
            // interrupt thread raises after the controller's interrupt that
            // a frame fits again. The last frame may have gone between the
            // check and the arming (an EthernetLite's done pulse came
            // before its Interrupt Enable then): look once more.
            if device.interrupt_when_transmit_ready() {
                if !device.can_transmit() {
                    return;
                }
            } else {
                // A controller that cannot interrupt for it: poll, letting
                // the threads of this priority run in between.
                kernel().yield_now();
            }
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// One NIC session object.
struct NicSession;

impl Session for NicSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok((SLOTS * SLOT) as u32)
    }
}

impl Nic for NicSession {
    fn mac_address(&mut self) -> Result<u64, SessionError> {
        let mac = bring_up()?.mac_address();
        Ok(mac.iter().fold(0, |value, &byte| value << 8 | u64::from(byte)))
    }

    fn link_up(&mut self) -> Result<bool, SessionError> {
        Ok(bring_up()?.link_up())
    }

    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let (signal, _) = super::client_signal(signal)?;
        // The one session's previous signal is not needed any more.
        TO_CLIENT.replace_dropping(signal);
        Ok(())
    }

    fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError> {
        DRIVER_SIGNAL.get().map(Capability::from_selector).ok_or(SessionError::OutOfSessions)
    }

    fn counters(&mut self) -> Result<NicCounters, SessionError> {
        Ok(snapshot())
    }
}

static NIC_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Nic, NicSession>>>; 1] =
    [ConstStaticCell::new(None)];
static NIC_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, NicRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The four ends of a session's two streams.
struct Ends {
    client: ClientEnds,
    driver: DriverEnds,
}

/// The streams, set up at the first session: the memory is the driver's
/// statics, lent for the image's life; later sessions restart them.
/// `OutOfSessions` once the memory is taken.
fn split_streams() -> Result<Ends, SessionError> {
    let (Some(tx_stream), Some(rx_stream), Some(tx_buffer), Some(rx_buffer)) =
        (TX_STREAM.try_take(), RX_STREAM.try_take(), TX_BUFFER.try_take(), RX_BUFFER.try_take())
    else {
        return Err(SessionError::OutOfSessions);
    };
    let (tx_source, tx_sink) = tx_stream
        .split(
            &mut tx_buffer.0[FRAME_OFFSET..],
            SLOT,
            to_sink(CLIENT_RAISES),
            to_source(DRIVER_RAISES),
        )
        .map_err(|_| SessionError::OutOfSessions)?;
    let (rx_source, rx_sink) = rx_stream
        .split(
            &mut rx_buffer.0[FRAME_OFFSET..],
            SLOT,
            to_sink(DRIVER_RAISES),
            to_source(CLIENT_RAISES),
        )
        .map_err(|_| SessionError::OutOfSessions)?;
    Ok(Ends { client: ClientEnds(tx_source, rx_sink), driver: DriverEnds(tx_sink, rx_source) })
}

/// The NIC driver's root: one session at a time (the controller has one
/// station address), in a one-slot [`Pool`](super::Pool). The streams are
/// set up at the first session; closing one needs every end back (the
/// client's from [`Env::close_nic`], the driver's from its data thread)
/// and restarts both streams for the next session (a client that never
/// took its ends, say one that ended before `Env::nic`, needs to give
/// nothing back). A live client that keeps its ends keeps the session:
/// without memory protection the buffers can be lent again only once
/// nobody can write them. A client that is gone, however it left its ends,
/// is the parent's to report: its session is reclaimed
/// ([`Root::reclaim`]).
struct NicRoot {
    sessions: super::Pool<dyn Nic, 1>,
    /// The ends while no session holds them (after a close).
    idle: Option<Ends>,
}

impl Root for NicRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        bring_up()?;
        // The first session sets the streams up; while the one session is
        // open their memory is taken, and `split_streams` says so
        // (`OutOfSessions`).
        let ends = match self.idle.take() {
            Some(ends) => ends,
            None => split_streams()?,
        };
        let cap = match self.sessions.open(&NIC_OBJECTS, |_| NicSession) {
            Ok((_, cap)) => cap,
            Err(error) => {
                self.idle = Some(ends);
                return Err(error);
            }
        };
        // The session counts from here: what the data thread published
        // last (its round after the last frame it moved) is the base.
        for (base, published) in BASE.iter().zip(&COUNTERS) {
            base.store(published.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        SESSION_OBJECT.set(0, super::own_entry(cap.selector()));
        CLIENT_ENDS.give(ends.client);
        DRIVER_ENDS.to_thread.put(ends.driver);
        // Wake the data thread: it takes its ends.
        wake_data_thread();
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.sessions.slot_of(session).ok_or(SessionError::UnknownSession)?;
        // The client's ends: handed back by `Env::close_nic`, or never
        // taken. Where they came from is where a refused close puts them
        // back.
        let (client, found) = CLIENT_ENDS.take_for_close().ok_or(SessionError::InUse)?;
        let put_back = |ends| CLIENT_ENDS.put_back(ends, found);
        let Some(driver) = DRIVER_ENDS.take_back(wake_data_thread) else {
            put_back(client);
            return Err(SessionError::InUse);
        };
        let mut ends = Ends { client, driver };
        let restarted = ends
            .client
            .0
            .restart(&mut ends.driver.0)
            .and_then(|()| ends.driver.1.restart(&mut ends.client.1));
        if restarted.is_err() {
            // A packet handle is still out: the session goes on, the
            // driver serving it as before.
            put_back(ends.client);
            DRIVER_ENDS.to_thread.put(ends.driver);
            wake_data_thread();
            return Err(SessionError::InUse);
        }
        self.end_session(session, ends)
    }

    /// The session's client was destroyed, maybe holding its ends and
    /// packets of both streams: they are lost with it, so the driver
    /// replaces them ([`Sink::replace_source`], [`Source::replace_sink`])
    /// and the streams start afresh for the next session, whatever the
    /// client left in them. Only the parent reclaims, and only after the
    /// destruction ([`Root::reclaim`]); a live client closes.
    fn reclaim(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.sessions.slot_of(session).ok_or(SessionError::UnknownSession)?;
        // Ends the client handed back or never took: dropped, replaced
        // like the ones it held.
        CLIENT_ENDS.drop_left();
        let DriverEnds(mut tx_sink, mut rx_source) =
            DRIVER_ENDS.take_back(wake_data_thread).ok_or(SessionError::InUse)?;
        // The new ends are wired as `split_streams` wires the first ones:
        // both are the client's, and raise the driver's signal
        // (`TO_DRIVER`, a selector in the client's space); `TO_CLIENT`, a
        // selector in the driver's space, is raised only by the driver's
        // ends.
        // SAFETY: the parent destroyed the client before reclaiming its
        // session, so its stream ends and packet handles are never used
        // again; no other component ever held them (the ends pass only
        // between this root and the session's client, which cannot pass
        // them on: they are not `Send`, see `Raises`).
        let replaced =
            unsafe { tx_sink.replace_source(to_sink(CLIENT_RAISES)) }.and_then(|tx_source| {
                // SAFETY: as above.
                unsafe { rx_source.replace_sink(to_source(CLIENT_RAISES)) }
                    .map(|rx_sink| (tx_source, rx_sink))
            });
        let Ok((tx_source, rx_sink)) = replaced else {
            // The driver's own ends hold a packet (its data thread hands
            // them back holding none): serve on, refuse.
            DRIVER_ENDS.to_thread.put(DriverEnds(tx_sink, rx_source));
            wake_data_thread();
            return Err(SessionError::InUse);
        };
        // The client's selector for the driver's signal, in its space,
        // which is gone.
        let _ = TO_DRIVER.take();
        self.end_session(
            session,
            Ends { client: ClientEnds(tx_source, rx_sink), driver: DriverEnds(tx_sink, rx_source) },
        )
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

impl NicRoot {
    /// Closes `session` with every end back: the streams wait, restarted,
    /// for the next session.
    fn end_session(
        &mut self,
        session: Capability<dyn Session>,
        ends: Ends,
    ) -> Result<(), SessionError> {
        self.sessions.close(session)?;
        // The client's signal: a closed session wakes no one.
        TO_CLIENT.take_dropping();
        if let Some(driver) = DRIVER_SIGNAL.get() {
            // And no one it held wakes the driver: the copies of the data
            // thread's signal `driver_signal` gave out die with the
            // session (the driver keeps its own; the next client gets a
            // new copy). A client that kept one could otherwise wake the
            // data thread at the driver's priority for good.
            let _ = kernel().revoke_copies(driver);
        }
        self.idle = Some(ends);
        Ok(())
    }
}

/// The NIC driver component's root, for `compose!`: `provides: "Nic",
/// root: ferrode_board::component::nic_root`, with routes `nic: "IO_MEM"
/// "ethernet" => io_mem` and `nic: "IRQ" "ethernet" => irq`, which grant
/// it the controller's registers and interrupt (it has no other way to
/// them). Starts the driver's data and interrupt threads at the
/// entrypoint's priority.
pub fn nic_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    DATA_MEMORY.spawn_beside(&DATA_UTCB, &entrypoint, "nic-data", data_start)?;
    IRQ_MEMORY.spawn_beside(&IRQ_UTCB, &entrypoint, "nic-irq", irq_start)?;
    let root = NIC_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(NicRoot { sessions: super::Pool::new(entrypoint), idle: None }));
    entrypoint.manage(root)
}

// ----- the client -----------------------------------------------------------

/// The client's ends of a NIC session's streams as a smoltcp device
/// ([`ferrode_net::StreamPhy`]): smoltcp builds each frame to send in a
/// transmit slot, which the driver copies into the controller (the one
/// copy the direct driver path makes too), and reads each received frame
/// in the receive slot the driver copied it into from the controller. The
/// session adds no copy.
pub type NicPhy = ferrode_net::StreamPhy<'static, SLOTS, QUEUE, Raises>;

/// The control side of a NIC session: station address, link state and the
/// driver's counters (RPCs through UTCBs; frames travel through [`NicPhy`]).
pub struct NicClient {
    session: ferrode_ipc::Client<dyn Nic, kernel::Transport>,
    mac_address: [u8; 6],
}

impl NicClient {
    /// The station MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac_address
    }

    /// Whether the driver's PHY reports link up.
    pub fn link_up(&mut self) -> bool {
        self.session.link_up().unwrap_or(false)
    }

    /// The driver's drop and traffic counters for this session, since it
    /// was opened (read from memory the driver publishes after each round,
    /// no RPC).
    pub fn counters(&self) -> FrameCounters {
        let counters = snapshot();
        FrameCounters {
            rx_frames: counters.rx_frames,
            tx_frames: counters.tx_frames,
            rx_runt: counters.rx_runt,
            rx_oversized: counters.rx_oversized,
            rx_errors: counters.rx_errors,
            rx_overruns: counters.rx_overruns,
            tx_errors: counters.tx_errors,
        }
    }
}

impl Env {
    /// The NIC session of `label`, its streams attached, signalling
    /// `signal` (one of this component's own) when frames arrive or sent
    /// ones are acknowledged: its control side and, for the network
    /// stack, its streams as a smoltcp device. The signal is made to watch
    /// its submitters ([`Kernel::watch_submitters`]): should the NIC
    /// driver end (a panic in any of its threads ends it), a wait on the
    /// signal ends with `ServerDead` instead of never.
    ///
    /// [`Kernel::watch_submitters`]: ferrode_kernel::Kernel::watch_submitters
    pub fn nic(&self, label: &str, signal: CapSel) -> Result<(NicClient, NicPhy), SessionError> {
        let cap = self.session::<dyn Nic>(ferrode_component::NIC, label)?;
        // Only a session of this driver has its ends: one of another
        // server of the service (whatever it answers) is none.
        SESSION_OBJECT
            .slot_of(super::own_entry(cap.selector()))
            .ok_or(SessionError::UnknownSession)?;
        let mut session = kernel::client(cap);
        kernel().watch_submitters(signal)?;
        session.sigh(Capability::from_selector(signal))?;
        let driver = session.driver_signal()?;
        let ClientEnds(tx, rx) = CLIENT_ENDS.take().ok_or(SessionError::OutOfSessions)?;
        // The ends are this session's only while it is open: had another
        // thread of this component closed it meanwhile (the root then
        // takes back ends nobody took) and the next client's session
        // opened, these would be that client's. The session is asked for
        // the station address after the ends are taken, so that the
        // answer also says it was still open when they changed hands.
        let mac = match session.mac_address() {
            Ok(mac) => mac,
            Err(error) => {
                CLIENT_ENDS.give(ClientEnds(tx, rx));
                return Err(error);
            }
        };
        // Only now is the driver's signal this client's to raise: the
        // session is open and, while this thread holds its ends, cannot
        // be closed (`InUse`). Set before, a thread of a client whose
        // session another of its threads closed meanwhile would put its
        // stale selector over the next client's.
        TO_DRIVER.set(driver.selector());
        let mac_address = core::array::from_fn(|i| (mac >> (8 * (5 - i))) as u8);
        Ok((NicClient { session, mac_address }, NicPhy::new(tx, rx, mac_address)))
    }

    /// Closes the NIC session of `label`: hands its streams (`phy`, from
    /// [`Env::nic`]) back to the driver, drops this component's copy of the
    /// driver's signal, and asks the parent to close it. The driver can
    /// then serve another client. [`SessionError::InUse`] if a packet of
    /// the streams is still held (nothing closed; the streams are the
    /// driver's from then on either way).
    pub fn close_nic(&self, label: &str, _nic: NicClient, phy: NicPhy) -> Result<(), SessionError> {
        let (tx, rx) = phy.into_ends();
        CLIENT_ENDS.hand_back(ClientEnds(tx, rx));
        if let Some(driver) = TO_DRIVER.take() {
            let _ = kernel().drop_capability(driver);
        }
        self.close(ferrode_component::NIC, label)
    }
}

const _: () = assert!(SLOT >= MAX_FRAME_LEN);
