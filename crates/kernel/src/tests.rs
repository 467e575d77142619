//! Host tests of the kernel's state machine: threads are simulated by
//! acting, in turn, as whichever thread the kernel made current.

use std::boxed::Box;
use std::vec::Vec;

use core::ptr::NonNull;

use ferrode_ipc::{
    CapSel, Capability, Dispatch, Interface, RpcObject, Serve, Transport, TransportError, Utcb,
};

use crate::capspace::CapEntry;
use crate::error::KernelError;
use crate::ids::{ComponentId, ThreadId};
use crate::state::{Quota, State, Switch, ThreadState, Window};

ferrode_ipc::marshal! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DemoError { Overflow, Transport(TransportError) }
}

ferrode_ipc::rpc_error!(DemoError::Transport);

ferrode_ipc::interface! {
    pub trait Base {
        fn ping(&mut self) -> Result<u32, DemoError>;
    }
}

ferrode_ipc::interface! {
    pub trait Counter {
        fn bump(&mut self) -> Result<u32, DemoError>;
    }
}

ferrode_ipc::interface! {
    pub trait Demo: Base {
        fn add(&mut self, a: u32, b: u32) -> Result<u32, DemoError>;
        fn keep(&mut self, counter: Capability<dyn Counter>) -> Result<(), DemoError>;
        fn give(&mut self) -> Result<Capability<dyn Counter>, DemoError>;
        fn sum(&mut self, words: [u32; 8]) -> Result<u32, DemoError>;
        fn refuse(
            &mut self,
            first: Capability<dyn Counter>,
            second: Capability<dyn Counter>,
        ) -> Result<(), DemoError>;
    }
}

#[derive(Default)]
struct DemoServer {
    pings: u32,
    kept: Option<Capability<dyn Counter>>,
    seen_words: Vec<usize>,
}

impl Base for DemoServer {
    fn ping(&mut self) -> Result<u32, DemoError> {
        self.pings += 1;
        Ok(self.pings)
    }
}

impl Demo for DemoServer {
    fn add(&mut self, a: u32, b: u32) -> Result<u32, DemoError> {
        a.checked_add(b).ok_or(DemoError::Overflow)
    }
    fn keep(&mut self, counter: Capability<dyn Counter>) -> Result<(), DemoError> {
        self.kept = Some(counter);
        Ok(())
    }
    fn give(&mut self) -> Result<Capability<dyn Counter>, DemoError> {
        Ok(self.kept.unwrap_or(Capability::invalid()))
    }
    fn sum(&mut self, words: [u32; 8]) -> Result<u32, DemoError> {
        self.seen_words.extend(words.iter().map(|&w| w as usize));
        Ok(words.iter().sum())
    }
    fn refuse(
        &mut self,
        _: Capability<dyn Counter>,
        _: Capability<dyn Counter>,
    ) -> Result<(), DemoError> {
        Err(DemoError::Overflow)
    }
}

struct CounterServer(u32);
impl Counter for CounterServer {
    fn bump(&mut self) -> Result<u32, DemoError> {
        self.0 += 1;
        Ok(self.0)
    }
}

const JUNK: usize = 0x5a5a_5a5a;

fn utcb() -> *mut Utcb {
    let mut utcb = Box::new(Utcb::new());
    utcb.words = [JUNK; ferrode_ipc::MSG_WORDS];
    Box::leak(utcb)
}

/// A leaked RPC object serving `I`, with `I`'s receive windows.
fn object<I, S>(server: S) -> (NonNull<dyn Dispatch>, Window)
where
    I: ?Sized + Serve<S> + 'static,
    S: 'static,
{
    let object: &mut dyn Dispatch = Box::leak(Box::new(RpcObject::<I, S>::new(server)));
    (NonNull::from(object), <I as Interface>::caps_window)
}

/// The label of `Demo` method `position` (0 add, 1 keep, 2 give, 3 sum, 4 refuse).
fn demo_label(position: usize) -> usize {
    ferrode_ipc::label::<dyn Demo>(position)
}

/// The label of `Base::ping`.
fn ping_label() -> usize {
    ferrode_ipc::label::<dyn Base>(0)
}

/// A kernel, a root component (priority 2) with the main thread, a server
/// component (priority 3) with one entrypoint thread waiting for requests.
struct World {
    state: Box<State>,
    root: ComponentId,
    server_component: ComponentId,
    entrypoint: ThreadId,
    main: ThreadId,
}

impl World {
    fn new() -> Self {
        let mut state = Box::new(State::new());
        let root = state.init("root", 2, utcb()).unwrap();
        state.add_thread(root, "idle", 0, 0, utcb(), (0, 0), true).unwrap();
        let (server_component, _) =
            state.create_component("server", Quota::at_priority(3)).unwrap();
        let entrypoint =
            state.add_thread(server_component, "ep", 3, 0, utcb(), (0, 0), false).unwrap();
        let mut world = World { state, root, server_component, entrypoint, main: ThreadId(0) };
        // The higher-priority entrypoint runs first and starts waiting.
        assert_eq!(
            world.state.yield_if_outranked(),
            Some(Switch { from: world.main, to: entrypoint })
        );
        assert_eq!(
            world.state.reply_and_wait(false),
            Some(Switch { from: entrypoint, to: world.main })
        );
        assert_eq!(world.state.threads[entrypoint.index()].state, ThreadState::Waiting);
        world
    }

    /// Manages `object` at the entrypoint (from root: the capability is
    /// root's).
    fn manage(&mut self, (object, window): (NonNull<dyn Dispatch>, Window)) -> CapSel {
        self.state.create_object(self.entrypoint, object, window).unwrap().1
    }

    /// A new component at `priority` with a thread that is made current
    /// (test only: the scheduler is bypassed), to act as that component.
    fn component_with_thread(
        &mut self,
        name: &'static str,
        quota: Quota,
    ) -> (ComponentId, ThreadId) {
        let (component, _) = self.state.create_component(name, quota).unwrap();
        let thread = self
            .state
            .add_thread(component, name, quota.priority, 0, utcb(), (0, 0), false)
            .unwrap();
        (component, thread)
    }

    /// Makes `thread` the running thread (test only: bypasses the
    /// scheduler, the previous one goes back to the ready queue).
    fn act_as(&mut self, thread: ThreadId) {
        act_as(&mut self.state, thread);
    }

    /// A thread's UTCB, to inspect.
    fn utcb_of(&self, thread: ThreadId) -> &Utcb {
        // SAFETY: every UTCB here is leaked (lives forever) and only read.
        unsafe { &*self.state.threads[thread.index()].utcb }
    }

    /// The current thread's UTCB, to write a request by hand.
    fn current_utcb(&mut self) -> &mut Utcb {
        // SAFETY: the current thread's leaked UTCB; no other borrow is live.
        unsafe { &mut *self.state.threads[self.state.current.index()].utcb }
    }

    /// Runs whatever servers the kernel switches to until `caller` runs.
    fn run_servers_until(&mut self, caller: ThreadId) {
        let mut steps = 0;
        while self.state.current != caller {
            steps += 1;
            assert!(steps < 100, "no progress");
            let server = self.state.current;
            let Some(mut target) = self.state.threads[server.index()].received_dispatch else {
                panic!(
                    "thread {:?} runs without a request",
                    self.state.threads[server.index()].name
                )
            };
            let utcb = NonNull::new(self.state.threads[server.index()].utcb).unwrap();
            // As the entrypoint does (`crate::serve_request`). SAFETY: the
            // server's own leaked UTCB and a leaked object; the simulated
            // threads run one at a time.
            unsafe {
                let space = self.state.threads[server.index()].component;
                let state = core::cell::RefCell::new(&mut self.state);
                ferrode_ipc::serve_request(
                    Some(target.as_mut()),
                    utcb,
                    |selector| state.borrow().caps[space.index()].get(selector),
                    |selector| state.borrow_mut().drop_capability(selector).unwrap(),
                )
            };
            self.state.reply_and_wait(true);
        }
    }

    /// A new counter object at the entrypoint, its capability root's.
    fn counter(&mut self) -> Capability<dyn Counter> {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        let (_, selector) = self.state.create_object(self.entrypoint, object, window).unwrap();
        Capability::from_selector(selector)
    }

    fn entry(&self, component: ComponentId, selector: CapSel) -> CapEntry {
        self.state.caps[component.index()].get(selector)
    }

    fn used_slots(&self, component: ComponentId) -> usize {
        self.state.caps[component.index()].slots.iter().filter(|e| **e != CapEntry::Empty).count()
    }
}

/// Every test's world ends with its slot masks checked against its spaces.
impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.state.check_slot_masks();
        }
    }
}

/// Makes `thread` the running thread (test only: bypasses the scheduler,
/// the previous one goes back to the ready queue).
fn act_as(state: &mut State, thread: ThreadId) {
    let previous = state.current;
    if previous == thread {
        return;
    }
    state.ready.remove(thread, state.threads[thread.index()].priority);
    if state.threads[previous.index()].state == ThreadState::Running {
        state.threads[previous.index()].state = ThreadState::Ready;
        let priority = state.threads[previous.index()].priority;
        state.ready.push_back(previous, priority);
    }
    state.threads[thread.index()].state = ThreadState::Running;
    state.current = thread;
}

// SAFETY: the current thread's UTCB is leaked (valid for ever) and the
// simulated threads never hold references into it between calls.
unsafe impl Transport for World {
    fn utcb(&mut self) -> NonNull<Utcb> {
        NonNull::new(self.state.threads[self.state.current.index()].utcb).unwrap()
    }

    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        let caller = self.state.current;
        self.state.call(capability)?;
        self.run_servers_until(caller);
        // A failure after acceptance is an error reply, which the stub reads.
        Ok(())
    }

    /// As `KernelTransport` does.
    fn discard_fresh_caps(&mut self) {
        for selector in self.utcb_of(self.state.current).fresh_selectors() {
            self.state.drop_capability(selector).unwrap();
        }
    }
}

/// A server that answers every request with an `Ok` tag and `cap`
/// attached, and a junk word after the tag when `malformed`.
struct Hostile {
    cap: CapSel,
    malformed: bool,
}

impl Dispatch for Hostile {
    unsafe fn dispatch(&mut self, utcb: NonNull<Utcb>) {
        // SAFETY: the caller's contract: the serving thread's UTCB, no
        // reference to it live.
        let reply = unsafe { &mut *utcb.as_ptr() };
        reply.error = 0;
        reply.words[..2].copy_from_slice(&[0, JUNK]);
        reply.word_count = if self.malformed { 2 } else { 1 };
        reply.cap_count = 1;
        reply.caps[0] = self.cap;
    }
}

fn client(world: &mut World, selector: CapSel) -> ferrode_ipc::Client<dyn Demo, &mut World> {
    ferrode_ipc::Client::new(world, Capability::from_selector(selector))
}

#[test]
fn only_core_threads_and_a_kernel_not_yet_started_run_in_root() {
    assert!(State::new().running_in_root(), "before init");
    let mut world = World::new();
    assert!(world.state.running_in_root(), "the boot thread");
    let idle = (0..crate::MAX_THREADS)
        .map(ThreadId::from_index)
        .find(|t| world.state.threads[t.index()].name == Some("idle"))
        .unwrap();
    world.act_as(idle);
    assert!(world.state.running_in_root(), "the idle thread");
    world.act_as(world.entrypoint);
    assert!(!world.state.running_in_root(), "a server's thread");
    world.act_as(world.main);
    let (_, child) = world.component_with_thread("child", Quota::at_priority(2));
    world.act_as(child);
    assert!(!world.state.running_in_root(), "a thread of a component root created");
}

#[test]
fn rpc_round_trip_with_inherited_method_and_declared_error() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let mut demo = client(&mut world, demo);
    assert_eq!(demo.ping(), Ok(1));
    assert_eq!(demo.ping(), Ok(2));
    assert_eq!(demo.add(40, 2), Ok(42));
    assert_eq!(demo.add(u32::MAX, 1), Err(DemoError::Overflow));
    // The entrypoint is waiting again, the caller running.
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Waiting);
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::Running);
}

