//! The kernel's state machine: every decision, no CPU specifics.
//!
//! Operations act on behalf of the current thread and return the thread
//! switch they decided ([`Switch`]); [`crate::Kernel`] performs it. Tests
//! drive this directly on the host.

use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Dispatch, MSG_CAPS, MSG_WORDS, TransportError, Utcb};

use crate::capspace::{CapEntry, CapSpace};
use crate::error::KernelError;
use crate::ids::{ComponentId, Link, ObjectId, SignalId, ThreadId};
use crate::sched::ReadyQueues;

/// Thread slots.
pub const MAX_THREADS: usize = 16;
/// Component slots (capability spaces).
pub const MAX_COMPONENTS: usize = 8;
/// Capability slots per component.
pub const CAP_SLOTS: usize = 32;
/// RPC object slots.
pub const MAX_OBJECTS: usize = 32;
/// Signal slots.
pub const MAX_SIGNALS: usize = 16;
/// Priority levels; 0 is the idle thread's, higher runs first.
pub const PRIORITIES: usize = 8;

// Thread ids index the thread table through a mask (one AND instead of a
// bounds check on the IPC paths): the table size must be a power of two.
// Ids must also stay below `Link::NONE` (255).
const _: () = assert!(MAX_THREADS.is_power_of_two() && MAX_THREADS < 255);

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    /// Unused slot.
    Free,
    /// Waiting in a ready queue.
    Ready,
    /// On the CPU.
    Running,
    /// A server waiting for a request.
    Waiting,
    /// A caller queued at a busy server.
    SendQueued,
    /// A caller whose request is being served.
    AwaitingReply,
    /// Waiting for a signal.
    SignalWait,
    /// Exited.
    Dead,
}

/// One thread. `repr(C)` and a power-of-two stride so that the IPC fast
/// path finds a thread with one shift (see [`crate::IPC_LAYOUT`]).
#[repr(C, align(64))]
pub(crate) struct Thread {
    pub(crate) state: ThreadState,
    pub(crate) priority: u8,
    pub(crate) component: ComponentId,
    sendq_tail: Link,
    /// Server: the caller whose request it is serving. The fast path reads
    /// it together with `sendq_head` as one aligned halfword.
    pub(crate) reply_to: Link,
    /// Server: head of the queue of callers (its tail is `sendq_tail`).
    pub(crate) sendq_head: Link,
    /// Link in a send queue.
    sendq_next: Link,
    /// Saved stack pointer while not running.
    pub(crate) sp: usize,
    pub(crate) utcb: *mut Utcb,
    pub(crate) name: &'static str,
    /// Server: the dispatcher of that object (looked up at delivery).
    pub(crate) received_dispatch: Option<NonNull<dyn Dispatch>>,
    /// Caller: the object it called (and its generation then).
    call_object: (ObjectId, u32),
    /// Signal waiter: the count it received.
    pub(crate) signal_count: u32,
}

impl Thread {
    const FREE: Thread = Thread {
        state: ThreadState::Free,
        priority: 0,
        component: ComponentId(0),
        sp: 0,
        utcb: core::ptr::null_mut(),
        name: "",
        sendq_head: Link::NONE,
        sendq_tail: Link::NONE,
        sendq_next: Link::NONE,
        reply_to: Link::NONE,
        received_dispatch: None,
        call_object: (ObjectId(0), 0),
        signal_count: 0,
    };
}

pub(crate) struct Component {
    pub(crate) used: bool,
    pub(crate) name: &'static str,
}

/// An RPC object slot: 16 bytes on 32-bit machines (the alignment keeps
/// the stride a power of two on 64-bit hosts too).
#[repr(C, align(16))]
pub(crate) struct Object {
    /// Moves on when the object is dissolved: capabilities hold the
    /// generation they were made for.
    pub(crate) generation: u32,
    pub(crate) live: bool,
    pub(crate) entrypoint: ThreadId,
    pub(crate) dispatch: Option<NonNull<dyn Dispatch>>,
}

#[derive(Clone, Copy)]
pub(crate) struct Signal {
    used: bool,
    count: u32,
    waiter: Option<ThreadId>,
}

