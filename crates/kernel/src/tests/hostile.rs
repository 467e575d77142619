//! A hostile component against the capability model: whatever kernel
//! operations on capabilities and components it tries, in whatever order
//! and with whatever selectors, ids and message contents, it ends up
//! with no authority beyond what it was given and what it made itself,
//! and the others' spaces, threads and services are as they were. (A
//! hostile server against its client, deferred replies included, is
//! `hostile_server.rs`'s.)
//!
//! The world: root (the main thread), the server (its entrypoint serves
//! a Demo and a Counter object), an honest client `honest` with a copy of
//! the Demo capability and a signal of its own, and the hostile client
//! `hostile` with copies of both objects' capabilities, a submit-only
//! copy of the honest client's signal, and room for two children.

use proptest::prelude::*;

use super::*;
use crate::ids::{ObjectId, SignalId};
use crate::{CAP_SLOTS, MAX_BADGE, MAX_COMPONENTS, MAX_THREADS};

/// One thing the hostile component tries. Selectors run past its space,
/// ids past the kernel's tables.
#[derive(Clone, Debug)]
enum Try {
    /// A call with a request written by hand: label, words, capabilities
    /// to send by selector, and counts of each that need not match them
    /// (nor the UTCB's room).
    Call {
        selector: u32,
        label: usize,
        words: Vec<usize>,
        word_count: u32,
        caps: Vec<u32>,
        cap_count: u32,
    },
    Revoke(u32),
    RevokeCopies(u32),
    Drop(u32),
    Delegate {
        from: usize,
        selector: u32,
        to: usize,
    },
    TakeBack {
        from: usize,
        to: usize,
    },
    CreateSignal,
    Mint {
        selector: u32,
        badge: u8,
    },
    Submit(u32),
    Watch(u32),
    CreateChild {
        priority: u8,
    },
    CreateObject {
        thread: usize,
    },
    Destroy(usize),
    Reap(usize),
    /// A thread in any component (`None`: its own), at any priority; one
    /// it gets starts waiting for requests, as an entrypoint does.
    AddThread {
        component: Option<usize>,
        priority: u8,
    },
    /// A wait on a signal; one that blocks ends when an interrupt submits
    /// the signal.
    Wait(u32),
}

fn selector() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0u32..CAP_SLOTS as u32, 1 => any::<u32>()]
}

fn component() -> impl Strategy<Value = usize> {
    0usize..MAX_COMPONENTS + 2
}

fn attempt() -> impl Strategy<Value = Try> {
    prop_oneof![
        4 => (
            selector(),
            prop_oneof![0usize..12, (0usize..5).prop_map(demo_label), Just(ping_label()), any::<usize>()],
            proptest::collection::vec(any::<usize>(), 0..10),
            proptest::collection::vec(selector(), 0..=ferrode_ipc::MSG_CAPS),
            (any::<bool>(), 0u32..70, 0u32..7),
        )
            .prop_map(|(selector, label, words, caps, (honest, word_count, cap_count))| {
                // Mostly counts that match the request, sometimes any.
                let (word_count, cap_count) = if honest {
                    (words.len() as u32, caps.len() as u32)
                } else {
                    (word_count, cap_count)
                };
                Try::Call { selector, label, words, word_count, caps, cap_count }
            }),
        1 => selector().prop_map(Try::Revoke),
        1 => selector().prop_map(Try::RevokeCopies),
        1 => selector().prop_map(Try::Drop),
        2 => (component(), selector(), component())
            .prop_map(|(from, selector, to)| Try::Delegate { from, selector, to }),
        1 => (component(), component()).prop_map(|(from, to)| Try::TakeBack { from, to }),
        1 => Just(Try::CreateSignal),
        1 => (selector(), 0u8..=MAX_BADGE + 2).prop_map(|(selector, badge)| Try::Mint { selector, badge }),
        1 => selector().prop_map(Try::Submit),
        1 => selector().prop_map(Try::Watch),
        1 => (0u8..5).prop_map(|priority| Try::CreateChild { priority }),
        1 => (0usize..MAX_THREADS + 2).prop_map(|thread| Try::CreateObject { thread }),
        1 => component().prop_map(Try::Destroy),
        1 => (0usize..MAX_THREADS + 2).prop_map(Try::Reap),
        2 => (proptest::option::weighted(0.5, component()), 0u8..5)
            .prop_map(|(component, priority)| Try::AddThread { component, priority }),
        2 => prop_oneof![3 => 0u32..8, 1 => selector()].prop_map(Try::Wait),
    ]
}

