//! The Block driver component (the board's SD card) and the client side
//! of its session.
//!
//! The driver reaches the card's host controller only through the window
//! its IO_MEM route grants ("sd"). A session has one packet stream
//! ([`ferrode_packet_stream`]) in memory the driver sets up when the
//! session opens: the client is its source, the driver its sink. Each
//! packet is one request, a [`Request`] header and the blocks
//! ([`ferrode_component::block`]): the client writes the header (and a
//! write's blocks) and submits it; the driver's data thread (`block-data`)
//! checks the header against the packet and the card, moves the blocks
//! between the packet and the card (the one copy the controller's FIFO
//! needs anyway), writes the outcome into the header and acknowledges the
//! packet. Only control calls (the card's size, the signals) are RPCs
//! through UTCBs.
//!
//! The data thread is woken by one signal, which every client raises
//! (through its session's own copy of it) when it submitted packets; a
//! client is woken by its own, which the driver raises when it
//! acknowledged them. The controller is polled: a transfer runs from its
//! command to its last word without a wait on an interrupt.
//!
//! Up to four sessions are open at once, each with its own stream, as
//! long as no two reach one block (a partition each, or the whole card
//! alone); the data thread serves them all, and lends the card to the
//! root for the moment it reads a partition table. A client that closes
//! its session with [`Env::close_block`] hands its stream end back, and
//! the driver restarts the stream for the slot's next client. A client
//! that is gone, however it left its end, is the parent's to report: its
//! session is reclaimed ([`Root::reclaim`]).
//!
//! A session belongs to the card it was opened on. Once that card is
//! gone (the slot reports it taken out, or it no longer answers at its
//! address: exchanged unseen), every request of the session is
//! [`BlockStatus::MediumChanged`], and none reaches the card in the slot,
//! which may be another with other partitions. The client moves the
//! session to the card in the slot with [`Block::attach`]
//! ([`BlockClient::attach`]), which identifies that card and finds the
//! session's part on it again; or it closes the session.

use core::cell::RefCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_component::block::{
    BLOCK_SIZE, BlockStatus, HEADER_BYTES, Operation, PARTITIONS, Request, partition, set_status,
    status_of,
};
use ferrode_component::{Block, BlockInfo, Root, Session, SessionArgs, SessionError, SignalSource};
use ferrode_ipc::{CapSel, Capability, RpcObject};
use ferrode_packet_stream::{AllocError, PacketStream, ReceiveError, Refused, Sink, Source};
use static_cell::StaticCell;

use super::Env;
use super::lending::{self, DataThreadEnds, Raises, to_sink, to_source};
use super::wake::Wake;
use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};
use crate::platform::devices;

/// Blocks one packet carries at most.
const BLOCKS_PER_PACKET: usize = 8;
/// Bytes per packet slot: a header and its blocks.
const SLOT: usize = HEADER_BYTES + BLOCKS_PER_PACKET * BLOCK_SIZE;
/// Slots in the stream.
const SLOTS: usize = 4;
/// Entries per ring (the slots: the acknowledgement ring of a
/// well-behaved peer is never full).
const QUEUE: usize = 4;

/// Sessions at once: one per primary partition of the card's MBR, or the
/// whole card alone (sessions may not overlap).
const SESSIONS: usize = PARTITIONS as usize;

/// Each session's signal at its client, raised by the driver (in the
/// driver's space).
static TO_CLIENT: [Wake; SESSIONS] = [const { Wake::new() }; SESSIONS];
/// Each session's copy of the driver's signal, raised by the client (in
/// the client's space).
static TO_DRIVER: [Wake; SESSIONS] = [const { Wake::new() }; SESSIONS];

/// What the client's end of session `slot` raises.
fn client_raises(slot: usize) -> Raises {
    Raises::new(&TO_DRIVER[slot])
}

/// What the driver's end of session `slot` raises.
fn driver_raises(slot: usize) -> Raises {
    Raises::new(&TO_CLIENT[slot])
}

type Stream = PacketStream<SLOTS, QUEUE>;
/// The stream's source (the client's end).
type BlockSource = Source<'static, SLOTS, QUEUE, Raises>;
type BlockSink = Sink<'static, SLOTS, QUEUE, Raises>;

/// The stream's packet memory, word-aligned (each slot is a multiple of
/// four bytes, so the blocks after each header are word-aligned too: the
/// controller's FIFO moves words).
#[repr(C, align(4))]
struct Buffer([u8; SLOTS * SLOT]);
const _: () = assert!(SLOT.is_multiple_of(4) && HEADER_BYTES.is_multiple_of(4));

/// Each session slot's stream and its packet memory.
static STREAMS: [ConstStaticCell<Stream>; SESSIONS] =
    [const { ConstStaticCell::new(PacketStream::new()) }; SESSIONS];
static BUFFERS: [ConstStaticCell<Buffer>; SESSIONS] =
    [const { ConstStaticCell::new(Buffer([0; SLOTS * SLOT])) }; SESSIONS];

/// A client's end, which only this module moves between threads: from
/// the root that made it to the session's client ([`Env::block`]) and
/// back ([`Env::close_block`]).
struct ClientEnd(BlockSource);

