//! Contained: a component's panic ends that component, not the image.
//!
//! `crasher`, a client, holds the `Fragile` server's one session and
//! panics (an index out of bounds). The composer ends it as if it had
//! exited with `PANIC`: it destroys it, reclaims its sessions and starts
//! `survivor`, declared `after` it, which gets the Fragile session only
//! because the crasher's came back. `survivor` hands the server a signal
//! of its own, which it watches ([`Kernel::watch_submitters`]), and then
//! asks the server to divide by zero: the server's entrypoint thread
//! panics, the server ends as a whole (its worker thread with it), the
//! call comes back as `ServerDead` instead of ending the image, and so
//! does the survivor's next wait on its signal. The composer, which
//! watches its servers (this composition has a parent hook), tells the
//! hook, reaps the server's two threads and has its Timer session
//! reclaimed; closing the survivor's session of it then fails, and the
//! composer forgets it. `heir`, due after `survivor` with a route to the
//! ended server, is not started. LOG still serves, and the image exits
//! with `PANIC` (101), the first failing status.
//!
//! With `worker-panic` the server's other thread panics instead, while
//! `survivor` waits on its signal (a driver's data thread that panics
//! under its client, in miniature): the wait ends with `ServerDead`, and
//! the entrypoint, which did not panic, has ended too.
//!
//! With `boot-panic` the server panics already at the composer's request
//! for crasher's session at boot: the composition fails there and the
//! image ends, still with `PANIC`, the first failing status.
//!
//! With `timer-as-session` the server answers that request with its own
//! Timer session, of which the composer holds a copy already as the Timer
//! server's: the composer refuses to record it as crasher's Fragile
//! session (ending one record would drop, and hand to a root, what the
//! other still names), and the composition fails. With
//! `watch-as-session` it answers with its copy of the signal the composer
//! watches its servers with: the composer holds that signal too (its
//! own), and refuses it as well (ending the session would have dropped
//! the composer's own signal, and its watch on every server with it).
//!
//! With `forge` the crasher, instead of panicking, prints console text that
//! would pass for the survivor's verdict and for a LOG line, leaves a line
//! open before its LOG line, starts the IRQ service itself (which this
//! image lacks) and calls `ferrode_board::exit(0)`: every line of its text
//! goes out under `[crasher]`, the open line is ended first, the IRQ
//! service refuses to start for it, and the exit ends the crasher, not the
//! image (which still exits with `PANIC`). With `forge-masked` it calls `exit(0)` inside a critical
//! section, which it would leave half done: the image ends, with
//! `FAILURE`.
//!
//! With `fault` the crasher executes an undefined instruction instead of
//! panicking: the CPU fault ends it as its panic would, the survivor runs
//! on, and the image exits with `FAULT` (102), the first failing status.
//! With `overflow` it recurses into the guard page below its stack: that
//! fault ends the crasher alone too, its thread landing at the end of its
//! stack to do so. With `fault-masked` it faults inside a critical
//! section: the image ends, with `FAULT`. With `server-fault` the Fragile
//! server faults instead of panicking while it serves the survivor's
//! division by zero: it ends as a whole all the same, and the call comes
//! back as `ServerDead`.
//!
//! [`Kernel::watch_submitters`]: ferrode_board::kernel::Kernel::watch_submitters
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_board::component::{Env, Event, ParentEnv, runtime};
use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError};
use ferrode_board::{exit_code, print, println};
use ferrode_component::{Root, Session, SessionArgs, SessionError, SignalSource, TIMER, Timer};
use ferrode_ipc::{CapSel, Capability, RpcObject, TransportError};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 6, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        fragile: { priority: 4, stack: 4096, provides: "Fragile", root: fragile_root },
    }
    clients {
        // Two threads: `forge` starts an entrypoint.
        crasher: { priority: 3, stack: 4096, main: crasher, quota: { threads: 2 } },
        // Started when crasher has ended: the Fragile session it needs is
        // free again only if the composer reclaimed crasher's.
        survivor: { priority: 3, stack: 4096, main: survivor, after: crasher },
        // Due when survivor is done, with a route to the Fragile server,
        // which has ended by then: it is not started, the image runs on.
        heir: { priority: 3, stack: 4096, main: heir, after: survivor },
    }
    routes {
        crasher: "LOG" "" => log,
        crasher: "Fragile" "" => fragile,
        // The worker's timeout, before it panics (`worker-panic`).
        fragile: "Timer" "" => timer,
        survivor: "LOG" "" => log,
        survivor: "Fragile" "" => fragile,
        heir: "LOG" "" => log,
        heir: "Fragile" "" => fragile,
    }
    parent: parent,
}

