//! rpc-demo: Ferrode's typed RPC between components, through the kernel,
//! and the capability model holding against components that attack it.
//!
//! The composition is declared with `compose!`: a `watcher` server of
//! high priority whose thread must run as soon as it is woken, a `store`
//! the calculator calls while serving (nested RPC), the `calculator`, a
//! `client` (and its `poker`) exercising every kind of method (an
//! inherited one, a declared error, a capability returned and one passed
//! back, a revoked object, nested calls, a deferred reply, a forged error,
//! a self-call), then an `intruder` without a route that tries every
//! selector, then an `attacker` with a 2-signal quota that tries each
//! attack on the capability model (kernel calls in its `main`), then two
//! spinners. The parent hook ([`parent`]) does what needs the composer's
//! authority: the priority rule's refusal, handing the watcher's signal to
//! the calculator and a submit-only copy of its own signal to the
//! attacker, and afterwards taking back, destroying and reaping. Exits 0
//! when every check held.
#![no_std]
#![no_main]

mod interface;
mod server;

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::{Env, Event, ParentEnv};
use ferrode_board::kernel::{self, KernelError, Quota, kernel};
use ferrode_board::{BOARD_NAME, exit_code, println};
use ferrode_ipc::{CapSel, Capability, Interface, TransportError};

use interface::{Base, CalcError, Calculator, Counter, Store};
use server::{calculator_root, store_root, watcher_root};

ferrode_board::compose! {
    servers {
        watcher: { priority: 5, stack: 4096, provides: "Watcher", root: watcher_root },
        store: { priority: 4, stack: 4096, provides: "Store", root: store_root },
        calculator: { priority: 3, stack: 4096, provides: "Calculator", root: calculator_root, quota: { caps: 24 } },
    }
    clients {
        client: { priority: 2, stack: 4096, main: client_main },
        // Below the client: runs only while the client is blocked.
        poker: { priority: 1, stack: 2048, main: poker_main },
        intruder: { priority: 2, stack: 4096, main: intruder_main, after: client },
        attacker: { priority: 2, stack: 4096, main: attacker_main, after: intruder, quota: { caps: 8, signals: 2 } },
        spinner_0: { priority: 1, stack: 2048, main: spinner_0, after: attacker },
        spinner_1: { priority: 1, stack: 2048, main: spinner_1, after: attacker },
    }
    routes {
        calculator: "Store" "" => store,
        client: "Calculator" "" => calculator,
        poker: "Calculator" "" => calculator,
        attacker: "Calculator" "" => calculator,
    }
    parent: parent,
}

/// The service name of capabilities the parent hook grants as signals.
pub const SIGNAL: &str = "Signal";
/// The label of the watcher's signal in the calculator's grants.
pub const WATCHER_SIGNAL: &str = "watcher";
/// The label of the composer's signal in the attacker's grants.
const PARENT_SIGNAL: &str = "parent";

/// Loop iterations of each spinner.
static SPINS: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];
/// Failed checks, from any component.
static FAILURES: AtomicU32 = AtomicU32::new(0);
/// What the intruder is told: the calculator's selector in the composer's
/// space (a number to guess with, not a capability).
static INTRUDER_GUESS: AtomicU32 = AtomicU32::new(0);
/// The component the attacker aims at by id (ids are names, not authority).
static CALCULATOR_ID: AtomicU32 = AtomicU32::new(0);

fn check(what: &str, ok: bool) {
    if ok {
        println!("  ok: {}", what);
    } else {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        println!("  FAILED: {}", what);
    }
}

/// The composer's part: runs on its thread, with its authority.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if let Err(error) = parent_step(env, event) {
        println!("rpc-demo: the parent hook failed at {:?}: {}", event, error);
        FAILURES.fetch_add(1, Ordering::Relaxed);
    }
    if event != Event::Done {
        return 0;
    }
    let failures = FAILURES.load(Ordering::Relaxed);
    println!("rpc-demo: {} checks failed", failures);
    if failures == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

