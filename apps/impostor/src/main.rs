//! Impostor servers: a session must be the driver's to carry its streams.
//!
//! The NIC and Block driver components lend each session packet-stream
//! ends, which the client side of the board's runtime takes when the
//! client attaches (`Env::nic`, `Env::block`). Here the composer's hook
//! opens a session of the real NIC driver and one of the real Block
//! driver (the whole SD card) and holds them, their ends waiting to be
//! taken. `stray`'s routes lead to two impostors instead: `fake-nic`
//! and `fake-block` provide the same services and answer every call as
//! the drivers would (a station address, a signal to raise, a card's
//! size). `Env::nic` and `Env::block` still refuse `stray`
//! (`UnknownSession`): the ends go only to a client whose session
//! capability designates the driver's own session object, which the
//! kernel answers, not the server; a client routed elsewhere never
//! reaches another client's stream.
//!
//! A server may give several clients one session object: `fake-nic`
//! gives `first` and `stray` its one. The composer holds one capability
//! for it, which both records name. `first` closes its session and ends,
//! and `late`, due after it, starts: the composer makes capabilities for
//! it (its parent object, its component). Then `stray` closes its
//! session, and the fake root gets its own object to close. Before, the
//! first close dropped the composer's copy, one of `late`'s capabilities
//! took the slot, and the second close handed that to the fake root.
//!
//! A server can be the hostile one too: `fake-rom` gives a module's size
//! and then hands out more bytes than that from every read. `stray`'s
//! `Env::read_rom` reads the size it was given and no more (before, the
//! copy ran past the module's end in the client's buffer: a panic).
//!
//! `impostor: 0 checks failed` and exit status 0 end a good run.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_board::component::{Env, Event, LogClient, ParentEnv};
use ferrode_board::exit_code;
use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};
use ferrode_component::{
    Block, BlockInfo, Nic, NicCounters, ROM_CHUNK, Rom, Root, Session, SessionArgs, SessionError,
    SignalSource,
};
use ferrode_ipc::{Bytes, CapSel, Capability, RpcObject};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        nic: { priority: 4, stack: 8192, provides: "Nic", root: ferrode_board::component::nic_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
        fake_nic: { priority: 4, stack: 4096, provides: "Nic", root: fake_nic_root },
        fake_block: { priority: 4, stack: 4096, provides: "Block", root: fake_block_root },
        fake_rom: { priority: 4, stack: 4096, provides: "ROM", root: fake_rom_root },
    }
    clients {
        stray: { priority: 3, stack: 8192, main: stray },
        first: { priority: 3, stack: 4096, main: first },
        late: { priority: 3, stack: 4096, main: late, after: first },
    }
    routes {
        nic: "IO_MEM" "ethernet" => io_mem,
        nic: "IRQ" "ethernet" => irq,
        sd: "IO_MEM" "sd" => io_mem,
        stray: "LOG" "" => log,
        stray: "Nic" "" => fake_nic,
        stray: "Block" "" => fake_block,
        stray: "ROM" "config" => fake_rom,
        first: "Nic" "" => fake_nic,
    }
    parent: parent,
}

/// The real sessions the hook holds open, a bit each (both set: both
/// given).
static HELD: AtomicU32 = AtomicU32::new(0);

/// The composer's hook: once every server runs, a session of the real NIC
/// driver and one of the real Block driver, held for good: their ends
/// wait for a client to take them.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if event != Event::Started {
        return 0;
    }
    let mut held = 0;
    for (bit, server) in [(0b01, "nic"), (0b10, "sd")] {
        let Some(root) = env.root(server) else { return exit_code::FAILURE };
        let label = heapless::String::try_from("hook").unwrap_or_default();
        if kernel::client(root).session(SessionArgs { label, quota: 0 }).is_ok() {
            held |= bit;
        }
    }
    HELD.store(held, Ordering::Relaxed);
    0
}

/// Prints `ok:` or `FAILED:` and `what`; whether it was ok.
fn check(log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>) -> bool {
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
    ok
}