/// A thread switch the kernel decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Switch {
    pub(crate) from: ThreadId,
    pub(crate) to: ThreadId,
}

/// The whole kernel state. `repr(C)`, small fields first, so that every
/// offset the IPC fast path uses fits an ARM load's 12-bit immediate.
#[repr(C)]
pub(crate) struct State {
    pub(crate) current: ThreadId,
    pub(crate) initialised: bool,
    /// Set from interrupt context: a thread was woken that may outrank the
    /// interrupted one; acted on at interrupt exit.
    resched: bool,
    /// Set by the timer interrupt: round-robin at interrupt exit.
    tick_pending: bool,
    pub(crate) ready: ReadyQueues,
    pub(crate) threads: [Thread; MAX_THREADS],
    pub(crate) objects: [Object; MAX_OBJECTS],
    /// Each component's capability space (its own table: a power-of-two
    /// stride for the fast path).
    pub(crate) caps: [CapSpace; MAX_COMPONENTS],
    pub(crate) components: [Component; MAX_COMPONENTS],
    signals: [Signal; MAX_SIGNALS],
}

const NO_COMPONENT: Component = Component { used: false, name: "" };
const NO_OBJECT: Object = Object { generation: 0, live: false, entrypoint: ThreadId(0), dispatch: None };
const NO_SIGNAL: Signal = Signal { used: false, count: 0, waiter: None };

impl State {
    pub(crate) const fn new() -> Self {
        Self {
            current: ThreadId(0),
            initialised: false,
            resched: false,
            tick_pending: false,
            ready: ReadyQueues::new(),
            threads: [Thread::FREE; MAX_THREADS],
            objects: [NO_OBJECT; MAX_OBJECTS],
            caps: [const { CapSpace::new() }; MAX_COMPONENTS],
            components: [NO_COMPONENT; MAX_COMPONENTS],
            signals: [NO_SIGNAL; MAX_SIGNALS],
        }
    }

    // ----- set-up ---------------------------------------------------------

    /// Makes the running boot context thread 0 of a root component.
    pub(crate) fn init(&mut self, root_name: &'static str, priority: u8, utcb: *mut Utcb) -> Result<ComponentId, KernelError> {
        check_priority(priority)?;
        let root = self.create_component(root_name)?;
        let boot = &mut self.threads[0];
        boot.state = ThreadState::Running;
        boot.priority = priority;
        boot.component = root;
        boot.utcb = utcb;
        boot.name = "main";
        self.current = ThreadId(0);
        self.initialised = true;
        Ok(root)
    }

    pub(crate) fn create_component(&mut self, name: &'static str) -> Result<ComponentId, KernelError> {
        let index = self.components.iter().position(|c| !c.used).ok_or(KernelError::OutOfComponents)?;
        let component = &mut self.components[index];
        component.used = true;
        component.name = name;
        self.caps[index] = CapSpace::new();
        Ok(ComponentId(index as u8))
    }

    /// Adds a ready thread whose first frame is at `sp`. Priority 0 is
    /// reserved for the idle thread (`allow_idle`).
    pub(crate) fn add_thread(
        &mut self,
        component: ComponentId,
        name: &'static str,
        priority: u8,
        sp: usize,
        utcb: *mut Utcb,
        allow_idle: bool,
    ) -> Result<ThreadId, KernelError> {
        if !(allow_idle && priority == 0) {
            check_priority(priority)?;
        }
        self.check_component(component)?;
        let index = self.threads.iter().position(|t| t.state == ThreadState::Free).ok_or(KernelError::OutOfThreads)?;
        let id = ThreadId(index as u8);
        self.threads[index] = Thread { state: ThreadState::Ready, priority, component, sp, utcb, name, ..Thread::FREE };
        self.ready.push_back(id, priority);
        Ok(id)
    }

    fn check_component(&self, component: ComponentId) -> Result<(), KernelError> {
        match self.components.get(component.index()) {
            Some(c) if c.used => Ok(()),
            _ => Err(KernelError::InvalidComponent),
        }
    }

