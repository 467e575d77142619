//! Which std thread runs next: the bookkeeping of Ferrode's std threads,
//! without the kernel calls that carry it out (the board's `hermit`
//! module makes those).
//!
//! A std component's threads are kernel threads of one component at one
//! priority, but only one of them runs std code at a time: the one that
//! holds the component's turn. It keeps the turn until it waits (for a
//! signal, a futex word, another thread's end), yields or ends, and then
//! hands it to the thread made ready first. When no thread is ready, the
//! holder waits on a signal some thread waits for ([`Next::Poll`]) and
//! then lets every thread that waits for a signal look again
//! ([`Schedule::signalled`]): a wake-up that finds nothing done waits
//! again. One turn means one thread pointer and one set of std state at a
//! time, whatever the kernel switches; the price is that a thread that
//! computes without waiting keeps the others (not other components) from
//! running.

/// Why a thread waits: any of a signal, a futex word and another thread's
/// end may make it ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waiting {
    /// A signal (its selector) whose raise makes it look again.
    pub signal: Option<u32>,
    /// A futex word (its address) a wake of which makes it ready.
    pub futex: Option<usize>,
    /// The thread (its id) whose end makes it ready.
    pub join: Option<u32>,
}

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// It holds the turn.
    Running,
    /// It may run; the number orders the ready threads (first made ready,
    /// first to run).
    Ready(u32),
    /// It waits; the number orders the futex waiters.
    Waiting(Waiting, u32),
    /// Its function returned; it ends without running std code again.
    Finished,
}

/// One std thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Thread {
    id: u32,
    run: Run,
    /// A futex wake (not a timeout, not a signal) made it ready.
    woken: bool,
}

/// Whom the turn goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The thread at this index (perhaps the one asking).
    Run(usize),
    /// No thread is ready: wait on `signal`, then call
    /// [`Schedule::signalled`].
    Poll {
        /// The signal to wait on.
        signal: u32,
        /// Some thread waits for another signal, which the waiter should
        /// then look at by itself now and then (a short timeout on this
        /// one).
        others: bool,
    },
    /// Every thread waits for a futex word or another thread: none can
    /// ever run again.
    Deadlock,
}

/// Whether joining a thread must wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// It finished (its kernel thread may still have to be reaped).
    Finished(usize),
    /// It runs, is ready or waits.
    Alive,
    /// No such thread, or one finished and forgotten already: nothing to
    /// wait for.
    Unknown,
}

/// The std threads of one component, `N` at most, and who holds the turn.
#[derive(Clone, Debug)]
pub struct Schedule<const N: usize> {
    threads: [Option<Thread>; N],
    /// Hands out the order numbers.
    clock: u32,
}

impl<const N: usize> Schedule<N> {
    /// One thread, `main` (id 1), at index 0, holding the turn.
    pub const fn new() -> Self {
        let mut threads = [None; N];
        threads[0] = Some(Thread { id: 1, run: Run::Running, woken: false });
        Self { threads, clock: 0 }
    }