fn parent_step(env: &mut ParentEnv<'_>, event: Event) -> Result<(), KernelError> {
    let k = kernel();
    let id = |env: &ParentEnv<'_>, name| env.component(name).ok_or(KernelError::InvalidThread);
    match event {
        Event::Started => {
            println!("rpc-demo on {}", BOARD_NAME);
            // The priority rule, checked when a capability is handed out:
            // the calculator (priority 3) may not be given to the watcher
            // (priority 5).
            let calculator = env.root("calculator").ok_or(KernelError::InvalidCapability)?;
            check(
                "a capability to a lower-priority server is refused to a higher-priority client",
                env.delegate(calculator.selector(), "watcher")
                    == Err(KernelError::PriorityInversion),
            );
            // The calculator gets a submit-only copy of the watcher's signal.
            let watcher = id(env, "watcher")?;
            let signal = CapSel(server::WATCHER_SIGNAL.load(Ordering::Relaxed));
            env.grant("calculator", SIGNAL, WATCHER_SIGNAL, watcher, signal)?;
        }
        Event::Starting("client") => {
            // The intruder, started later, guesses this selector number.
            let guess = env
                .session::<dyn Calculator>("client", "Calculator", "")
                .ok_or(KernelError::InvalidCapability)?;
            INTRUDER_GUESS.store(guess.selector().0, Ordering::Relaxed);
        }
        // The hook's last look at the client: the composer destroys it next.
        Event::Exited("client") => take_back_from_the_client(env)?,
        Event::Starting("attacker") => {
            CALCULATOR_ID.store(id(env, "calculator")?.index() as u32, Ordering::Relaxed);
            let (_, signal) = k.create_signal()?;
            let composer = env.composer();
            env.grant("attacker", SIGNAL, PARENT_SIGNAL, composer, signal)?;
        }
        Event::Exited("attacker") => after_the_attacks(env)?,
        Event::Done => check(
            "two busy threads of one priority both ran (round-robin on the timer tick)",
            SPINS[0].load(Ordering::Relaxed) > 0 && SPINS[1].load(Ordering::Relaxed) > 0,
        ),
        _ => {}
    }
    Ok(())
}

/// What taking back from the client found (1 each when it held):
/// reported after the attacks, in the order the checks are listed.
static TAKEN_BACK: AtomicU32 = AtomicU32::new(0);
static DEAD_IN_CLIENT: AtomicU32 = AtomicU32::new(0);

/// The client has exited (the composer destroys it after this): what the
/// composer handed it (its session and its parent object) is taken back,
/// and the client's selectors are dead from then on.
fn take_back_from_the_client(env: &mut ParentEnv<'_>) -> Result<(), KernelError> {
    let k = kernel();
    let for_client =
        env.client_selector("client", "Calculator", "").ok_or(KernelError::InvalidCapability)?;
    let client = env.component("client").ok_or(KernelError::InvalidThread)?;
    let taken = env.take_back("client")?;
    TAKEN_BACK.store(u32::from(taken >= 2), Ordering::Relaxed);
    let dead = matches!(k.capability(client, for_client), ferrode_board::kernel::CapEntry::Revoked);
    DEAD_IN_CLIENT.store(u32::from(dead), Ordering::Relaxed);
    Ok(())
}

/// The attacker has exited: the calculator still answers, the client's
/// capabilities were taken back, the store is destroyed and reaped, and
/// the clients that exited are gone (making room for the spinners).
fn after_the_attacks(env: &mut ParentEnv<'_>) -> Result<(), KernelError> {
    use ferrode_board::kernel::CapEntry;
    let k = kernel();
    // The attacker's own signals (it is not destroyed yet), and whether
    // the calculator holds any of them.
    let attacker = env.component("attacker").ok_or(KernelError::InvalidThread)?;
    let calculator = env.component("calculator").ok_or(KernelError::InvalidThread)?;
    let entries =
        |component| (0..kernel::CAP_SLOTS as u32).map(move |s| k.capability(component, CapSel(s)));
    let signals: heapless::Vec<_, { kernel::CAP_SLOTS }> = entries(attacker)
        .filter_map(|e| match e {
            CapEntry::Signal { signal, wait: true, .. } => Some(signal),
            _ => None,
        })
        .collect();
    let kept = entries(calculator)
        .filter(|e| matches!(e, CapEntry::Signal { signal, .. } if signals.contains(signal)))
        .count();
    check(
        "capabilities sent with refused requests do not stay in the server's space",
        signals.len() == 2 && kept == 0,
    );

    let calculator = env
        .session::<dyn Calculator>("attacker", "Calculator", "")
        .ok_or(KernelError::InvalidCapability)?;
    check(
        "the calculator still answers after every attack",
        kernel::client(calculator).ping().is_ok(),
    );
    check(
        "root takes back the capabilities it delegated to the client",
        TAKEN_BACK.load(Ordering::Relaxed) == 1,
    );
    check(
        "a taken-back capability is dead in the client's space",
        DEAD_IN_CLIENT.load(Ordering::Relaxed) == 1,
    );

    // Destroying a component: the store's objects die with it.
    let store = env
        .session::<dyn Store>("calculator", "Store", "")
        .ok_or(KernelError::InvalidCapability)?;
    let reaped = env.destroy("store")?;
    check(
        "a destroyed component's object answers ServerDead",
        kernel::client(store).put(1) == Err(CalcError::Transport(TransportError::ServerDead)),
    );
    check("the destroyed component's entrypoint is reaped (stack and UTCB back)", reaped == 1);
    check(
        "the clients that exited were destroyed by the composer",
        env.component("client").is_none() && env.component("intruder").is_none(),
    );
    Ok(())
}