    /// Registers an RPC object served by `entrypoint` and puts a capability
    /// for it into `component`'s space.
    pub(crate) fn create_object(
        &mut self,
        entrypoint: ThreadId,
        dispatch: NonNull<dyn Dispatch>,
        component: ComponentId,
    ) -> Result<(ObjectId, CapSel), KernelError> {
        self.check_component(component)?;
        if self.threads.get(entrypoint.index()).is_none_or(|t| matches!(t.state, ThreadState::Free | ThreadState::Dead)) {
            return Err(KernelError::InvalidThread);
        }
        let index = self.objects.iter().position(|o| !o.live && o.dispatch.is_none()).ok_or(KernelError::OutOfObjects)?;
        let object = &mut self.objects[index];
        object.live = true;
        object.entrypoint = entrypoint;
        object.dispatch = Some(dispatch);
        let id = ObjectId(index as u8);
        let entry = CapEntry::Object { object: id, generation: object.generation };
        match self.caps[component.index()].insert(entry) {
            Some(selector) => Ok((id, selector)),
            None => {
                self.objects[index].live = false;
                self.objects[index].dispatch = None;
                Err(KernelError::CapabilitySpaceFull)
            }
        }
    }

    /// Revokes the object `selector` designates in `component`'s space:
    /// every capability to it, in every space, is dead from now on. The
    /// object slot becomes reusable (its generation has moved on).
    pub(crate) fn revoke(&mut self, component: ComponentId, selector: CapSel) -> Result<(), KernelError> {
        self.check_component(component)?;
        let CapEntry::Object { object, generation } = self.caps[component.index()].get(selector) else {
            return Err(KernelError::InvalidCapability);
        };
        let slot = &mut self.objects[object.index()];
        if !slot.live || slot.generation != generation {
            return Err(KernelError::InvalidCapability);
        }
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.dispatch = None;
        Ok(())
    }

    /// Copies the capability `selector` of `from` into `to`'s space.
    pub(crate) fn delegate(&mut self, from: ComponentId, selector: CapSel, to: ComponentId) -> Result<CapSel, KernelError> {
        self.check_component(from)?;
        self.check_component(to)?;
        let entry = self.caps[from.index()].get(selector);
        if entry == CapEntry::Empty {
            return Err(KernelError::InvalidCapability);
        }
        self.caps[to.index()].insert(entry).ok_or(KernelError::CapabilitySpaceFull)
    }

    /// Drops `selector` from `component`'s space.
    pub(crate) fn drop_capability(&mut self, component: ComponentId, selector: CapSel) -> Result<(), KernelError> {
        self.check_component(component)?;
        match self.caps[component.index()].remove(selector) {
            CapEntry::Empty => Err(KernelError::InvalidCapability),
            _ => Ok(()),
        }
    }

    pub(crate) fn create_signal(&mut self, component: ComponentId) -> Result<(SignalId, CapSel), KernelError> {
        self.check_component(component)?;
        let index = self.signals.iter().position(|s| !s.used).ok_or(KernelError::OutOfSignals)?;
        let id = SignalId(index as u8);
        let selector =
            self.caps[component.index()].insert(CapEntry::Signal(id)).ok_or(KernelError::CapabilitySpaceFull)?;
        self.signals[index] = Signal { used: true, count: 0, waiter: None };
        Ok((id, selector))
    }

    pub(crate) fn capability(&self, component: ComponentId, selector: CapSel) -> CapEntry {
        match self.components.get(component.index()) {
            Some(c) if c.used => self.caps[component.index()].get(selector),
            _ => CapEntry::Empty,
        }
    }

    // ----- scheduling -----------------------------------------------------

    fn make_ready(&mut self, thread: ThreadId) {
        let t = &mut self.threads[thread.index()];
        t.state = ThreadState::Ready;
        let priority = t.priority;
        self.ready.push_back(thread, priority);
    }

    /// Blocks the current thread in `state` and switches to the best ready
    /// thread (the idle thread is always ready when nothing else is).
    fn block_current(&mut self, state: ThreadState) -> Option<Switch> {
        let from = self.current;
        self.threads[from.index()].state = state;
        let to = self.ready.pop_highest()?;
        Some(self.run(from, to))
    }