fn stray(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let k = kernel();
    let held = HELD.load(Ordering::Relaxed);
    let mut ok = check(
        &mut log,
        held == 0b11,
        format_args!("the hook holds sessions of the real NIC and Block drivers ({held:#04b})"),
    );
    let Ok((_, signal)) = k.create_signal() else { return exit_code::FAILURE };
    let nic = env.nic("", signal).map(drop);
    ok &= check(
        &mut log,
        nic == Err(SessionError::UnknownSession),
        format_args!("Env::nic through the impostor NIC server gets no ends ({nic:?})"),
    );
    let block = env.block("", signal).map(drop);
    ok &= check(
        &mut log,
        block == Err(SessionError::UnknownSession),
        format_args!("Env::block through the impostor Block server gets no ends ({block:?})"),
    );
    // The impostors did answer as drivers would: only the capability told.
    let mut fake = env.session::<dyn Nic>(ferrode_component::NIC, "").map(kernel::client);
    let mac = fake.as_mut().map_err(|e| *e).and_then(|fake| fake.mac_address());
    ok &= check(
        &mut log,
        mac == Ok(FAKE_MAC),
        format_args!("the impostor NIC answers as a driver would ({mac:x?})"),
    );
    // A ROM server handing out more than the module's size: the client
    // reads that size, into a buffer with room for it and less than a
    // chunk (a copy of the whole chunk would run past its end).
    let mut buffer = [0u8; FAKE_ROM_SIZE as usize + 28];
    let rom = env
        .read_rom("config", &mut buffer)
        .map(|text| (text.len(), text.iter().all(|&b| b == FAKE_BYTE)));
    ok &= check(
        &mut log,
        rom == Ok((FAKE_ROM_SIZE as usize, true)),
        format_args!("a ROM server's excess past the size it gave is not read ({rom:?})"),
    );
    // Its Block and ROM sessions go: the composer's space has room for
    // `late`'s capabilities then (it holds a capability per root,
    // session, client and parent object: 32 at most). Once `first`
    // closed its session of the shared object and `late` started,
    // closing stray's gives the fake root its own object.
    let freed = [ferrode_component::BLOCK, ferrode_component::ROM].map(|service| {
        env.close(service, if service == ferrode_component::ROM { "config" } else { "" })
    });
    ok &= check(
        &mut log,
        freed == [Ok(()), Ok(())],
        format_args!("the impostor Block and ROM sessions close ({freed:?})"),
    );
    STRAY_READY.store(true, Ordering::Release);
    let mut turns = 0u32;
    while !LATE_STARTED.load(Ordering::Acquire) && turns < 100_000 {
        k.yield_now();
        turns += 1;
    }
    let closed = env.close(ferrode_component::NIC, "");
    ok &= check(
        &mut log,
        closed == Ok(()) && LATE_STARTED.load(Ordering::Acquire),
        format_args!(
            "closing a session whose object another client had too closes that object ({closed:?})"
        ),
    );
    let _ = log.write_fmt(format_args!("impostor: {} checks failed", u32::from(!ok)));
    if ok { exit_code::SUCCESS } else { exit_code::FAILURE }
}

/// `stray` made room in the composer's space for `late`.
static STRAY_READY: AtomicBool = AtomicBool::new(false);
/// `late` runs (so `first` closed its session and ended).
static LATE_STARTED: AtomicBool = AtomicBool::new(false);

/// Holds a session of the impostor NIC's one object, which `stray` has
/// too, and closes it.
fn first(env: Env) -> u32 {
    let mut turns = 0u32;
    while !STRAY_READY.load(Ordering::Acquire) && turns < 100_000 {
        kernel().yield_now();
        turns += 1;
    }
    match env.close(ferrode_component::NIC, "") {
        Ok(()) => exit_code::SUCCESS,
        Err(_) => exit_code::FAILURE,
    }
}

/// Due after `first`: the capabilities the composer makes for it come
/// into its space after `first`'s close.
fn late(_env: Env) -> u32 {
    LATE_STARTED.store(true, Ordering::Release);
    exit_code::SUCCESS
}

/// The station address the impostor NIC gives.
const FAKE_MAC: u64 = 0x02_00_00_00_be_ef;

/// A signal of the impostor's own, for `driver_signal` (made at its
/// first call, on the impostor's entrypoint).
fn own_signal(signal: &mut Option<CapSel>) -> Result<Capability<dyn SignalSource>, SessionError> {
    if signal.is_none() {
        *signal = Some(kernel().create_signal().map_err(|_| SessionError::OutOfSessions)?.1);
    }
    signal.map(Capability::from_selector).ok_or(SessionError::OutOfSessions)
}

struct FakeNic {
    signal: Option<CapSel>,
}

impl Session for FakeNic {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Nic for FakeNic {
    fn mac_address(&mut self) -> Result<u64, SessionError> {
        Ok(FAKE_MAC)
    }

    fn link_up(&mut self) -> Result<bool, SessionError> {
        Ok(true)
    }

    fn sigh(&mut self, _signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        Ok(())
    }

    fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError> {
        own_signal(&mut self.signal)
    }