fn client_main(env: Env) -> u32 {
    let Ok(calculator) = env.session::<dyn Calculator>("Calculator", "") else {
        check("the client has its calculator session", false);
        return exit_code::FAILURE;
    };
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
    0
}

fn poker_main(env: Env) -> u32 {
    // Runs only while the client is blocked (the client outranks it).
    if let Ok(calculator) = env.session::<dyn Calculator>("Calculator", "") {
        let _ = kernel::client(calculator).poke(77);
    }
    0
}

fn alloc_free_message(error: CalcError) -> heapless::String<48> {
    use core::fmt::Write as _;
    let mut text = heapless::String::new();
    let _ = write!(text, "new_counter failed: {:?}", error);
    text
}

fn spinner_0(_: Env) -> u32 {
    spin(0)
}

fn spinner_1(_: Env) -> u32 {
    spin(1)
}

/// Preemption: two threads (of two components) of equal priority that
/// never block. Each spins until it has seen the other run, which only the
/// timer tick's round-robin can arrange.
fn spin(index: usize) -> u32 {
    let other = &SPINS[1 - index];
    let mine = &SPINS[index];
    // Never blocks, never yields: only preemption lets the other run.
    while other.load(Ordering::Relaxed) == 0 {
        mine.store(mine.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    mine.store(mine.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    0
}

fn intruder_main(_: Env) -> u32 {
    let guessed = CapSel(INTRUDER_GUESS.load(Ordering::Relaxed));
    // The intruder has no route: its space holds only its parent object.
    // It knows the calculator's selector number in the composer's space,
    // and tries every selector of its own space, that number included, and
    // a few beyond the space. Its parent object refuses the calculator's
    // method as another interface's.
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
            Err(CalcError::Transport(
                TransportError::InvalidCapability | TransportError::WrongInterface,
            )) => refused += 1,
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
    0
}

fn attacker_main(env: Env) -> u32 {
    let k = kernel();
    let (Ok(calculator), Ok(done)) = (
        env.session::<dyn Calculator>("Calculator", ""),
        env.session::<dyn ferrode_component::SignalSource>(SIGNAL, PARENT_SIGNAL),
    ) else {
        check("the attacker has its calculator session and the parent's signal", false);
        return exit_code::FAILURE;
    };
    let (calculator, done) = (calculator.selector(), done.selector());
    let calculator_id = component_id(&CALCULATOR_ID);
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
    let signals: heapless::Vec<CapSel, 4> =
        (0..4).filter_map(|_| k.create_signal().ok()).map(|(_, signal)| signal).collect();
    check("attacker: signals beyond its quota (2) are refused", signals.len() == 2);
    // Its signals sent as counters to retire: refused, and the calculator
    // keeps neither (the hook looks at its space when the attacker exits).
    let retired = signals
        .iter()
        .filter(|&&signal| calc.retire_counter(Capability::from_selector(signal)).is_ok())
        .count();
    check("attacker: its signals passed off as counters are refused", retired == 0);
    check(
        "attacker: delegating out of the calculator's space (no capability to it) is refused",
        k.delegate(calculator_id, CapSel(0), me) == Err(KernelError::NoAuthority),
    );
    check(
        "attacker: taking back what the calculator handed out is refused",
        k.take_back(calculator_id, me) == Err(KernelError::NoAuthority),
    );
    check(
        "attacker: destroying the calculator is refused",
        k.destroy_component(calculator_id) == Err(KernelError::NoAuthority),
    );
    let forged =
        (0..kernel::CAP_SLOTS as u32).filter(|&s| k.reply_deferred(CapSel(s)).is_ok()).count();
    check("attacker: no selector of its space answers someone else's call", forged == 0);
    0
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