#[test]
fn the_kernel_copies_only_the_used_words() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    assert_eq!(client(&mut world, demo).add(1, 2), Ok(3));
    let server_utcb = world.utcb_of(world.entrypoint);
    // The request had 2 words, the reply 2 (tag + value): beyond them the
    // server's UTCB still holds its junk.
    assert_eq!(server_utcb.words[2..], [JUNK; ferrode_ipc::MSG_WORDS - 2]);
    let main_utcb = world.utcb_of(world.main);
    assert_eq!(main_utcb.words[..2], [0, 3]);
}

#[test]
fn a_request_arrives_with_badge_and_no_error_code() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    {
        let request = world.current_utcb();
        request.label = ping_label();
        request.word_count = 0;
        request.cap_count = 0;
        request.error = TransportError::ServerDead.code(); // stale, from an earlier reply
    }
    assert_eq!(world.state.call(demo).unwrap().map(|s| s.to), Some(world.entrypoint));
    let delivered = world.utcb_of(world.entrypoint);
    assert_eq!(delivered.error, 0);
    let CapEntry::Object { object, .. } = world.entry(world.root, demo) else {
        panic!("an object capability")
    };
    assert_eq!(delivered.badge, object.index());
    world.run_servers_until(world.main);
    assert_eq!(world.utcb_of(world.main).error, 0);
    assert_eq!(world.utcb_of(world.main).words[..2], [0, 1]);
}

#[test]
fn eight_words_arrive_intact() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    assert_eq!(client(&mut world, demo).sum([1, 2, 3, 4, 5, 6, 7, 8]), Ok(36));
}

#[test]
fn capabilities_are_translated_between_spaces() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // A counter object (served by the same entrypoint thread for the
    // test), its capability in root's space only.
    let (_, counter_in_root) = {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        world.state.create_object(world.entrypoint, object, window).unwrap()
    };
    // Pad the server's space so the translated selector differs.
    for _ in 0..3 {
        let (_, signal) = world.state.create_signal().unwrap();
        world.state.delegate(world.root, signal, world.server_component).unwrap();
    }
    let counter_cap: Capability<dyn Counter> = Capability::from_selector(counter_in_root);
    assert_eq!(client(&mut world, demo).keep(counter_cap), Ok(()));
    // The server's space now holds the counter, under its own selector.
    let entry = world.state.capability(world.root, counter_in_root);
    let server_selector = (0..crate::CAP_SLOTS as u32)
        .map(CapSel)
        .find(|&sel| world.state.capability(world.server_component, sel) == entry)
        .expect("counter translated into the server's space");
    assert_ne!(server_selector, counter_in_root);
    // And handing it back translates it to root's selector again.
    let returned = client(&mut world, demo).give().unwrap();
    assert_eq!(returned.selector(), counter_in_root);
    let mut counter = ferrode_ipc::Client::<dyn Counter, _>::new(&mut world, returned);
    assert_eq!(counter.bump(), Ok(1));
}

#[test]
fn invalid_foreign_and_revoked_capabilities_fail_without_panic() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    assert_eq!(
        client(&mut world, CapSel(31)).ping(),
        Err(DemoError::Transport(TransportError::InvalidCapability))
    );
    assert_eq!(
        client(&mut world, CapSel(9999)).ping(),
        Err(DemoError::Transport(TransportError::InvalidCapability))
    );
    // A selector valid only in the server's space is foreign to root.
    let in_server = world.state.delegate(world.root, demo, world.server_component).unwrap();
    let server = world.server_component;
    let moved = world.entry(server, in_server);
    world.state.put_slot(server, in_server.0 as usize, world.entry(server, CapSel(20)));
    world.state.put_slot(server, 20, moved);
    assert_eq!(world.entry(world.root, CapSel(20)), CapEntry::Empty);
    assert_eq!(
        client(&mut world, CapSel(20)).ping(),
        Err(DemoError::Transport(TransportError::InvalidCapability))
    );
    // Dissolving (by the owner's parent, which holds a capability to it)
    // kills every copy.
    world.state.revoke(demo).unwrap();
    assert_eq!(
        client(&mut world, demo).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
    assert_eq!(world.state.revoke(demo), Err(KernelError::InvalidCapability));
}

#[test]
fn malformed_counts_are_refused_by_the_kernel() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let utcb = world.current_utcb();
    utcb.word_count = 65;
    assert_eq!(world.state.call(demo), Err(TransportError::WrongLength));
    let utcb = world.current_utcb();
    utcb.word_count = 0;
    utcb.cap_count = 5;
    assert_eq!(world.state.call(demo), Err(TransportError::WrongLength));
    // An unknown position reaches the server, which answers with an error;
    // a label of another interface is refused as such.
    let utcb = world.current_utcb();
    utcb.cap_count = 0;
    utcb.label = demo_label(77);
    world.call(demo).unwrap();
    assert_eq!(world.current_utcb().error, TransportError::UnknownOpcode.code());
    world.current_utcb().label = 77;
    world.current_utcb().word_count = 0;
    world.call(demo).unwrap();
    assert_eq!(world.current_utcb().error, TransportError::WrongInterface.code());
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

#[test]
fn a_busy_server_queues_callers_and_a_dead_one_fails_them() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // A second client thread in root, same priority as main.
    let second = world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    // main calls; while the server serves, it yields to `second`
    // (simulating preemption), which calls too and must queue.
    {
        let request = world.current_utcb();
        request.label = ping_label();
        request.word_count = 0;
        request.cap_count = 0;
    }
    world.state.call(demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    // Preempt the server in favour of `second` (equal priority queue).
    world.state.threads[world.entrypoint.index()].priority = 2;
    assert_eq!(world.state.yield_now(), Some(Switch { from: world.entrypoint, to: second }));
    {
        let request = world.current_utcb();
        request.label = ping_label();
        request.word_count = 0;
        request.cap_count = 0;
    }
    let switch = world.state.call(demo).unwrap();
    assert_eq!(world.state.threads[second.index()].state, ThreadState::SendQueued);
    assert_eq!(switch.map(|s| s.to), Some(world.entrypoint));
    // The entrypoint exits mid-request: both callers fail with ServerDead.
    world.state.exit_current();
    assert_eq!(world.utcb_of(world.main).error, TransportError::ServerDead.code());
    assert_eq!(world.utcb_of(second).error, TransportError::ServerDead.code());
    assert_eq!(world.utcb_of(second).word_count, 0);
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Dead);
}

#[test]
fn queued_requests_are_served_in_order() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let second = world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.state.call(demo).unwrap();
    world.state.threads[world.entrypoint.index()].priority = 2;
    world.state.yield_now();
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.state.call(demo).unwrap();
    // The entrypoint serves main's ping, takes second's queued ping at
    // once (main becomes ready), serves it and switches to second.
    world.run_servers_until(second);
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::Ready);
    let main_reply = world.utcb_of(world.main);
    assert_eq!(main_reply.words[..2], [0, 1]);
    let second_reply = world.utcb_of(second);
    assert_eq!(second_reply.words[..2], [0, 2]);
}

#[test]
fn signals_count_and_wake_their_waiter() {
    let mut world = World::new();
    let (signal, selector) = world.state.create_signal().unwrap();
    // Pending submissions are collected at once.
    world.state.submit(selector).unwrap();
    world.state.submit(selector).unwrap();
    assert_eq!(world.state.wait_signal(selector), Ok(None));
    assert_eq!(world.state.threads[world.main.index()].signal_count, 2);
    // Waiting with nothing pending blocks (idle runs), a submission wakes.
    let switch = world.state.wait_signal(selector).unwrap().unwrap();
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::SignalWait);
    assert_eq!(world.state.threads[switch.to.index()].name, Some("idle"));
    world.state.submit_signal(signal, 0);
    assert_eq!(world.state.current, world.main);
    assert_eq!(world.state.threads[world.main.index()].signal_count, 1);
    // A selector that is not a signal is refused.
    assert_eq!(world.state.submit(CapSel(30)), Err(TransportError::InvalidCapability));
}

#[test]
fn ticks_round_robin_within_a_priority_and_respect_higher_ones() {
    let mut world = World::new();
    let a = world.state.add_thread(world.root, "a", 2, 0, utcb(), (0, 0), false).unwrap();
    let b = world.state.add_thread(world.root, "b", 2, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_now(), Some(Switch { from: world.main, to: a }));
    assert_eq!(world.state.yield_now(), Some(Switch { from: a, to: b }));
    assert_eq!(world.state.yield_now(), Some(Switch { from: b, to: world.main }));
    // A low-priority thread never preempts.
    let low = world.state.add_thread(world.root, "low", 1, 0, utcb(), (0, 0), false).unwrap();
    for _ in 0..6 {
        let switch = world.state.yield_now().unwrap();
        assert_ne!(switch.to, low);
    }
    assert_eq!(
        world.state.add_thread(world.root, "bad", 0, 0, utcb(), (0, 0), false),
        Err(KernelError::InvalidPriority)
    );
    assert_eq!(
        world.state.add_thread(world.root, "bad", 8, 0, utcb(), (0, 0), false),
        Err(KernelError::InvalidPriority)
    );
    // Nor above the component's own priority (root's is 2).
    assert_eq!(
        world.state.add_thread(world.root, "bad", 3, 0, utcb(), (0, 0), false),
        Err(KernelError::InvalidPriority)
    );
}

#[test]
fn an_interrupt_for_a_freed_signal_wakes_no_one_else() {
    let mut world = World::new();
    // A driver's IRQ signal, as the IRQ service records it: id and
    // generation.
    let (driver, driver_thread) = world.component_with_thread("driver", Quota::at_priority(2));
    world.act_as(driver_thread);
    let (signal, selector) = world.state.create_signal().unwrap();
    let CapEntry::Signal { generation, .. } = world.state.caps[driver.index()].get(selector) else {
        panic!("no signal at the driver's selector")
    };
    world.act_as(world.main);
    // The driver is destroyed, and another component's new signal takes
    // the freed slot before the IRQ service forgets the old one.
    world.state.destroy_component(driver).unwrap();
    let (other, other_thread) = world.component_with_thread("other", Quota::at_priority(2));
    world.act_as(other_thread);
    let (reused, reused_selector) = world.state.create_signal().unwrap();
    assert_eq!(reused, signal, "the freed slot is the next one made");
    let CapEntry::Signal { generation: current, .. } =
        world.state.caps[other.index()].get(reused_selector)
    else {
        panic!("no signal at the other component's selector")
    };
    // Its thread waits on it.
    assert!(world.state.wait_signal(reused_selector).unwrap().is_some());
    // The interrupt for the old signal wakes it not...
    world.state.submit_signal_deferred_of(signal, generation, 0);
    assert_eq!(world.state.threads[other_thread.index()].state, ThreadState::SignalWait);
    // ...while one with the new signal's generation does.
    world.state.submit_signal_deferred_of(reused, current, 0);
    assert_eq!(world.state.threads[other_thread.index()].state, ThreadState::Ready);
    assert_eq!(world.state.threads[other_thread.index()].signal_count, 1);
}

#[test]
fn interrupts_switch_only_at_interrupt_exit() {
    let mut world = World::new();
    // A higher-priority driver component waits for its IRQ signal.
    let (driver_component, _) =
        world.state.create_component("driver", Quota::at_priority(5)).unwrap();
    let driver =
        world.state.add_thread(driver_component, "driver", 5, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_if_outranked().map(|s| s.to), Some(driver));
    let (signal, selector) = world.state.create_signal().unwrap();
    let switch = world.state.wait_signal(selector).unwrap().unwrap();
    assert_eq!(switch.to, world.main);
    // The IRQ arrives while main runs: the driver is woken, not switched to...
    world.state.submit_signal_deferred(signal, 0);
    assert_eq!(world.state.current, world.main);
    assert_eq!(world.state.threads[driver.index()].state, ThreadState::Ready);
    // ...until interrupt exit.
    assert_eq!(world.state.interrupt_exit(), Some(Switch { from: world.main, to: driver }));
    assert_eq!(world.state.threads[driver.index()].signal_count, 1);
    assert_eq!(world.state.interrupt_exit(), None);
}