    fn run(&mut self, from: ThreadId, to: ThreadId) -> Switch {
        self.threads[to.index()].state = ThreadState::Running;
        self.current = to;
        Switch { from, to }
    }

    /// Preempts the current thread if a ready thread has higher priority
    /// (or, with `round_robin`, equal priority).
    fn preempt_if_needed(&mut self, round_robin: bool) -> Option<Switch> {
        let current = self.current;
        let priority = self.threads[current.index()].priority;
        let best = self.ready.highest()?;
        if best > priority || (round_robin && best == priority) {
            self.make_ready(current);
            let to = self.ready.pop_highest()?;
            if to == current {
                self.threads[current.index()].state = ThreadState::Running;
                return None;
            }
            return Some(self.run(current, to));
        }
        None
    }

    /// Switches to a ready thread of higher priority, if there is one.
    pub(crate) fn yield_if_outranked(&mut self) -> Option<Switch> {
        self.preempt_if_needed(false)
    }

    /// The current thread gives up the CPU to others of its priority.
    pub(crate) fn yield_now(&mut self) -> Option<Switch> {
        self.preempt_if_needed(true)
    }

    /// The current thread ends; callers waiting on it fail with
    /// `ServerDead`.
    pub(crate) fn exit_current(&mut self) -> Option<Switch> {
        let me = self.current;
        if let Some(caller) = self.threads[me.index()].reply_to.take() {
            self.fail_caller(caller, TransportError::ServerDead);
        }
        while let Some(caller) = self.pop_sendq(me) {
            self.fail_caller(caller, TransportError::ServerDead);
        }
        self.block_current(ThreadState::Dead)
    }

    // ----- IPC ------------------------------------------------------------

    /// The current thread's call was refused: it gets an error reply.
    pub(crate) fn fail_current_call(&mut self, error: TransportError) {
        // SAFETY: the current thread's own UTCB, not in use during the call
        // (null only before `init`, when there is no thread to tell).
        if let Some(utcb) = unsafe { self.threads[self.current.index()].utcb.as_mut() } {
            ferrode_ipc::write_error_reply(utcb, error);
        }
    }

    /// Ends `caller`'s call with an error reply carrying `error` (how a
    /// call that was accepted but cannot be answered fails).
    fn fail_caller(&mut self, caller: ThreadId, error: TransportError) {
        let t = &mut self.threads[caller.index()];
        if matches!(t.state, ThreadState::SendQueued | ThreadState::AwaitingReply) {
            // SAFETY: the caller is blocked in `call`; its UTCB is not in use.
            ferrode_ipc::write_error_reply(unsafe { &mut *t.utcb }, error);
            self.make_ready(caller);
        }
    }

    fn push_sendq(&mut self, server: ThreadId, caller: ThreadId) {
        self.threads[caller.index()].sendq_next = Link::NONE;
        match self.threads[server.index()].sendq_tail.get() {
            Some(tail) => self.threads[tail.index()].sendq_next = Some(caller).into(),
            None => self.threads[server.index()].sendq_head = Some(caller).into(),
        }
        self.threads[server.index()].sendq_tail = Some(caller).into();
    }

    fn pop_sendq(&mut self, server: ThreadId) -> Option<ThreadId> {
        let head = self.threads[server.index()].sendq_head.get()?;
        let next = self.threads[head.index()].sendq_next;
        self.threads[server.index()].sendq_head = next;
        if !next.is_some() {
            self.threads[server.index()].sendq_tail = Link::NONE;
        }
        Some(head)
    }

    /// Translates `selector` of component `from` into component `to`.
    fn translate(&mut self, from: ComponentId, selector: CapSel, to: ComponentId) -> Result<CapSel, TransportError> {
        if selector == CapSel::INVALID {
            return Ok(CapSel::INVALID);
        }
        if from == to {
            return match self.caps[from.index()].get(selector) {
                CapEntry::Empty => Err(TransportError::InvalidCapability),
                _ => Ok(selector),
            };
        }
        let entry = self.caps[from.index()].get(selector);
        if entry == CapEntry::Empty {
            return Err(TransportError::InvalidCapability);
        }
        self.caps[to.index()].insert(entry).ok_or(TransportError::CapabilitySpaceFull)
    }

