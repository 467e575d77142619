//! sessions: Ferrode's parent/root session model, checked on the board.
//!
//! Two servers provide one service (`Greeter`, written here: a root and
//! its session objects, the way any service is written), the core LOG
//! service a third. The client's routes pick the greeter by session label,
//! give it a LOG session with a small quota, and no route to a Timer. The
//! client checks, and reports through its LOG session:
//!
//! - a label routes to the right one of two servers of one service;
//! - a service without a route is denied;
//! - a line beyond the session's quota is refused (typed error) and the
//!   server keeps serving; upgrading the quota lets it through, as far as
//!   the route allows (`upgrade 50`) and no further; a route without an
//!   allowance refuses every upgrade;
//! - a LOG line's control characters (a line end, a zero byte, an escape)
//!   show as `?`, so no line passes for another component's;
//! - closing a session kills its capability and takes it out of the
//!   client's environment;
//! - a ROM module is read through the session its route labels; a module
//!   without a route is denied;
//! - a client the parent destroys before it exits has its sessions closed
//!   (the composer's copy of its LOG session is dead), and the image still
//!   ends: a destroyed client counts as exited;
//! - a client that claims its exit is destroyed there and runs no further
//!   (and counts once, so it cannot end the image before the others are
//!   done);
//! - a client due after another whose session its server refuses is not
//!   started: the composer says so and counts it as exited with FAILURE
//!   (so the image ends with status 1), and the others go on.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::{Env, Event, ParentEnv};
use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError};
use ferrode_component::{LOG_LINE_BYTES, Log, Parent, Root, Session, SessionArgs, SessionError};
use ferrode_ipc::{CapSel, Capability, RpcObject, TransportError};

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        greeter_a: { priority: 3, stack: 4096, provides: "Greeter", root: greeter_a_root },
        greeter_b: { priority: 3, stack: 4096, provides: "Greeter", root: greeter_b_root },
        rom: { priority: 3, stack: 4096, provides: "ROM", root: rom_root },
    }
    clients {
        client: { priority: 2, stack: 4096, main: client },
        // Blocks for good; the parent hook destroys it once the client
        // exited.
        victim: { priority: 1, stack: 4096, main: victim },
        // Its route's server has no session left for it when it is due.
        refused: { priority: 1, stack: 4096, main: refused, after: client },
        late: { priority: 1, stack: 4096, main: late, after: client },
        // Above `late`: done before `late` reports.
        quitter: { priority: 2, stack: 4096, main: quitter },
    }
    routes {
        client: "Greeter" "b" => greeter_b,
        client: "Greeter" "" => greeter_a,
        client: "LOG" "" => log quota 60 upgrade 50,
        client: "ROM" "config" => rom,
        victim: "LOG" "" => log,
        late: "LOG" "" => log,
        refused: "Greeter" "" => greeter_b,
    }
    parent: parent,
}

ferrode_ipc::interface! {
    /// A greeter session: says which server it is.
    pub trait Greeter: Session {
        /// The serving component's name.
        fn who(&mut self) -> Result<heapless::String<16>, SessionError>;
    }
}

/// One greeter session object.
struct GreeterSession {
    server: &'static str,
}

impl Session for GreeterSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Greeter for GreeterSession {
    fn who(&mut self) -> Result<heapless::String<16>, SessionError> {
        heapless::String::try_from(self.server).map_err(|_| SessionError::QuotaExceeded)
    }
}

/// A greeter's root: one session object, handed out once.
struct GreeterRoot {
    entrypoint: BoardEntrypoint,
    object: Option<&'static mut RpcObject<dyn Greeter, GreeterSession>>,
    session: Option<Capability<dyn Greeter>>,
}

impl Root for GreeterRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let object = self.object.take().ok_or(SessionError::OutOfSessions)?;
        // Managed on the greeter's own thread: the capability is its own,
        // and the reply carries a copy to the parent.
        let cap = self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?;
        self.session = Some(cap);
        Ok(cap.upcast())
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        match self.session {
            Some(cap) if cap.upcast::<dyn Session>() == session => {
                kernel::kernel()
                    .revoke_copies(cap.selector())
                    .map_err(|_| SessionError::UnknownSession)?;
                Ok(())
            }
            _ => Err(SessionError::UnknownSession),
        }
    }

    fn upgrade(
        &mut self,
        _session: Capability<dyn Session>,
        _amount: u32,
    ) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

type GreeterObject = RpcObject<dyn Greeter, GreeterSession>;
type GreeterRootObject = RpcObject<dyn Root, GreeterRoot>;