ferrode_ipc::interface! {
    /// A service that divides, and panics when told to divide by zero.
    pub trait Fragile: Session {
        /// `dividend / divisor`.
        fn divide(&mut self, dividend: u32, divisor: u32) -> Result<u32, SessionError>;
        /// Keeps the client's `signal` and submits it once.
        fn watch(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// Has the server's worker thread panic 10 ms from now.
        fn crash_worker(&mut self) -> Result<(), SessionError>;
    }
}

struct FragileSession {
    /// The client's signal, once it gave one.
    signal: Option<CapSel>,
}

impl Session for FragileSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Fragile for FragileSession {
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "dividing by zero is what this server fails on"
    )]
    fn divide(&mut self, dividend: u32, divisor: u32) -> Result<u32, SessionError> {
        if divisor == 0 && mode_is("server-fault") {
            // A CPU fault instead of the panic, while serving the call.
            ferrode_board::arch::undefined_instruction();
        }
        Ok(dividend / divisor)
    }

    fn watch(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let (signal, _) = ferrode_board::component::client_signal(signal)?;
        if let Some(old) = self.signal.replace(signal) {
            let _ = kernel::kernel().drop_capability(old);
        }
        Ok(kernel::kernel().submit(signal)?)
    }

    fn crash_worker(&mut self) -> Result<(), SessionError> {
        if !WORKER_READY.load(Ordering::Acquire) {
            return Err(SessionError::Denied);
        }
        // The worker's Timer session: the component's, either thread's.
        let timer = Env::own().ok_or(SessionError::Denied)?.session::<dyn Timer>(TIMER, "")?;
        kernel::client(timer).trigger(WORKER_DELAY_US, false)
    }
}

/// How long the worker waits before it panics: the survivor, which the
/// `crash_worker` reply wakes, is waiting on its signal long before.
const WORKER_DELAY_US: u64 = 10_000;

ferrode_board::thread_stack!(static WORKER_STACK: 4096);
static WORKER_UTCB: runtime::UtcbCell = runtime::utcb();
/// The worker has its Timer session's signal: `crash_worker` may arm it.
static WORKER_READY: AtomicBool = AtomicBool::new(false);

/// The Fragile server's second thread: waits for the timeout that
/// `crash_worker` arms, then panics.
extern "C" fn worker_main(_: usize) -> ! {
    let k = kernel::kernel();
    if let Some(Ok((_timer, signal))) = Env::own().map(|env| env.timer("")) {
        WORKER_READY.store(true, Ordering::Release);
        if k.wait_signal(signal).is_ok() {
            let slots = [0u32; 2];
            #[allow(clippy::indexing_slicing, reason = "the out-of-bounds index is the point")]
            let _ = slots[core::hint::black_box(slots.len())];
        }
    }
    k.exit_current()
}

/// The Fragile root: one session at a time, on its one session object.
struct FragileRoot {
    entrypoint: BoardEntrypoint,
    /// The session object, until its first session manages it.
    object: Option<&'static mut RpcObject<dyn Fragile, FragileSession>>,
    /// The session object's capability in the server's space, once managed.
    session: Option<Capability<dyn Fragile>>,
    open: bool,
}