    fn counters(&mut self) -> Result<NicCounters, SessionError> {
        Ok(NicCounters::default())
    }
}

/// The size the impostor ROM gives its module: less than one chunk, so
/// its first read already hands out more.
const FAKE_ROM_SIZE: u32 = 100;
/// The bytes it hands out.
const FAKE_BYTE: u8 = b'x';

struct FakeRom;

impl Session for FakeRom {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Rom for FakeRom {
    fn size(&mut self) -> Result<u32, SessionError> {
        Ok(FAKE_ROM_SIZE)
    }

    /// A whole chunk from any offset, past the size it gave.
    fn read(&mut self, _offset: u32) -> Result<Bytes<ROM_CHUNK>, SessionError> {
        Bytes::from_slice(&[FAKE_BYTE; ROM_CHUNK]).map_err(|_| SessionError::OutOfSessions)
    }
}

struct FakeBlock {
    signal: Option<CapSel>,
}

impl Session for FakeBlock {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Block for FakeBlock {
    fn info(&mut self) -> Result<BlockInfo, SessionError> {
        Ok(BlockInfo { block_count: 2048, max_blocks: 8, writable: true })
    }

    fn sigh(&mut self, _signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        Ok(())
    }

    fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError> {
        own_signal(&mut self.signal)
    }

    fn attach(&mut self) -> Result<BlockInfo, SessionError> {
        self.info()
    }
}

/// An impostor's root: every session is its one session object, managed
/// at the first (by the impostor's entrypoint, so that the capability is
/// in the impostor's space).
struct FakeRoot<I: ?Sized + 'static, S: 'static> {
    entrypoint: BoardEntrypoint,
    object: Option<&'static mut RpcObject<I, S>>,
    session: Option<Capability<I>>,
}

impl<I, S> Root for FakeRoot<I, S>
where
    I: ?Sized + ferrode_ipc::Inherits<dyn Session> + ferrode_ipc::Serve<S> + 'static,
    S: 'static,
{
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let session = match (self.session, self.object.take()) {
            (Some(session), _) => session,
            (None, Some(object)) => {
                self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?
            }
            (None, None) => return Err(SessionError::OutOfSessions),
        };
        self.session = Some(session);
        Ok(session.upcast())
    }

    /// Only its own session object: anything else is not its to close.
    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        match self.session {
            Some(own) if own.selector() == session.selector() => Ok(()),
            _ => Err(SessionError::UnknownSession),
        }
    }

    fn upgrade(&mut self, _s: Capability<dyn Session>, _n: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// A static place for one object of interface `I` served by `S`.
type Place<I, S> = ConstStaticCell<Option<RpcObject<I, S>>>;

static FAKE_NIC: Place<dyn Nic, FakeNic> = ConstStaticCell::new(None);
static FAKE_NIC_ROOT: Place<dyn Root, FakeRoot<dyn Nic, FakeNic>> = ConstStaticCell::new(None);
static FAKE_BLOCK: Place<dyn Block, FakeBlock> = ConstStaticCell::new(None);
static FAKE_BLOCK_ROOT: Place<dyn Root, FakeRoot<dyn Block, FakeBlock>> =
    ConstStaticCell::new(None);

fn fake_nic_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let object = FAKE_NIC.try_take().ok_or(KernelError::InvalidThread)?;
    let object = object.insert(RpcObject::new(FakeNic { signal: None }));
    let root = FAKE_NIC_ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    let server = FakeRoot { entrypoint, object: Some(object), session: None };
    entrypoint.manage(root.insert(RpcObject::new(server)))
}

static FAKE_ROM: Place<dyn Rom, FakeRom> = ConstStaticCell::new(None);
static FAKE_ROM_ROOT: Place<dyn Root, FakeRoot<dyn Rom, FakeRom>> = ConstStaticCell::new(None);

fn fake_rom_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let object = FAKE_ROM.try_take().ok_or(KernelError::InvalidThread)?;
    let object = object.insert(RpcObject::new(FakeRom));
    let root = FAKE_ROM_ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    let server = FakeRoot { entrypoint, object: Some(object), session: None };
    entrypoint.manage(root.insert(RpcObject::new(server)))
}

fn fake_block_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let object = FAKE_BLOCK.try_take().ok_or(KernelError::InvalidThread)?;
    let object = object.insert(RpcObject::new(FakeBlock { signal: None }));
    let root = FAKE_BLOCK_ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    let server = FakeRoot { entrypoint, object: Some(object), session: None };
    entrypoint.manage(root.insert(RpcObject::new(server)))
}
