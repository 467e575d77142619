//! rpc-demo: Ferrode's typed RPC between components, through the kernel.
//!
//! The root component composes the image: a `calculator` component with an
//! entrypoint serving [`interface::Calculator`], a `client` component that
//! is given a capability to it and exercises every kind of method (an
//! inherited one, a declared error, a capability returned and one passed
//! back, a revoked object), and an `intruder` component that is given no
//! capability and shows it cannot reach the calculator. Exits 0 when every
//! check held.
#![no_std]
#![no_main]

mod interface;
mod server;

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::kernel::{self, BoardEntrypoint, KernelError, ConstStaticCell, kernel};
use ferrode_board::{BOARD_NAME, exit_code, println};
use ferrode_ipc::{CapSel, Capability, RpcObject, TransportError, Utcb};

use interface::{Base, CalcError, Calculator, Counter};
use server::CalculatorServer;

ferrode_board::entry!(main);

const STACK: usize = 8 * 1024;

static EP_STACK: ConstStaticCell<[u8; STACK]> = ConstStaticCell::new([0; STACK]);
static EP_UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());
static CLIENT_STACK: ConstStaticCell<[u8; STACK]> = ConstStaticCell::new([0; STACK]);
static CLIENT_UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());
static INTRUDER_STACK: ConstStaticCell<[u8; STACK]> = ConstStaticCell::new([0; STACK]);
static INTRUDER_UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());
static SPINNER_STACKS: [ConstStaticCell<[u8; 2048]>; 2] = [ConstStaticCell::new([0; 2048]), ConstStaticCell::new([0; 2048])];
static SPINNER_UTCBS: [ConstStaticCell<Utcb>; 2] = [ConstStaticCell::new(Utcb::new()), ConstStaticCell::new(Utcb::new())];
/// Loop iterations of each spinner.
static SPINS: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];
static SPINNER_DONE: AtomicU32 = AtomicU32::new(0);
static CALCULATOR: ConstStaticCell<Option<RpcObject<dyn Calculator, CalculatorServer>>> = ConstStaticCell::new(None);

/// Failed checks, from any component.
static FAILURES: AtomicU32 = AtomicU32::new(0);
/// What each test thread is told at start: its capabilities (selectors in
/// its own component's space), packed as `calculator | done << 16`.
static CLIENT_CAPS: AtomicU32 = AtomicU32::new(0);
static INTRUDER_CAPS: AtomicU32 = AtomicU32::new(0);

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

fn compose_and_run() -> Result<(), KernelError> {
    let k = kernel();
    let root = kernel::init(1)?;
    let calculator = k.create_component("calculator")?;
    let client = k.create_component("client")?;
    let intruder = k.create_component("intruder")?;

    // The calculator: an entrypoint and the object it serves.
    let entrypoint = BoardEntrypoint::new(k, calculator, "calculator-ep", 3, take(&EP_STACK)?, take(&EP_UTCB)?)?;
    let object = take(&CALCULATOR)?.insert(RpcObject::new(CalculatorServer::new(entrypoint)));
    let calculator_cap: Capability<dyn Calculator> = entrypoint.manage(object)?;

    // Routing, decided here at build time: the client may use the
    // calculator, the intruder may not. Both report back on a signal.
    let (_, done_in_root) = k.create_signal(root)?;
    let for_client = k.delegate(calculator, calculator_cap.selector(), client)?;
    let done_for_client = k.delegate(root, done_in_root, client)?;
    let done_for_intruder = k.delegate(root, done_in_root, intruder)?;
    CLIENT_CAPS.store(for_client.0 | (done_for_client.0 << 16), Ordering::Relaxed);
    INTRUDER_CAPS.store(calculator_cap.selector().0 | (done_for_intruder.0 << 16), Ordering::Relaxed);

    k.spawn(client, "client", 2, take(&CLIENT_STACK)?, take(&CLIENT_UTCB)?, client_main, 0)?;
    k.spawn(intruder, "intruder", 2, take(&INTRUDER_STACK)?, take(&INTRUDER_UTCB)?, intruder_main, 0)?;

    // Wait until both have reported.
    let mut reports = 0;
    while reports < 2 {
        reports += k.wait_signal(done_in_root).map_err(|_| KernelError::InvalidCapability)?;
    }

    // Preemption: two threads of equal priority that never block. Each
    // spins until it has seen the other run, which only the timer tick's
    // round-robin can arrange.
    let spinners = k.create_component("spinners")?;
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

fn unpack(packed: u32) -> (CapSel, CapSel) {
    (CapSel(packed & 0xffff), CapSel(packed >> 16))
}

extern "C" fn client_main(_: usize) -> ! {
    let (calculator, done) = unpack(CLIENT_CAPS.load(Ordering::Relaxed));
    let calculator: Capability<dyn Calculator> = Capability::from_selector(calculator);
    println!("client: calling the calculator through selector {}", calculator.selector().0);
    let mut calc = kernel::client(calculator);

    check("inherited Base::ping answers 1 then 2", calc.ping() == Ok(1) && calc.ping() == Ok(2));
    let name = calc.name();
    check("Base::name crosses as a heapless::String", name.as_ref().map(|n| n.as_str()) == Ok("calculator"));
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
            check("counter increments through the returned capability", counter.increment(5) == Ok(5) && counter.increment(2) == Ok(7));
            check("passing the capability back identifies the counter", calc.retire_counter(counter_cap) == Ok(7));
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
    println!("client: done");
    let _ = kernel().submit(done);
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
    // The intruder knows the calculator's selector number in the
    // calculator's own space, and tries every selector of its own space.
    let mut refused = 0;
    let mut reached = 0;
    for selector in 0..kernel::CAP_SLOTS as u32 {
        if CapSel(selector) == done {
            continue;
        }
        let mut calc = kernel::client(Capability::<dyn Calculator>::from_selector(CapSel(selector)));
        match calc.ping() {
            Err(CalcError::Transport(TransportError::InvalidCapability)) => refused += 1,
            _ => reached += 1,
        }
    }
    println!("intruder: {} selectors tried (including the calculator's own number {}), {} refused", refused + reached, guessed.0, refused);
    check("the intruder cannot reach the calculator", reached == 0 && refused > 0);
    let _ = kernel().submit(done);
    kernel().exit_current()
}
