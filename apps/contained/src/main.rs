//! Contained: a component's panic ends that component, not the image.
//!
//! `crasher`, a client, holds the `Fragile` server's one session and
//! panics (an index out of bounds). The composer ends it as if it had
//! exited with `PANIC`: it destroys it, reclaims its sessions and starts
//! `survivor`, declared `after` it, which gets the Fragile session only
//! because the crasher's came back. `survivor` then asks the server to
//! divide by zero: the server's entrypoint thread panics and ends, and the
//! call comes back as `ServerDead` instead of ending the image. LOG still
//! serves, and the image exits with `PANIC` (101), the first failing
//! status, once `survivor` is done.
//!
//! With `boot-panic` the server panics already at the composer's request
//! for crasher's session at boot: the composition fails there and the
//! image ends, still with `PANIC`, the first failing status.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::exit_code;
use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError};
use ferrode_component::{Root, Session, SessionArgs, SessionError};
use ferrode_ipc::{Capability, RpcObject, TransportError};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        fragile: { priority: 4, stack: 4096, provides: "Fragile", root: fragile_root },
    }
    clients {
        crasher: { priority: 3, stack: 4096, main: crasher },
        // Started when crasher has ended: the Fragile session it needs is
        // free again only if the composer reclaimed crasher's.
        survivor: { priority: 3, stack: 4096, main: survivor, after: crasher },
    }
    routes {
        crasher: "LOG" "" => log,
        crasher: "Fragile" "" => fragile,
        survivor: "LOG" "" => log,
        survivor: "Fragile" "" => fragile,
    }
}

ferrode_ipc::interface! {
    /// A service that divides, and panics when told to divide by zero.
    pub trait Fragile: Session {
        /// `dividend / divisor`.
        fn divide(&mut self, dividend: u32, divisor: u32) -> Result<u32, SessionError>;
    }
}

struct FragileSession;

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
        Ok(dividend / divisor)
    }
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
        .insert(RpcObject::new(FragileSession));
    let root = ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    let server = FragileRoot { entrypoint, object: Some(object), session: None, open: false };
    entrypoint.manage(root.insert(RpcObject::new(server)))
}

/// Whether the image was started as `contained boot-panic`.
fn boot_panic() -> bool {
    let mut buffer = [0u8; 64];
    // The command line starts with the image's name.
    ferrode_board::cmdline(&mut buffer)
        .is_some_and(|args| args.split_whitespace().nth(1) == Some("boot-panic"))
}

/// Holds the Fragile session and panics.
fn crasher(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    if env.session::<dyn Fragile>("Fragile", "").is_err() {
        let _ = log.write("no Fragile session");
        return exit_code::FAILURE;
    }
    let _ = log.write("holding the Fragile session, about to panic");
    let slots = [0u32; 4];
    #[allow(clippy::indexing_slicing, reason = "the out-of-bounds index is the point")]
    let value = slots[core::hint::black_box(slots.len())];
    let _ = log.write("the panic did not happen");
    value
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
    let answer = fragile.divide(1, 0);
    check(
        &mut log,
        answer == Err(SessionError::Transport(TransportError::ServerDead)),
        "the Fragile server's panic comes back as ServerDead",
    );
    check(&mut log, fragile.divide(6, 3).is_err(), "the ended server answers no more");
    let _ = log.write_fmt(format_args!("contained: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}