/// The driver's end of a session, which only this module moves between
/// threads: the root and the driver's data thread (the part of the card
/// the session reaches is its slot's [`PARTS`] entry).
struct DriverEnd {
    sink: BlockSink,
}

/// The blocks a session reaches: `count` of them from `start` on, which
/// the session numbers from 0.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Window {
    start: u32,
    count: u32,
}

impl Window {
    /// Whether the two share a block.
    fn overlaps(self, other: Self) -> bool {
        let end = |window: Self| u64::from(window.start) + u64::from(window.count);
        u64::from(self.start) < end(other) && u64::from(other.start) < end(self)
    }
}

// SAFETY: the ends' state is atomics in the stream and plain data, tied
// to no thread; they are not `Send` only so that the client cannot pass
// them on (`Raises`). The moves this type makes are the session's own:
// root to client and client to root, through `CLIENT_ENDS`, under
// `without_interrupts`.
unsafe impl Send for ClientEnd {}
// SAFETY: as for `ClientEnd`; this one moves between the root and the data
// thread, both the driver's, through `DRIVER_ENDS`.
unsafe impl Send for DriverEnd {}

/// Each session's client end: to the session's client ([`Env::block`]),
/// and back from it ([`Env::close_block`]).
static CLIENT_ENDS: [lending::ClientEnds<ClientEnd>; SESSIONS] =
    [const { lending::ClientEnds::new() }; SESSIONS];
/// Each session's driver end: to the data thread, and back when the root
/// asks.
static DRIVER_ENDS: [DataThreadEnds<DriverEnd>; SESSIONS] =
    [const { DataThreadEnds::new() }; SESSIONS];

/// The session object of each slot (see [`lending::SessionObjects`]).
static SESSION_OBJECTS: lending::SessionObjects<SESSIONS> = lending::SessionObjects::new();

// ----- the driver -----------------------------------------------------------

/// What a session slot's open session reaches: a part of a card.
struct Part {
    /// What the session asked for: 0 the whole card, N its partition N.
    quota: AtomicU32,
    start: AtomicU32,
    /// Blocks; 0 while no session is open in the slot.
    count: AtomicU32,
    /// The card it is on ([`Card::medium`]).
    medium: AtomicU32,
    /// Whether that card took writes when the part was set (its
    /// write-protect tab is on the card: it changes only with the card).
    writable: AtomicBool,
}

impl Part {
    const fn new() -> Self {
        Self {
            quota: AtomicU32::new(0),
            start: AtomicU32::new(0),
            count: AtomicU32::new(0),
            medium: AtomicU32::new(0),
            writable: AtomicBool::new(false),
        }
    }

    fn window(&self) -> Window {
        Window {
            start: self.start.load(Ordering::Acquire),
            count: self.count.load(Ordering::Acquire),
        }
    }

    fn set(&self, quota: u32, window: Window, medium: u32, writable: bool) {
        self.quota.store(quota, Ordering::Release);
        self.start.store(window.start, Ordering::Release);
        self.medium.store(medium, Ordering::Release);
        self.writable.store(writable, Ordering::Release);
        self.count.store(window.count, Ordering::Release);
    }
}

/// Each session slot's part. Only the root's thread changes them: when a
/// session opens or closes, and at its [`Block::attach`], then holding
/// the card; the data thread reads a slot's while holding the card, so
/// that a request meets one whole part.
static PARTS: [Part; SESSIONS] = [const { Part::new() }; SESSIONS];

/// Whether `window`, on the card of `medium`, shares a block with the part
/// of an open session other than slot `except`'s. Parts on a card that is
/// gone share none with it.
fn overlaps_open(window: Window, medium: u32, except: Option<usize>) -> bool {
    PARTS.iter().enumerate().any(|(slot, part)| {
        Some(slot) != except
            && part.count.load(Ordering::Acquire) != 0
            && part.medium.load(Ordering::Acquire) == medium
            && part.window().overlaps(window)
    })
}

/// The part a session asking for `quota` gets on the card in the slot,
/// identified if need be, and the card's medium and writability; beside
/// the open sessions but slot `except`'s (`OutOfSessions` if it would
/// share a block with one).
fn part_for(
    card: &mut Card,
    quota: u32,
    except: Option<usize>,
) -> Result<(Window, u32, bool), SessionError> {
    card.ready()?;
    let window = window_of(&mut card.sd, quota)?;
    if overlaps_open(window, card.medium, except) {
        return Err(SessionError::OutOfSessions);
    }
    Ok((window, card.medium, !card.sd.write_protected()))
}

/// The card, once it came up.
static CARD: StaticCell<Card> = StaticCell::new();

/// The card in the slot, and which one it is.
struct Card {
    sd: devices::SdCard,
    /// Counts the times the driver identified a card: a session opened
    /// at another count than this was opened on a card that is gone.
    medium: u32,
}

impl Card {
    /// The card in the slot, ready for a new session: the one identified,
    /// if it still answers; else the one there now, identified (a new
    /// medium). `Denied` with the slot empty or a card the driver cannot
    /// use.
    fn ready(&mut self) -> Result<(), SessionError> {
        if self.sd.identified() {
            // A card exchanged unseen is forgotten here.
            let _ = self.sd.check();
            if self.sd.identified() {
                return Ok(());
            }
        }
        self.medium = self.medium.wrapping_add(1);
        self.sd.identify().map_err(|_| SessionError::Denied)?;
        if self.sd.block_count() == 0 {
            return Err(SessionError::Denied);
        }
        Ok(())
    }