impl Root for FragileRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        if boot_panic() {
            let sessions = [0u8; 1];
            #[allow(clippy::indexing_slicing, reason = "the out-of-bounds index is the point")]
            let _ = sessions[core::hint::black_box(sessions.len())];
        }
        if self.open {
            return Err(SessionError::OutOfSessions);
        }
        if mode_is("timer-as-session") {
            let env = Env::own().ok_or(SessionError::Denied)?;
            return Ok(env.session::<dyn Timer>(TIMER, "")?.upcast());
        }
        if mode_is("watch-as-session") {
            return watch_copy().map(Capability::from_selector).ok_or(SessionError::Denied);
        }
        let session = match (self.session, self.object.take()) {
            (Some(session), _) => session,
            (None, Some(object)) => {
                self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?
            }
            (None, None) => return Err(SessionError::OutOfSessions),
        };
        self.session = Some(session);
        self.open = true;
        Ok(session.upcast())
    }

    fn close(&mut self, _session: Capability<dyn Session>) -> Result<(), SessionError> {
        let session = self.session.filter(|_| self.open).ok_or(SessionError::UnknownSession)?;
        // The client's copy dies; the server keeps its own for the next.
        let _ = kernel::kernel().revoke_copies(session.selector());
        self.open = false;
        Ok(())
    }

    fn upgrade(&mut self, _s: Capability<dyn Session>, _n: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

static SESSION: ConstStaticCell<Option<RpcObject<dyn Fragile, FragileSession>>> =
    ConstStaticCell::new(None);
static ROOT: ConstStaticCell<Option<RpcObject<dyn Root, FragileRoot>>> = ConstStaticCell::new(None);

fn fragile_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let object = SESSION
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(FragileSession { signal: None }));
    WORKER_STACK.spawn_beside(&WORKER_UTCB, &entrypoint, "fragile-worker", worker_main)?;
    let root = ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    let server = FragileRoot { entrypoint, object: Some(object), session: None, open: false };
    entrypoint.manage(root.insert(RpcObject::new(server)))
}

/// The server's copy of the composer's watch signal: the one signal in
/// its space it may not wait on (its own signals it may).
fn watch_copy() -> Option<CapSel> {
    let k = kernel::kernel();
    let me = k.current_component();
    (0..32).map(CapSel).find(|&selector| {
        matches!(k.capability(me, selector), kernel::CapEntry::Signal { wait: false, .. })
    })
}

/// Whether the image was started as `contained <mode>`.
fn mode_is(mode: &str) -> bool {
    let mut buffer = [0u8; 64];
    // The command line starts with the image's name.
    ferrode_board::cmdline(&mut buffer)
        .is_some_and(|args| args.split_whitespace().nth(1) == Some(mode))
}

fn boot_panic() -> bool {
    mode_is("boot-panic")
}

// The entrypoint the crasher starts for a board service of its own
// (`forge`).
ferrode_board::thread_stack!(static FORGED_STACK: 2048);
static FORGED_UTCB: runtime::UtcbCell = runtime::utcb();

