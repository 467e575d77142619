//! The calculator component's server side.

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::kernel::{BoardEntrypoint, ConstStaticCell};
use ferrode_ipc::{Capability, RpcObject};

use crate::interface::{Base, CalcError, Calculator, Counter};

/// One counter object; its value is shared with the calculator so that a
/// retired counter's final value can be reported.
pub struct CounterServer {
    value: &'static AtomicU32,
}

impl Counter for CounterServer {
    fn increment(&mut self, by: u32) -> Result<u32, CalcError> {
        let value = self.value.load(Ordering::Relaxed).checked_add(by).ok_or(CalcError::Overflow)?;
        self.value.store(value, Ordering::Relaxed);
        Ok(value)
    }
}

type CounterObject = RpcObject<dyn Counter, CounterServer>;

const COUNTERS: usize = 2;
static VALUES: [AtomicU32; COUNTERS] = [AtomicU32::new(0), AtomicU32::new(0)];
static COUNTER_OBJECTS: [ConstStaticCell<Option<CounterObject>>; COUNTERS] = [ConstStaticCell::new(None), ConstStaticCell::new(None)];

/// The calculator. It keeps a handle of its own entrypoint to manage and
/// dissolve the counters it hands out.
pub struct CalculatorServer {
    entrypoint: BoardEntrypoint,
    pings: u32,
    next_counter: usize,
    handed_out: [Option<Capability<dyn Counter>>; COUNTERS],
}

impl CalculatorServer {
    /// A calculator served by `entrypoint`.
    pub fn new(entrypoint: BoardEntrypoint) -> Self {
        Self { entrypoint, pings: 0, next_counter: 0, handed_out: [None; COUNTERS] }
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
        let slot = COUNTER_OBJECTS.get(index).and_then(ConstStaticCell::try_take).ok_or(CalcError::OutOfCounters)?;
        let object = slot.insert(RpcObject::new(CounterServer { value: &VALUES[index] }));
        let capability = self.entrypoint.manage::<dyn Counter, _>(object).map_err(|_| CalcError::OutOfCounters)?;
        self.next_counter += 1;
        self.handed_out[index] = Some(capability);
        Ok(capability)
    }

    fn retire_counter(&mut self, counter: Capability<dyn Counter>) -> Result<u32, CalcError> {
        // The kernel translated the client's selector into this component's
        // space, so it equals the one `manage` gave us.
        let index = self.handed_out.iter().position(|c| *c == Some(counter)).ok_or(CalcError::UnknownCounter)?;
        self.entrypoint.dissolve(counter).map_err(|_| CalcError::UnknownCounter)?;
        self.handed_out[index] = None;
        Ok(VALUES[index].load(Ordering::Relaxed))
    }
}