#[test]
fn a_tick_round_robins_at_interrupt_exit_only() {
    let mut world = World::new();
    let other = world.state.add_thread(world.root, "other", 2, 0, utcb(), (0, 0), false).unwrap();
    world.state.tick_from_interrupt();
    assert_eq!(world.state.current, world.main);
    assert_eq!(world.state.interrupt_exit(), Some(Switch { from: world.main, to: other }));
    // No tick, no switch.
    assert_eq!(world.state.interrupt_exit(), None);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 300 }))]

        /// Whatever a client puts in its UTCB and whatever selector it
        /// uses, the kernel and the server answer with a value or an
        /// error, and the server keeps serving.
        #[test]
        fn random_requests_never_break_the_kernel(
            label in prop_oneof![0usize..12, Just(ping_label()), (0usize..6).prop_map(demo_label)],
            word_count in 0u32..70,
            cap_count in 0u32..6,
            words in proptest::collection::vec(any::<usize>(), 64),
            caps in proptest::collection::vec(0u32..40, 4),
            selector in 0u32..40,
        ) {
            let mut world = World::new();
            let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
            {
                let utcb = world.current_utcb();
                utcb.label = label;
                utcb.word_count = word_count;
                utcb.cap_count = cap_count;
                utcb.words.copy_from_slice(&words);
                for (slot, cap) in utcb.caps.iter_mut().zip(&caps) {
                    *slot = CapSel(*cap);
                }
            }
            let _ = world.call(CapSel(selector));
            prop_assert_eq!(world.state.current, world.main);
            prop_assert_eq!(client(&mut world, demo).add(2, 2), Ok(4));
        }
    }
}

/// Two capability entries are equal exactly when their kinds and every
/// field are (the kernel finds a space's copy by equality: a badge or a
/// wait right of its own makes another capability). Every pair of
/// entries with two values per field.
#[test]
fn entries_are_equal_exactly_when_every_field_is() {
    use crate::ids::{ObjectId, SignalId};
    let mut entries = std::vec![CapEntry::Empty, CapEntry::Revoked];
    for (x, y, z, n) in (0..16u8).map(|bits| (bits & 1, bits >> 1 & 1, bits >> 2 & 1, bits >> 3)) {
        let n = u32::from(n) << 31;
        entries.extend([
            CapEntry::Object { object: ObjectId(x), generation: n },
            CapEntry::Signal { signal: SignalId(x), wait: y == 1, badge: z, generation: n },
            CapEntry::Component { component: ComponentId(x), generation: n },
            CapEntry::Reply { thread: ThreadId(x), object: ObjectId(y), seq: n },
        ]);
    }
    let shown: Vec<std::string::String> = entries.iter().map(|e| std::format!("{e:?}")).collect();
    for (a, shown_a) in entries.iter().zip(&shown) {
        for (b, shown_b) in entries.iter().zip(&shown) {
            assert_eq!(a == b, shown_a == shown_b, "{shown_a} against {shown_b}");
        }
    }
}

// ----- the capability model under attack ---------------------------------

/// A component of its own (priority 2) with one thread, and a capability
/// to `demo` delegated to it by root.
fn attacker(world: &mut World, demo: CapSel) -> (ComponentId, ThreadId, CapSel) {
    let (component, thread) =
        world.component_with_thread("attacker", Quota { caps: 8, ..Quota::at_priority(2) });
    let held = world.state.delegate(world.root, demo, component).unwrap();
    (component, thread, held)
}

#[test]
fn only_the_owner_dissolves_and_a_holder_drops_its_own_copy() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (component, thread, held) = attacker(&mut world, demo);
    world.act_as(thread);
    assert_eq!(world.state.revoke(held), Err(KernelError::NotOwner));
    world.state.drop_capability(held).unwrap();
    assert_eq!(world.entry(component, held), CapEntry::Empty);
    assert_eq!(world.state.drop_capability(held), Err(KernelError::InvalidCapability));
    // Root's copy is untouched; root (holding the server component's
    // capability) may dissolve it.
    world.act_as(world.main);
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
    world.state.revoke(demo).unwrap();
    assert_eq!(
        client(&mut world, demo).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
}

#[test]
fn ids_are_no_authority() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (component, thread, _) = attacker(&mut world, demo);
    world.act_as(thread);
    let server = world.server_component;
    assert_eq!(world.state.delegate(server, CapSel(0), component), Err(KernelError::NoAuthority));
    assert_eq!(
        world.state.add_thread(server, "implant", 3, 0, utcb(), (0, 0), false),
        Err(KernelError::NoAuthority)
    );
    assert_eq!(world.state.destroy_component(server).err(), Some(KernelError::NoAuthority));
    assert_eq!(world.state.take_back(world.root, component), Err(KernelError::NoAuthority));
    assert_eq!(
        world.state.capability(world.root, demo),
        CapEntry::Empty,
        "no peeking into root's space"
    );
    assert_eq!(
        world.state.create_component("child", Quota::at_priority(1)).err(),
        Some(KernelError::QuotaExceeded)
    );
    let (object, window) = object::<dyn Counter, _>(CounterServer(0));
    assert_eq!(
        world.state.create_object(world.entrypoint, object, window).err(),
        Some(KernelError::NoAuthority)
    );
}

#[test]
fn a_delegator_takes_back_what_it_handed_out_and_copies_of_it() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (first, first_thread, held) = attacker(&mut world, demo);
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    // first passes it on to second (root holds capabilities to both).
    let passed = world.state.delegate(first, held, second).unwrap();
    assert_eq!(world.state.take_back(world.root, first), Ok(2));
    assert_eq!(world.entry(first, held), CapEntry::Revoked);
    assert_eq!(world.entry(second, passed), CapEntry::Revoked);
    // A call through a tombstone finds the object gone.
    world.act_as(first_thread);
    write_ping(&mut world);
    assert_eq!(world.state.call(held), Err(TransportError::ServerDead));
    world.act_as(world.main);
    assert!(matches!(world.entry(world.root, demo), CapEntry::Object { .. }), "root keeps its own");
    // A tombstone answers ServerDead and cannot be handed on.
    assert_eq!(world.state.delegate(first, held, second), Err(KernelError::InvalidCapability));
}

#[test]
fn a_signal_copy_may_submit_but_not_wait() {
    let mut world = World::new();
    let (_, own) = world.state.create_signal().unwrap();
    let (component, thread) = world.component_with_thread("listener", Quota::at_priority(2));
    let copy = world.state.delegate(world.root, own, component).unwrap();
    world.act_as(thread);
    assert_eq!(world.state.wait_signal(copy), Err(TransportError::InvalidCapability));
    assert!(world.state.submit(copy).is_ok());
    world.act_as(world.main);
    assert_eq!(world.state.wait_signal(own), Ok(None));
    assert_eq!(world.state.threads[world.main.index()].signal_count, 1);
}

#[test]
fn minted_signal_copies_are_handed_on_and_revoked_each_on_its_own() {
    let mut world = World::new();
    let (_, own) = world.state.create_signal().unwrap();
    // A server's copy of its signal for each of two sessions.
    let first = world.state.mint_signal(own, 1).unwrap();
    let second = world.state.mint_signal(own, 2).unwrap();
    assert!(first != own && second != own && first != second);
    assert_eq!(world.state.mint_signal(own, 1), Ok(first), "the same badge: the same copy");
    assert_eq!(world.state.wait_signal(first), Err(TransportError::InvalidCapability));
    // A client with both sessions holds two capabilities, another one one.
    let (both, both_thread) = world.component_with_thread("both", Quota::at_priority(2));
    let (other, _) = world.component_with_thread("other", Quota::at_priority(2));
    let both_first = world.state.delegate(world.root, first, both).unwrap();
    let both_second = world.state.delegate(world.root, second, both).unwrap();
    let other_first = world.state.delegate(world.root, first, other).unwrap();
    assert_ne!(both_first, both_second);
    assert!(matches!(world.entry(both, both_second), CapEntry::Signal { badge: 2, .. }));
    // The first session ends: its copies go, the second session's stays.
    assert_eq!(world.state.revoke_copies(first), Ok(2));
    assert_eq!(world.entry(both, both_first), CapEntry::Revoked);
    assert_eq!(world.entry(other, other_first), CapEntry::Revoked);
    world.act_as(both_thread);
    assert_eq!(world.state.submit(both_first), Err(TransportError::InvalidCapability));
    assert!(world.state.submit(both_second).is_ok());
    world.act_as(world.main);
    assert_eq!(world.state.wait_signal(own), Ok(None));
    assert_eq!(world.state.threads[world.main.index()].signal_count, 1);
    assert!(matches!(world.entry(world.root, first), CapEntry::Signal { badge: 1, .. }));
    // A client cannot mint a copy of its own from a session's: a badge
    // says which copy submitted, and only the signal's receiver gives
    // them out (a client that could would pass for another session, or
    // for the receiver itself with badge 0).
    world.act_as(both_thread);
    for badge in [0, 2, 9] {
        assert_eq!(world.state.mint_signal(both_second, badge), Err(KernelError::NotOwner));
    }
    world.act_as(world.main);
    // Revoking the signal's own copies takes the minted ones and theirs.
    assert_eq!(world.state.revoke_copies(own), Ok(3));
    assert_eq!(world.entry(both, both_second), CapEntry::Revoked);
}

#[test]
fn a_signals_waiter_learns_the_badges_its_submissions_came_through() {
    let mut world = World::new();
    let (signal, own) = world.state.create_signal().unwrap();
    let three = world.state.mint_signal(own, 3).unwrap();
    let five = world.state.mint_signal(own, 5).unwrap();
    let (client, client_thread) = world.component_with_thread("client", Quota::at_priority(2));
    let plain = world.state.delegate(world.root, own, client).unwrap();
    let client_five = world.state.delegate(world.root, five, client).unwrap();
    let client_three = world.state.delegate(world.root, three, client).unwrap();
    // Pending submissions: counted, their badges gathered.
    world.act_as(client_thread);
    world.state.submit(client_five).unwrap();
    world.state.submit(plain).unwrap();
    world.state.submit(client_five).unwrap();
    world.act_as(world.main);
    assert_eq!(world.state.wait_signal(own), Ok(None));
    let main = &world.state.threads[world.main.index()];
    assert_eq!((main.signal_count, main.signal_badges), (3, 1 << 5 | 1));
    // A waiter woken by one submission gets that one's badge alone: the
    // ones it collected before are not delivered again.
    assert!(world.state.wait_signal(own).unwrap().is_some());
    world.act_as(client_thread);
    world.state.submit(client_three).unwrap();
    let main = &world.state.threads[world.main.index()];
    assert_eq!((main.signal_count, main.signal_badges), (1, 1 << 3));
    // An interrupt submits with the badge its handler was given.
    world.act_as(world.main);
    assert!(world.state.wait_signal(own).unwrap().is_some());
    let CapEntry::Signal { generation, .. } = world.entry(world.root, own) else {
        panic!("no signal at the owner's selector")
    };
    world.state.submit_signal_deferred_of(signal, generation, 7);
    let main = &world.state.threads[world.main.index()];
    assert_eq!((main.signal_count, main.signal_badges), (1, 1 << 7));
}

#[test]
fn only_a_live_signal_is_minted_and_only_into_room() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    assert_eq!(world.state.mint_signal(demo, 1), Err(KernelError::InvalidCapability));
    assert_eq!(world.state.mint_signal(CapSel(30), 1), Err(KernelError::InvalidCapability));
    assert_eq!(world.state.mint_signal(CapSel(u32::MAX), 1), Err(KernelError::InvalidCapability));
    let (component, thread) =
        world.component_with_thread("full", Quota { caps: 2, signals: 1, ..Quota::at_priority(2) });
    world.act_as(thread);
    let (_, signal) = world.state.create_signal().unwrap();
    let minted = world.state.mint_signal(signal, 7).unwrap();
    assert_eq!(world.state.mint_signal(signal, 8), Err(KernelError::CapabilitySpaceFull));
    // A copy handed on keeps its badge; a freed signal mints nothing.
    world.act_as(world.main);
    let copy = world.state.delegate(component, minted, world.root).unwrap();
    assert!(matches!(
        world.entry(world.root, copy),
        CapEntry::Signal { badge: 7, wait: false, .. }
    ));
    world.state.destroy_component(component).unwrap();
    assert_eq!(world.state.mint_signal(copy, 9), Err(KernelError::InvalidCapability));
}