/// The world of this test and who is who in it.
struct Scene {
    world: World,
    honest: (ComponentId, ThreadId),
    hostile: (ComponentId, ThreadId),
    /// The honest client's copy of the Demo capability.
    honest_demo: CapSel,
    /// Root's capability to the Counter object.
    counter: CapSel,
    /// The objects the hostile component was given.
    given_objects: [ObjectId; 2],
    /// The honest client's signal.
    signal: SignalId,
}

fn object_of(world: &World, component: ComponentId, selector: CapSel) -> ObjectId {
    match world.entry(component, selector) {
        CapEntry::Object { object, .. } => object,
        other => panic!("no object: {other:?}"),
    }
}

impl Scene {
    fn new() -> Self {
        let mut world = World::new();
        let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
        let counter = world.manage(object::<dyn Counter, _>(CounterServer(0)));
        let honest = world.component_with_thread("honest", Quota::at_priority(2));
        let hostile = world.component_with_thread(
            "hostile",
            Quota { components: 2, threads: 3, ..Quota::at_priority(2) },
        );
        let honest_demo = world.state.delegate(world.root, demo, honest.0).unwrap();
        world.state.delegate(world.root, demo, hostile.0).unwrap();
        world.state.delegate(world.root, counter, hostile.0).unwrap();
        // The honest client's signal, and a copy the root hands on.
        world.act_as(honest.1);
        let (signal, own) = world.state.create_signal().unwrap();
        world.act_as(world.main);
        let hers = world.state.delegate(honest.0, own, world.root).unwrap();
        world.state.delegate(world.root, hers, hostile.0).unwrap();
        let given_objects =
            [object_of(&world, world.root, demo), object_of(&world, world.root, counter)];
        Scene { world, honest, hostile, honest_demo, counter, given_objects, signal }
    }