static A_SESSION: ConstStaticCell<Option<GreeterObject>> = ConstStaticCell::new(None);
static A_ROOT: ConstStaticCell<Option<GreeterRootObject>> = ConstStaticCell::new(None);
static B_SESSION: ConstStaticCell<Option<GreeterObject>> = ConstStaticCell::new(None);
static B_ROOT: ConstStaticCell<Option<GreeterRootObject>> = ConstStaticCell::new(None);

fn greeter_root(
    entrypoint: BoardEntrypoint,
    name: &'static str,
    session: &'static ConstStaticCell<Option<GreeterObject>>,
    root: &'static ConstStaticCell<Option<GreeterRootObject>>,
) -> Result<Capability<dyn Root>, KernelError> {
    let object = session
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(GreeterSession { server: name }));
    let root = root.try_take().ok_or(KernelError::InvalidThread)?;
    entrypoint.manage(root.insert(RpcObject::new(GreeterRoot {
        entrypoint,
        object: Some(object),
        session: None,
    })))
}

fn greeter_a_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    greeter_root(entrypoint, "greeter_a", &A_SESSION, &A_ROOT)
}

fn greeter_b_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    greeter_root(entrypoint, "greeter_b", &B_SESSION, &B_ROOT)
}

/// The image's read-only modules.
static MODULES: [ferrode_board::component::Module; 2] = [
    ("config", b"greeting = hello\nlimit = 3\n"),
    ("secret", b"only for whoever is routed to it\n"),
];

fn rom_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    ferrode_board::component::rom_root(entrypoint, &MODULES)
}

/// Checks that failed, in any client.
static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(log: &mut ferrode_board::component::LogClient, what: &str, ok: bool) {
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
}

fn who(env: &Env, label: &str) -> Option<heapless::String<16>> {
    let greeter = env.session::<dyn Greeter>("Greeter", label).ok()?;
    kernel::client(greeter).who().ok()
}

fn client(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return 1 };
    check(
        &mut log,
        "the label \"b\" routes to greeter_b",
        who(&env, "b").as_deref() == Some("greeter_b"),
    );
    check(
        &mut log,
        "any other label routes to greeter_a",
        who(&env, "").as_deref() == Some("greeter_a"),
    );
    check(
        &mut log,
        "a session of a service without a route is denied",
        env.session::<dyn Greeter>("Timer", "").err() == Some(SessionError::Denied),
    );
    let mut buffer = [0u8; 64];
    let config =
        env.read_rom("config", &mut buffer).map(|bytes| bytes == b"greeting = hello\nlimit = 3\n");
    check(&mut log, "the ROM module routed as \"config\" reads back whole", config == Ok(true));
    check(
        &mut log,
        "a ROM module without a route is denied",
        env.read_rom("secret", &mut buffer).err() == Some(SessionError::Denied),
    );
    let long = "a line of eighty characters, longer than this session's quota of sixty bytes....";
    let refused = log.write(long) == Err(SessionError::QuotaExceeded);
    check(&mut log, "a line beyond the session's quota is refused", refused);
    let served = log.write("short line").is_ok();
    check(&mut log, "the server keeps serving within the quota", served);
    check(&mut log, "upgrading the quota by 40 gives 100", env.upgrade("LOG", "", 40) == Ok(100));
    let through = log.write(long).is_ok();
    check(&mut log, "the long line goes through after the upgrade", through);
    // A line end, a zero byte (which opens a defmt frame on the console)
    // and an escape sequence in a line: the console shows each as `?`, so
    // no client starts a line of its own under another component's label.
    let _ = log.write("forged? \n[victim] this line is the client's\0\u{1b}[2J");
    // The route allows 50 in all: 10 are left.
    let beyond = env.upgrade("LOG", "", 11) == Err(SessionError::QuotaExceeded);
    let rest = env.upgrade("LOG", "", 10) == Ok(110);
    let spent = env.upgrade("LOG", "", 1) == Err(SessionError::QuotaExceeded);
    check(
        &mut log,
        "upgrades beyond what the route allows are refused, up to it they are not",
        beyond && rest && spent,
    );
    // Close the greeter session of label "b": its capability dies.
    let greeter_b = env.session::<dyn Greeter>("Greeter", "b");
    check(&mut log, "closing a session", env.close("Greeter", "b").is_ok());
    let after = greeter_b.map(|cap| kernel::client(cap).who());
    check(
        &mut log,
        "a closed session's capability is dead",
        matches!(after, Ok(Err(SessionError::Transport(TransportError::ServerDead)))),
    );
    check(
        &mut log,
        "after closing, label \"b\" falls to the catch-all route (greeter_a)",
        who(&env, "b").as_deref() == Some("greeter_a"),
    );
    // Close the LOG session too: the LOG server's slot goes back.
    let _ = log.write("closing my LOG session");
    let closed = env.close("LOG", "").is_ok();
    let dead = log.write("after close") == Err(SessionError::Transport(TransportError::ServerDead));
    LOG_CLOSED.store(u32::from(closed && dead), Ordering::Relaxed);
    FAILED.load(Ordering::Relaxed)
}