    /// How a request on the card went: a failure that made the driver
    /// forget the card (taken out, or exchanged unseen), or one on a card
    /// forgotten already, is a medium change.
    fn outcome<E>(&mut self, done: Result<(), E>) -> BlockStatus {
        match done {
            Ok(()) => BlockStatus::Ok,
            Err(_) if !self.sd.identified() => BlockStatus::MediumChanged,
            Err(_) => BlockStatus::DeviceError,
        }
    }
}

/// The card, lent to whichever thread of the driver uses it (the data
/// thread serving packets, the root reading the partition table), and
/// here between.
static CARD_HELD: lending::Handoff<CardRef> = lending::Handoff::new();

/// The card as the driver's threads lend it to each other.
struct CardRef(&'static mut Card);

// SAFETY: the card's register window is this component's, granted by its
// IO_MEM route, and the card passes only between this component's two
// threads (root and data thread) through `CARD_HELD`: one uses it at a
// time.
unsafe impl Send for CardRef {}

/// Rounds a thread of the driver yields, at its priority, to the other
/// that has the card before it gives up.
const CARD_ROUNDS: usize = 1024;

/// Runs `f` on the card once the other thread of the driver is done with
/// it; `None` if the card is not up, or the other thread keeps it.
fn with_card<R>(f: impl FnOnce(&mut Card) -> R) -> Option<R> {
    for _ in 0..CARD_ROUNDS {
        if let Some(CardRef(card)) = CARD_HELD.take() {
            let result = f(card);
            CARD_HELD.put(CardRef(card));
            return Some(result);
        }
        kernel().yield_now();
    }
    None
}

/// At the first session: the component's IO_MEM window for "sd", and the
/// card behind it, identified, then lent through [`CARD_HELD`].
fn bring_up() -> Result<(), SessionError> {
    let window = super::devices::granted_window("sd")?;
    // SAFETY: this is the Block driver component, and `window` is what its
    // IO_MEM session for "sd" granted it; the root calls this until it
    // succeeds once (`BlockRoot::session`), and a failed call's driver is
    // gone with it: one driver at a time.
    let card = unsafe { devices::sd_card(&window) }
        .ok_or(SessionError::Denied)?
        .map_err(|_| SessionError::Denied)?;
    if card.block_count() == 0 {
        return Err(SessionError::Denied);
    }
    let card = CARD.try_init(Card { sd: card, medium: 0 }).ok_or(SessionError::OutOfSessions)?;
    CARD_HELD.put(CardRef(card));
    Ok(())
}

/// The blocks a session of quota `quota` reaches: the whole card for 0, or
/// the primary partition `quota` (1 to 4) of the MBR in the card's first
/// block, as it reads now. `Denied` for another quota, a partition the
/// table does not have, or one that does not lie on the card.
fn window_of(card: &mut devices::SdCard, quota: u32) -> Result<Window, SessionError> {
    let blocks = card.block_count();
    if quota == 0 {
        return Ok(Window { start: 0, count: blocks });
    }
    if quota > PARTITIONS {
        return Err(SessionError::Denied);
    }
    let mut mbr = [[0u8; BLOCK_SIZE]; 1];
    card.read(0, &mut mbr).map_err(|_| SessionError::Denied)?;
    match partition(&mbr[0], quota) {
        Some((start, count)) if start.checked_add(count).is_some_and(|end| end <= blocks) => {
            Ok(Window { start, count })
        }
        _ => Err(SessionError::Denied),
    }
}

/// The data thread's signal, as a selector in the driver's space (the
/// clients' stream notifications raise it, through their sessions'
/// copies, [`DRIVER_COPIES`]).
static DRIVER_SIGNAL: Wake = Wake::new();
/// Each session slot's copy of [`DRIVER_SIGNAL`] in the driver's space,
/// minted with a badge of its own at the slot's first session: the slot's
/// clients get copies of it, which closing the session takes back without
/// touching the other sessions'. (A plain copy of the signal into the
/// driver's own space would be the driver's own capability again, and
/// revoking its copies would take every open session's.)
static DRIVER_COPIES: [Wake; SESSIONS] = [const { Wake::new() }; SESSIONS];

crate::thread_stack!(static DATA_MEMORY: 4096);
static DATA_UTCB: super::runtime::UtcbCell = super::runtime::utcb();

/// Every session slot, as [`due_slots`] marks them.
const ALL_SLOTS: u32 = (1 << SESSIONS) - 1;

/// The session slots a wake-up of the data thread is for (bit `n` for slot
/// `n`): the ones whose clients raised their copies of its signal (badge
/// `n + 1`), or all of them when the driver raised its own (badge 0: the
/// root handing an end over or asking for one back, or a round the root
/// held the card for).
fn due_slots(signalled: kernel::Signalled) -> u32 {
    if signalled.from(0) { ALL_SLOTS } else { (signalled.badges >> 1) & ALL_SLOTS }
}

/// The data thread's start: its signal, then, whenever a client raises
/// it, the submitted packets of the sessions whose clients raised it; a
/// session's end goes back when the root, closing the session, asks for
/// it.
extern "C" fn data_start(_: usize) -> ! {
    let k = kernel();
    let Ok((_, selector)) = k.create_signal() else { k.exit_current() };
    DRIVER_SIGNAL.set(selector);
    let mut ends: [Option<DriverEnd>; SESSIONS] = [const { None }; SESSIONS];
    let mut due = ALL_SLOTS;
    loop {
        for (slot, end) in ends.iter_mut().enumerate() {
            let handoff = &DRIVER_ENDS[slot];
            if end.is_none() {
                *end = handoff.to_thread.take();
            }
            // The root asks only for an end it gave (and raises the signal
            // after asking, so the wait returns at once and the request is
            // seen); claiming the request without the end would leave it
            // waiting.
            if end.is_some()
                && handoff.asked_back()
                && let Some(end) = end.take()
            {
                handoff.hand_back(end);
            }
        }
        if ends.iter().any(Option::is_some) {
            // The root reading a partition table has the card for a
            // moment: the packets wait for it.
            let served = with_card(|card| {
                for (slot, end) in ends.iter_mut().enumerate() {
                    if let Some(end) = end
                        && due & 1 << slot != 0
                    {
                        serve(card, slot, end);
                    }
                }
            });
            if served.is_none() {
                // Not this round: the next, at once (no client raises the
                // signal again for packets it submitted already).
                wake_data_thread();
            }
        }
        match k.wait_signal_badges(selector) {
            Ok(signalled) => due = due_slots(signalled),
            Err(_) => k.exit_current(),
        }
    }
}

/// Carries out the submitted requests of one session, each acknowledged
/// with its outcome in its header, until its submit ring is empty.
fn serve(card: &mut Card, slot: usize, end: &mut DriverEnd) {
    let DriverEnd { sink } = end;
    let part = &PARTS[slot];
    let (window, medium) = (part.window(), part.medium.load(Ordering::Acquire));
    loop {
        match sink.try_take() {
            Ok(mut packet) => {
                let status = carry_out(card, window, medium, packet.payload_mut());
                set_status(packet.payload_mut(), status);
                // A full acknowledgement ring (a client that makes it look
                // full): the slot is given up, not kept held, which would
                // refuse every restart of the stream.
                if let Err(refused) = sink.acknowledge(packet) {
                    let _ = sink.discard(refused.into_packet());
                }
            }
            Err(ReceiveError::Empty) => return,
            // A descriptor outside the buffer or its slots: dropped and
            // counted by the stream.
            Err(ReceiveError::Rejected { .. }) => {}
        }
    }
}

/// One request, in `packet`: checked against the packet, the card the
/// session was opened on (`medium`) and the session's window of it, then
/// carried out there.
fn carry_out(card: &mut Card, window: Window, medium: u32, packet: &mut [u8]) -> BlockStatus {
    let (request, length) = match Request::decode(packet) {
        Ok(decoded) => decoded,
        Err(status) => return status,
    };
    if medium != card.medium {
        return BlockStatus::MediumChanged;
    }
    if !request.fits(window.count) {
        return BlockStatus::OutOfRange;
    }
    // Within the window, which lies on the card: no overflow.
    let first = window.start + request.block;
    let (blocks, _) = packet[HEADER_BYTES..length].as_chunks_mut::<BLOCK_SIZE>();
    let done = match request.operation {
        Operation::Read => card.sd.read(first, blocks),
        // Asked here as well as by the driver, whose error does not tell
        // this one from others on every board.
        Operation::Write if card.sd.write_protected() => return BlockStatus::WriteProtected,
        Operation::Write => card.sd.write(first, blocks),
    };
    card.outcome(done)
}

/// Raises the data thread's signal (once the thread made it).
fn wake_data_thread() {
    DRIVER_SIGNAL.raise();
}

/// One Block session object: session slot `slot`'s.
struct BlockSession {
    slot: usize,
}

impl Session for BlockSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok((SLOTS * SLOT) as u32)
    }
}