/// Holds the Fragile session and panics.
fn crasher(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    if env.session::<dyn Fragile>("Fragile", "").is_err() {
        let _ = log.write("no Fragile session");
        return exit_code::FAILURE;
    }
    if mode_is("forge") {
        // Console text that would pass for the survivor's verdict and a
        // LOG line, were it not labelled: each of its lines goes out under
        // `[crasher]`, the carriage return as `?`.
        println!("forging\n[survivor] contained: 0 checks failed\r[log] x");
        // A line left open is ended before another writer's line.
        print!("half a line");
        let _ = log.write("after the half line");
        // A board service is the composer's to start: the crasher starting
        // the IRQ service (which this image lacks) on an entrypoint of its
        // own, to register interrupt handlers, is refused.
        let k = kernel::kernel();
        let entrypoint = FORGED_STACK.take(&FORGED_UTCB).and_then(|(stack, utcb)| {
            BoardEntrypoint::new(k, k.current_component(), "forged-irq", 3, stack, utcb)
        });
        let _ = log.write(match entrypoint.map(ferrode_board::component::irq_root) {
            Ok(Err(KernelError::NoAuthority)) => "ok: starting the IRQ service itself is refused",
            _ => "FAILED: a client started the IRQ service itself",
        });
        // Ends the crasher, not the image: the survivor runs next.
        ferrode_board::exit(exit_code::SUCCESS);
    }
    if mode_is("forge-masked") {
        // Its critical section would be left half done: the image ends,
        // with FAILURE, not the status asked for.
        critical_section::with(|_| ferrode_board::exit(exit_code::SUCCESS));
    }
    if mode_is("fault") {
        // A CPU fault ends the crasher as its panic does.
        let _ = log.write("holding the Fragile session, about to fault");
        ferrode_board::arch::undefined_instruction();
    }
    if mode_is("fault-masked") {
        // A fault inside a critical section ends the image.
        critical_section::with(|_| ferrode_board::arch::undefined_instruction());
    }
    if mode_is("overflow") {
        // Runs into the guard page below its stack: a fault like another.
        let _ = log.write("holding the Fragile session, about to run off my stack");
        let _ = recurse(core::hint::black_box(0));
    }
    let _ = log.write("holding the Fragile session, about to panic");
    let slots = [0u32; 4];
    #[allow(clippy::indexing_slicing, reason = "the out-of-bounds index is the point")]
    let value = slots[core::hint::black_box(slots.len())];
    let _ = log.write("the panic did not happen");
    value
}

/// Recurses without end (no stack is deep enough for `usize::MAX`
/// levels), about 100 bytes of stack a level.
#[inline(never)]
fn recurse(depth: usize) -> usize {
    if depth == usize::MAX {
        return 0;
    }
    let frame = core::hint::black_box([depth; 24]);
    recurse(depth.wrapping_add(1)).wrapping_add(frame[core::hint::black_box(3)])
}

