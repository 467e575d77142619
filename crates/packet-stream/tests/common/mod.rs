//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test file uses a part")]

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use ferrode_packet_stream::Notify;

/// A counting signal (like a kernel signal): `notify` counts, `wait`
/// sleeps until the count is non-zero and takes all of it.
#[derive(Default)]
pub struct Signal {
    count: Mutex<u32>,
    condvar: Condvar,
}

impl Notify for Signal {
    fn notify(&self) {
        *self.count.lock().unwrap() += 1;
        self.condvar.notify_one();
    }
}

impl Signal {
    /// Waits for at least one notification. A wait of more than `limit`
    /// is a lost wakeup (the other end had nothing left to do but wake us).
    pub fn wait(&self, limit: Duration) {
        let mut count = self.count.lock().unwrap();
        while *count == 0 {
            let (guard, timeout) = self.condvar.wait_timeout(count, limit).unwrap();
            count = guard;
            assert!(!(timeout.timed_out() && *count == 0), "lost wakeup: no signal for {limit:?}");
        }
        *count = 0;
    }
}

/// Counts notifications, for single-threaded tests.
#[derive(Default)]
pub struct Counter(pub std::cell::Cell<u32>);

impl Notify for Counter {
    fn notify(&self) {
        self.0.set(self.0.get() + 1);
    }
}

impl Counter {
    pub fn get(&self) -> u32 {
        self.0.get()
    }
}

/// xorshift32: reproducible lengths and contents without a dependency.
pub struct XorShift(pub u32);

impl XorShift {
    pub fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// FNV-1a over the bytes.
pub fn checksum(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0x811c_9dc5u32, |hash, &byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}