impl Block for BlockSession {
    fn info(&mut self) -> Result<BlockInfo, SessionError> {
        let part = &PARTS[self.slot];
        match part.count.load(Ordering::Acquire) {
            0 => Err(SessionError::OutOfSessions),
            block_count => Ok(BlockInfo {
                block_count,
                max_blocks: BLOCKS_PER_PACKET as u32,
                writable: part.writable.load(Ordering::Acquire),
            }),
        }
    }

    fn attach(&mut self) -> Result<BlockInfo, SessionError> {
        let part = &PARTS[self.slot];
        let quota = part.quota.load(Ordering::Acquire);
        with_card(|card| {
            let (window, medium, writable) = part_for(card, quota, Some(self.slot))?;
            part.set(quota, window, medium, writable);
            Ok::<_, SessionError>(())
        })
        .ok_or(SessionError::OutOfSessions)??;
        self.info()
    }

    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let (signal, _) = super::client_signal(signal)?;
        // The session's previous signal is not needed any more (unless
        // the client gave it to another of its sessions too).
        TO_CLIENT[self.slot].replace_dropping_among(signal, &TO_CLIENT);
        Ok(())
    }

    fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError> {
        DRIVER_COPIES[self.slot]
            .get()
            .map(Capability::from_selector)
            .ok_or(SessionError::OutOfSessions)
    }
}

