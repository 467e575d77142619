//! rpc-demo: Ferrode's typed RPC between components, through the kernel,
//! and the capability model holding against components that attack it.
//!
//! The root component composes the image: a `calculator` component with an
//! entrypoint serving [`interface::Calculator`], a `store` the calculator
//! calls while serving (nested RPC), a `client` that is given a capability
//! to the calculator and exercises every kind of method (an inherited one,
//! a declared error, a capability returned and one passed back, a revoked
//! object, nested calls, a deferred reply, a forged error, a self-call), a
//! `watcher` of high priority that must run as soon as it is woken, an
//! `intruder` given no capability that tries every selector, and an
//! `attacker` given a capability to the calculator that tries each attack
//! on the capability model and reports each as refused. Exits 0 when every
//! check held.
#![no_std]
#![no_main]

mod interface;
mod server;

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, Quota, kernel};
use ferrode_board::{BOARD_NAME, exit_code, println};
use ferrode_ipc::{CapSel, Capability, Interface, RpcObject, TransportError, Utcb};

use interface::{Base, CalcError, Calculator, Counter, Store};
use server::{CALCULATOR_CAPS, CalculatorServer, CounterServer, StoreServer, WATCHER_RAN};

ferrode_board::entry!(main);

const STACK: usize = 4 * 1024;

/// The threads the composition starts, each with a stack and a UTCB.
/// (Stacks and UTCBs are separate statics: the zeroed stacks stay in
/// `.bss`, only the UTCBs, whose empty capability slots are not zero, take
/// room in the image.)
#[derive(Clone, Copy)]
enum Thread {
    CalculatorEp,
    StoreEp,
    Client,
    Poker,
    Watcher,
    Intruder,
    Attacker,
    LowlyEp,
}

const THREADS: usize = 8;
static STACKS: [ConstStaticCell<[u8; STACK]>; THREADS] =
    [const { ConstStaticCell::new([0; STACK]) }; THREADS];
static UTCBS: [ConstStaticCell<Utcb>; THREADS] =
    [const { ConstStaticCell::new(Utcb::new()) }; THREADS];

impl Thread {
    fn memory(self) -> Result<(&'static mut [u8], &'static mut Utcb), KernelError> {
        let stack = STACKS[self as usize].try_take().ok_or(KernelError::InvalidThread)?;
        let utcb = UTCBS[self as usize].try_take().ok_or(KernelError::InvalidThread)?;
        Ok((stack, utcb))
    }
}

static SPINNER_STACKS: [ConstStaticCell<[u8; 2048]>; 2] =
    [ConstStaticCell::new([0; 2048]), ConstStaticCell::new([0; 2048])];
static SPINNER_UTCBS: [ConstStaticCell<Utcb>; 2] =
    [ConstStaticCell::new(Utcb::new()), ConstStaticCell::new(Utcb::new())];
/// Loop iterations of each spinner.
static SPINS: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];
static SPINNER_DONE: AtomicU32 = AtomicU32::new(0);
static CALCULATOR: ConstStaticCell<Option<RpcObject<dyn Calculator, CalculatorServer>>> =
    ConstStaticCell::new(None);
static OWN_COUNTER: ConstStaticCell<Option<RpcObject<dyn Counter, CounterServer>>> =
    ConstStaticCell::new(None);
static STORE: ConstStaticCell<Option<RpcObject<dyn Store, StoreServer>>> =
    ConstStaticCell::new(None);
static LOWLY: ConstStaticCell<Option<RpcObject<dyn Store, StoreServer>>> =
    ConstStaticCell::new(None);

/// Failed checks, from any component.
static FAILURES: AtomicU32 = AtomicU32::new(0);
/// What each test thread is told at start: its capabilities (selectors in
/// its own component's space), packed as `calculator | done << 16`.
static CLIENT_CAPS: AtomicU32 = AtomicU32::new(0);
static INTRUDER_CAPS: AtomicU32 = AtomicU32::new(0);
static ATTACKER_CAPS: AtomicU32 = AtomicU32::new(0);
/// The watcher's own signal, as the watcher published it.
static WATCHER_SIGNAL: AtomicU32 = AtomicU32::new(u32::MAX);
/// The components, for the attacker to aim at by id.
static CALCULATOR_ID: AtomicU32 = AtomicU32::new(0);
static CLIENT_ID: AtomicU32 = AtomicU32::new(0);

fn check(what: &str, ok: bool) {
    if ok {
        println!("  ok: {}", what);
    } else {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        println!("  FAILED: {}", what);
    }
}

