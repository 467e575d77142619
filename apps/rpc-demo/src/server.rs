//! The calculator component's server side.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_board::component::Env;
use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, DeferredReply, kernel};
use ferrode_component::{Root, Session, SessionArgs, SessionError, SignalSource};
use ferrode_ipc::{Capability, RpcObject, TransportError};

use crate::interface::{Base, CalcError, Calculator, Counter, Store};

/// Set by the watcher each time it runs.
pub static WATCHER_RAN: AtomicBool = AtomicBool::new(false);

/// The calculator's session of `service` (its route's, or a capability
/// the composer's parent hook granted it), from its own grants.
fn own_session<I: ?Sized>(service: &str, label: &str) -> Capability<I> {
    Env::own()
        .and_then(|env| env.session::<I>(service, label).ok())
        .unwrap_or_else(Capability::invalid)
}

/// One counter object; its value is shared with the calculator so that a
/// retired counter's final value can be reported.
pub struct CounterServer {
    value: &'static AtomicU32,
}

impl Counter for CounterServer {
    fn increment(&mut self, by: u32) -> Result<u32, CalcError> {
        let value =
            self.value.load(Ordering::Relaxed).checked_add(by).ok_or(CalcError::Overflow)?;
        self.value.store(value, Ordering::Relaxed);
        Ok(value)
    }
}

type CounterObject = RpcObject<dyn Counter, CounterServer>;

const COUNTERS: usize = 2;
static VALUES: [AtomicU32; COUNTERS] = [AtomicU32::new(0), AtomicU32::new(0)];
static COUNTER_OBJECTS: [ConstStaticCell<Option<CounterObject>>; COUNTERS] =
    [ConstStaticCell::new(None), ConstStaticCell::new(None)];

/// The calculator. It keeps a handle of its own entrypoint to manage and
/// dissolve the counters it hands out.
pub struct CalculatorServer {
    entrypoint: BoardEntrypoint,
    pings: u32,
    next_counter: usize,
    handed_out: [Option<Capability<dyn Counter>>; COUNTERS],
    /// The caller blocked in `wait_for_poke`, if any.
    poked: Option<DeferredReply<u32, CalcError>>,
    /// A counter served by this entrypoint, in the calculator's space.
    own_counter: Capability<dyn Counter>,
}

impl CalculatorServer {
    /// A calculator served by `entrypoint`, with `own_counter` (a
    /// selector of its own space) served by the same entrypoint.
    pub fn new(entrypoint: BoardEntrypoint, own_counter: Capability<dyn Counter>) -> Self {
        Self {
            entrypoint,
            pings: 0,
            next_counter: 0,
            handed_out: [None; COUNTERS],
            poked: None,
            own_counter,
        }
    }
}

/// A counter the composition gives the calculator itself.
pub fn own_counter() -> CounterServer {
    static VALUE: AtomicU32 = AtomicU32::new(0);
    CounterServer { value: &VALUE }
}

/// The store component's server.
#[derive(Default)]
pub struct StoreServer {
    value: u32,
}

impl Session for StoreServer {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Session for CalculatorServer {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Store for StoreServer {
    fn put(&mut self, value: u32) -> Result<u32, CalcError> {
        Ok(core::mem::replace(&mut self.value, value))
    }
}

impl Base for CalculatorServer {
    fn ping(&mut self) -> Result<u32, CalcError> {
        self.pings += 1;
        Ok(self.pings)
    }

    fn name(&mut self) -> Result<heapless::String<16>, CalcError> {
        Ok(heapless::String::try_from("calculator").unwrap_or_default())
    }
}

impl Calculator for CalculatorServer {
    fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError> {
        a.checked_add(b).ok_or(CalcError::Overflow)
    }

    fn divide(&mut self, a: i32, b: i32) -> Result<i32, CalcError> {
        if b == 0 {
            return Err(CalcError::DivideByZero);
        }
        a.checked_div(b).ok_or(CalcError::Overflow)
    }