/// Whether the client's LOG session was closed and dead afterwards.
static LOG_CLOSED: AtomicU32 = AtomicU32::new(0);

/// Whether destroying `victim` closed its LOG session (and succeeded).
static VICTIM_CLOSED: AtomicU32 = AtomicU32::new(0);

/// Whether `refused` ran, and whether the hook saw it exit.
static REFUSED_RAN: AtomicU32 = AtomicU32::new(0);
static REFUSED_EXITED: AtomicU32 = AtomicU32::new(0);

/// Due when the client exits, with a route to greeter_b, whose one
/// session object the client had (each greeter hands out one, ever):
/// refused, so it never starts. The composer says so, counts it as
/// exited with FAILURE (the image's status) and goes on with the others.
fn refused(_env: Env) -> u32 {
    REFUSED_RAN.store(1, Ordering::Relaxed);
    0
}

/// Never exits by itself: waits on a signal nobody raises. (Below the
/// client's priority it does not even run before the client exits; its
/// LOG session was opened when it was created.)
fn victim(_env: Env) -> u32 {
    let k = kernel::kernel();
    if let Ok((_, signal)) = k.create_signal() {
        let _ = k.wait_signal(signal);
    }
    1
}

/// The composer's hook: when the client has exited, destroys `victim` and
/// tries the composer's own copy of victim's LOG session, which closing
/// the destroyed component's sessions must have killed.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if event == Event::Exited("refused") {
        REFUSED_EXITED.store(1, Ordering::Relaxed);
    }
    if event != Event::Exited("client") {
        return 0;
    }
    let Some(copy) = env.session::<dyn Log>("victim", ferrode_component::LOG, "") else {
        return 1;
    };
    let destroyed = env.destroy("victim").is_ok();
    let line = heapless::String::<LOG_LINE_BYTES>::try_from("a destroyed client's line");
    let refused = line.map(|line| kernel::client(copy).write(line).is_err()).unwrap_or(false);
    VICTIM_CLOSED.store(u32::from(destroyed && refused), Ordering::Relaxed);
    0
}

/// How far `quitter` got: 1 while it claims its exit, 2 if that claim
/// was answered and it ran on, 3 if no selector took the claim.
static QUITTER: AtomicU32 = AtomicU32::new(0);

/// Claims to have exited through its parent capability (found by trying
/// its selectors, as a hostile client would) and means to go on running.
/// The composer destroys it at its claim, so it never runs on: a claim is
/// the client's last act (and it counts once, so one client cannot end the
/// image before the others are done).
fn quitter(_env: Env) -> u32 {
    for selector in 0..32 {
        let mut parent = kernel::client(Capability::<dyn Parent>::from_selector(CapSel(selector)));
        QUITTER.store(1, Ordering::Relaxed);
        if parent.exit(0).is_ok() {
            QUITTER.store(2, Ordering::Relaxed);
            let _ = parent.exit(0);
            return 0;
        }
    }
    QUITTER.store(3, Ordering::Relaxed);
    0
}

/// Runs after the client: reports what the client could no longer print,
/// and what the parent found after destroying `victim`.
fn late(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return 1 };
    check(
        &mut log,
        "the client's closed LOG session refused its next line",
        LOG_CLOSED.load(Ordering::Relaxed) == 1,
    );
    check(
        &mut log,
        "a destroyed client's LOG session is closed with it",
        VICTIM_CLOSED.load(Ordering::Relaxed) == 1,
    );
    check(
        &mut log,
        "a client that claims its exit runs no further",
        QUITTER.load(Ordering::Relaxed) == 1,
    );
    check(
        &mut log,
        "a client whose session is refused is not started, and the others go on",
        REFUSED_RAN.load(Ordering::Relaxed) == 0 && REFUSED_EXITED.load(Ordering::Relaxed) == 1,
    );
    check(
        &mut log,
        "a route without an upgrade allowance refuses every upgrade",
        env.upgrade("LOG", "", 1) == Err(SessionError::QuotaExceeded),
    );
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = log.write_fmt(format_args!("sessions: {} checks failed", failed));
    failed
}
