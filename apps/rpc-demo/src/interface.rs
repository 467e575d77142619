//! The calculator's RPC interfaces, declared as plain Rust traits.

use ferrode_ipc::{Capability, TransportError};

ferrode_ipc::marshal! {
    /// What the calculator's methods can fail with.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CalcError {
        /// The result does not fit.
        Overflow,
        /// Division by zero.
        DivideByZero,
        /// The capability designates no counter of this calculator.
        UnknownCounter,
        /// All counters are handed out.
        OutOfCounters,
        /// The call itself failed (invalid capability, revoked object, ...).
        Transport(TransportError),
    }
}

impl From<TransportError> for CalcError {
    fn from(error: TransportError) -> Self {
        Self::Transport(error)
    }
}

ferrode_ipc::interface! {
    /// What every service answers.
    pub trait Base {
        /// Counts calls; opcode 0.
        fn ping(&mut self) -> Result<u32, CalcError>;
        /// The service's name; opcode 1.
        fn name(&mut self) -> Result<heapless::String<16>, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// A counter object the calculator hands out.
    pub trait Counter {
        /// Adds `by`, returns the new value.
        fn increment(&mut self, by: u32) -> Result<u32, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// The calculator: inherits `Base` (opcodes 0 and 1 stay theirs).
    pub trait Calculator: Base {
        /// `a + b`, or `Overflow`.
        fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError>;
        /// `a / b`, or `DivideByZero` / `Overflow`.
        fn divide(&mut self, a: i32, b: i32) -> Result<i32, CalcError>;
        /// Returns a capability to a new counter.
        fn new_counter(&mut self) -> Result<Capability<dyn Counter>, CalcError>;
        /// Takes a counter capability back, revokes the counter and returns
        /// its final value.
        fn retire_counter(&mut self, counter: Capability<dyn Counter>) -> Result<u32, CalcError>;
    }
}