    fn new_counter(&mut self) -> Result<Capability<dyn Counter>, CalcError> {
        let index = self.next_counter;
        let slot = COUNTER_OBJECTS
            .get(index)
            .and_then(ConstStaticCell::try_take)
            .ok_or(CalcError::OutOfCounters)?;
        let object = slot.insert(RpcObject::new(CounterServer { value: &VALUES[index] }));
        let capability = self
            .entrypoint
            .manage::<dyn Counter, _>(object)
            .map_err(|_| CalcError::OutOfCounters)?;
        self.next_counter += 1;
        self.handed_out[index] = Some(capability);
        Ok(capability)
    }

    fn retire_counter(&mut self, counter: Capability<dyn Counter>) -> Result<u32, CalcError> {
        // The kernel translated the client's selector into this component's
        // space, so it equals the one `manage` gave us.
        let index = self
            .handed_out
            .iter()
            .position(|c| *c == Some(counter))
            .ok_or(CalcError::UnknownCounter)?;
        self.entrypoint.dissolve(counter).map_err(|_| CalcError::UnknownCounter)?;
        self.handed_out[index] = None;
        Ok(VALUES[index].load(Ordering::Relaxed))
    }

    fn relay(&mut self, value: u32) -> Result<u32, CalcError> {
        let mut store = kernel::client(own_session::<dyn Store>("Store", ""));
        store.put(value)?;
        let stored = store.put(value)?;
        // A nested call that fails: its error reply lands in this
        // entrypoint's UTCB; the reply below must not carry it.
        let mut nowhere = kernel::client(Capability::<dyn Store>::invalid());
        if nowhere.put(0) != Err(CalcError::Transport(TransportError::InvalidCapability)) {
            return Err(CalcError::Overflow);
        }
        Ok(stored)
    }

    fn call_own_counter(&mut self) -> Result<u32, CalcError> {
        match kernel::client(self.own_counter).increment(1) {
            Err(CalcError::Transport(error)) => Ok(error.code()),
            Ok(_) => Ok(0),
            Err(_) => Ok(u32::MAX),
        }
    }

    fn forge_server_dead(&mut self) -> Result<(), CalcError> {
        Err(CalcError::Transport(TransportError::ServerDead))
    }

    fn wait_for_poke(&mut self) -> Result<u32, CalcError> {
        if self.poked.is_some() {
            return Err(CalcError::OutOfCounters);
        }
        self.poked = Some(
            ferrode_board::kernel::defer_reply(kernel()).map_err(|_| CalcError::OutOfCounters)?,
        );
        // Not sent: the caller stays blocked until `poke`.
        Ok(0)
    }

    fn poke(&mut self, value: u32) -> Result<(), CalcError> {
        let waiting = self.poked.take().ok_or(CalcError::UnknownCounter)?;
        waiting.reply(kernel(), Ok(value)).map_err(|_| CalcError::UnknownCounter)
    }

    fn wake_watcher(&mut self) -> Result<bool, CalcError> {
        WATCHER_RAN.store(false, Ordering::Relaxed);
        let watcher = own_session::<dyn SignalSource>(crate::SIGNAL, crate::WATCHER_SIGNAL);
        kernel().submit(watcher.selector())?;
        Ok(WATCHER_RAN.load(Ordering::Relaxed))
    }
}

/// A root that hands out one object's capability as every session (the
/// calculator's and the store's: their clients share the object, as the
/// demo's checks expect) and refuses `close` and `upgrade`.
pub struct SharedRoot {
    object: Capability<dyn Session>,
}

impl Root for SharedRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        Ok(self.object)
    }

    fn close(&mut self, _session: Capability<dyn Session>) -> Result<(), SessionError> {
        Err(SessionError::UnknownSession)
    }