#[test]
fn ten_thousand_capability_floods_leave_the_server_able_to_manage() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (_, thread, held) = attacker(&mut world, demo);
    let (_, signal) = {
        world.act_as(thread);
        world.state.create_signal().unwrap()
    };
    let before = world.used_slots(world.server_component);
    for round in 0..10_000u32 {
        let utcb = world.current_utcb();
        utcb.label = ping_label();
        utcb.word_count = 0;
        utcb.cap_count = 4;
        utcb.caps = [held, signal, held, CapSel(round % 3)];
        assert_eq!(world.state.call(held), Err(TransportError::TooManyCapabilities));
    }
    assert_eq!(world.used_slots(world.server_component), before, "nothing was inserted");
    // A method that takes one capability takes one, no more.
    let utcb = world.current_utcb();
    utcb.label = demo_label(1); // keep(counter)
    utcb.cap_count = 2;
    utcb.caps[..2].copy_from_slice(&[held, signal]);
    assert_eq!(world.state.call(held), Err(TransportError::TooManyCapabilities));
    world.act_as(world.main);
    let (object, window) = object::<dyn Counter, _>(CounterServer(0));
    assert!(world.state.create_object(world.entrypoint, object, window).is_ok());
}

#[test]
fn a_refused_request_leaves_none_of_its_capabilities_with_the_server() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (kept, other) = (world.counter(), world.counter());
    let before = world.used_slots(world.server_component);
    // The method refuses: both capabilities it was sent are given back.
    assert_eq!(client(&mut world, demo).refuse(kept, other), Err(DemoError::Overflow));
    assert_eq!(world.used_slots(world.server_component), before);
    // The request does not decode (a word too many): given back too.
    let utcb = world.current_utcb();
    utcb.label = demo_label(1); // keep(counter)
    utcb.word_count = 1;
    utcb.cap_count = 1;
    utcb.caps[0] = other.selector();
    world.call(demo).unwrap();
    assert_eq!(world.utcb_of(world.main).error, TransportError::WrongLength.code());
    assert_eq!(world.used_slots(world.server_component), before);
    // A capability the server holds already stays when a request that
    // carries it again is refused; only the one the request added goes.
    assert_eq!(client(&mut world, demo).keep(kept), Ok(()));
    assert_eq!(world.used_slots(world.server_component), before + 1);
    assert_eq!(client(&mut world, demo).refuse(kept, other), Err(DemoError::Overflow));
    assert_eq!(client(&mut world, demo).refuse(other, other), Err(DemoError::Overflow));
    assert_eq!(world.used_slots(world.server_component), before + 1);
    let returned = client(&mut world, demo).give().unwrap();
    assert_eq!(returned.selector(), kept.selector());
    assert_eq!(ferrode_ipc::Client::<dyn Counter, _>::new(&mut world, returned).bump(), Ok(1));
}

#[test]
fn a_refusal_carries_no_capabilities_to_the_client() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (_, counter) = {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        world.state.create_object(world.entrypoint, object, window).unwrap()
    };
    // The server holds a counter; the client does not.
    let held = world.state.delegate(world.root, counter, world.server_component).unwrap();
    world.state.drop_capability(counter).unwrap();
    let before = world.used_slots(world.root);
    // A hostile server answers `give` (whose Ok carries one capability)
    // with an `Err` that has the counter attached: refused, and the
    // client gets the transport error, not the capability.
    let hostile_reply = |world: &mut World, tag: usize, error: u32| {
        let request = world.current_utcb();
        request.label = demo_label(2);
        request.word_count = 0;
        request.cap_count = 0;
        world.state.call(demo).unwrap();
        assert_eq!(world.state.current, world.entrypoint);
        let reply = world.current_utcb();
        reply.error = error;
        reply.word_count = 2;
        reply.words[..2].copy_from_slice(&[tag, 0]);
        reply.cap_count = 1;
        reply.caps[0] = held;
        world.state.reply_and_wait(true);
        assert_eq!(world.state.current, world.main);
    };
    for (tag, error) in [(1, 0), (0, TransportError::InvalidValue.code())] {
        hostile_reply(&mut world, tag, error);
        let delivered = world.utcb_of(world.main);
        assert_eq!(delivered.error, TransportError::TooManyCapabilities.code());
        assert_eq!(delivered.cap_count, 0);
        assert_eq!(world.used_slots(world.root), before);
    }
    // The same capability with an Ok reply is delivered.
    hostile_reply(&mut world, 0, 0);
    assert_eq!(world.utcb_of(world.main).error, 0);
    assert_eq!(world.utcb_of(world.main).cap_count, 1);
    assert_eq!(world.used_slots(world.root), before + 1);
}

/// A server that answers every request with an error reply carrying
/// `code`, as a hostile server can write it in its UTCB.
struct ErrorCode(u32);

impl Dispatch for ErrorCode {
    unsafe fn dispatch(&mut self, utcb: NonNull<Utcb>) {
        // SAFETY: the caller's contract: the serving thread's UTCB, no
        // reference to it live.
        let reply = unsafe { &mut *utcb.as_ptr() };
        reply.label = 0;
        reply.word_count = 0;
        reply.cap_count = 0;
        reply.error = self.0;
    }
}

/// A leaked [`ErrorCode`] object, with `Demo`'s receive windows.
fn answering_with(code: u32) -> (NonNull<dyn Dispatch>, Window) {
    let object: &mut dyn Dispatch = Box::leak(Box::new(ErrorCode(code)));
    (NonNull::from(object), <dyn Demo as Interface>::caps_window)
}

#[test]
fn a_server_cannot_pass_off_a_kernel_error_code_as_the_kernels() {
    // The codes a dispatcher writes (a request that does not decode, an
    // object dissolved after delivery) reach the client as sent.
    let sent_by_servers = [
        TransportError::ServerDead,
        TransportError::UnknownOpcode,
        TransportError::WrongLength,
        TransportError::InvalidValue,
        TransportError::PayloadTooLarge,
        TransportError::WrongInterface,
    ];
    for error in sent_by_servers {
        let mut world = World::new();
        let demo = world.manage(answering_with(error.code()));
        assert_eq!(client(&mut world, demo).add(1, 2), Err(DemoError::Transport(error)));
    }
    // The kernel's own refusals, `Forwarded` (which travels in the words)
    // and codes no one defines: a server writing them in its error code
    // must not make its client believe the kernel refused the call (its
    // capability invalid, a deadlock, ...). They read as the server's own
    // transport error, as the same codes in a reply's words do.
    let kernel_only = [
        TransportError::InvalidCapability.code(),
        TransportError::CapabilitySpaceFull.code(),
        TransportError::Forwarded.code(),
        TransportError::TooManyCapabilities.code(),
        TransportError::Deadlock.code(),
        TransportError::PriorityInversion.code(),
        13,
        32,
        u32::MAX,
    ];
    for code in kernel_only {
        let mut world = World::new();
        let demo = world.manage(answering_with(code));
        assert_eq!(
            client(&mut world, demo).add(1, 2),
            Err(DemoError::Transport(TransportError::Forwarded)),
            "code {code} written by the server"
        );
    }
}

#[test]
fn a_reply_that_does_not_decode_leaves_none_of_its_capabilities_with_the_client() {
    let mut world = World::new();
    let (_, counter) = {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        world.state.create_object(world.entrypoint, object, window).unwrap()
    };
    // The server holds a counter; the client does not.
    let held = world.state.delegate(world.root, counter, world.server_component).unwrap();
    world.state.drop_capability(counter).unwrap();
    // The kernel and this test reach the leaked server through one
    // pointer (a reference moved into the kernel would end the test's).
    let hostile_ptr = NonNull::from(Box::leak(Box::new(Hostile { cap: held, malformed: true })));
    let dispatch: NonNull<dyn Dispatch> = hostile_ptr;
    // Served as a Demo (`give`'s Ok carries one capability).
    let demo = world.manage((dispatch, <dyn Demo as Interface>::caps_window));
    let before = world.used_slots(world.root);
    for _ in 0..3 {
        assert_eq!(
            client(&mut world, demo).give().map(|_| ()),
            Err(DemoError::Transport(TransportError::WrongLength))
        );
        assert_eq!(world.used_slots(world.root), before);
    }
    // Well formed, the same reply's capability is the client's.
    // SAFETY: the leaked server, not serving now.
    unsafe { (*hostile_ptr.as_ptr()).malformed = false };
    let given = client(&mut world, demo).give().unwrap();
    assert_eq!(world.used_slots(world.root), before + 1);
    assert!(matches!(world.entry(world.root, given.selector()), CapEntry::Object { .. }));
}

#[test]
fn a_transfer_that_cannot_complete_changes_nothing() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // keep(counter) with a counter the server does not hold yet, but the
    // server's space full: refused, and nothing inserted.
    let (_, counter) = {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        world.state.create_object(world.entrypoint, object, window).unwrap()
    };
    for _ in 0..3 {
        let (_, signal) = world.state.create_signal().unwrap();
        world.state.delegate(world.root, signal, world.server_component).unwrap();
    }
    let quota = world.state.components[world.server_component.index()].quota.caps as usize;
    while world.used_slots(world.server_component) < quota {
        let slot = world.state.caps[world.server_component.index()]
            .slots
            .iter()
            .position(|e| *e == CapEntry::Empty)
            .unwrap();
        world.state.put_slot(world.server_component, slot, CapEntry::Revoked);
    }
    let snapshot = world.state.caps[world.server_component.index()].slots;
    let counter_cap: Capability<dyn Counter> = Capability::from_selector(counter);
    assert_eq!(
        client(&mut world, demo).keep(counter_cap),
        Err(DemoError::Transport(TransportError::CapabilitySpaceFull))
    );
    assert_eq!(world.state.caps[world.server_component.index()].slots, snapshot);
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Waiting);
}

#[test]
fn quotas_bound_threads_signals_and_slots() {
    let mut world = World::new();
    let quota = Quota { caps: 3, threads: 1, objects: 1, signals: 2, components: 0, priority: 2 };
    let (component, thread) = world.component_with_thread("small", quota);
    assert_eq!(
        world.state.add_thread(component, "second", 2, 0, utcb(), (0, 0), false),
        Err(KernelError::QuotaExceeded)
    );
    world.act_as(thread);
    assert!(world.state.create_signal().is_ok());
    assert!(world.state.create_signal().is_ok());
    assert_eq!(world.state.create_signal().err(), Some(KernelError::QuotaExceeded));
    world.act_as(world.main);
    // One slot left: one more capability fits, the next does not.
    let (_, a) = world.state.create_signal().unwrap();
    let (_, b) = world.state.create_signal().unwrap();
    assert!(world.state.delegate(world.root, a, component).is_ok());
    assert_eq!(
        world.state.delegate(world.root, b, component),
        Err(KernelError::CapabilitySpaceFull)
    );
}

#[test]
fn a_capability_of_the_wrong_interface_is_refused_by_the_dispatcher() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let mut as_counter =
        ferrode_ipc::Client::<dyn Counter, _>::new(&mut world, Capability::from_selector(demo));
    assert_eq!(as_counter.bump(), Err(DemoError::Transport(TransportError::WrongInterface)));
    assert_eq!(client(&mut world, demo).ping(), Ok(1), "and no method ran");
}