    fn tick(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// The thread at `index`: what it does, and its id.
    pub fn thread(&self, index: usize) -> Option<(u32, Run)> {
        self.threads.get(index).copied().flatten().map(|thread| (thread.id, thread.run))
    }

    /// The index of the thread with id `id`.
    pub fn index_of(&self, id: u32) -> Option<usize> {
        self.threads.iter().position(|thread| thread.is_some_and(|thread| thread.id == id))
    }

    /// A free index for a new thread.
    pub fn free_index(&self) -> Option<usize> {
        self.threads.iter().position(Option::is_none)
    }

    /// Adds thread `id` at a free index, ready to run after the threads
    /// ready already; `None` if all `N` are taken.
    pub fn add(&mut self, id: u32) -> Option<usize> {
        let index = self.free_index()?;
        let order = self.tick();
        self.threads[index] = Some(Thread { id, run: Run::Ready(order), woken: false });
        Some(index)
    }

    /// Forgets the thread at `index` (finished, its kernel thread reaped).
    pub fn remove(&mut self, index: usize) {
        if let Some(slot) = self.threads.get_mut(index) {
            *slot = None;
        }
    }

    /// Whether any thread but `me` is alive (not finished).
    pub fn others_alive(&self, me: usize) -> bool {
        self.threads.iter().enumerate().any(|(index, thread)| {
            index != me && thread.is_some_and(|thread| thread.run != Run::Finished)
        })
    }

    fn set(&mut self, index: usize, run: Run) {
        if let Some(Some(thread)) = self.threads.get_mut(index) {
            thread.run = run;
        }
    }

    /// The thread at `index` holds the turn.
    pub fn running(&mut self, index: usize) {
        self.set(index, Run::Running);
    }

    /// The thread at `index` waits, as `waiting` says.
    pub fn wait(&mut self, index: usize, waiting: Waiting) {
        let order = self.tick();
        if let Some(Some(thread)) = self.threads.get_mut(index) {
            thread.woken = false;
            thread.run = Run::Waiting(waiting, order);
        }
    }

    /// The thread at `index` may run again, after the threads ready
    /// already (a yield, or the end of a wait).
    pub fn ready(&mut self, index: usize) {
        let order = self.tick();
        self.set(index, Run::Ready(order));
    }

    /// Whom the turn goes to when thread `me` stops running: the thread
    /// made ready first (`me` if it is ready itself and first), else a
    /// wait on a signal some thread waits for (`preferred`, the Timer
    /// session's, if one waits for it: its timeouts can stand in for the
    /// others), else a deadlock.
    pub fn next(&self, preferred: Option<u32>) -> Next {
        let ready = self
            .threads
            .iter()
            .enumerate()
            .filter_map(|(index, thread)| match thread.map(|thread| thread.run) {
                Some(Run::Ready(order)) => Some((order, index)),
                _ => None,
            })
            .min_by_key(|&(order, _)| order);
        if let Some((_, index)) = ready {
            return Next::Run(index);
        }
        let mut signals = self.threads.iter().filter_map(|thread| match thread.map(|t| t.run) {
            Some(Run::Waiting(Waiting { signal: Some(signal), .. }, _)) => Some(signal),
            _ => None,
        });
        let Some(first) = signals.next() else { return Next::Deadlock };
        let waited_for = |wanted: u32| self.waiting_for(wanted);
        let signal = match preferred {
            Some(preferred) if waited_for(preferred) => preferred,
            _ => first,
        };
        let others = core::iter::once(first).chain(signals).any(|other| other != signal);
        Next::Poll { signal, others }
    }

    fn waiting_for(&self, wanted: u32) -> bool {
        self.threads.iter().any(|thread| {
            matches!(thread.map(|t| t.run), Some(Run::Waiting(Waiting { signal: Some(s), .. }, _)) if s == wanted)
        })
    }

    /// A thread that waits for a signal, to wait on it for all (the turn
    /// of one that ends with no thread ready).
    pub fn poller(&self) -> Option<usize> {
        (0..N).find(|&index| {
            matches!(
                self.thread(index),
                Some((_, Run::Waiting(Waiting { signal: Some(_), .. }, _)))
            )
        })
    }

    /// After a wait on a signal ([`Next::Poll`]): every thread that waits
    /// for a signal may look again.
    pub fn signalled(&mut self) {
        for index in 0..N {
            if let Some(Run::Waiting(Waiting { signal: Some(_), .. }, _)) =
                self.thread(index).map(|t| t.1)
            {
                self.ready(index);
            }
        }
    }

    /// A futex wake: makes up to `count` threads waiting for the word at
    /// `address` ready, those that began to wait first first; returns how
    /// many.
    pub fn futex_wake(&mut self, address: usize, count: usize) -> usize {
        let mut woken = 0;
        while woken < count {
            let first = self
                .threads
                .iter()
                .enumerate()
                .filter_map(|(index, thread)| match thread.map(|t| t.run) {
                    Some(Run::Waiting(Waiting { futex: Some(word), .. }, order))
                        if word == address =>
                    {
                        Some((order, index))
                    }
                    _ => None,
                })
                .min_by_key(|&(order, _)| order);
            let Some((_, index)) = first else { break };
            self.ready(index);
            if let Some(Some(thread)) = self.threads.get_mut(index) {
                thread.woken = true;
            }
            woken += 1;
        }
        woken
    }

    /// Whether a futex wake made the thread at `index` ready since it began
    /// to wait; clears it.
    pub fn take_woken(&mut self, index: usize) -> bool {
        match self.threads.get_mut(index) {
            Some(Some(thread)) => core::mem::take(&mut thread.woken),
            _ => false,
        }
    }

    /// The thread at `index` finished: the threads joining it are ready.
    pub fn finish(&mut self, index: usize) {
        let Some((id, _)) = self.thread(index) else { return };
        self.set(index, Run::Finished);
        for other in 0..N {
            if let Some(Run::Waiting(Waiting { join: Some(joined), .. }, _)) =
                self.thread(other).map(|t| t.1)
                && joined == id
            {
                self.ready(other);
            }
        }
    }

    /// Whether joining thread `id` must wait.
    pub fn join(&self, id: u32) -> Join {
        match self.index_of(id) {
            Some(index) if self.thread(index).is_some_and(|(_, run)| run == Run::Finished) => {
                Join::Finished(index)
            }
            Some(_) => Join::Alive,
            None => Join::Unknown,
        }
    }

    /// The indices of the finished threads.
    pub fn finished(&self) -> impl Iterator<Item = usize> + '_ {
        (0..N).filter(|&index| self.thread(index).is_some_and(|(_, run)| run == Run::Finished))
    }
}

impl<const N: usize> Default for Schedule<N> {
    fn default() -> Self {
        Self::new()
    }
}