    /// The kernel copy: exactly the used words of `from`'s UTCB into `to`'s,
    /// capabilities translated between their components.
    #[inline(always)]
    fn transfer(&mut self, from: ThreadId, to: ThreadId, delivery: Delivery) -> Result<(), TransportError> {
        let source = self.threads[from.index()].utcb;
        let target = self.threads[to.index()].utcb;
        // SAFETY: every thread's UTCB pointer comes from a `&'static mut
        // Utcb` handed to the kernel at spawn; `from` and `to` are distinct
        // threads, so the two UTCBs are distinct; their owners are blocked
        // or are the current thread inside this kernel call.
        let (source, target) = unsafe { (&*source, &mut *target) };
        let words = source.word_count as usize;
        let caps = source.cap_count as usize;
        if words > MSG_WORDS || caps > MSG_CAPS {
            return Err(TransportError::WrongLength);
        }
        target.label = source.label;
        target.badge = delivery.badge();
        target.word_count = source.word_count;
        target.error = delivery.error(source);
        copy_words(&source.words[..words], &mut target.words[..words]);
        target.cap_count = 0;
        if caps == 0 {
            return Ok(());
        }
        self.transfer_caps(from, to, caps)
    }

    /// The capability part of [`State::transfer`] (kept out of line: most
    /// messages carry none).
    #[inline(never)]
    fn transfer_caps(&mut self, from: ThreadId, to: ThreadId, caps: usize) -> Result<(), TransportError> {
        let source_component = self.threads[from.index()].component;
        let target_component = self.threads[to.index()].component;
        for index in 0..caps {
            // SAFETY: as in `transfer`; the pointers are re-read each time so
            // no reference lives across `translate`'s borrow of `self`.
            let selector = unsafe { (*self.threads[from.index()].utcb).caps[index] };
            let translated = self.translate(source_component, selector, target_component)?;
            // SAFETY: as above.
            unsafe { (*self.threads[to.index()].utcb).caps[index] = translated };
        }
        // SAFETY: as above.
        unsafe { (*self.threads[to.index()].utcb).cap_count = caps as u32 };
        Ok(())
    }

    /// Records that `server` now serves `caller`'s request to `object`.
    #[inline(always)]
    fn start_serving(&mut self, server: ThreadId, caller: ThreadId, object: ObjectId) {
        let dispatch = self.objects[object.index()].dispatch;
        let s = &mut self.threads[server.index()];
        s.reply_to = Some(caller).into();
        s.received_dispatch = dispatch;
        self.threads[caller.index()].state = ThreadState::AwaitingReply;
    }

    /// The thread `id` (ids are made by the kernel and always in range; the
    /// mask lets the compiler drop the bounds check).
    #[inline(always)]
    fn thread(&self, id: ThreadId) -> &Thread {
        &self.threads[id.index() & (MAX_THREADS - 1)]
    }

    /// The running thread.
    #[inline(always)]
    pub(crate) fn current_thread(&self) -> &Thread {
        self.thread(self.current)
    }

    #[inline(always)]
    fn thread_mut(&mut self, id: ThreadId) -> &mut Thread {
        &mut self.threads[id.index() & (MAX_THREADS - 1)]
    }

    /// `call`: see the crate docs. On `Err` nothing changed. A call that
    /// was accepted and later fails (server dead, object revoked while the
    /// call waited) ends with an error reply in the caller's UTCB.
    #[inline(always)]
    pub(crate) fn call(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        match self.call_fast(selector) {
            Some(result) => result.map(Some),
            None => self.call_slow(selector),
        }
    }