fn main() -> u32 {
    println!("rpc-demo on {}", BOARD_NAME);
    match compose_and_run() {
        Ok(()) => {}
        Err(error) => {
            println!("rpc-demo: composition failed: {}", error);
            return exit_code::FAILURE;
        }
    }
    let failures = FAILURES.load(Ordering::Relaxed);
    println!("rpc-demo: {} checks failed", failures);
    if failures == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

fn take<T>(cell: &'static ConstStaticCell<T>) -> Result<&'static mut T, KernelError> {
    cell.try_take().ok_or(KernelError::InvalidThread)
}

fn pack(a: CapSel, b: CapSel) -> u32 {
    a.0 | (b.0 << 16)
}

fn unpack(packed: u32) -> (CapSel, CapSel) {
    (CapSel(packed & 0xffff), CapSel(packed >> 16))
}

fn compose_and_run() -> Result<(), KernelError> {
    let k = kernel();
    let root = kernel::init(1)?;
    // Priorities: servers at or above their clients (the kernel refuses a
    // capability that would let a component call a lower server).
    let calculator =
        k.create_component("calculator", Quota { caps: 24, ..Quota::at_priority(3) })?;
    let store = k.create_component("store", Quota::at_priority(4))?;
    let client = k.create_component("client", Quota::at_priority(2))?;
    let watcher = k.create_component("watcher", Quota::at_priority(5))?;
    let intruder = k.create_component("intruder", Quota::at_priority(2))?;
    let attacker = k.create_component("attacker", Quota { caps: 8, ..Quota::at_priority(2) })?;
    CALCULATOR_ID.store(calculator.index() as u32, Ordering::Relaxed);
    CLIENT_ID.store(client.index() as u32, Ordering::Relaxed);

    // The store, and the calculator's own capability to it.
    let (stack, utcb) = Thread::StoreEp.memory()?;
    let store_ep = BoardEntrypoint::new(k, store, "store-ep", 4, stack, utcb)?;
    let store_cap =
        store_ep.manage(take(&STORE)?.insert(RpcObject::new(StoreServer::default())))?;
    CALCULATOR_CAPS
        .store
        .store(k.delegate(root, store_cap.selector(), calculator)?.0, Ordering::Relaxed);

    // The calculator: an entrypoint, the object it serves, and a counter
    // of its own (for the self-call check).
    let (stack, utcb) = Thread::CalculatorEp.memory()?;
    let entrypoint = BoardEntrypoint::new(k, calculator, "calculator-ep", 3, stack, utcb)?;
    let object = take(&CALCULATOR)?.insert(RpcObject::new(CalculatorServer::new(entrypoint)));
    let calculator_cap: Capability<dyn Calculator> = entrypoint.manage(object)?;
    let own =
        entrypoint.manage(take(&OWN_COUNTER)?.insert(RpcObject::new(server::own_counter())))?;
    CALCULATOR_CAPS
        .own_counter
        .store(k.delegate(root, own.selector(), calculator)?.0, Ordering::Relaxed);

    // The watcher starts at once (it outranks root), makes its signal and
    // waits; the calculator gets a submit-only copy.
    let (stack, utcb) = Thread::Watcher.memory()?;
    k.spawn(watcher, "watcher", 5, stack, utcb, watcher_main, 0)?;
    let watcher_signal = CapSel(WATCHER_SIGNAL.load(Ordering::Relaxed));
    CALCULATOR_CAPS
        .watcher
        .store(k.delegate(watcher, watcher_signal, calculator)?.0, Ordering::Relaxed);

    // Routing, decided here at build time: the client and the attacker may
    // use the calculator, the intruder may not. All report on `done`,
    // whose copies can only submit.
    let (_, done_in_root) = k.create_signal()?;
    let for_client = k.delegate(root, calculator_cap.selector(), client)?;
    let done_for_client = k.delegate(root, done_in_root, client)?;
    let done_for_intruder = k.delegate(root, done_in_root, intruder)?;
    let for_attacker = k.delegate(root, calculator_cap.selector(), attacker)?;
    let done_for_attacker = k.delegate(root, done_in_root, attacker)?;
    CLIENT_CAPS.store(pack(for_client, done_for_client), Ordering::Relaxed);
    INTRUDER_CAPS.store(pack(calculator_cap.selector(), done_for_intruder), Ordering::Relaxed);
    ATTACKER_CAPS.store(pack(for_attacker, done_for_attacker), Ordering::Relaxed);

    // The priority rule, checked when a capability is handed out: a
    // server at priority 1 may not be given to the client (priority 2).
    let lowly = k.create_component("lowly", Quota::at_priority(1))?;
    let (stack, utcb) = Thread::LowlyEp.memory()?;
    let lowly_ep = BoardEntrypoint::new(k, lowly, "lowly-ep", 1, stack, utcb)?;
    let lowly_cap =
        lowly_ep.manage(take(&LOWLY)?.insert(RpcObject::new(StoreServer::default())))?;
    check(
        "a capability to a lower-priority server is refused to a higher-priority client",
        k.delegate(root, lowly_cap.selector(), client) == Err(KernelError::PriorityInversion),
    );

    // One after the other (each reports on `done`), so the console reads
    // the same on every run.
    let (stack, utcb) = Thread::Client.memory()?;
    k.spawn(client, "client", 2, stack, utcb, client_main, 0)?;
    let (stack, utcb) = Thread::Poker.memory()?;
    k.spawn(client, "poker", 1, stack, utcb, poker_main, 0)?;
    wait_for_report(done_in_root)?;
    let (stack, utcb) = Thread::Intruder.memory()?;
    k.spawn(intruder, "intruder", 2, stack, utcb, intruder_main, 0)?;
    wait_for_report(done_in_root)?;
    let (stack, utcb) = Thread::Attacker.memory()?;
    k.spawn(attacker, "attacker", 2, stack, utcb, attacker_main, 0)?;
    wait_for_report(done_in_root)?;
    check(
        "the calculator still answers after every attack",
        kernel::client(calculator_cap).ping().is_ok(),
    );

    // Taking back: what root handed the client (and copies made of it)
    // goes; the client's selectors answer ServerDead from then on.
    let taken = k.take_back(root, client)?;
    check("root takes back the capabilities it delegated to the client", taken >= 2);
    check(
        "a taken-back capability is dead in the client's space",
        matches!(k.capability(client, for_client), ferrode_board::kernel::CapEntry::Revoked),
    );

    // Destroying a component: the store's objects die with it.
    k.destroy_component(store)?;
    let mut store_client = kernel::client(store_cap);
    check(
        "a destroyed component's object answers ServerDead",
        store_client.put(1) == Err(CalcError::Transport(TransportError::ServerDead)),
    );
    let reaped = reap_component_threads(store);
    check("the destroyed component's entrypoint is reaped (stack and UTCB back)", reaped == 1);

    spin_check(root, done_in_root)
}

/// Waits until one report has arrived on `done`.
fn wait_for_report(done: CapSel) -> Result<(), KernelError> {
    kernel().wait_signal(done).map(|_| ()).map_err(|_| KernelError::InvalidCapability)
}

/// Reaps every dead thread of `component`; returns how many.
fn reap_component_threads(component: ferrode_board::kernel::ComponentId) -> usize {
    let k = kernel();
    let mut reaped = 0;
    for index in 0..kernel::MAX_THREADS {
        let thread = ferrode_board::kernel::ThreadId::from_index(index);
        if k.thread_component(thread) == Some(component) && k.reap(thread).is_ok() {
            reaped += 1;
        }
    }
    reaped
}

/// Preemption: two threads of equal priority that never block. Each spins
/// until it has seen the other run, which only the timer tick's
/// round-robin can arrange.
fn spin_check(
    root: ferrode_board::kernel::ComponentId,
    done_in_root: CapSel,
) -> Result<(), KernelError> {
    let k = kernel();
    let spinners = k.create_component("spinners", Quota::at_priority(1))?;
    let done_for_spinners = k.delegate(root, done_in_root, spinners)?;
    SPINNER_DONE.store(done_for_spinners.0, Ordering::Relaxed);
    for (index, name) in ["spinner-0", "spinner-1"].into_iter().enumerate() {
        let stack = take(&SPINNER_STACKS[index])?;
        let utcb = take(&SPINNER_UTCBS[index])?;
        // Root's own priority: neither starts before both exist.
        k.spawn(spinners, name, 1, stack, utcb, spinner_main, index)?;
    }
    let mut reports = 0;
    while reports < 2 {
        reports += k.wait_signal(done_in_root).map_err(|_| KernelError::InvalidCapability)?;
    }
    check(
        "two busy threads of one priority both ran (round-robin on the timer tick)",
        SPINS[0].load(Ordering::Relaxed) > 0 && SPINS[1].load(Ordering::Relaxed) > 0,
    );
    Ok(())
}

extern "C" fn client_main(_: usize) -> ! {
    let (calculator, done) = unpack(CLIENT_CAPS.load(Ordering::Relaxed));
    let calculator: Capability<dyn Calculator> = Capability::from_selector(calculator);
    println!("client: calling the calculator through selector {}", calculator.selector().0);
    let mut calc = kernel::client(calculator);

    check("inherited Base::ping answers 1 then 2", calc.ping() == Ok(1) && calc.ping() == Ok(2));
    let name = calc.name();
    check(
        "Base::name crosses as a heapless::String",
        name.as_ref().map(|n| n.as_str()) == Ok("calculator"),
    );
    // The same object seen as its base interface.
    let mut base = kernel::client(calculator.upcast::<dyn Base>());
    check("a Capability<dyn Base> converted from the derived one works", base.ping() == Ok(3));
    check("add(40, 2) = 42", calc.add(40, 2) == Ok(42));
    check("add overflow is the declared error", calc.add(u32::MAX, 1) == Err(CalcError::Overflow));
    check("divide(7, 0) is DivideByZero", calc.divide(7, 0) == Err(CalcError::DivideByZero));
    check("divide(-9, 3) = -3", calc.divide(-9, 3) == Ok(-3));

    match calc.new_counter() {
        Ok(counter_cap) => {
            println!("client: got a counter capability, selector {}", counter_cap.selector().0);
            let mut counter = kernel::client(counter_cap);
            check(
                "counter increments through the returned capability",
                counter.increment(5) == Ok(5) && counter.increment(2) == Ok(7),
            );
            check(
                "passing the capability back identifies the counter",
                calc.retire_counter(counter_cap) == Ok(7),
            );
            check(
                "the retired (revoked) counter fails with ServerDead",
                counter.increment(1) == Err(CalcError::Transport(TransportError::ServerDead)),
            );
            check(
                "retiring it twice is the declared UnknownCounter error",
                calc.retire_counter(counter_cap) == Err(CalcError::UnknownCounter),
            );
        }
        Err(error) => check(&alloc_free_message(error), false),
    }
    let bogus: Capability<dyn Counter> = Capability::from_selector(CapSel(29));
    check(
        "a capability argument that is not in the client's space is refused",
        calc.retire_counter(bogus) == Err(CalcError::Transport(TransportError::InvalidCapability)),
    );
    check(
        "a server that calls another server (nested RPC) answers, and its failed nested call leaves no stale error",
        calc.relay(9) == Ok(9),
    );
    check(
        "a server calling an object of its own entrypoint gets Deadlock instead of hanging",
        calc.call_own_counter() == Ok(TransportError::Deadlock.code()),
    );
    check(
        "a transport error returned by the server arrives as Forwarded, not as the kernel's",
        calc.forge_server_dead() == Err(CalcError::Transport(TransportError::Forwarded)),
    );
    // The poker (a lower-priority thread of this component) runs while this
    // thread is blocked and answers the deferred reply.
    check(
        "a deferred reply arrives when another client pokes the server",
        calc.wait_for_poke() == Ok(77),
    );
    check(
        "a woken higher-priority thread runs before the server that woke it continues",
        calc.wake_watcher() == Ok(true),
    );
    println!("client: done");
    let _ = kernel().submit(done);
    kernel().exit_current()
}

extern "C" fn poker_main(_: usize) -> ! {
    let (calculator, _) = unpack(CLIENT_CAPS.load(Ordering::Relaxed));
    let mut calc = kernel::client(Capability::<dyn Calculator>::from_selector(calculator));
    // Runs only while the client is blocked (the client outranks it).
    let _ = calc.poke(77);
    kernel().exit_current()
}

extern "C" fn watcher_main(_: usize) -> ! {
    let signal = match kernel().create_signal() {
        Ok((_, signal)) => signal,
        Err(_) => kernel().exit_current(),
    };
    WATCHER_SIGNAL.store(signal.0, Ordering::Relaxed);
    while kernel().wait_signal(signal).is_ok() {
        WATCHER_RAN.store(true, Ordering::Relaxed);
    }
    kernel().exit_current()
}

fn alloc_free_message(error: CalcError) -> heapless::String<48> {
    use core::fmt::Write as _;
    let mut text = heapless::String::new();
    let _ = write!(text, "new_counter failed: {:?}", error);
    text
}

extern "C" fn spinner_main(index: usize) -> ! {
    let other = &SPINS[1 - index];
    let mine = &SPINS[index];
    // Never blocks, never yields: only preemption lets the other run.
    while other.load(Ordering::Relaxed) == 0 {
        mine.store(mine.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    mine.store(mine.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    let _ = kernel().submit(CapSel(SPINNER_DONE.load(Ordering::Relaxed)));
    kernel().exit_current()
}

extern "C" fn intruder_main(_: usize) -> ! {
    let (guessed, done) = unpack(INTRUDER_CAPS.load(Ordering::Relaxed));
    // The intruder knows the calculator's selector number in root's space,
    // and tries every selector of its own space, that number included, and
    // a few beyond the space.
    let mut refused = 0;
    let mut reached = 0;
    let mut tried_guess = false;
    let selectors = (0..kernel::CAP_SLOTS as u32).chain([
        kernel::CAP_SLOTS as u32,
        1000,
        u32::MAX - 1,
        u32::MAX,
    ]);
    for selector in selectors {
        tried_guess |= selector == guessed.0;
        let mut calc =
            kernel::client(Capability::<dyn Calculator>::from_selector(CapSel(selector)));
        match calc.ping() {
            Err(CalcError::Transport(TransportError::InvalidCapability)) => refused += 1,
            _ => reached += 1,
        }
    }
    println!(
        "intruder: {} selectors tried (the calculator's number {} among them), {} refused",
        refused + reached,
        guessed.0,
        refused
    );
    check(
        "the intruder cannot reach the calculator through any selector",
        reached == 0 && tried_guess,
    );
    let _ = kernel().submit(done);
    kernel().exit_current()
}

extern "C" fn attacker_main(_: usize) -> ! {
    let k = kernel();
    let (calculator, done) = unpack(ATTACKER_CAPS.load(Ordering::Relaxed));
    let calculator_id = component_id(&CALCULATOR_ID);
    let client_id = component_id(&CLIENT_ID);
    let me = k.current_component();

    check(
        "attacker: dissolving the calculator it was given is refused (NotOwner)",
        k.revoke(calculator) == Err(KernelError::NotOwner),
    );
    check(
        "attacker: waiting on the root's signal (a submit-only copy) is refused",
        k.wait_signal(done) == Err(TransportError::InvalidCapability),
    );

    // 10,000 requests pushing four capabilities each at a method that
    // takes none: each refused before anything changes.
    let mut refused = 0;
    for _ in 0..10_000 {
        if push_capabilities(calculator) == TransportError::TooManyCapabilities.code() {
            refused += 1;
        }
    }
    check("attacker: 10,000 calls pushing capabilities at ping are all refused", refused == 10_000);
    let mut calc = kernel::client(Capability::<dyn Calculator>::from_selector(calculator));
    let counter = calc.new_counter();
    check("attacker: ...and the calculator can still manage new objects", counter.is_ok());

    let as_counter =
        kernel::client(Capability::<dyn Counter>::from_selector(calculator)).increment(1);
    check(
        "attacker: the calculator used as a Counter is refused (WrongInterface), no method runs",
        as_counter == Err(CalcError::Transport(TransportError::WrongInterface)),
    );
    check(
        "attacker: creating components beyond its quota is refused",
        k.create_component("spawnling", Quota::at_priority(1)) == Err(KernelError::QuotaExceeded),
    );
    let signals = (0..4).filter(|_| k.create_signal().is_ok()).count();
    check("attacker: signals beyond its quota (2) are refused", signals == 2);
    check(
        "attacker: delegating out of the calculator's space (no capability to it) is refused",
        k.delegate(calculator_id, CapSel(0), me) == Err(KernelError::NoAuthority),
    );
    check(
        "attacker: taking back the client's capabilities is refused",
        k.take_back(client_id, me) == Err(KernelError::NoAuthority),
    );
    check(
        "attacker: destroying the calculator is refused",
        k.destroy_component(calculator_id) == Err(KernelError::NoAuthority),
    );
    let forged =
        (0..kernel::CAP_SLOTS as u32).filter(|&s| k.reply_deferred(CapSel(s)).is_ok()).count();
    check("attacker: no selector of its space answers someone else's call", forged == 0);
    let _ = k.submit(done);
    k.exit_current()
}

/// A hand-made request to `Base::ping` carrying four capabilities; returns
/// the reply's error code.
fn push_capabilities(target: CapSel) -> u32 {
    let k = kernel();
    let utcb = k.current_utcb();
    // SAFETY: the running thread's own UTCB, borrowed for this request only
    // (no stub of this thread is in a call).
    unsafe {
        (*utcb).label = ferrode_ipc::label::<dyn Base>(0);
        (*utcb).word_count = 0;
        (*utcb).cap_count = 4;
        (*utcb).caps = [target; 4];
    }
    k.call(target);
    // SAFETY: as above; the call is over.
    unsafe { (*utcb).error }
}

fn component_id(cell: &AtomicU32) -> ferrode_board::kernel::ComponentId {
    ferrode_board::kernel::ComponentId::from_index(cell.load(Ordering::Relaxed) as usize)
}

// The interface's receive windows are what the kernel enforces above.
const _: () = assert!(<dyn Base as Interface>::METHODS == 2);