static BLOCK_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Block, BlockSession>>>; SESSIONS] =
    [const { ConstStaticCell::new(None) }; SESSIONS];
static BLOCK_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, BlockRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The two ends of a session's stream.
struct Ends {
    client: ClientEnd,
    driver: DriverEnd,
}

/// Slot `slot`'s stream, set up at the slot's first session: the memory
/// is the driver's statics, lent for the image's life; later sessions
/// restart it. `OutOfSessions` once the memory is taken.
fn split_stream(slot: usize) -> Result<Ends, SessionError> {
    let (Some(stream), Some(buffer)) = (STREAMS[slot].try_take(), BUFFERS[slot].try_take()) else {
        return Err(SessionError::OutOfSessions);
    };
    let (source, sink) = stream
        .split(&mut buffer.0, SLOT, to_sink(client_raises(slot)), to_source(driver_raises(slot)))
        .map_err(|_| SessionError::OutOfSessions)?;
    Ok(Ends { client: ClientEnd(source), driver: DriverEnd { sink } })
}

/// Slot `slot`'s copy of the driver's signal, made at its first session.
fn driver_copy(slot: usize) -> Result<CapSel, SessionError> {
    if let Some(copy) = DRIVER_COPIES[slot].get() {
        return Ok(copy);
    }
    let k = kernel();
    // The data thread makes the signal when it first runs, which at the
    // first session may not have happened yet: it runs at this thread's
    // priority, so yielding lets it.
    let signal = (0..CARD_ROUNDS)
        .find_map(|_| {
            let signal = DRIVER_SIGNAL.get();
            if signal.is_none() {
                k.yield_now();
            }
            signal
        })
        .ok_or(SessionError::OutOfSessions)?;
    // Badges 1 to `SESSIONS`, one per slot (0 is the signal's own).
    let copy = k.mint_signal(signal, slot as u8 + 1).map_err(|_| SessionError::OutOfSessions)?;
    DRIVER_COPIES[slot].set(copy);
    Ok(copy)
}

/// The Block driver's root: up to [`SESSIONS`] sessions at once, in a
/// [`Pool`](super::Pool), each with a packet stream of its own (set up at
/// the slot's first session) and a part of the card no other open
/// session reaches. Closing a session needs both its ends back (the
/// client's from [`Env::close_block`], the driver's from its data thread)
/// and restarts its stream for the slot's next session. A live client
/// that keeps its end keeps the session: without memory protection the
/// buffer can be lent again only once nobody can write it.
///
/// A session's quota is the part of the card it reaches (Genode's
/// part_blk, in the driver): 0 the whole card, 1 to 4 that primary
/// partition of the card's MBR, whose blocks the session numbers from 0;
/// a route `raw: "Block" "data" => sd quota 2` confines its client to the
/// second partition. The table is read when the session opens (only a
/// whole-card session can change it, and none opens beside another).
/// A session whose part overlaps an open session's is `OutOfSessions`:
/// two clients never reach one block.
struct BlockRoot {
    sessions: super::Pool<dyn Block, SESSIONS>,
    /// Each slot's ends while no session holds them.
    idle: [Option<Ends>; SESSIONS],
    /// Whether the card came up (at the first session that got so far).
    card_up: bool,
}