    /// The common call: a live object whose entrypoint waits. Copies the
    /// request (translating its capabilities, if any) and switches
    /// straight to the server; `None` (with nothing changed) leaves every
    /// other case to [`State::call_slow`], which handles it completely.
    #[inline(always)]
    fn call_fast(&mut self, selector: CapSel) -> Option<Result<Switch, TransportError>> {
        let caller = self.current;
        let t = self.thread(caller);
        let component = t.component;
        let source = t.utcb;
        let entry = self.caps.get(component.index())?.get(selector);
        let CapEntry::Object { object, generation } = entry else { return None };
        let target = self.objects.get(object.index())?;
        // A dissolved object's generation has moved on, and a free slot's
        // generation is one no capability holds (see `revoke`): equal
        // generations mean the object is live.
        if target.generation != generation {
            return None;
        }
        let dispatch = target.dispatch;
        let server = target.entrypoint;
        let s = self.thread(server);
        if s.state != ThreadState::Waiting {
            return None;
        }
        let destination = s.utcb;
        // SAFETY: UTCB pointers come from `&'static mut Utcb`s handed to the
        // kernel at spawn; caller and server are distinct threads (the
        // server waits, the caller runs), so the UTCBs are distinct.
        let (source, destination) = unsafe { (&*source, &mut *destination) };
        let words = source.word_count as usize;
        let caps = source.cap_count as usize;
        if words > MSG_WORDS || caps > MSG_CAPS {
            return None;
        }
        copy_message(source, destination, words, Delivery::Request { badge: object.index() });
        if caps != 0
            && let Err(error) = self.transfer_caps(caller, server, caps)
        {
            return Some(Err(error));
        }
        let s = self.thread_mut(server);
        s.reply_to = Some(caller).into();
        s.received_dispatch = dispatch;
        s.state = ThreadState::Running;
        self.thread_mut(caller).state = ThreadState::AwaitingReply;
        self.current = server;
        Some(Ok(Switch { from: caller, to: server }))
    }

    /// Every call the fast path does not take: capability transfer, busy
    /// servers (queueing), and all the failures.
    #[inline(never)]
    fn call_slow(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        let caller = self.current;
        let component = self.threads[caller.index()].component;
        let CapEntry::Object { object, generation } = self.caps[component.index()].get(selector) else {
            return Err(TransportError::InvalidCapability);
        };
        let target = &self.objects[object.index()];
        if !target.live || target.generation != generation {
            return Err(TransportError::ServerDead);
        }
        let server = target.entrypoint;
        match self.threads[server.index()].state {
            ThreadState::Waiting => {
                self.transfer(caller, server, Delivery::Request { badge: object.index() })?;
                self.start_serving(server, caller, object);
                Ok(Some(self.run(caller, server)))
            }
            ThreadState::Dead | ThreadState::Free => Err(TransportError::ServerDead),
            _ => {
                // SAFETY: the caller's UTCB is its own; checked here so a
                // malformed request fails now rather than at delivery.
                let utcb = unsafe { &*self.threads[caller.index()].utcb };
                if utcb.word_count as usize > MSG_WORDS || utcb.cap_count as usize > MSG_CAPS {
                    return Err(TransportError::WrongLength);
                }
                // Delivery happens later: remember which object (and which
                // generation of it) was called, to refuse it if revoked.
                self.threads[caller.index()].call_object = (object, generation);
                self.push_sendq(server, caller);
                Ok(self.block_current(ThreadState::SendQueued))
            }
        }
    }

    /// Delivers the next queued request to the current (server) thread, if
    /// any; failed deliveries fail their callers and move on.
    fn receive_queued(&mut self) -> bool {
        let server = self.current;
        while let Some(caller) = self.pop_sendq(server) {
            let (object, generation) = self.threads[caller.index()].call_object;
            let target = &self.objects[object.index()];
            if !target.live || target.generation != generation {
                self.fail_caller(caller, TransportError::ServerDead);
                continue;
            }
            if let Err(error) = self.transfer(caller, server, Delivery::Request { badge: object.index() }) {
                self.fail_caller(caller, error);
                continue;
            }
            self.start_serving(server, caller, object);
            return true;
        }
        false
    }

    /// `reply_and_wait` (with `reply` false: `wait`).
    #[inline(always)]
    pub(crate) fn reply_and_wait(&mut self, reply: bool) -> Option<Switch> {
        if reply && let Some(switch) = self.reply_fast() {
            return Some(switch);
        }
        self.reply_and_wait_slow(reply)
    }

