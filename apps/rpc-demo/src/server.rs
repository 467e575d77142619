//! The calculator component's server side.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, DeferredReply, kernel};
use ferrode_ipc::{CapSel, Capability, RpcObject, TransportError};

use crate::interface::{Base, CalcError, Calculator, Counter, Store};

/// What the composition gives the calculator, as selectors in its own
/// space (set before its first request).
pub struct CalculatorCaps {
    /// The store component's object.
    pub store: AtomicU32,
    /// A counter served by the calculator's own entrypoint.
    pub own_counter: AtomicU32,
    /// The watcher's signal (submit only).
    pub watcher: AtomicU32,
}

/// The calculator's capabilities.
pub static CALCULATOR_CAPS: CalculatorCaps = CalculatorCaps {
    store: AtomicU32::new(u32::MAX),
    own_counter: AtomicU32::new(u32::MAX),
    watcher: AtomicU32::new(u32::MAX),
};

/// Set by the watcher each time it runs.
pub static WATCHER_RAN: AtomicBool = AtomicBool::new(false);

fn selector(cell: &AtomicU32) -> CapSel {
    CapSel(cell.load(Ordering::Relaxed))
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
}

impl CalculatorServer {
    /// A calculator served by `entrypoint`.
    pub fn new(entrypoint: BoardEntrypoint) -> Self {
        Self { entrypoint, pings: 0, next_counter: 0, handed_out: [None; COUNTERS], poked: None }
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
        let mut store = kernel::client(Capability::<dyn Store>::from_selector(selector(
            &CALCULATOR_CAPS.store,
        )));
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
        let own = Capability::<dyn Counter>::from_selector(selector(&CALCULATOR_CAPS.own_counter));
        match kernel::client(own).increment(1) {
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
        kernel().submit(selector(&CALCULATOR_CAPS.watcher))?;
        Ok(WATCHER_RAN.load(Ordering::Relaxed))
    }
}