/// Runs on after crasher's panic, and through the server's.
fn survivor(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok(fragile) = env.session::<dyn Fragile>("Fragile", "") else {
        let _ = log.write("FAILED: no Fragile session");
        return exit_code::FAILURE;
    };
    let _ = log.write("ok: the Fragile session the crasher held is mine");
    let mut fragile = kernel::client(fragile);
    let mut failed = 0;
    let mut check = |log: &mut ferrode_board::component::LogClient, ok: bool, what: &str| {
        let verdict = if ok { "ok" } else { "FAILED" };
        let _ = log.write_fmt(format_args!("{verdict}: {what}"));
        failed += u32::from(!ok);
    };
    check(&mut log, fragile.divide(6, 3) == Ok(2), "the Fragile server answers");
    let k = kernel::kernel();
    let Ok((_, signal)) = k.create_signal() else { return exit_code::FAILURE };
    let watched = k.watch_submitters(signal).is_ok()
        && fragile.watch(Capability::from_selector(signal)).is_ok();
    check(
        &mut log,
        watched && k.wait_signal(signal) == Ok(1),
        "the Fragile server submits the signal it was given",
    );
    let dead = Err(SessionError::Transport(TransportError::ServerDead));
    if mode_is("worker-panic") {
        check(&mut log, fragile.crash_worker().is_ok(), "the worker's timeout is armed");
        check(
            &mut log,
            k.wait_signal(signal) == Err(TransportError::ServerDead),
            "the worker's panic ends the Fragile server, and the wait on its signal with ServerDead",
        );
        check(&mut log, fragile.divide(6, 3) == dead, "the entrypoint ended with its worker");
    } else {
        check(
            &mut log,
            fragile.divide(1, 0) == dead,
            if mode_is("server-fault") {
                "the Fragile server's fault comes back as ServerDead"
            } else {
                "the Fragile server's panic comes back as ServerDead"
            },
        );
        check(&mut log, fragile.divide(6, 3).is_err(), "the ended server answers no more");
        check(
            &mut log,
            k.wait_signal(signal) == Err(TransportError::ServerDead),
            "the next wait on the signal the server held says it is gone",
        );
    }
    // The session is gone with the server. The composer settled it when
    // the server ended (it dropped its copy and the server's root): an
    // upgrade or a close fails as the root's `ServerDead` would, which
    // reaches this client as `Forwarded` (no server may pass a kernel
    // error off as the kernel's), and the close forgets the session.
    check(
        &mut log,
        env.upgrade("Fragile", "", 1) == Err(SessionError::Transport(TransportError::Forwarded)),
        "upgrading the ended server's session fails, before its quota is counted",
    );
    check(
        &mut log,
        env.close("Fragile", "") == Err(SessionError::Transport(TransportError::Forwarded)),
        "closing the ended server's session fails: the parent's call to its root did",
    );
    check(
        &mut log,
        env.close("Fragile", "") == Err(SessionError::Denied),
        "and the composer has forgotten it",
    );
    let _ = log.write_fmt(format_args!("contained: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

/// Never runs: its Fragile session's server has ended before it is due.
fn heir(env: Env) -> u32 {
    if let Ok(mut log) = env.log() {
        let _ = log.write("FAILED: started with a session of an ended server");
    }
    exit_code::FAILURE
}

/// The kernel slot of the server the parent hook saw end, plus one (0: none
/// seen yet).
static ENDED: AtomicU32 = AtomicU32::new(0);
/// The selector of that server's root in the composer's space, and of the
/// composer's copy of the survivor's session of it, as the hook saw them
/// then, plus one (0: not seen).
static ENDED_ROOT: AtomicU32 = AtomicU32::new(0);
static ENDED_SESSION: AtomicU32 = AtomicU32::new(0);

/// The composer's hook: sees the Fragile server end, and at the end that
/// the composer forgot it and its kernel slot is free again (its threads
/// were reaped).
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    let ok = match event {
        Event::ServerEnded(name) => {
            let seen = env.component(name);
            if let Some(component) = seen {
                ENDED.store(component.index() as u32 + 1, Ordering::Relaxed);
            }
            let root = env.root(name).map(|root| root.selector());
            let session = env.session::<dyn Session>("survivor", "Fragile", "");
            if let (Some(root), Some(session)) = (root, session) {
                ENDED_ROOT.store(root.0 + 1, Ordering::Relaxed);
                ENDED_SESSION.store(session.selector().0 + 1, Ordering::Relaxed);
            }
            report(
                seen.is_some() && root.is_some() && session.is_some(),
                "the parent hook has its last look at the ended server",
            )
        }
        Event::Done => {
            let slot = ENDED.load(Ordering::Relaxed).checked_sub(1);
            let free = slot.is_some_and(|slot| {
                let component = kernel::ComponentId::from_index(slot as usize);
                kernel::kernel().component_name(component).is_none()
            });
            // The composer holds nothing that named it: its root, and
            // the composer's copy of the session a live client held.
            let k = kernel::kernel();
            let dropped = [&ENDED_ROOT, &ENDED_SESSION].iter().all(|seen| {
                seen.load(Ordering::Relaxed).checked_sub(1).is_some_and(|selector| {
                    matches!(
                        k.capability(env.composer(), CapSel(selector)),
                        kernel::CapEntry::Empty
                    )
                })
            });
            report(
                free && env.component("fragile").is_none(),
                "the ended server is forgotten and its kernel slot is free",
            ) & report(dropped, "the composer dropped the ended server's root and session copy")
        }
        _ => true,
    };
    if ok { exit_code::SUCCESS } else { exit_code::FAILURE }
}

fn report(ok: bool, what: &str) -> bool {
    println!("contained: {}: {}", if ok { "ok" } else { "FAILED" }, what);
    ok
}