    /// The hostile component tries `attempt`; whatever the kernel says,
    /// it goes on as the running thread.
    fn attempt(&mut self, attempt: &Try) -> Result<(), TestCaseError> {
        let (_, thread) = self.hostile;
        let world = &mut self.world;
        world.act_as(thread);
        let id = |n: usize| ComponentId::from_index(n);
        match attempt {
            Try::Call { selector, label, words, word_count, caps, cap_count } => {
                {
                    let utcb = world.current_utcb();
                    utcb.label = *label;
                    utcb.word_count = *word_count;
                    utcb.words[..words.len()].copy_from_slice(words);
                    utcb.cap_count = *cap_count;
                    for (slot, cap) in utcb.caps.iter_mut().zip(caps) {
                        *slot = CapSel(*cap);
                    }
                }
                // Capabilities a reply carried stay in the hostile
                // component's space, as a client's would.
                let _ = Transport::call(world, CapSel(*selector));
            }
            Try::Revoke(selector) => {
                let _ = world.state.revoke(CapSel(*selector));
            }
            Try::RevokeCopies(selector) => {
                let _ = world.state.revoke_copies(CapSel(*selector));
            }
            Try::Drop(selector) => {
                let _ = world.state.drop_capability(CapSel(*selector));
            }
            Try::Delegate { from, selector, to } => {
                let _ = world.state.delegate(id(*from), CapSel(*selector), id(*to));
            }
            Try::TakeBack { from, to } => {
                let _ = world.state.take_back(id(*from), id(*to));
            }
            Try::CreateSignal => {
                let _ = world.state.create_signal();
            }
            Try::Mint { selector, badge } => {
                let _ = world.state.mint_signal(CapSel(*selector), *badge);
            }
            Try::Submit(selector) => {
                let _ = world.state.submit(CapSel(*selector));
            }
            Try::Watch(selector) => {
                let _ = world.state.watch_submitters(CapSel(*selector));
            }
            Try::CreateChild { priority } => {
                let _ = world.state.create_component("child", Quota::at_priority(*priority));
            }
            Try::CreateObject { thread } => {
                let (object, window) = object::<dyn Counter, _>(CounterServer(0));
                let _ = world.state.create_object(ThreadId::from_index(*thread), object, window);
            }
            Try::Destroy(component) => {
                let _ = world.state.destroy_component(id(*component));
            }
            Try::Reap(thread) => {
                let _ = world.state.reap(ThreadId::from_index(*thread));
            }
            Try::AddThread { component, priority } => {
                let component = component.map_or(self.hostile.0, id);
                if let Ok(added) =
                    world.state.add_thread(component, "added", *priority, 0, utcb(), (0, 0), false)
                {
                    world.act_as(added);
                    world.state.reply_and_wait(false);
                }
            }
            Try::Wait(selector) => {
                let _ = world.state.wait_signal(CapSel(*selector));
                if world.state.threads[thread.index()].state == ThreadState::SignalWait {
                    // Only on a signal of its own, which an interrupt now
                    // submits.
                    let (me, _) = self.hostile;
                    let CapEntry::Signal { signal, .. } = world.entry(me, CapSel(*selector)) else {
                        return Err(TestCaseError::fail(format!("waits on {selector}, no signal")));
                    };
                    let owner = world.state.signal_owner_for_tests(signal).map(|(owner, _)| owner);
                    prop_assert_eq!(owner, Some(me), "waits on another's signal");
                    world.state.submit_signal(signal, 0);
                }
            }
        }
        Ok(())
    }