#[test]
fn self_calls_and_cycles_are_refused_as_deadlock() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // A second server at the same priority, with an object of its own.
    let (other_component, _) =
        world.state.create_component("other", Quota::at_priority(3)).unwrap();
    let other =
        world.state.add_thread(other_component, "other-ep", 3, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_if_outranked().map(|s| s.to), Some(other));
    assert_eq!(world.state.reply_and_wait(false).map(|s| s.to), Some(world.main));
    let counter = {
        let (object, window) = object::<dyn Counter, _>(CounterServer(0));
        world.state.create_object(other, object, window).unwrap().1
    };
    let find = |world: &World, component: ComponentId, selector: CapSel| {
        let entry = world.entry(world.root, selector);
        (0..crate::CAP_SLOTS as u32)
            .map(CapSel)
            .find(|s| world.entry(component, *s) == entry)
            .unwrap()
    };
    world.state.delegate(world.root, demo, world.server_component).unwrap();
    world.state.delegate(world.root, counter, world.server_component).unwrap();
    world.state.delegate(world.root, demo, other_component).unwrap();
    let demo_in_server = find(&world, world.server_component, demo);
    let counter_in_server = find(&world, world.server_component, counter);
    let demo_in_other = find(&world, other_component, demo);
    let ping = |world: &mut World, selector: CapSel, label: usize| {
        let utcb = world.current_utcb();
        utcb.label = label;
        utcb.word_count = 0;
        utcb.cap_count = 0;
        world.state.call(selector)
    };
    // main calls the demo server...
    ping(&mut world, demo, ping_label()).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    // ...which calls its own object: refused, not a silent hang.
    assert_eq!(ping(&mut world, demo_in_server, ping_label()), Err(TransportError::Deadlock));
    // It calls the other server, which calls back: a cycle, refused.
    ping(&mut world, counter_in_server, ferrode_ipc::label::<dyn Counter>(0)).unwrap();
    assert_eq!(world.state.current, other);
    assert_eq!(ping(&mut world, demo_in_other, ping_label()), Err(TransportError::Deadlock));
}

#[test]
fn a_deferred_reply_frees_the_server_for_other_callers() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let second = world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    // main calls ping; the server defers the reply instead of answering.
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(demo).unwrap();
    let reply = world.state.defer_reply().unwrap();
    assert!(matches!(world.entry(world.server_component, reply), CapEntry::Reply { .. }));
    // The server waits again; main stays blocked; second runs and is served.
    world.state.reply_and_wait(true);
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::AwaitingReply);
    assert_eq!(world.state.current, second);
    assert_eq!(client(&mut world, demo).add(1, 2), Ok(3));
    // Later the server answers main through the reply capability.
    world.act_as(world.entrypoint);
    {
        let utcb = world.current_utcb();
        utcb.word_count = 2;
        utcb.cap_count = 0;
        utcb.words[..2].copy_from_slice(&[0, 99]);
    }
    world.state.reply_deferred(reply).unwrap();
    assert_eq!(world.utcb_of(world.main).words[..2], [0, 99]);
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::Ready);
    // The capability was used up.
    assert_eq!(world.state.reply_deferred(reply), Err(KernelError::InvalidCapability));
}

#[test]
fn a_capability_to_a_lower_priority_server_is_refused() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // The server runs at 3: a component at 4 may not hold it.
    let (high, _) = world.component_with_thread("high", Quota::at_priority(4));
    assert_eq!(world.state.delegate(world.root, demo, high), Err(KernelError::PriorityInversion));
}

#[test]
fn queued_callers_are_served_by_priority() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let low = world.state.add_thread(world.root, "low", 1, 0, utcb(), (0, 0), false).unwrap();
    let (high_component, high) = world.component_with_thread("high", Quota::at_priority(2));
    let in_high = world.state.delegate(world.root, demo, high_component).unwrap();
    let request = |world: &mut World, selector: CapSel| {
        let utcb = world.current_utcb();
        utcb.label = ping_label();
        utcb.word_count = 0;
        utcb.cap_count = 0;
        world.state.call(selector).unwrap();
    };
    // The server is busy with main's request; low, then high queue
    // (simulated: each made current in turn).
    request(&mut world, demo);
    world.act_as(low);
    request(&mut world, demo);
    world.act_as(high);
    request(&mut world, in_high);
    let ep = world.entrypoint;
    assert_eq!(world.state.threads[ep.index()].sendq_head.get(), Some(high), "high goes first");
}

#[test]
fn exited_threads_are_reaped_and_their_objects_die() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let stack: &'static mut [u8] = Box::leak(std::vec![0u8; 4096].into_boxed_slice());
    let base = stack.as_ptr() as usize;
    let (component, _) = world.state.create_component("worker", Quota::at_priority(2)).unwrap();
    let worker =
        world.state.add_thread(component, "worker", 2, 0, utcb(), (base, 4096), false).unwrap();
    world.act_as(worker);
    world.state.exit_current();
    assert_eq!(world.state.threads[worker.index()].state, ThreadState::Dead);
    world.act_as(world.main);
    let (got_base, len, _) = world.state.reap(worker).unwrap();
    assert_eq!((got_base, len), (base, 4096));
    assert_eq!(world.state.threads[worker.index()].state, ThreadState::Free);
    assert_eq!(world.state.reap(worker), Err(KernelError::InvalidThread));
    assert_eq!(world.state.components[component.index()].threads, 0);
    // The entrypoint ends: its object dies with it.
    world.act_as(world.entrypoint);
    world.state.exit_current();
    world.act_as(world.main);
    assert_eq!(
        client(&mut world, demo).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
}

#[test]
fn destroying_a_component_kills_its_objects_and_frees_its_slot_after_reaping() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let server = world.server_component;
    let generation = world.state.components[server.index()].generation_for_tests();
    world.state.destroy_component(server).unwrap();
    assert_eq!(
        client(&mut world, demo).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Dead);
    assert_eq!(world.state.destroy_component(server).err(), Some(KernelError::InvalidComponent));
    world.state.reap(world.entrypoint).unwrap();
    // The slot is free, and the old component capability no longer works.
    assert!(!world.state.components[server.index()].used);
    assert_ne!(world.state.components[server.index()].generation_for_tests(), generation);
    let (again, _) = world.state.create_component("again", Quota::at_priority(3)).unwrap();
    assert_eq!(again, server, "the slot is reused");
}

#[test]
fn a_broken_stack_guard_is_seen() {
    let mut world = World::new();
    let stack: &'static mut [u8] = Box::leak(std::vec![0u8; 4096].into_boxed_slice());
    let (_, worker) = world.component_with_thread("worker", Quota::at_priority(2));
    let base = stack.as_mut_ptr();
    // SAFETY: fewer than a word's alignment bytes into the leaked stack.
    let guard =
        unsafe { base.add(base.align_offset(core::mem::align_of::<usize>())) }.cast::<usize>();
    for word in 0..crate::state::STACK_GUARD_WORDS {
        // SAFETY: inside the leaked stack, aligned.
        unsafe { guard.add(word).write(crate::state::STACK_GUARD) };
    }
    world.state.threads[worker.index()].stack_base = base.expose_provenance();
    world.state.threads[worker.index()].stack_len = stack.len();
    assert!(world.state.stack_intact(worker));
    // SAFETY: as above.
    unsafe { guard.add(5).write(0) };
    assert!(!world.state.stack_intact(worker));
}

#[test]
fn a_restarted_stack_has_its_guard_again_and_starts_at_its_end() {
    let mut world = World::new();
    // 4 bytes past an 8-byte boundary, and a length that ends 4 bytes
    // past one too: the guard starts at the first word, the end is
    // rounded down to 8.
    let buffer: &'static mut [u64] = Box::leak(std::vec![0u64; 64].into_boxed_slice());
    let base = buffer.as_mut_ptr().cast::<u8>().wrapping_add(4);
    let len = 400;
    let (_, worker) = world.component_with_thread("worker", Quota::at_priority(2));
    world.state.threads[worker.index()].stack_base = base.expose_provenance();
    world.state.threads[worker.index()].stack_len = len;
    // The thread ran down into its guard page: every guard word is gone.
    assert!(!world.state.stack_intact(worker));
    // SAFETY: the leaked buffer stands for the worker's stack, whose frames
    // nothing reads again.
    let end = unsafe { world.state.restart_stack(worker) };
    assert_eq!(end, Some((base.expose_provenance() + len) & !7));
    assert_eq!(end.map(|end| end % 8), Some(0));
    assert!(end.is_some_and(|end| end <= base.expose_provenance() + len));
    assert!(world.state.stack_intact(worker));
    assert!(world.state.stack_ends_intact(worker));
    // A thread whose stack the kernel did not record has none to restart.
    // SAFETY: nothing is written for it.
    assert_eq!(unsafe { world.state.restart_stack(ThreadId(0)) }, None);
}

#[test]
fn the_boot_threads_stack_gets_a_guard_that_is_checked() {
    let mut world = World::new();
    // Words, so that the stack's lowest word is where its guard starts.
    let stack: &'static mut [usize] = Box::leak(std::vec![0usize; 128].into_boxed_slice());
    let (lowest, len) = (stack.as_mut_ptr(), core::mem::size_of_val(stack));
    // The boot thread is thread 0; without a guard it is never reported.
    assert!(world.state.stack_intact(ThreadId(0)));
    // SAFETY: the leaked buffer stands for the boot stack.
    unsafe { world.state.guard_boot_stack(lowest.expose_provenance(), len) };
    assert!(world.state.stack_intact(ThreadId(0)));
    assert!(world.state.stack_ends_intact(ThreadId(0)));
    // The thread runs too deep: its lowest word is overwritten.
    // SAFETY: inside the leaked buffer.
    unsafe { lowest.write_volatile(0) };
    assert!(!world.state.stack_intact(ThreadId(0)));
    assert!(!world.state.stack_ends_intact(ThreadId(0)));
}

#[test]
fn a_boot_stack_too_small_for_the_guard_is_left_alone() {
    let mut world = World::new();
    let stack: &'static mut [u8] = Box::leak(std::vec![7u8; 16].into_boxed_slice());
    // SAFETY: the leaked buffer stands for the boot stack.
    unsafe { world.state.guard_boot_stack(stack.as_mut_ptr() as usize, stack.len()) };
    assert!(stack.iter().all(|&byte| byte == 7));
    assert_eq!(world.state.threads[0].stack_base, 0);
}

#[test]
fn a_request_whose_object_dies_before_dispatch_is_not_dispatched() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(demo).unwrap();
    assert!(world.state.threads[world.entrypoint.index()].received_dispatch.is_some());
    // Dissolved between delivery and dispatch (root acts, as an interrupt
    // handler's thread would).
    world.act_as(world.main);
    world.state.revoke(demo).unwrap();
    assert!(world.state.threads[world.entrypoint.index()].received_dispatch.is_none());
}

#[test]
fn a_server_takes_back_the_copies_of_one_capability() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (first, _, held) = attacker(&mut world, demo);
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    let passed = world.state.delegate(first, held, second).unwrap();
    // Root took back the copies of its own `demo` (first's and, through
    // it, second's), and kept its own.
    assert_eq!(world.state.revoke_copies(demo), Ok(2));
    assert_eq!(world.entry(first, held), CapEntry::Revoked);
    assert_eq!(world.entry(second, passed), CapEntry::Revoked);
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

#[test]
fn copies_of_a_dropped_copy_still_derive_from_its_origin() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (first, first_thread, held) = attacker(&mut world, demo);
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    let (third, third_thread) = world.component_with_thread("third", Quota::at_priority(2));
    let passed = world.state.delegate(first, held, second).unwrap();
    // A copy nothing was copied from: dropping it re-parents nothing.
    let spare = world.state.delegate(world.root, demo, third).unwrap();
    world.act_as(third_thread);
    world.state.drop_capability(spare).unwrap();
    // first drops the copy second's derives from: second's now derives
    // from root's, so root's revocation still reaches it.
    world.act_as(first_thread);
    world.state.drop_capability(held).unwrap();
    world.act_as(world.main);
    assert_eq!(world.state.revoke_copies(demo), Ok(1));
    assert_eq!(world.entry(second, passed), CapEntry::Revoked);
    assert_eq!(world.entry(first, held), CapEntry::Empty);
    assert_eq!(world.entry(third, spare), CapEntry::Empty);
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