    fn upgrade(
        &mut self,
        _session: Capability<dyn Session>,
        _amount: u32,
    ) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

type RootObject = RpcObject<dyn Root, SharedRoot>;
static CALCULATOR_ROOT: ConstStaticCell<Option<RootObject>> = ConstStaticCell::new(None);
static STORE_ROOT: ConstStaticCell<Option<RootObject>> = ConstStaticCell::new(None);
static WATCHER_ROOT: ConstStaticCell<Option<RootObject>> = ConstStaticCell::new(None);
static CALCULATOR: ConstStaticCell<Option<RpcObject<dyn Calculator, CalculatorServer>>> =
    ConstStaticCell::new(None);
static OWN_COUNTER: ConstStaticCell<Option<CounterObject>> = ConstStaticCell::new(None);
static STORE: ConstStaticCell<Option<RpcObject<dyn Store, StoreServer>>> =
    ConstStaticCell::new(None);

fn take<T>(cell: &'static ConstStaticCell<T>) -> Result<&'static mut T, kernel::KernelError> {
    cell.try_take().ok_or(kernel::KernelError::InvalidThread)
}

fn shared_root(
    entrypoint: BoardEntrypoint,
    cell: &'static ConstStaticCell<Option<RootObject>>,
    object: Capability<dyn Session>,
) -> Result<Capability<dyn Root>, kernel::KernelError> {
    // The root answers from the server's own thread, so it hands out the
    // server's copy (`manage` from the composer's thread made the
    // composer's).
    let object = if object.is_valid() {
        let k = kernel();
        let theirs =
            k.delegate(k.current_component(), object.selector(), entrypoint.component())?;
        Capability::from_selector(theirs)
    } else {
        object
    };
    entrypoint.manage(take(cell)?.insert(RpcObject::new(SharedRoot { object })))
}

/// The store server's root: every session is the one store object.
pub fn store_root(
    entrypoint: BoardEntrypoint,
) -> Result<Capability<dyn Root>, kernel::KernelError> {
    let store = entrypoint.manage(take(&STORE)?.insert(RpcObject::new(StoreServer::default())))?;
    shared_root(entrypoint, &STORE_ROOT, store.upcast())
}

/// The calculator server's root: every session is the one calculator.
/// Also serves a counter of the calculator's own (for the self-call
/// check); the root constructor runs on the composer's thread, whose
/// authority copies it into the calculator's space.
pub fn calculator_root(
    entrypoint: BoardEntrypoint,
) -> Result<Capability<dyn Root>, kernel::KernelError> {
    let k = kernel();
    let own = entrypoint.manage(take(&OWN_COUNTER)?.insert(RpcObject::new(own_counter())))?;
    let own = k.delegate(k.current_component(), own.selector(), entrypoint.component())?;
    let server = CalculatorServer::new(entrypoint, Capability::from_selector(own));
    let calculator: Capability<dyn Calculator> =
        entrypoint.manage(take(&CALCULATOR)?.insert(RpcObject::new(server)))?;
    shared_root(entrypoint, &CALCULATOR_ROOT, calculator.upcast())
}

static WATCHER_STACK: ConstStaticCell<[u8; 2048]> = ConstStaticCell::new([0; 2048]);
static WATCHER_UTCB: ConstStaticCell<ferrode_ipc::Utcb> =
    ConstStaticCell::new(ferrode_ipc::Utcb::new());
/// The watcher's signal, a selector of the watcher's own space (a name,
/// not authority: the composer's parent hook copies it to the calculator).
pub static WATCHER_SIGNAL: AtomicU32 = AtomicU32::new(u32::MAX);

/// The watcher server: no sessions (its root refuses every request); its
/// root constructor starts the watcher thread at the component's
/// priority, which outranks the composer, so it has made its signal and
/// waits on it when the constructor returns.
pub fn watcher_root(
    entrypoint: BoardEntrypoint,
) -> Result<Capability<dyn Root>, kernel::KernelError> {
    let k = kernel();
    let priority =
        k.thread_priority(entrypoint.thread()).ok_or(kernel::KernelError::InvalidThread)?;
    let (stack, utcb) = (take(&WATCHER_STACK)?, take(&WATCHER_UTCB)?);
    k.spawn(entrypoint.component(), "watcher", priority, stack, utcb, watcher_main, 0)?;
    shared_root(entrypoint, &WATCHER_ROOT, Capability::invalid())
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
