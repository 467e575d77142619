//! Host tests of the kernel's state machine: threads are simulated by
//! acting, in turn, as whichever thread the kernel made current.

use std::boxed::Box;
use std::vec::Vec;

use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Capability, Dispatch, Interface, RpcObject, Serve, Transport, TransportError, Utcb};

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

/// The label of `Demo` method `position` (0 add, 1 keep, 2 give, 3 sum).
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
        let (server_component, _) = state.create_component("server", Quota::at_priority(3)).unwrap();
        let entrypoint = state.add_thread(server_component, "ep", 3, 0, utcb(), (0, 0), false).unwrap();
        let mut world = World { state, root, server_component, entrypoint, main: ThreadId(0) };
        // The higher-priority entrypoint runs first and starts waiting.
        assert_eq!(world.state.yield_if_outranked(), Some(Switch { from: world.main, to: entrypoint }));
        assert_eq!(world.state.reply_and_wait(false), Some(Switch { from: entrypoint, to: world.main }));
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
    fn component_with_thread(&mut self, name: &'static str, quota: Quota) -> (ComponentId, ThreadId) {
        let (component, _) = self.state.create_component(name, quota).unwrap();
        let thread = self.state.add_thread(component, name, quota.priority, 0, utcb(), (0, 0), false).unwrap();
        (component, thread)
    }

    /// Makes `thread` the running thread (test only: bypasses the
    /// scheduler, the previous one goes back to the ready queue).
    fn act_as(&mut self, thread: ThreadId) {
        let previous = self.state.current;
        if previous == thread {
            return;
        }
        self.state.ready.remove(thread, self.state.threads[thread.index()].priority);
        if self.state.threads[previous.index()].state == ThreadState::Running {
            self.state.threads[previous.index()].state = ThreadState::Ready;
            let priority = self.state.threads[previous.index()].priority;
            self.state.ready.push_back(previous, priority);
        }
        self.state.threads[thread.index()].state = ThreadState::Running;
        self.state.current = thread;
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
            match self.state.threads[server.index()].received_dispatch {
                // SAFETY: the server's own leaked UTCB and a leaked object;
                // the simulated threads run one at a time.
                Some(mut target) => unsafe {
                    target.as_mut().dispatch(NonNull::new(self.state.threads[server.index()].utcb).unwrap())
                },
                None => panic!("thread {} runs without a request", self.state.threads[server.index()].name),
            }
            self.state.reply_and_wait(true);
        }
    }

    fn entry(&self, component: ComponentId, selector: CapSel) -> CapEntry {
        self.state.caps[component.index()].get(selector)
    }

    fn used_slots(&self, component: ComponentId) -> usize {
        self.state.caps[component.index()].slots.iter().filter(|e| **e != CapEntry::Empty).count()
    }
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
}

fn client(world: &mut World, selector: CapSel) -> ferrode_ipc::Client<dyn Demo, &mut World> {
    ferrode_ipc::Client::new(world, Capability::from_selector(selector))
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
    let CapEntry::Object { object, .. } = world.entry(world.root, demo) else { panic!("an object capability") };
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
    assert_eq!(client(&mut world, CapSel(31)).ping(), Err(DemoError::Transport(TransportError::InvalidCapability)));
    assert_eq!(client(&mut world, CapSel(9999)).ping(), Err(DemoError::Transport(TransportError::InvalidCapability)));
    // A selector valid only in the server's space is foreign to root.
    let in_server = world.state.delegate(world.root, demo, world.server_component).unwrap();
    world.state.caps[world.server_component.index()].slots.swap(in_server.0 as usize, 20);
    assert_eq!(world.entry(world.root, CapSel(20)), CapEntry::Empty);
    assert_eq!(client(&mut world, CapSel(20)).ping(), Err(DemoError::Transport(TransportError::InvalidCapability)));
    // Dissolving (by the owner's parent, which holds a capability to it)
    // kills every copy.
    world.state.revoke(demo).unwrap();
    assert_eq!(client(&mut world, demo).ping(), Err(DemoError::Transport(TransportError::ServerDead)));
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
    assert_eq!(world.state.threads[switch.to.index()].name, "idle");
    world.state.submit_signal(signal);
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
    assert_eq!(world.state.add_thread(world.root, "bad", 0, 0, utcb(), (0, 0), false), Err(KernelError::InvalidPriority));
    assert_eq!(world.state.add_thread(world.root, "bad", 8, 0, utcb(), (0, 0), false), Err(KernelError::InvalidPriority));
    // Nor above the component's own priority (root's is 2).
    assert_eq!(world.state.add_thread(world.root, "bad", 3, 0, utcb(), (0, 0), false), Err(KernelError::InvalidPriority));
}

#[test]
fn interrupts_switch_only_at_interrupt_exit() {
    let mut world = World::new();
    // A higher-priority driver component waits for its IRQ signal.
    let (driver_component, _) = world.state.create_component("driver", Quota::at_priority(5)).unwrap();
    let driver = world.state.add_thread(driver_component, "driver", 5, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_if_outranked().map(|s| s.to), Some(driver));
    let (signal, selector) = world.state.create_signal().unwrap();
    let switch = world.state.wait_signal(selector).unwrap().unwrap();
    assert_eq!(switch.to, world.main);
    // The IRQ arrives while main runs: the driver is woken, not switched to...
    world.state.submit_signal_deferred(signal);
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
        #![proptest_config(ProptestConfig::with_cases(300))]

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