    /// What the hostile component holds is what it was given or made.
    fn check_hostile_space(&self) -> Result<(), TestCaseError> {
        let state = &self.world.state;
        let (me, _) = self.hostile;
        for (slot, entry) in state.caps[me.index()].slots.iter().enumerate() {
            match *entry {
                CapEntry::Object { object, generation } => {
                    let o = &state.objects[object.index()];
                    if !o.live || o.generation != generation {
                        continue;
                    }
                    prop_assert!(
                        self.given_objects.contains(&object) || state.within(o.owner, me),
                        "slot {}: an object of {:?} nobody gave it",
                        slot,
                        state.names[o.owner.index()]
                    );
                }
                CapEntry::Signal { signal, wait, badge, generation } => {
                    let Some((owner, live)) = state.signal_owner_for_tests(signal) else {
                        continue;
                    };
                    if live != generation {
                        continue;
                    }
                    if owner == me {
                        continue;
                    }
                    prop_assert!(!wait, "slot {}: a wait right on another's signal", slot);
                    prop_assert!(
                        signal == self.signal && badge == 0 || state.within(owner, me),
                        "slot {}: a copy of a signal nobody gave it (badge {})",
                        slot,
                        badge
                    );
                }
                CapEntry::Component { component, generation } => {
                    let c = &state.components[component.index()];
                    if !c.used || c.generation_for_tests() != generation {
                        continue;
                    }
                    prop_assert!(
                        component != me && state.within(component, me),
                        "slot {}: authority over {:?}",
                        slot,
                        state.names[component.index()]
                    );
                }
                CapEntry::Reply { .. } | CapEntry::Empty | CapEntry::Revoked => {}
            }
        }
        // Its children run no faster than it does.
        let priority = state.components[me.index()].quota.priority;
        for child in 0..MAX_COMPONENTS {
            let c = &state.components[child];
            if child != me.index() && c.used && state.within(ComponentId::from_index(child), me) {
                prop_assert!(
                    c.quota.priority <= priority,
                    "a child at priority {}",
                    c.quota.priority
                );
            }
        }
        // Its threads and its children's run no faster than it does.
        for t in state.threads.iter() {
            if t.state != ThreadState::Free && state.within(t.component, me) {
                prop_assert!(t.priority <= priority, "a thread at priority {}", t.priority);
            }
        }
        // No one waits on the honest client's signal but the honest client.
        if let Some(waiter) = state.signal_waiter_for_tests(self.signal) {
            prop_assert_eq!(state.threads[waiter.index()].component, self.honest.0);
        }
        // No one anywhere holds a wait right on a signal not its own.
        for component in 0..MAX_COMPONENTS {
            for entry in state.caps[component].slots.iter() {
                if let CapEntry::Signal { signal, wait: true, generation, .. } = *entry
                    && let Some((owner, live)) = state.signal_owner_for_tests(signal)
                    && live == generation
                {
                    prop_assert_eq!(owner.index(), component, "a wait right outside its owner");
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    /// Whatever the hostile component tries, it holds only what it was
    /// given and what it made (objects and signals of its own, authority
    /// over its own children), no wait right leaves a signal's owner, the
    /// root's and the honest client's spaces are untouched, and the
    /// services go on, also after it ends itself: the honest client's
    /// Demo adds, the root's Counter counts on from where the hostile
    /// component's calls left it.
    #[test]
    fn a_hostile_component_gains_no_authority_and_harms_no_one(
        attempts in proptest::collection::vec(attempt(), 1..40),
        exits in any::<bool>(),
    ) {
        let mut scene = Scene::new();
        let (honest, honest_thread) = scene.honest;
        let root = scene.world.root;
        let snapshot = |world: &World, component: ComponentId| -> Vec<CapEntry> {
            world.state.caps[component.index()].slots.to_vec()
        };
        let (root_before, honest_before) =
            (snapshot(&scene.world, root), snapshot(&scene.world, honest));
        // Everyone else's threads.
        let hostile = scene.hostile.0;
        let others = move |world: &World| -> Vec<ThreadId> {
            (0..MAX_THREADS)
                .map(ThreadId::from_index)
                .filter(|&t| {
                    let t = &world.state.threads[t.index()];
                    t.state != ThreadState::Free && !world.state.within(t.component, hostile)
                })
                .collect()
        };
        let others_before = others(&scene.world);
        for attempt in &attempts {
            scene.attempt(attempt)?;
            scene.check_hostile_space()?;
            prop_assert_eq!(&snapshot(&scene.world, root), &root_before, "root's space");
            prop_assert_eq!(&snapshot(&scene.world, honest), &honest_before, "the honest space");
            prop_assert_eq!(&others(&scene.world), &others_before, "the others' threads");
        }
        if exits {
            // It ends itself with whatever it holds and made: the others
            // go on as before.
            scene.world.act_as(scene.hostile.1);
            prop_assert!(scene.world.state.exit_component().is_ok());
            prop_assert_eq!(&snapshot(&scene.world, root), &root_before, "root's space");
            prop_assert_eq!(&snapshot(&scene.world, honest), &honest_before, "the honest space");
        }
        scene.world.act_as(honest_thread);
        let demo = scene.honest_demo;
        prop_assert_eq!(client(&mut scene.world, demo).add(2, 2), Ok(4));
        scene.world.act_as(scene.world.main);
        let counter = Capability::<dyn Counter>::from_selector(scene.counter);
        let first = ferrode_ipc::Client::new(&mut scene.world, counter).bump();
        let second = ferrode_ipc::Client::new(&mut scene.world, counter).bump();
        prop_assert!(matches!((first, second), (Ok(a), Ok(b)) if b == a + 1), "{:?} {:?}", first, second);
        // The honest client may still wait on its signal: its own.
        let (owner, _) = scene.world.state.signal_owner_for_tests(scene.signal).unwrap();
        prop_assert_eq!(owner, honest);
    }
}
