//! Ready queues: one FIFO per priority and a bitmap of non-empty ones.

use crate::ids::ThreadId;
use crate::state::{MAX_THREADS, PRIORITIES};
use crate::table::Table;

/// The ready queues. Links live in a per-thread `next` array.
pub(crate) struct ReadyQueues {
    head: Table<Option<ThreadId>, PRIORITIES>,
    tail: Table<Option<ThreadId>, PRIORITIES>,
    next: Table<Option<ThreadId>, MAX_THREADS>,
    /// Bit `p` set: priority `p` has a ready thread.
    pub(crate) nonempty: u32,
}

impl ReadyQueues {
    pub(crate) const fn new() -> Self {
        Self {
            head: Table([None; PRIORITIES]),
            tail: Table([None; PRIORITIES]),
            next: Table([None; MAX_THREADS]),
            nonempty: 0,
        }
    }

    /// Appends `thread` at `priority` (round-robin order).
    pub(crate) fn push_back(&mut self, thread: ThreadId, priority: u8) {
        let p = priority as usize;
        self.next[thread.index()] = None;
        match self.tail[p] {
            Some(tail) => self.next[tail.index()] = Some(thread),
            None => self.head[p] = Some(thread),
        }
        self.tail[p] = Some(thread);
        self.nonempty |= 1 << p;
    }

    /// The highest non-empty priority.
    #[inline]
    pub(crate) fn highest(&self) -> Option<u8> {
        if self.nonempty == 0 { None } else { Some(31 - self.nonempty.leading_zeros() as u8) }
    }

    /// Removes and returns the first thread of the highest priority.
    pub(crate) fn pop_highest(&mut self) -> Option<ThreadId> {
        let p = self.highest()? as usize;
        let thread = self.head[p]?;
        self.head[p] = self.next[thread.index()];
        if self.head[p].is_none() {
            self.tail[p] = None;
            self.nonempty &= !(1 << p);
        }
        Some(thread)
    }

    /// Takes `thread` out of the queue of `priority` (a thread stopped
    /// while ready).
    pub(crate) fn remove(&mut self, thread: ThreadId, priority: u8) {
        let p = priority as usize;
        let mut previous: Option<ThreadId> = None;
        let mut at = self.head[p];
        while let Some(t) = at {
            let next = self.next[t.index()];
            if t == thread {
                match previous {
                    Some(previous) => self.next[previous.index()] = next,
                    None => self.head[p] = next,
                }
                if next.is_none() {
                    self.tail[p] = previous;
                }
                if self.head[p].is_none() {
                    self.nonempty &= !(1 << p);
                }
                return;
            }
            previous = at;
            at = next;
        }
    }
}