#[test]
fn take_back_from_a_component_that_does_not_exist_is_refused() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (attacker, thread, _) = attacker(&mut world, demo);
    world.act_as(thread);
    // Its own slots are its to take back, but from no component: an id
    // past the table, and a free slot.
    for to in [ComponentId(200), ComponentId(7)] {
        assert_eq!(world.state.take_back(attacker, to), Err(KernelError::InvalidComponent));
    }
}

#[test]
fn a_child_gets_no_more_than_its_creator_has() {
    let mut world = World::new();
    // A parent at priority 2 with one thread (its own) and one child.
    let (_, thread) = world.component_with_thread(
        "parent",
        Quota { components: 1, threads: 1, ..Quota::at_priority(2) },
    );
    world.act_as(thread);
    // No faster child.
    assert_eq!(
        world.state.create_component("fast", Quota::everything(7)).err(),
        Some(KernelError::InvalidPriority)
    );
    // A child whose own quota is large: the parent's bounds them both.
    let (child, _) = world
        .state
        .create_component("child", Quota { components: 3, ..Quota::everything(2) })
        .unwrap();
    assert_eq!(
        world.state.add_thread(child, "worker", 2, 0, utcb(), (0, 0), false),
        Err(KernelError::QuotaExceeded),
        "the parent's one thread is its own"
    );
    assert_eq!(
        world.state.create_component("second", Quota::at_priority(2)).err(),
        Some(KernelError::QuotaExceeded)
    );
    // The root (core) hands out higher priorities (the servers').
    world.act_as(world.main);
    assert!(world.state.create_component("server", Quota::at_priority(5)).is_ok());
}

#[test]
fn a_quota_bounds_the_whole_subtree_below_it() {
    let mut world = World::new();
    // Two threads for the parent and everything it creates.
    let (parent, thread) = world.component_with_thread(
        "parent",
        Quota { components: 2, threads: 2, signals: 1, ..Quota::at_priority(2) },
    );
    world.act_as(thread);
    let (child, _) = world
        .state
        .create_component("child", Quota { components: 1, ..Quota::at_priority(2) })
        .unwrap();
    let worker = world.state.add_thread(child, "worker", 2, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(
        world.state.add_thread(child, "more", 2, 0, utcb(), (0, 0), false),
        Err(KernelError::QuotaExceeded),
        "parent and child have used the parent's two"
    );
    // The grandchild counts against the parent's children too: two below.
    world.act_as(worker);
    let (grandchild, _) =
        world.state.create_component("grandchild", Quota::at_priority(2)).unwrap();
    assert_eq!(
        world.state.add_thread(grandchild, "deep", 2, 0, utcb(), (0, 0), false),
        Err(KernelError::QuotaExceeded)
    );
    // Signals: the child's one is the parent's one.
    assert!(world.state.create_signal().is_ok());
    world.act_as(thread);
    assert_eq!(world.state.create_signal().err(), Some(KernelError::QuotaExceeded));
    assert_eq!(world.state.components[parent.index()].quota.signals, 1);
}

#[test]
fn destroying_a_component_destroys_what_it_created() {
    let mut world = World::new();
    let (parent, thread) = world.component_with_thread(
        "parent",
        Quota { components: 2, threads: 4, ..Quota::at_priority(2) },
    );
    world.act_as(thread);
    let (child, _) = world
        .state
        .create_component("child", Quota { components: 1, ..Quota::at_priority(2) })
        .unwrap();
    let worker = world.state.add_thread(child, "worker", 2, 0, utcb(), (0, 0), false).unwrap();
    world.act_as(worker);
    let (grandchild, _) =
        world.state.create_component("grandchild", Quota::at_priority(2)).unwrap();
    let deep = world.state.add_thread(grandchild, "deep", 1, 0, utcb(), (0, 0), false).unwrap();
    // Below its creator, a component may not destroy the creator.
    assert_eq!(world.state.destroy_component(parent).err(), Some(KernelError::NoAuthority));
    world.act_as(world.main);
    world.state.destroy_component(parent).unwrap();
    for t in [thread, worker, deep] {
        assert_eq!(world.state.threads[t.index()].state, ThreadState::Dead);
    }
    // Whoever destroyed the parent reaps the threads below it; each slot
    // is freed after its last thread and its last child.
    world.state.reap(deep).unwrap();
    assert!(!world.state.components[grandchild.index()].used);
    world.state.reap(thread).unwrap();
    assert!(world.state.components[parent.index()].used, "its child is not freed yet");
    world.state.reap(worker).unwrap();
    for c in [parent, child, grandchild] {
        assert!(!world.state.components[c.index()].used);
    }
}

#[test]
fn a_slot_whose_generation_would_wrap_is_retired() {
    let mut world = World::new();
    let stale = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: slot, .. } = world.entry(world.root, stale) else { panic!() };
    // As after four billion reuses of the slot.
    world.state.objects[slot.index()].generation = u32::MAX - 1;
    world.state.put_slot(
        world.root,
        stale.0 as usize,
        CapEntry::Object { object: slot, generation: u32::MAX - 1 },
    );
    world.state.revoke(stale).unwrap();
    // The next object goes elsewhere: the stale capability stays dead.
    let fresh = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: elsewhere, .. } = world.entry(world.root, fresh) else {
        panic!()
    };
    assert_ne!(elsewhere, slot);
    assert_eq!(
        client(&mut world, stale).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
    assert_eq!(client(&mut world, fresh).ping(), Ok(1));
}

#[test]
fn a_deferred_reply_to_a_dissolved_object_carries_no_capabilities() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: called, .. } = world.entry(world.root, demo) else { panic!() };
    let second = world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    // main pings (a reply of no capabilities); the server defers it.
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(demo).unwrap();
    let reply = world.state.defer_reply().unwrap();
    world.act_as(world.entrypoint);
    let (_, signal) = world.state.create_signal().unwrap();
    // Root (another of its threads: main waits for the reply) dissolves
    // the object, and the slot serves another one, whose replies accept
    // capabilities.
    world.act_as(second);
    world.state.revoke(demo).unwrap();
    let (dispatch, _) = object::<dyn Demo, _>(DemoServer::default());
    let (reused, _) = world.state.create_object(world.entrypoint, dispatch, |_, _| 4).unwrap();
    assert_eq!(reused, called);
    // The server answers Ok with a capability (a refusal carries none in
    // any case): refused, none arrives.
    world.act_as(world.entrypoint);
    write_ok_reply_carrying(&mut world, signal);
    let before = world.used_slots(world.root);
    world.state.reply_deferred(reply).unwrap();
    assert_eq!(world.used_slots(world.root), before);
    assert_eq!(world.utcb_of(world.main).error, TransportError::TooManyCapabilities.code());
}

ferrode_ipc::interface! {
    pub trait Giver {
        fn give_counter(&mut self) -> Result<Capability<dyn Counter>, DemoError>;
    }
}

/// The current thread calls `give_counter` through `giver`.
fn call_give_counter(world: &mut World, giver: CapSel) {
    let request = world.current_utcb();
    request.label = ferrode_ipc::label::<dyn Giver>(0);
    request.word_count = 0;
    request.cap_count = 0;
    world.state.call(giver).unwrap();
}

/// The current (server) thread writes an `Ok` reply whose one word is the
/// `Ok` tag and whose one capability is `capability`.
fn write_ok_reply_carrying(world: &mut World, capability: CapSel) {
    let reply = world.current_utcb();
    reply.error = 0;
    reply.word_count = 1;
    reply.words[0] = 0;
    reply.cap_count = 1;
    reply.caps[0] = capability;
}

/// A server with no state: its `RpcObject` is zero-sized, so every such
/// object a test leaks lives at the same address.
struct ZstGiver;
impl Giver for ZstGiver {
    fn give_counter(&mut self) -> Result<Capability<dyn Counter>, DemoError> {
        Ok(Capability::invalid())
    }
}

struct ZstCounter;
impl Counter for ZstCounter {
    fn bump(&mut self) -> Result<u32, DemoError> {
        Ok(0)
    }
}

/// Another server component (priority 3) whose entrypoint waits, serving
/// a stateless `Counter` (at the one address every zero-sized object
/// has): the object, root's capability to it, its address and the
/// entrypoint.
fn other_server_with_stateless_object(
    world: &mut World,
) -> (crate::ids::ObjectId, CapSel, NonNull<dyn Dispatch>, ThreadId) {
    let (other_component, _) =
        world.state.create_component("other", Quota::at_priority(3)).unwrap();
    let other =
        world.state.add_thread(other_component, "other-ep", 3, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_if_outranked().map(|s| s.to), Some(other));
    assert_eq!(world.state.reply_and_wait(false).map(|s| s.to), Some(world.main));
    let (dispatch, window) = object::<dyn Counter, _>(ZstCounter);
    let (object, selector) = world.state.create_object(other, dispatch, window).unwrap();
    (object, selector, dispatch, other)
}

#[test]
fn objects_at_the_same_address_in_other_components_do_not_change_a_deferred_reply() {
    let mut world = World::new();
    // Another server's stateless object, managed first (the lower slot).
    let (foreign, _, foreign_dispatch, _) = other_server_with_stateless_object(&mut world);
    // The server's own stateless object, whose `give_counter` reply
    // carries one capability.
    let (dispatch, window) = object::<dyn Giver, _>(ZstGiver);
    assert!(core::ptr::addr_eq(dispatch.as_ptr(), foreign_dispatch.as_ptr()));
    let (own, giver) = world.state.create_object(world.entrypoint, dispatch, window).unwrap();
    assert!(foreign.index() < own.index());
    // main calls give_counter; the server defers the reply.
    call_give_counter(&mut world, giver);
    assert_eq!(world.state.current, world.entrypoint);
    let reply = world.state.defer_reply().unwrap();
    let CapEntry::Reply { object, .. } = world.entry(world.server_component, reply) else {
        panic!("a reply capability")
    };
    let (_, signal) = world.state.create_signal().unwrap();
    // Later it answers with an Ok carrying one capability, as the method's
    // reply window allows.
    write_ok_reply_carrying(&mut world, signal);
    world.state.reply_deferred(reply).unwrap();
    assert_eq!(object, own, "the reply capability names the object called");
    assert_eq!(world.utcb_of(world.main).error, 0);
    assert_eq!(world.utcb_of(world.main).cap_count, 1);
}

#[test]
fn dissolving_an_object_at_the_same_address_leaves_another_servers_request_alone() {
    let mut world = World::new();
    let (_, foreign, _, _) = other_server_with_stateless_object(&mut world);
    let (dispatch, window) = object::<dyn Giver, _>(ZstGiver);
    let (_, giver) = world.state.create_object(world.entrypoint, dispatch, window).unwrap();
    let second = world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    // A request to the server's object is delivered...
    call_give_counter(&mut world, giver);
    assert!(world.state.threads[world.entrypoint.index()].received_dispatch.is_some());
    // ...and before it is dispatched, the other component's object (whose
    // server happens to be at the same address) is dissolved.
    world.act_as(second);
    world.state.revoke(foreign).unwrap();
    assert!(
        world.state.threads[world.entrypoint.index()].received_dispatch.is_some(),
        "the server's request was cancelled by another component's object"
    );
}

#[cfg(feature = "debug")]
mod debug;

mod lifecycle;

mod hostile;

mod hostile_server;

mod kernel_api;

/// Every error reads as what went wrong (`Display`, for reports), each in
/// words of its own.
#[test]
fn each_kernel_error_says_what_went_wrong() {
    let errors = [
        KernelError::OutOfThreads,
        KernelError::OutOfComponents,
        KernelError::OutOfObjects,
        KernelError::OutOfSignals,
        KernelError::CapabilitySpaceFull,
        KernelError::InvalidComponent,
        KernelError::InvalidCapability,
        KernelError::InvalidThread,
        KernelError::InvalidPriority,
        KernelError::StackTooSmall,
        KernelError::NotInitialised,
        KernelError::NoAuthority,
        KernelError::NotOwner,
        KernelError::QuotaExceeded,
        KernelError::PriorityInversion,
        KernelError::NoReplyPending,
    ];
    let texts: Vec<std::string::String> = errors.iter().map(|e| std::format!("{e}")).collect();
    for (error, text) in errors.iter().zip(&texts) {
        assert_eq!(text, error.as_str());
    }
    assert_eq!(texts[12], "only the owner may dissolve or mint it");
    let mut distinct = texts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), errors.len(), "{texts:?}");
}