impl Root for BlockRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        if args.quota > PARTITIONS {
            return Err(SessionError::Denied);
        }
        if !self.card_up {
            bring_up()?;
            self.card_up = true;
        }
        let (window, medium, writable) = with_card(|card| part_for(card, args.quota, None))
            .ok_or(SessionError::OutOfSessions)??;
        let (slot, cap) = self.sessions.open(&BLOCK_OBJECTS, |slot| BlockSession { slot })?;
        let ends = match self.idle[slot].take() {
            Some(ends) => Ok(ends),
            None => split_stream(slot),
        };
        let (ends, _) = match (ends, driver_copy(slot)) {
            (Ok(ends), Ok(copy)) => (ends, copy),
            (ends, copy) => {
                self.idle[slot] = ends.ok();
                let _ = self.sessions.close(cap);
                return Err(copy.err().unwrap_or(SessionError::OutOfSessions));
            }
        };
        PARTS[slot].set(args.quota, window, medium, writable);
        SESSION_OBJECTS.set(slot, super::own_entry(cap.selector()));
        CLIENT_ENDS[slot].give(ends.client);
        DRIVER_ENDS[slot].to_thread.put(ends.driver);
        // Wake the data thread: it takes its end.
        wake_data_thread();
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.sessions.slot_of(session).ok_or(SessionError::UnknownSession)?;
        // The client's end: handed back by `Env::close_block`, or never
        // taken. Where it came from is where a refused close puts it back.
        let (client, found) = CLIENT_ENDS[slot].take_for_close().ok_or(SessionError::InUse)?;
        let put_back = |end| CLIENT_ENDS[slot].put_back(end, found);
        let Some(mut driver) = DRIVER_ENDS[slot].take_back(wake_data_thread) else {
            put_back(client);
            return Err(SessionError::InUse);
        };
        let mut client = client;
        if client.0.restart(&mut driver.sink).is_err() {
            // A packet handle is still out: the session goes on, the
            // driver serving it as before.
            put_back(client);
            DRIVER_ENDS[slot].to_thread.put(driver);
            wake_data_thread();
            return Err(SessionError::InUse);
        }
        self.end_session(session, slot, Ends { client, driver })
    }

    /// The session's client was destroyed, maybe holding its end and
    /// packets: they are lost with it, so the driver replaces the source
    /// ([`Sink::replace_source`]) and the stream starts afresh for the next
    /// session, whatever the client left in it. Only the parent reclaims,
    /// and only after the destruction; a live client closes.
    fn reclaim(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.sessions.slot_of(session).ok_or(SessionError::UnknownSession)?;
        // An end the client handed back or never took: dropped, replaced
        // like the one it held.
        CLIENT_ENDS[slot].drop_left();
        let DriverEnd { mut sink } =
            DRIVER_ENDS[slot].take_back(wake_data_thread).ok_or(SessionError::InUse)?;
        // SAFETY: the parent destroyed the client before reclaiming its
        // session, so its stream end and packet handles are never used
        // again; no other component ever held them (the end passes only
        // between this root and the session's client, which cannot pass
        // it on: it is not `Send`, see `Raises`).
        let Ok(source) = (unsafe { sink.replace_source(to_sink(client_raises(slot))) }) else {
            // The driver's own end holds a packet (its data thread hands
            // it back holding none): serve on, refuse.
            DRIVER_ENDS[slot].to_thread.put(DriverEnd { sink });
            wake_data_thread();
            return Err(SessionError::InUse);
        };
        // The client's selector for the driver's signal, in its space,
        // which is gone.
        let _ = TO_DRIVER[slot].take();
        self.end_session(
            session,
            slot,
            Ends { client: ClientEnd(source), driver: DriverEnd { sink } },
        )
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

impl BlockRoot {
    /// Closes `session`, of slot `slot`, with both ends back: the stream
    /// waits, restarted, for the slot's next session.
    fn end_session(
        &mut self,
        session: Capability<dyn Session>,
        slot: usize,
        ends: Ends,
    ) -> Result<(), SessionError> {
        self.sessions.close(session)?;
        PARTS[slot].count.store(0, Ordering::Release);
        // The client's signal: a closed session wakes no one (the client's
        // other sessions that use it still do).
        TO_CLIENT[slot].take_dropping_among(&TO_CLIENT);
        if let Some(copy) = DRIVER_COPIES[slot].get() {
            // And no copy it held wakes the driver any more.
            let _ = kernel().revoke_copies(copy);
        }
        self.idle[slot] = Some(ends);
        Ok(())
    }
}

/// The Block driver component's root, for `compose!`: `provides: "Block",
/// root: ferrode_board::component::block_root`, with the route `sd:
/// "IO_MEM" "sd" => io_mem`, which grants it the SD card controller's
/// registers (it has no other way to them). Starts the driver's data
/// thread at the entrypoint's priority.
pub fn block_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    DATA_MEMORY.spawn_beside(&DATA_UTCB, &entrypoint, "block-data", data_start)?;
    let root =
        BLOCK_ROOT.try_take().ok_or(KernelError::InvalidThread)?.write(RpcObject::new(BlockRoot {
            sessions: super::Pool::new(entrypoint),
            idle: [const { None }; SESSIONS],
            card_up: false,
        }));
    entrypoint.manage(root)
}

// ----- the client -----------------------------------------------------------

/// Why a Block client's read or write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// Blocks past the device's end (nothing was sent).
    OutOfRange,
    /// The driver refused or failed a request.
    Request(BlockStatus),
    /// The session's stream or signal failed (the driver ended).
    Session(SessionError),
}

impl core::fmt::Display for BlockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfRange => f.write_str("blocks past the device's end"),
            Self::Request(status) => write!(f, "block request: {status}"),
            Self::Session(error) => write!(f, "block session: {error}"),
        }
    }
}

impl core::error::Error for BlockError {}

/// A Block session's client: the device's size, and reads and writes of
/// whole blocks through the session's packet stream (each request one
/// packet of at most [`BlockInfo::max_blocks`] blocks, carried out before
/// the next is sent). Also an [`embedded_sdmmc_types::BlockDevice`], so
/// that embedded-sdmmc's FAT volume manager reads a card through it.
///
/// Neither `Send` nor `Sync`: it stays with the component the session was
/// routed to.
pub struct BlockClient {
    session: ferrode_ipc::Client<dyn Block, kernel::Transport>,
    /// The session's slot in the driver: which stream is its.
    slot: usize,
    info: BlockInfo,
    source: RefCell<BlockSource>,
    signal: CapSel,
    /// The tag of the next request's packet.
    next_tag: core::cell::Cell<u32>,
}

impl BlockClient {
    /// Blocks on the device.
    pub fn block_count(&self) -> u32 {
        self.info.block_count
    }

    /// The device's size and the most blocks per request, as the driver
    /// answers now (an RPC).
    pub fn info(&mut self) -> Result<BlockInfo, SessionError> {
        self.session.info()
    }

