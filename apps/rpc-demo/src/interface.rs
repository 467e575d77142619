//! The calculator's RPC interfaces, declared as plain Rust traits.

use ferrode_component::Session;
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

ferrode_ipc::rpc_error!(CalcError::Transport);

ferrode_ipc::interface! {
    /// What every service answers (a session interface: the calculator's
    /// root hands it out as its session).
    pub trait Base: Session {
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
    pub trait Calculator: Base + Session {
        /// `a + b`, or `Overflow`.
        fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError>;
        /// `a / b`, or `DivideByZero` / `Overflow`.
        fn divide(&mut self, a: i32, b: i32) -> Result<i32, CalcError>;
        /// Returns a capability to a new counter.
        fn new_counter(&mut self) -> Result<Capability<dyn Counter>, CalcError>;
        /// Takes a counter capability back, revokes the counter and returns
        /// its final value.
        fn retire_counter(&mut self, counter: Capability<dyn Counter>) -> Result<u32, CalcError>;
        /// A server that is also a client: stores `value` in the store
        /// component (a nested call), then makes a nested call that fails,
        /// ignores that failure and answers `Ok` with what the store said.
        fn relay(&mut self, value: u32) -> Result<u32, CalcError>;
        /// Calls a counter served by the calculator's own entrypoint (which
        /// is busy serving this very request) and returns what that call
        /// gave: the kernel refuses it as a deadlock.
        fn call_own_counter(&mut self) -> Result<u32, CalcError>;
        /// Returns a transport error as if it were the kernel's: the client
        /// must see it as `Forwarded`, not as its own call failing.
        fn forge_server_dead(&mut self) -> Result<(), CalcError>;
        /// Blocks the caller until someone calls `poke` (a deferred reply:
        /// the calculator keeps serving meanwhile); returns the poked value.
        fn wait_for_poke(&mut self) -> Result<u32, CalcError>;
        /// Answers the caller blocked in `wait_for_poke` with `value`.
        fn poke(&mut self, value: u32) -> Result<(), CalcError>;
        /// Submits the watcher's signal (a thread of higher priority than
        /// the calculator) and reports whether the watcher had run by the
        /// time the submission returned.
        fn wake_watcher(&mut self) -> Result<bool, CalcError>;
    }
}

ferrode_ipc::interface! {
    /// The store component: remembers one value.
    pub trait Store: Session {
        /// Stores `value` and returns the previous one.
        fn put(&mut self, value: u32) -> Result<u32, CalcError>;
    }
}