#[test]
fn a_quota_beyond_the_kernels_limits_is_refused_and_costs_nothing() {
    let mut world = World::new();
    let components = |world: &World| world.state.components.iter().filter(|c| c.used).count();
    let before = components(&world);
    let slots = world.used_slots(world.root);
    let refused = [
        (Quota::at_priority(0), KernelError::InvalidPriority),
        (Quota::at_priority(crate::state::PRIORITIES as u8), KernelError::InvalidPriority),
        (
            Quota { caps: crate::state::CAP_SLOTS as u8 + 1, ..Quota::at_priority(2) },
            KernelError::QuotaExceeded,
        ),
    ];
    for (quota, error) in refused {
        assert_eq!(world.state.create_component("bad", quota).err(), Some(error), "{quota:?}");
    }
    assert_eq!(components(&world), before);
    assert_eq!(world.used_slots(world.root), slots);
    // The limits themselves are allowed.
    let top = Quota { caps: crate::state::CAP_SLOTS as u8, ..Quota::at_priority(7) };
    assert!(world.state.create_component("top", top).is_ok());
}

#[test]
fn within_follows_the_creation_tree_over_used_slots_only() {
    let mut world = World::new();
    let (parent, thread) = world.component_with_thread(
        "parent",
        Quota { components: 1, threads: 2, ..Quota::at_priority(2) },
    );
    world.act_as(thread);
    let (child, _) = world.state.create_component("child", Quota::at_priority(2)).unwrap();
    let (root, server) = (world.root, world.server_component);
    let within = |world: &World, c, a| world.state.within(c, a);
    assert!(within(&world, parent, parent), "a component is within itself");
    assert!(within(&world, child, parent));
    assert!(within(&world, child, root), "and within its creator's creator");
    assert!(!within(&world, parent, child), "not within what it created");
    assert!(!within(&world, server, parent), "nor within a sibling");
    let free = ComponentId(crate::state::MAX_COMPONENTS as u8 - 1);
    assert!(!world.state.components[free.index()].used);
    assert!(!within(&world, free, root), "a free slot is within nothing");
    assert!(!within(&world, root, free), "and nothing is within it");
    let outside = ComponentId(crate::state::MAX_COMPONENTS as u8);
    assert!(!within(&world, outside, root) && !within(&world, root, outside));
}

#[test]
fn a_copy_of_a_component_capability_does_not_reach_the_next_user_of_its_slot() {
    let mut world = World::new();
    let server = world.server_component;
    let selector = (0..crate::state::CAP_SLOTS as u32)
        .map(CapSel)
        .find(|&s| matches!(world.entry(world.root, s), CapEntry::Component { component, .. } if component == server))
        .expect("root's capability to the server");
    let (_, thread, _) = {
        let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
        attacker(&mut world, demo)
    };
    let attacker_component = world.state.threads[thread.index()].component;
    world.state.delegate(world.root, selector, attacker_component).unwrap();
    world.act_as(thread);
    assert_eq!(world.state.authorized(server), Ok(()), "the copy names the server");
    world.act_as(world.main);
    world.state.destroy_component(server).unwrap();
    world.state.reap(world.entrypoint).unwrap();
    let (again, _) = world.state.create_component("again", Quota::at_priority(3)).unwrap();
    assert_eq!(again, server, "the slot is reused");
    world.act_as(thread);
    assert_eq!(world.state.authorized(again), Err(KernelError::NoAuthority));
    assert_eq!(
        world.state.add_thread(again, "implant", 3, 0, utcb(), (0, 0), false),
        Err(KernelError::NoAuthority)
    );
}

#[test]
fn a_stale_reply_capability_does_not_answer_the_next_thread_in_its_callers_slot() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (component, caller) = world.component_with_thread("caller", Quota::at_priority(2));
    let held = world.state.delegate(world.root, demo, component).unwrap();
    // The caller calls; the server defers its reply.
    world.act_as(caller);
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(held).unwrap();
    let stale = world.state.defer_reply().unwrap();
    world.state.reply_and_wait(true);
    // The caller's component is destroyed and its thread reaped; a new
    // thread takes the slot and calls, and that reply is deferred too.
    world.act_as(world.main);
    world.state.destroy_component(component).unwrap();
    world.state.reap(caller).unwrap();
    let next = world.state.add_thread(world.root, "next", 2, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(next, caller, "the slot is reused");
    world.act_as(next);
    world.current_utcb().label = ping_label();
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(demo).unwrap();
    let fresh = world.state.defer_reply().unwrap();
    // The old reply capability does not answer the new call; the new one does.
    {
        let utcb = world.current_utcb();
        utcb.word_count = 2;
        utcb.cap_count = 0;
        utcb.words[..2].copy_from_slice(&[0, 7]);
    }
    assert_eq!(world.state.reply_deferred(stale), Err(KernelError::InvalidCapability));
    assert_eq!(world.state.threads[next.index()].state, ThreadState::AwaitingReply);
    world.state.reply_deferred(fresh).unwrap();
    assert_eq!(world.utcb_of(next).words[..2], [0, 7]);
}

#[test]
fn the_objects_quota_bounds_live_objects_and_is_given_back() {
    let mut world = World::new();
    let quota = Quota { objects: 1, ..Quota::at_priority(2) };
    let (_, thread) = world.component_with_thread("small", quota);
    world.act_as(thread);
    let (demo, window) = object::<dyn Demo, _>(DemoServer::default());
    let (_, first) = world.state.create_object(thread, demo, window).unwrap();
    let (counter, window) = object::<dyn Counter, _>(CounterServer(0));
    assert_eq!(
        world.state.create_object(thread, counter, window).err(),
        Some(KernelError::QuotaExceeded)
    );
    world.state.revoke(first).unwrap();
    assert!(world.state.create_object(thread, counter, window).is_ok(), "given back");
}

#[test]
fn a_stale_object_capability_does_not_dissolve_the_next_object_in_its_slot() {
    let mut world = World::new();
    let stale = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: slot, .. } = world.entry(world.root, stale) else { panic!() };
    world.state.revoke(stale).unwrap();
    let fresh = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: reused, .. } = world.entry(world.root, fresh) else { panic!() };
    assert_eq!(reused, slot, "the object slot is reused");
    assert_eq!(world.state.revoke(stale), Err(KernelError::InvalidCapability));
    assert_eq!(client(&mut world, fresh).ping(), Ok(1));
}

#[test]
fn take_back_takes_only_what_came_from_the_delegator() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (first, _, from_root) = attacker(&mut world, demo);
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    let (_, signal) = world.state.create_signal().unwrap();
    let to_second = world.state.delegate(world.root, signal, second).unwrap();
    let from_second = world.state.delegate(second, to_second, first).unwrap();
    // What second gave first goes; what root gave first stays.
    assert_eq!(world.state.take_back(second, first), Ok(1));
    assert_eq!(world.entry(first, from_second), CapEntry::Revoked);
    assert!(matches!(world.entry(first, from_root), CapEntry::Object { .. }));
    assert!(matches!(world.entry(second, to_second), CapEntry::Signal { .. }));
}

#[test]
fn a_stale_object_capability_carries_nothing_of_the_next_object_in_its_slot() {
    let mut world = World::new();
    let stale = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let CapEntry::Object { object: slot, .. } = world.entry(world.root, stale) else { panic!() };
    world.state.revoke(stale).unwrap();
    // The slot now holds an object of a priority-1 server.
    let (slow, slow_thread) = world.component_with_thread("slow", Quota::at_priority(1));
    world.act_as(slow_thread);
    let (dispatch, window) = object::<dyn Demo, _>(DemoServer::default());
    let (reused, fresh) = world.state.create_object(slow_thread, dispatch, window).unwrap();
    assert_eq!(reused, slot);
    world.act_as(world.main);
    // A priority-2 component may not be given the new object (its server
    // is slower), but the stale capability is no capability to it.
    let (fast, _) = world.component_with_thread("fast", Quota::at_priority(2));
    assert_eq!(world.state.delegate(slow, fresh, fast), Err(KernelError::PriorityInversion));
    let passed = world.state.delegate(world.root, stale, fast).unwrap();
    assert_eq!(world.entry(fast, passed), world.entry(world.root, stale));
}

/// Gives `component` `count` signal capabilities of root's, so that what
/// it gets next lands in a higher slot.
fn pad(world: &mut World, component: ComponentId, count: usize) {
    for _ in 0..count {
        let (_, signal) = world.state.create_signal().unwrap();
        world.state.delegate(world.root, signal, component).unwrap();
    }
}

#[test]
fn copies_of_copies_in_higher_slots_are_revoked_and_re_parented() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (first, first_thread) = world
        .component_with_thread("first", Quota { caps: 8, signals: 0, ..Quota::at_priority(2) });
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    pad(&mut world, first, 2);
    pad(&mut world, second, 3);
    let held = world.state.delegate(world.root, demo, first).unwrap();
    assert!(held.0 > 0, "first's copy is not in slot 0");
    let passed = world.state.delegate(first, held, second).unwrap();
    // Revocation follows the copy made from first's slot.
    assert_eq!(world.state.revoke_copies(demo), Ok(2));
    assert_eq!(world.entry(second, passed), CapEntry::Revoked);
    // Again, but first drops its copy: second's derives from root's now.
    world.act_as(second_thread_of(&world, second));
    world.state.drop_capability(passed).unwrap();
    world.act_as(first_thread);
    world.state.drop_capability(held).unwrap();
    world.act_as(world.main);
    let held = world.state.delegate(world.root, demo, first).unwrap();
    let passed = world.state.delegate(first, held, second).unwrap();
    world.act_as(first_thread);
    world.state.drop_capability(held).unwrap();
    world.act_as(world.main);
    assert_eq!(world.state.revoke_copies(demo), Ok(1));
    assert_eq!(world.entry(second, passed), CapEntry::Revoked);
}

/// The one thread of `component` (test worlds give each one).
fn second_thread_of(world: &World, component: ComponentId) -> ThreadId {
    let index = world
        .state
        .threads
        .iter()
        .position(|t| t.component == component && t.state != ThreadState::Free)
        .unwrap();
    ThreadId::from_index(index)
}

#[test]
fn emptying_a_higher_slot_leaves_the_copies_of_slot_0_revocable() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let first_entry = world.entry(world.root, CapSel(0));
    assert_ne!(first_entry, CapEntry::Empty, "root holds something in slot 0");
    assert!(demo.0 > 0);
    let (first, _) = world.component_with_thread("first", Quota::at_priority(2));
    let (second, _) = world.component_with_thread("second", Quota::at_priority(2));
    let from_slot_0 = world.state.delegate(world.root, CapSel(0), first).unwrap();
    world.state.delegate(world.root, demo, second).unwrap();
    // Root drops its capability in the higher slot, which was copied too.
    world.state.drop_capability(demo).unwrap();
    // The copy of slot 0 still derives from it.
    assert_eq!(world.state.revoke_copies(CapSel(0)), Ok(1));
    assert_eq!(world.entry(first, from_slot_0), CapEntry::Revoked);
}

#[test]
fn a_message_fits_a_space_with_exactly_the_slots_it_needs() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (one, other) = (world.counter(), world.counter());
    // The server's space is left with one free slot.
    let server = world.server_component;
    let free = 16 - world.used_slots(server);
    pad(&mut world, server, free - 1);
    // Two copies of one capability need one slot: the method runs (and
    // refuses, giving it back).
    assert_eq!(client(&mut world, demo).refuse(one, one), Err(DemoError::Overflow));
    // One capability fits the one slot; the next finds none.
    assert_eq!(client(&mut world, demo).keep(one), Ok(()));
    assert_eq!(
        client(&mut world, demo).keep(other),
        Err(DemoError::Transport(TransportError::CapabilitySpaceFull))
    );
}