    /// Moves the session to the card in the slot now, after a request
    /// came back [`BlockStatus::MediumChanged`] (the card it was on was
    /// taken out or exchanged): its part is found again on that card, and
    /// [`BlockClient::block_count`] is that part's from now on. Anything
    /// the client knew of the card that was (a file system, say) is to be
    /// read anew. See [`Block::attach`] for the errors.
    pub fn attach(&mut self) -> Result<BlockInfo, SessionError> {
        self.info = self.session.attach()?;
        Ok(self.info)
    }

    /// Reads `blocks.len()` blocks from `start` on into `blocks`.
    pub fn read(&self, start: u32, blocks: &mut [[u8; BLOCK_SIZE]]) -> Result<(), BlockError> {
        self.read_each(start, blocks.len(), |i, data| blocks[i].copy_from_slice(data))
    }

    /// Writes `blocks` to the device from `start` on.
    pub fn write(&self, start: u32, blocks: &[[u8; BLOCK_SIZE]]) -> Result<(), BlockError> {
        self.write_each(start, blocks.len(), |i| &blocks[i])
    }

    /// Reads `count` blocks from `start` on, in requests of as many as a
    /// packet carries, handing block `i` of them to `put`.
    fn read_each(
        &self,
        start: u32,
        count: usize,
        mut put: impl FnMut(usize, &[u8; BLOCK_SIZE]),
    ) -> Result<(), BlockError> {
        self.check(start, count)?;
        let mut done = 0;
        while done < count {
            let chunk = (count - done).min(self.max_blocks());
            self.request(
                Operation::Read,
                start + done as u32,
                chunk,
                |_| {},
                |data| {
                    for (i, block) in data.as_chunks::<BLOCK_SIZE>().0.iter().enumerate() {
                        put(done + i, block);
                    }
                },
            )?;
            done += chunk;
        }
        Ok(())
    }

    /// Writes `count` blocks from `start` on, block `i` of them what `get`
    /// gives, in requests of as many as a packet carries.
    fn write_each<'a>(
        &self,
        start: u32,
        count: usize,
        get: impl Fn(usize) -> &'a [u8; BLOCK_SIZE],
    ) -> Result<(), BlockError> {
        self.check(start, count)?;
        let mut done = 0;
        while done < count {
            let chunk = (count - done).min(self.max_blocks());
            let fill = |data: &mut [u8]| {
                for (i, block) in data.as_chunks_mut::<BLOCK_SIZE>().0.iter_mut().enumerate() {
                    block.copy_from_slice(get(done + i));
                }
            };
            self.request(Operation::Write, start + done as u32, chunk, fill, |_| {})?;
            done += chunk;
        }
        Ok(())
    }

    fn max_blocks(&self) -> usize {
        (self.info.max_blocks as usize).clamp(1, BLOCKS_PER_PACKET)
    }

    /// `count` blocks from `start` on lie on the device.
    fn check(&self, start: u32, count: usize) -> Result<(), BlockError> {
        let count = u32::try_from(count).map_err(|_| BlockError::OutOfRange)?;
        let request = Request {
            operation: Operation::Read,
            block: start,
            count,
            status: BlockStatus::Pending,
        };
        if count == 0 || request.fits(self.info.block_count) {
            Ok(())
        } else {
            Err(BlockError::OutOfRange)
        }
    }

    /// One request of `count` blocks: a packet with its header, `fill`ed
    /// (the blocks' bytes), submitted; then its acknowledgement, whose
    /// blocks go to `drain` if the driver carried it out.
    fn request(
        &self,
        operation: Operation,
        block: u32,
        count: usize,
        fill: impl FnOnce(&mut [u8]),
        drain: impl FnOnce(&[u8]),
    ) -> Result<(), BlockError> {
        let request =
            Request { operation, block, count: count as u32, status: BlockStatus::Pending };
        match self.exchange(request.encode(), count, fill, drain)? {
            BlockStatus::Ok => Ok(()),
            status => Err(BlockError::Request(status)),
        }
    }

    /// Sends `header` as it is, in a packet with room for `blocks` blocks
    /// (zeros), and returns the status the driver acknowledged it with: for
    /// tests of the driver's checks, which must refuse any header a client
    /// makes up (`Malformed`, `OutOfRange`) and serve on.
    pub fn raw_request(
        &self,
        header: [u8; HEADER_BYTES],
        blocks: usize,
    ) -> Result<BlockStatus, BlockError> {
        if blocks > self.max_blocks() {
            return Err(BlockError::OutOfRange);
        }
        self.exchange(header, blocks, |data| data.fill(0), |_| {})
    }

    /// [`request`](Self::request)'s packet, with `header` as given.
    fn exchange(
        &self,
        header: [u8; HEADER_BYTES],
        count: usize,
        fill: impl FnOnce(&mut [u8]),
        drain: impl FnOnce(&[u8]),
    ) -> Result<BlockStatus, BlockError> {
        let mut source = self.source.borrow_mut();
        let length = HEADER_BYTES + count * BLOCK_SIZE;
        let mut packet = loop {
            match source.alloc(length) {
                Ok(packet) => break packet,
                // Slots still out from an earlier request that failed
                // half-way: they come back with their acknowledgements.
                Err(AllocError::Exhausted) => {
                    if source.reclaim() == 0 {
                        self.wait()?;
                    }
                }
                Err(_) => return Err(BlockError::Request(BlockStatus::Malformed)),
            }
        };
        let payload = packet.payload_mut();
        payload[..HEADER_BYTES].copy_from_slice(&header);
        fill(&mut payload[HEADER_BYTES..length]);
        // The tag tells this request's acknowledgement from a late one of
        // an earlier request that was given up half-way (its wait failed).
        let tag = self.next_tag.get();
        self.next_tag.set(tag.wrapping_add(1));
        packet.set_tag(tag);
        let mut pending = Some(packet);
        while let Some(packet) = pending.take() {
            match source.submit(packet) {
                Ok(()) => {}
                Err(Refused::Full(packet)) => {
                    pending = Some(packet);
                    self.wait()?;
                }
                // Not this stream's packet: cannot be, it was just
                // allocated here.
                Err(Refused::Foreign(_)) => {
                    return Err(BlockError::Request(BlockStatus::Malformed));
                }
            }
        }
        loop {
            match source.get_acknowledged() {
                Ok(packet) if packet.tag() != tag => {
                    let _ = source.release(packet);
                }
                Ok(packet) => {
                    // The blocks, where the request put them: a driver
                    // that shortened the packet did not carry it out.
                    let status = match packet.payload().get(HEADER_BYTES..length) {
                        Some(blocks) if status_of(packet.payload()) == BlockStatus::Ok => {
                            drain(blocks);
                            BlockStatus::Ok
                        }
                        Some(_) => status_of(packet.payload()),
                        None => BlockStatus::Malformed,
                    };
                    let _ = source.release(packet);
                    return Ok(status);
                }
                Err(ReceiveError::Empty) => self.wait()?,
                // An acknowledgement of no packet in flight: dropped and
                // counted by the stream.
                Err(ReceiveError::Rejected { .. }) => {}
            }
        }
    }

    /// Until the driver raises this client's signal.
    fn wait(&self) -> Result<(), BlockError> {
        kernel()
            .wait_signal(self.signal)
            .map(|_| ())
            .map_err(|error| BlockError::Session(error.into()))
    }
}

