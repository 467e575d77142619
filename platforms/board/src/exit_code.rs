//! Exit statuses every Ferrode image uses, so tests and users can tell a
//! failed check from a crash.

/// The application finished and its checks passed.
pub const SUCCESS: u32 = 0;
/// The application finished and reports a failed check.
pub const FAILURE: u32 = 1;
/// A Rust panic.
pub const PANIC: u32 = 101;
/// A CPU exception no one handled (abort, illegal instruction, ...).
pub const FAULT: u32 = 102;