/// An `Ok(value)` reply of two words (no capabilities, no error code) in
/// the current thread's UTCB.
fn write_ok_reply(world: &mut World, value: usize) {
    let reply = world.current_utcb();
    reply.error = 0;
    reply.word_count = 2;
    reply.cap_count = 0;
    reply.words[..2].copy_from_slice(&[0, value]);
}

/// A ping request in the current thread's UTCB.
fn write_ping(world: &mut World) {
    let request = world.current_utcb();
    request.label = ping_label();
    request.word_count = 0;
    request.cap_count = 0;
}

/// main calls `demo` and the server, busy with it, is preempted in favour
/// of another root thread of main's priority (a new one, unless one is
/// ready already), which is returned running.
fn server_busy_with_main(world: &mut World, demo: CapSel) -> ThreadId {
    world.state.add_thread(world.root, "second", 2, 0, utcb(), (0, 0), false).unwrap();
    write_ping(world);
    world.state.call(demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    world.state.threads[world.entrypoint.index()].priority = 2;
    let switch = world.state.yield_now().unwrap();
    assert_eq!(switch.from, world.entrypoint);
    assert_eq!(world.state.threads[switch.to.index()].component, world.root);
    switch.to
}

#[test]
fn a_stale_capability_reaches_no_object_that_reuses_its_slot_busy_server_or_not() {
    let mut world = World::new();
    let stale = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    world.state.revoke(stale).unwrap();
    let fresh = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (CapEntry::Object { object: a, .. }, CapEntry::Object { object: b, .. }) =
        (world.entry(world.root, stale), world.entry(world.root, fresh))
    else {
        panic!()
    };
    assert_eq!(a, b, "the slot is reused");
    // Server waiting: refused at once.
    write_ping(&mut world);
    assert_eq!(world.state.call(stale), Err(TransportError::ServerDead));
    // Server busy: refused at once too, not queued for the new object.
    let second = server_busy_with_main(&mut world, fresh);
    write_ping(&mut world);
    assert_eq!(world.state.call(stale), Err(TransportError::ServerDead));
    assert_eq!(world.state.threads[second.index()].state, ThreadState::Running);
}

#[test]
fn a_queued_call_to_an_object_dissolved_meanwhile_fails_even_if_its_slot_is_reused() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    world.state.add_thread(world.root, "third", 2, 0, utcb(), (0, 0), false).unwrap();
    let second = server_busy_with_main(&mut world, demo);
    let third = (0..crate::state::MAX_THREADS)
        .map(ThreadId::from_index)
        .find(|&t| {
            let t = &world.state.threads[t.index()];
            (t.component, t.priority, t.state) == (world.root, 2, ThreadState::Ready)
        })
        .unwrap();
    write_ping(&mut world);
    world.state.call(demo).unwrap();
    assert_eq!(world.state.threads[second.index()].state, ThreadState::SendQueued);
    // While second waits in the queue, root dissolves the object and the
    // slot serves another one.
    world.act_as(third);
    world.state.revoke(demo).unwrap();
    let fresh = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (CapEntry::Object { object: a, .. }, CapEntry::Object { object: b, .. }) =
        (world.entry(world.root, demo), world.entry(world.root, fresh))
    else {
        panic!()
    };
    assert_eq!(a, b, "the slot is reused");
    // The server finishes main's request and takes the next: second's
    // call fails rather than reaching the new object.
    world.act_as(world.entrypoint);
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.reply_and_wait(true);
    assert_eq!(world.utcb_of(second).error, TransportError::ServerDead.code());
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Waiting);
}

/// Writes a full request (64 words, each its index, and the 4
/// capabilities `caps`) into the current UTCB.
fn write_full_request(world: &mut World, caps: &[CapSel]) {
    let request = world.current_utcb();
    request.label = demo_label(77);
    request.word_count = ferrode_ipc::MSG_WORDS as u32;
    for (index, word) in request.words.iter_mut().enumerate() {
        *word = index;
    }
    request.cap_count = 4;
    request.caps[..4].copy_from_slice(caps);
}

/// Checks that the entrypoint received a full request.
fn assert_full_request(world: &World) {
    let got = world.utcb_of(world.entrypoint);
    assert_eq!((got.word_count as usize, got.cap_count), (ferrode_ipc::MSG_WORDS, 4));
    assert_eq!(got.words[63], 63);
    assert!(got.caps[..4].iter().all(|&c| c != CapSel::INVALID));
}

#[test]
fn a_full_message_of_64_words_and_4_capabilities_is_delivered() {
    let mut world = World::new();
    // Another object first, so the badge of the one called is not 0.
    world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (dispatch, _) = object::<dyn Demo, _>(DemoServer::default());
    let (called, any) = world.state.create_object(world.entrypoint, dispatch, |_, _| 4).unwrap();
    assert_ne!(called.index(), 0);
    let caps: Vec<CapSel> = (0..4).map(|_| world.state.create_signal().unwrap().1).collect();
    // Straight to the waiting server.
    write_full_request(&mut world, &caps);
    world.state.call(any).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    assert_full_request(&world);
    // A full reply back (an Ok: words[0] is 0).
    let reply = world.current_utcb();
    reply.error = 0;
    reply.word_count = ferrode_ipc::MSG_WORDS as u32;
    reply.cap_count = 0;
    world.state.reply_and_wait(true);
    let back = world.utcb_of(world.main);
    assert_eq!((back.error, back.word_count as usize), (0, ferrode_ipc::MSG_WORDS));
    assert_eq!(back.words[63], 63);
    // Queued at the busy server, then delivered.
    let second = server_busy_with_main(&mut world, any);
    write_full_request(&mut world, &caps);
    world.state.call(any).unwrap();
    assert_eq!(world.state.threads[second.index()].state, ThreadState::SendQueued);
    world.act_as(world.entrypoint);
    world.current_utcb().word_count = 0;
    world.state.reply_and_wait(true);
    assert_eq!(world.state.current, world.entrypoint);
    assert_full_request(&world);
    assert_eq!(world.utcb_of(world.entrypoint).badge, called.index());
}

#[test]
fn an_invalid_selector_among_capabilities_arrives_invalid_and_takes_no_slot() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let counter = world.counter().selector();
    let before = world.used_slots(world.server_component);
    let request = world.current_utcb();
    request.label = demo_label(4); // refuse(first, second)
    request.word_count = 0;
    request.cap_count = 2;
    request.caps[..2].copy_from_slice(&[CapSel::INVALID, counter]);
    world.state.call(demo).unwrap();
    let got = world.utcb_of(world.entrypoint);
    assert_eq!(got.caps[0], CapSel::INVALID);
    assert_ne!(got.caps[1], CapSel::INVALID);
    assert_eq!(world.used_slots(world.server_component), before + 1);
}

#[test]
fn waiting_without_replying_fails_the_caller() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    write_ping(&mut world);
    world.state.call(demo).unwrap();
    write_ok_reply(&mut world, 5);
    world.state.reply_and_wait(false);
    assert_eq!(world.utcb_of(world.main).error, TransportError::ServerDead.code());
    assert_eq!(world.state.threads[world.entrypoint.index()].state, ThreadState::Waiting);
}

#[test]
fn a_reply_lets_a_ready_thread_above_the_caller_run_first() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    write_ping(&mut world);
    world.state.call(demo).unwrap();
    // While the server (priority 3) serves main (priority 2), it starts
    // another thread of its own at priority 3, which is ready.
    assert_eq!(world.state.current, world.entrypoint);
    let server = world.server_component;
    let urgent = world.state.add_thread(server, "urgent", 3, 0, utcb(), (0, 0), false).unwrap();
    write_ok_reply(&mut world, 5);
    let switch = world.state.reply_and_wait(true);
    assert_eq!(switch.map(|s| s.to), Some(urgent));
    assert_eq!(world.state.threads[world.main.index()].state, ThreadState::Ready);
    assert_eq!(world.utcb_of(world.main).words[..2], [0, 5]);
}

#[test]
fn a_server_cannot_borrow_another_servers_reply_window_through_its_badge() {
    let mut world = World::new();
    // Another server's stateless object, at the address every zero-sized
    // object has, whose replies may carry 4 capabilities.
    let (_, _, _, other) = other_server_with_stateless_object(&mut world);
    let (dispatch, _) = object::<dyn Counter, _>(ZstCounter);
    let (roomy, _) = world.state.create_object(other, dispatch, |_, _| 4).unwrap();
    // The server's own stateless counter: `bump`'s reply carries none.
    let (dispatch, window) = object::<dyn Counter, _>(ZstCounter);
    let (_, counter) = world.state.create_object(world.entrypoint, dispatch, window).unwrap();
    world.current_utcb().label = ferrode_ipc::label::<dyn Counter>(0);
    world.current_utcb().word_count = 0;
    world.current_utcb().cap_count = 0;
    world.state.call(counter).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    // The server names the other object in its badge and answers Ok with
    // a capability: refused, none arrives.
    let (_, signal) = world.state.create_signal().unwrap();
    let reply = world.current_utcb();
    reply.badge = roomy.index();
    reply.error = 0;
    reply.word_count = 2;
    reply.words[..2].copy_from_slice(&[0, 1]);
    reply.cap_count = 1;
    reply.caps[0] = signal;
    let before = world.used_slots(world.root);
    world.state.reply_and_wait(true);
    assert_eq!(world.utcb_of(world.main).error, TransportError::TooManyCapabilities.code());
    assert_eq!(world.used_slots(world.root), before);
}

/// Catches `reply_window` ignoring the badge (always searching by
/// address): two stateless objects at one entrypoint share their address,
/// and only the badge tells the one called from the one managed first.
#[test]
fn a_reply_gets_the_window_of_the_object_called_among_objects_at_one_address() {
    let mut world = World::new();
    // Managed first (the lower slot): a counter, whose replies carry none.
    let (dispatch, window) = object::<dyn Counter, _>(ZstCounter);
    let (first, _) = world.state.create_object(world.entrypoint, dispatch, window).unwrap();
    // The object called: `give_counter`'s reply carries one capability.
    let (dispatch, window) = object::<dyn Giver, _>(ZstGiver);
    let (called, giver) = world.state.create_object(world.entrypoint, dispatch, window).unwrap();
    assert!(first.index() < called.index());
    call_give_counter(&mut world, giver);
    assert_eq!(world.state.current, world.entrypoint);
    let (_, signal) = world.state.create_signal().unwrap();
    write_ok_reply_carrying(&mut world, signal);
    world.state.reply_and_wait(true);
    assert_eq!(world.utcb_of(world.main).error, 0);
    assert_eq!(world.utcb_of(world.main).cap_count, 1);
}

/// A request with more capabilities than its method accepts is refused
/// when it is made, also at a busy server: it is not queued to fail later.
#[test]
fn too_many_capabilities_are_refused_at_once_even_at_a_busy_server() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let counter = world.counter();
    let second = server_busy_with_main(&mut world, demo);
    // `add` accepts no capabilities; one comes along.
    let request = world.current_utcb();
    request.label = demo_label(0);
    request.word_count = 0;
    request.cap_count = 1;
    request.caps[0] = counter.selector();
    assert_eq!(world.state.call(demo), Err(TransportError::TooManyCapabilities));
    assert_eq!(world.state.threads[second.index()].state, ThreadState::Running);
    assert_eq!(world.state.threads[world.entrypoint.index()].sendq_head.get(), None);
}

/// A reply the slow path delivers (here an error reply) switches straight
/// back to its caller when nothing outranks it, ahead of a thread of the
/// caller's priority that was ready before.
#[test]
fn a_slow_reply_switches_straight_back_to_its_caller() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let other = world.state.add_thread(world.root, "other", 2, 0, utcb(), (0, 0), false).unwrap();
    write_ping(&mut world);
    world.state.call(demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    ferrode_ipc::write_error_reply(world.current_utcb(), TransportError::InvalidValue);
    assert_eq!(
        world.state.reply_and_wait(true),
        Some(Switch { from: world.entrypoint, to: world.main })
    );
    assert_eq!(world.utcb_of(world.main).error, TransportError::InvalidValue.code());
    assert_eq!(world.state.threads[other.index()].state, ThreadState::Ready);
}