impl embedded_sdmmc_types::BlockDevice for BlockClient {
    type Error = BlockError;

    fn read(
        &self,
        blocks: &mut [embedded_sdmmc_types::Block],
        start: embedded_sdmmc_types::BlockIdx,
    ) -> Result<(), BlockError> {
        self.read_each(start.0, blocks.len(), |i, data| blocks[i].contents.copy_from_slice(data))
    }

    fn write(
        &self,
        blocks: &[embedded_sdmmc_types::Block],
        start: embedded_sdmmc_types::BlockIdx,
    ) -> Result<(), BlockError> {
        self.write_each(start.0, blocks.len(), |i| &blocks[i].contents)
    }

    fn num_blocks(&self) -> Result<embedded_sdmmc_types::BlockCount, BlockError> {
        Ok(embedded_sdmmc_types::BlockCount(self.info.block_count))
    }
}

impl Env {
    /// The Block session of `label`, its stream attached, signalling
    /// `signal` (one of this component's own) when the driver acknowledged
    /// a request. The signal is made to watch its submitters
    /// ([`Kernel::watch_submitters`]): should the driver end, a wait on it
    /// ends with an error instead of never.
    ///
    /// [`Kernel::watch_submitters`]: ferrode_kernel::Kernel::watch_submitters
    pub fn block(&self, label: &str, signal: CapSel) -> Result<BlockClient, SessionError> {
        let cap = self.session::<dyn Block>(ferrode_component::BLOCK, label)?;
        // The stream of this session: the slot whose session object the
        // capability designates, as the kernel says, so that no server's
        // answer can hand this client another session's stream.
        let slot = SESSION_OBJECTS
            .slot_of(super::own_entry(cap.selector()))
            .ok_or(SessionError::UnknownSession)?;
        let mut session = kernel::client(cap);
        kernel().watch_submitters(signal)?;
        session.sigh(Capability::from_selector(signal))?;
        let driver = session.driver_signal()?;
        let ClientEnd(source) = CLIENT_ENDS[slot].take().ok_or(SessionError::OutOfSessions)?;
        // The end is this session's only while it is open (see `Env::nic`):
        // the size is asked after it was taken, so that the answer also
        // says the session was still open when it changed hands.
        let info = match session.info() {
            Ok(info) => info,
            Err(error) => {
                CLIENT_ENDS[slot].give(ClientEnd(source));
                return Err(error);
            }
        };
        TO_DRIVER[slot].set(driver.selector());
        Ok(BlockClient {
            session,
            slot,
            info,
            source: RefCell::new(source),
            signal,
            next_tag: core::cell::Cell::new(0),
        })
    }

    /// Closes the Block session of `label`: hands its stream end (in
    /// `client`, from [`Env::block`]) back to the driver, drops this
    /// component's copy of the driver's signal, and asks the parent to
    /// close it. The driver can then serve another client.
    pub fn close_block(&self, label: &str, client: BlockClient) -> Result<(), SessionError> {
        CLIENT_ENDS[client.slot].hand_back(ClientEnd(client.source.into_inner()));
        if let Some(driver) = TO_DRIVER[client.slot].take() {
            let _ = kernel().drop_capability(driver);
        }
        self.close(ferrode_component::BLOCK, label)
    }
}
