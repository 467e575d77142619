//! The example interfaces shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a part")]

use ferrode_ipc::{Bytes, Capability, TransportError};

ferrode_ipc::marshal! {
    /// The calculator's declared error.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CalcError {
        Overflow { a: u32, b: u32 },
        DivideByZero,
        Transport(TransportError),
    }
}

ferrode_ipc::rpc_error!(CalcError::Transport);

ferrode_ipc::interface! {
    /// The base interface.
    pub trait Base {
        /// Opcode 0.
        fn ping(&mut self) -> Result<(), CalcError>;
        /// Opcode 1.
        fn name(&mut self) -> Result<heapless::String<16>, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// A counter object that the calculator hands out.
    pub trait Counter {
        fn increment(&mut self, by: u64) -> Result<u64, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// The derived interface.
    pub trait Calculator: Base {
        fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError>;
        fn divide(&mut self, a: i64, b: i64) -> Result<i64, CalcError>;
        /// Takes a capability.
        fn set_counter(&mut self, counter: Capability<dyn Counter>) -> Result<bool, CalcError>;
        /// Returns a capability.
        fn counter(&mut self) -> Result<Capability<dyn Counter>, CalcError>;
        fn checksum(&mut self, data: Bytes<200>) -> Result<u32, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// Two levels of inheritance: every ancestor is listed.
    pub trait Scientific: Calculator + Base {
        fn square(&mut self, x: i32) -> Result<i64, CalcError>;
    }
}

/// The server behind `Calculator` and `Scientific`.
#[derive(Default)]
pub struct CalculatorServer {
    pub counter: Option<Capability<dyn Counter>>,
    pub pings: u32,
}

impl Base for CalculatorServer {
    fn ping(&mut self) -> Result<(), CalcError> {
        self.pings += 1;
        Ok(())
    }

    fn name(&mut self) -> Result<heapless::String<16>, CalcError> {
        Ok(heapless::String::try_from("calculator").unwrap())
    }
}

impl Calculator for CalculatorServer {
    fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError> {
        a.checked_add(b).ok_or(CalcError::Overflow { a, b })
    }

    fn divide(&mut self, a: i64, b: i64) -> Result<i64, CalcError> {
        if b == i64::MIN {
            // Stands for a server whose own nested call failed and which
            // passes that error on.
            return Err(CalcError::Transport(TransportError::ServerDead));
        }
        a.checked_div(b).ok_or(CalcError::DivideByZero)
    }

    fn set_counter(&mut self, counter: Capability<dyn Counter>) -> Result<bool, CalcError> {
        self.counter = Some(counter);
        Ok(counter.is_valid())
    }

    fn counter(&mut self) -> Result<Capability<dyn Counter>, CalcError> {
        Ok(self.counter.unwrap_or(Capability::invalid()))
    }

    fn checksum(&mut self, data: Bytes<200>) -> Result<u32, CalcError> {
        Ok(data.iter().map(|&byte| u32::from(byte)).sum())
    }
}

impl Scientific for CalculatorServer {
    fn square(&mut self, x: i32) -> Result<i64, CalcError> {
        Ok(i64::from(x) * i64::from(x))
    }
}

/// The server behind `Counter`.
#[derive(Default)]
pub struct CounterServer {
    pub value: u64,
}

impl Counter for CounterServer {
    fn increment(&mut self, by: u64) -> Result<u64, CalcError> {
        self.value += by;
        Ok(self.value)
    }
}
