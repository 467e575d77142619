//! A Greeter server, the LOG service and a client of both.
#![no_std]
#![no_main]
use ferrode_board::component::Env;
use ferrode_board::kernel::{BoardEntrypoint, ConstStaticCell, KernelError};
use ferrode_component::{Root, Session, SessionArgs, SessionError};
use ferrode_ipc::{Capability, RpcObject};

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        greeter: { priority: 3, stack: 4096, provides: "Greeter", root: greeter_root },
    }
    clients {
        app: { priority: 2, stack: 4096, main: app },
    }
    routes {
        app: "LOG" "" => log,          // client: "SERVICE" "label" => server [quota N] [upgrade M]
        app: "Greeter" "" => greeter,
    }
}

ferrode_ipc::interface! {
    /// A service that answers with a number.
    pub trait Greeter: Session {
        /// The answer.
        fn greet(&mut self) -> Result<u32, SessionError>;
    }
}

struct GreeterSession;
impl Session for GreeterSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}
impl Greeter for GreeterSession {
    fn greet(&mut self) -> Result<u32, SessionError> {
        Ok(42)
    }
}

/// The service's root: makes a session object per request (one here).
struct GreeterRoot {
    entrypoint: BoardEntrypoint,
    object: Option<&'static mut RpcObject<dyn Greeter, GreeterSession>>,
}
impl Root for GreeterRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let object = self.object.take().ok_or(SessionError::OutOfSessions)?;
        let cap = self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?;
        Ok(cap.upcast())
    }
    fn close(&mut self, _s: Capability<dyn Session>) -> Result<(), SessionError> {
        Err(SessionError::UnknownSession)
    }
    fn upgrade(&mut self, _s: Capability<dyn Session>, _n: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

static SESSION: ConstStaticCell<Option<RpcObject<dyn Greeter, GreeterSession>>> =
    ConstStaticCell::new(None);
static ROOT: ConstStaticCell<Option<RpcObject<dyn Root, GreeterRoot>>> = ConstStaticCell::new(None);

fn greeter_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let object = SESSION
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(GreeterSession));
    let root = ROOT.try_take().ok_or(KernelError::InvalidThread)?;
    entrypoint.manage(root.insert(RpcObject::new(GreeterRoot { entrypoint, object: Some(object) })))
}

fn app(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return 1 };
    let Ok(greeter) = env.session::<dyn Greeter>("Greeter", "") else { return 1 };
    let answer = ferrode_board::kernel::client(greeter).greet();
    let _ = log.write_fmt(format_args!("the greeter says {:?}", answer)); // "[app] the greeter says Ok(42)"
    0 // the image's exit status
}