    /// The common reply: to a caller that is the best thread to run, with
    /// no other request queued. Copies the reply (translating capabilities)
    /// and switches straight back; `None` (with nothing changed)
    /// leaves the rest to [`State::reply_and_wait_slow`].
    #[inline(always)]
    fn reply_fast(&mut self) -> Option<Switch> {
        let server = self.current;
        let s = self.thread(server);
        let caller = s.reply_to.get()?;
        if s.sendq_head.is_some() {
            return None;
        }
        let source = s.utcb;
        let c = self.thread(caller);
        if c.state != ThreadState::AwaitingReply || self.ready.highest().is_some_and(|best| best > c.priority) {
            return None;
        }
        let destination = c.utcb;
        // SAFETY: as in `call_fast`: distinct threads' `&'static mut` UTCBs.
        let (source, destination) = unsafe { (&*source, &mut *destination) };
        let words = source.word_count as usize;
        let caps = source.cap_count as usize;
        if words > MSG_WORDS || caps > MSG_CAPS {
            return None;
        }
        copy_message(source, destination, words, Delivery::Reply);
        if caps != 0
            && let Err(error) = self.transfer_caps(server, caller, caps)
        {
            // The reply cannot be delivered as sent: the caller learns why.
            // SAFETY: the caller is blocked in `call`; its UTCB is not in use.
            ferrode_ipc::write_error_reply(unsafe { &mut *self.thread(caller).utcb }, error);
        }
        let s = self.thread_mut(server);
        s.reply_to = Link::NONE;
        s.received_dispatch = None;
        s.state = ThreadState::Waiting;
        self.thread_mut(caller).state = ThreadState::Running;
        self.current = caller;
        Some(Switch { from: server, to: caller })
    }

    /// Copies the reply to `caller`; if it cannot be delivered as sent, the
    /// caller is told why instead of getting half a message.
    #[inline(always)]
    fn deliver_reply(&mut self, server: ThreadId, caller: ThreadId) {
        if let Err(error) = self.transfer(server, caller, Delivery::Reply) {
            // SAFETY: the caller is blocked; its UTCB is not in use.
            let utcb = unsafe { &mut *self.threads[caller.index()].utcb };
            utcb.word_count = 0;
            utcb.cap_count = 0;
            utcb.error = error.code();
        }
    }

    #[inline(never)]
    fn reply_and_wait_slow(&mut self, reply: bool) -> Option<Switch> {
        let server = self.current;
        let mut replied = None;
        if let Some(caller) = self.threads[server.index()].reply_to.take() {
            if reply && self.threads[caller.index()].state == ThreadState::AwaitingReply {
                self.deliver_reply(server, caller);
                replied = Some(caller);
            } else {
                self.fail_caller(caller, TransportError::ServerDead);
            }
        }
        self.threads[server.index()].received_dispatch = None;
        if self.receive_queued() {
            if let Some(caller) = replied {
                self.make_ready(caller);
            }
            return self.preempt_if_needed(false);
        }
        self.threads[server.index()].state = ThreadState::Waiting;
        match replied {
            // Direct switch back to the caller unless something better waits.
            Some(caller) if self.ready.highest().is_none_or(|best| best <= self.threads[caller.index()].priority) => {
                Some(self.run(server, caller))
            }
            Some(caller) => {
                self.make_ready(caller);
                self.block_current(ThreadState::Waiting)
            }
            None => self.block_current(ThreadState::Waiting),
        }
    }

    // ----- signals --------------------------------------------------------

    fn signal_of(&self, selector: CapSel) -> Option<SignalId> {
        let component = self.threads[self.current.index()].component;
        match self.caps[component.index()].get(selector) {
            CapEntry::Signal(signal) => Some(signal),
            _ => None,
        }
    }

    /// Submits the signal `selector` designates in the current component.
    pub(crate) fn submit(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        let signal = self.signal_of(selector).ok_or(TransportError::InvalidCapability)?;
        Ok(self.submit_signal(signal))
    }

    /// Submits `signal` from interrupt context: wakes the waiter but
    /// switches only at interrupt exit ([`State::interrupt_exit`]), after
    /// the interrupt controller has been told the interrupt is done.
    pub(crate) fn submit_signal_deferred(&mut self, signal: SignalId) {
        if self.count_signal(signal) {
            self.resched = true;
        }
    }

    /// Timer interrupt: ask for round-robin at interrupt exit.
    pub(crate) fn tick_from_interrupt(&mut self) {
        self.tick_pending = true;
    }

    /// End of interrupt handling: the switch the interrupt asked for, if
    /// any (round-robin on a tick, or to a woken thread of higher priority).
    pub(crate) fn interrupt_exit(&mut self) -> Option<Switch> {
        let round_robin = core::mem::take(&mut self.tick_pending);
        let woken = core::mem::take(&mut self.resched);
        if round_robin || woken { self.preempt_if_needed(round_robin) } else { None }
    }

    /// Submits `signal` from thread context (may switch to the waiter).
    pub(crate) fn submit_signal(&mut self, signal: SignalId) -> Option<Switch> {
        if self.count_signal(signal) { self.preempt_if_needed(false) } else { None }
    }

    /// Counts one submission of `signal`; if a thread waits on it, hands it
    /// the count and makes it ready. Returns whether a thread was woken.
    fn count_signal(&mut self, signal: SignalId) -> bool {
        let Some(slot) = self.signals.get_mut(signal.index()) else { return false };
        if !slot.used {
            return false;
        }
        slot.count = slot.count.saturating_add(1);
        let Some(waiter) = slot.waiter.take() else { return false };
        let count = core::mem::take(&mut slot.count);
        self.threads[waiter.index()].signal_count = count;
        self.make_ready(waiter);
        true
    }

    /// Waits for the signal `selector` designates; the count is delivered
    /// in the thread's `signal_count` (at once if already pending).
    pub(crate) fn wait_signal(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        let signal = self.signal_of(selector).ok_or(TransportError::InvalidCapability)?;
        let me = self.current;
        let slot = &mut self.signals[signal.index()];
        if slot.count > 0 {
            self.threads[me.index()].signal_count = core::mem::take(&mut slot.count);
            return Ok(None);
        }
        if slot.waiter.is_some() {
            // One waiter per signal, as in Genode's signal receiver.
            return Err(TransportError::InvalidCapability);
        }
        slot.waiter = Some(me);
        Ok(self.block_current(ThreadState::SignalWait))
    }
}

fn check_priority(priority: u8) -> Result<(), KernelError> {
    if priority == 0 || priority as usize >= PRIORITIES { Err(KernelError::InvalidPriority) } else { Ok(()) }
}

/// Which way a message goes: the header fields the kernel sets.
#[derive(Clone, Copy)]
enum Delivery {
    /// To a server: the badge names the object called; a request carries
    /// no error code (it arrives as 0).
    Request { badge: usize },
    /// Back to the caller: badge 0, the server's error code.
    Reply,
}

impl Delivery {
    #[inline(always)]
    fn badge(self) -> usize {
        match self {
            Delivery::Request { badge } => badge,
            Delivery::Reply => 0,
        }
    }

    #[inline(always)]
    fn error(self, source: &Utcb) -> u32 {
        match self {
            Delivery::Request { .. } => 0,
            Delivery::Reply => source.error,
        }
    }
}

/// The fast paths' copy of a message without capabilities: the header
/// and exactly `words` (already checked against the UTCB) words.
#[inline(always)]
fn copy_message(source: &Utcb, destination: &mut Utcb, words: usize, delivery: Delivery) {
    destination.label = source.label;
    destination.badge = delivery.badge();
    destination.word_count = words as u32;
    destination.cap_count = 0;
    destination.error = delivery.error(source);
    copy_words(&source.words[..words], &mut destination.words[..words]);
}

/// Copies message words; short messages (the common case) without a call.
#[inline(always)]
fn copy_words(source: &[usize], target: &mut [usize]) {
    if source.len() <= 4 {
        for (t, s) in target.iter_mut().zip(source) {
            *t = *s;
        }
    } else {
        target.copy_from_slice(source);
    }
}
