//! A hostile server against its client: whatever a server does with the
//! requests it gets (replies that are malformed, carry capabilities or
//! kernel error codes, deferred replies answered late, twice, with a
//! capability kept from an earlier call, handed on or dropped, waits that
//! leave a request unanswered, its entrypoint's end), its honest client
//! gets exactly one answer per call, at the moment a model of the kernel's
//! contract says it is owed, and nothing else: its UTCB is not written
//! between calls, a reply brings no more capabilities than the method's
//! reply window and no wait right on another's signal, and its space
//! holds nothing more once it drops what replies brought. While a call is
//! open, someone can answer it: the entrypoint holds it, it is queued
//! there, or a deferred reply capability for it exists. When its parent
//! ends the hostile server, an open call ends with `ServerDead`.
//!
//! The world: root (the main thread), the honest server of every kernel
//! test (a Demo object, which the hostile server was given, as it was a
//! submit-only copy of the honest client's signal), the honest client
//! `honest` with a capability to the hostile server's Demo object, and the
//! hostile server: its entrypoint `ep`, which serves that object by hand,
//! and a second thread `main`, which answers deferred replies and drops
//! or hands on what it holds. All three threads run at priority 2.
//!
//! A reply capability whose call ended another way than through it (its
//! caller's thread ended and the slot went to a new thread) cannot arise
//! here: the client lives on. `lifecycle.rs` tests that one.

use proptest::prelude::*;

use super::*;
use crate::CAP_SLOTS;

/// A reply as the hostile server writes it: its tag word, counts that
/// need not match what it wrote, capabilities by selector, an error code.
#[derive(Clone, Debug)]
struct Reply {
    tag: usize,
    words: Vec<usize>,
    word_count: u32,
    caps: Vec<u32>,
    cap_count: u32,
    error: u32,
}

/// One step of the scene.
#[derive(Clone, Debug)]
enum Step {
    /// The honest client calls the hostile object (when it has no call
    /// open) with a well-formed request without capabilities.
    Call { label: usize, words: Vec<usize> },
    /// The entrypoint replies to what it holds (or only waits, `None`:
    /// a held request then fails) and waits for the next request.
    ReplyAndWait(Option<Reply>),
    /// The entrypoint keeps the reply to what it holds for later.
    Defer,
    /// `main` answers through a reply capability (or whatever the
    /// selector names).
    ReplyDeferred { selector: Pick, reply: Reply },
    /// `main` drops a capability.
    Drop(Pick),
    /// `main` tries to hand a capability on: to root, to the honest
    /// client's component (only a reply capability is tried there, which
    /// must fail), or to itself.
    Delegate { selector: Pick, to: u8 },
    /// The entrypoint ends (once, at a step the test picks).
    EpExit,
}

/// A selector of the hostile server's: the reply capability it got last
/// (answered or not), or any.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Latest,
    Any(u32),
}

fn selector() -> impl Strategy<Value = u32> {
    prop_oneof![6 => 0u32..6, 1 => 0u32..CAP_SLOTS as u32, 1 => any::<u32>()]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![3 => Just(Pick::Latest), 1 => selector().prop_map(Pick::Any)]
}

fn reply() -> impl Strategy<Value = Reply> {
    (
        prop_oneof![4 => Just(0usize), 1 => Just(1usize), 1 => any::<usize>()],
        proptest::collection::vec(any::<usize>(), 0..6),
        prop_oneof![
            2 => Just(Vec::new()),
            2 => selector().prop_map(|selector| vec![selector]),
            1 => proptest::collection::vec(selector(), 2..=ferrode_ipc::MSG_CAPS),
        ],
        (proptest::bool::weighted(0.8), 0u32..70, 0u32..7),
        prop_oneof![6 => Just(0u32), 1 => 1u32..16, 1 => any::<u32>()],
    )
        .prop_map(|(tag, words, caps, (honest, word_count, cap_count), error)| {
            // Mostly counts that match the reply (tag and nonce first),
            // sometimes any.
            let (word_count, cap_count) = if honest {
                (2 + words.len() as u32, caps.len() as u32)
            } else {
                (word_count, cap_count)
            };
            Reply { tag, words, word_count, caps, cap_count, error }
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (
            prop_oneof![
                2 => Just(demo_label(2)),
                2 => (0usize..5).prop_map(demo_label),
                1 => Just(ping_label()),
                1 => any::<usize>(),
            ],
            proptest::collection::vec(any::<usize>(), 0..4),
        )
            .prop_map(|(label, words)| Step::Call { label, words }),
        4 => proptest::option::weighted(0.85, reply()).prop_map(Step::ReplyAndWait),
        2 => Just(Step::Defer),
        3 => (pick(), reply()).prop_map(|(selector, reply)| Step::ReplyDeferred { selector, reply }),
        1 => pick().prop_map(Step::Drop),
        1 => (pick(), 0u8..3).prop_map(|(selector, to)| Step::Delegate { selector, to }),
    ]
}

/// Where the honest client's open call is, as the kernel's contract says.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Open {
    /// No call open.
    None,
    /// Queued at the entrypoint, which holds no request.
    Queued,
    /// Held by the entrypoint.
    Held,
    /// Answerable only through the reply capability at this selector.
    Deferred(CapSel),
}

/// The UTCB's fields, to compare.
type UtcbView = (usize, usize, u32, u32, u32, u32, Vec<usize>, Vec<u32>);

fn view(utcb: &Utcb) -> UtcbView {
    (
        utcb.label,
        utcb.badge,
        utcb.word_count,
        utcb.cap_count,
        utcb.error,
        utcb.fresh,
        utcb.words.to_vec(),
        utcb.caps.iter().map(|c| c.0).collect(),
    )
}

struct Scene {
    world: World,
    honest: (ComponentId, ThreadId),
    hostile: ComponentId,
    ep: ThreadId,
    main: ThreadId,
    /// The honest client's capability to the hostile object.
    target: CapSel,
    /// The honest client's signal.
    signal: crate::ids::SignalId,
    open: Open,
    /// The label of the open call.
    label: usize,
    /// Whether the entrypoint ended.
    ep_dead: bool,
    /// The reply capability the entrypoint got last.
    latest: CapSel,
}

impl Scene {
    fn new() -> Self {
        let mut world = World::new();
        let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
        let honest = world.component_with_thread("honest", Quota::at_priority(2));
        let (hostile, ep) = world.component_with_thread("hostile", Quota::at_priority(2));
        let main = world.state.add_thread(hostile, "main", 2, 0, utcb(), (0, 0), false).unwrap();
        // The hostile server's object, served by `ep` by hand (its
        // dispatch never runs: only its receive windows count).
        let (object, window) = object::<dyn Demo, _>(DemoServer::default());
        let (_, mine) = world.state.create_object(ep, object, window).unwrap();
        let target = world.state.delegate(world.root, mine, honest.0).unwrap();
        world.state.delegate(world.root, mine, hostile).unwrap();
        world.state.delegate(world.root, demo, hostile).unwrap();
        // The honest client's signal; the hostile server gets a copy.
        world.act_as(honest.1);
        let (signal, own) = world.state.create_signal().unwrap();
        world.act_as(world.main);
        let hers = world.state.delegate(honest.0, own, world.root).unwrap();
        world.state.delegate(world.root, hers, hostile).unwrap();
        // The hostile server's own signal, to send too.
        world.act_as(main);
        world.state.create_signal().unwrap();
        // Its entrypoint starts waiting.
        world.act_as(ep);
        world.state.reply_and_wait(false);
        assert_eq!(world.state.threads[ep.index()].state, ThreadState::Waiting);
        Scene {
            world,
            honest,
            hostile,
            ep,
            main,
            target,
            signal,
            open: Open::None,
            label: 0,
            ep_dead: false,
            latest: CapSel(0),
        }
    }

    fn resolve(&self, pick: Pick) -> CapSel {
        match pick {
            Pick::Latest => self.latest,
            Pick::Any(selector) => CapSel(selector),
        }
    }

    fn state_of(&self, thread: ThreadId) -> ThreadState {
        self.world.state.threads[thread.index()].state
    }

    /// Whether the entrypoint can act: alive and not blocked waiting.
    fn ep_runs(&self) -> bool {
        matches!(self.state_of(self.ep), ThreadState::Ready | ThreadState::Running)
    }

    fn write_reply(&mut self, reply: &Reply, nonce: usize) {
        let utcb = self.world.current_utcb();
        utcb.error = reply.error;
        utcb.words[0] = reply.tag;
        utcb.words[1] = nonce;
        utcb.words[2..2 + reply.words.len()].copy_from_slice(&reply.words);
        utcb.word_count = reply.word_count;
        utcb.cap_count = reply.cap_count;
        for (slot, cap) in utcb.caps.iter_mut().zip(&reply.caps) {
            *slot = CapSel(*cap);
        }
    }

    /// Takes `step`; returns whether the contract owes the honest client
    /// its answer by it, and the nonce of the hostile reply that answers
    /// (if a reply of the server's answers it).
    fn take(&mut self, step: &Step, nonce: usize) -> Result<(bool, Option<usize>), TestCaseError> {
        let (_, honest) = self.honest;
        match step {
            Step::Call { label, words } => {
                if self.open != Open::None {
                    return Ok((false, None));
                }
                self.world.act_as(honest);
                {
                    let utcb = self.world.current_utcb();
                    utcb.label = *label;
                    utcb.words[..words.len()].copy_from_slice(words);
                    utcb.word_count = words.len() as u32;
                    utcb.cap_count = 0;
                    utcb.error = 0;
                }
                let waiting = self.state_of(self.ep) == ThreadState::Waiting;
                let result = self.world.state.call(self.target);
                if self.ep_dead {
                    prop_assert_eq!(result, Err(TransportError::ServerDead));
                } else {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    self.open = if waiting { Open::Held } else { Open::Queued };
                    self.label = *label;
                }
                Ok((false, None))
            }
            Step::ReplyAndWait(reply) => {
                if !self.ep_runs() {
                    return Ok((false, None));
                }
                self.world.act_as(self.ep);
                if let Some(reply) = reply {
                    self.write_reply(reply, nonce);
                }
                self.world.state.reply_and_wait(reply.is_some());
                Ok(match self.open {
                    // Answered: by this reply, or failed (`ServerDead`) by
                    // a wait that leaves it unanswered.
                    Open::Held => {
                        self.open = Open::None;
                        (true, reply.as_ref().map(|_| nonce))
                    }
                    // The entrypoint takes the queued call.
                    Open::Queued => {
                        self.open = Open::Held;
                        (false, None)
                    }
                    _ => (false, None),
                })
            }
            Step::Defer => {
                if !self.ep_runs() {
                    return Ok((false, None));
                }
                self.world.act_as(self.ep);
                let result = self.world.state.defer_reply();
                if self.open == Open::Held {
                    let selector = result.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    self.open = Open::Deferred(selector);
                    self.latest = selector;
                } else {
                    prop_assert_eq!(result, Err(KernelError::NoReplyPending));
                }
                Ok((false, None))
            }
            Step::ReplyDeferred { selector, reply } => {
                let selector = self.resolve(*selector);
                self.world.act_as(self.main);
                self.write_reply(reply, nonce);
                let result = self.world.state.reply_deferred(selector);
                if self.open == Open::Deferred(selector) {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    self.open = Open::None;
                    Ok((true, Some(nonce)))
                } else {
                    // A reply capability of an answered call, or no reply
                    // capability at all.
                    prop_assert_eq!(result, Err(KernelError::InvalidCapability));
                    Ok((false, None))
                }
            }
            Step::Drop(selector) => {
                let selector = self.resolve(*selector);
                self.world.act_as(self.main);
                let _ = self.world.state.drop_capability(selector);
                if self.open == Open::Deferred(selector) {
                    // The call's only answer is gone: it fails.
                    self.open = Open::None;
                    return Ok((true, None));
                }
                Ok((false, None))
            }
            Step::Delegate { selector, to } => {
                let selector = self.resolve(*selector);
                self.world.act_as(self.main);
                let reply =
                    matches!(self.world.entry(self.hostile, selector), CapEntry::Reply { .. });
                let to = match to {
                    0 => self.world.root,
                    1 if reply => self.honest.0,
                    _ => self.hostile,
                };
                let result = self.world.state.delegate(self.hostile, selector, to);
                if reply {
                    prop_assert!(result.is_err(), "a reply capability handed on");
                }
                Ok((false, None))
            }
            Step::EpExit => {
                if !self.ep_runs() {
                    return Ok((false, None));
                }
                self.world.act_as(self.ep);
                self.world.state.exit_current();
                self.ep_dead = true;
                Ok(match self.open {
                    // Held or queued at a thread that ended: `ServerDead`.
                    Open::Held | Open::Queued => {
                        self.open = Open::None;
                        (true, None)
                    }
                    _ => (false, None),
                })
            }
        }
    }

    /// Checks the honest client's answer, then drops what it brought.
    fn check_answer(&mut self, by: Option<usize>) -> Result<(), TestCaseError> {
        let (_, honest) = self.honest;
        let utcb = self.world.utcb_of(honest).clone();
        let fresh: Vec<CapSel> = utcb.fresh_selectors().collect();
        if utcb.error == 0 {
            // Only a reply of the server's is an answer without an error
            // code; a well-formed one carries this step's nonce.
            let Some(nonce) = by else {
                return Err(TestCaseError::fail("an answer without error the server did not send"));
            };
            prop_assert!(utcb.word_count as usize <= ferrode_ipc::MSG_WORDS);
            prop_assert!(utcb.cap_count as usize <= ferrode_ipc::MSG_CAPS);
            if utcb.word_count >= 2 {
                prop_assert_eq!(utcb.words[1], nonce, "another reply's words");
            }
            // Capabilities only with success, and within the method's
            // reply window (one: `give`).
            let window = if utcb.is_ok_reply() && self.label == demo_label(2) { 1 } else { 0 };
            prop_assert!(fresh.len() <= window, "{} capabilities, window {}", fresh.len(), window);
        } else {
            prop_assert!(fresh.is_empty(), "capabilities with an error");
        }
        let state = &self.world.state;
        for &selector in &fresh {
            match state.caps[self.honest.0.index()].get(selector) {
                CapEntry::Signal { signal, wait: true, .. } => {
                    prop_assert_eq!(signal, self.signal, "a wait right on another's signal")
                }
                CapEntry::Reply { .. } | CapEntry::Empty | CapEntry::Revoked => {
                    return Err(TestCaseError::fail(format!("a fresh {selector:?} that is none")));
                }
                _ => {}
            }
        }
        self.world.act_as(honest);
        for selector in fresh {
            prop_assert!(self.world.state.drop_capability(selector).is_ok());
        }
        Ok(())
    }

    /// While the call is open, someone can still answer it.
    fn check_answerable(&self) -> Result<(), TestCaseError> {
        let (_, honest) = self.honest;
        let state = &self.world.state;
        match self.open {
            Open::None => {}
            Open::Queued => {
                prop_assert_eq!(self.state_of(honest), ThreadState::SendQueued);
                prop_assert!(!self.ep_dead);
            }
            Open::Held => {
                prop_assert_eq!(self.state_of(honest), ThreadState::AwaitingReply);
                prop_assert_eq!(state.threads[self.ep.index()].reply_to.get(), Some(honest));
            }
            Open::Deferred(selector) => {
                prop_assert_eq!(self.state_of(honest), ThreadState::AwaitingReply);
                // (That it is this call's, not an earlier one's, the reply
                // through it shows.)
                prop_assert!(
                    matches!(
                        self.world.entry(self.hostile, selector),
                        CapEntry::Reply { thread, .. } if thread == honest
                    ),
                    "no reply capability for the open call"
                );
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    /// Whatever the hostile server does with its client's calls, the
    /// client gets one answer per call exactly when the contract owes it
    /// (a well-formed reply of the server's with the words it sent), its
    /// UTCB is untouched between calls, replies bring capabilities only
    /// within the window and no wait right on another's signal, its space
    /// is as before once it drops them, an open call can always still be
    /// answered, and the server's end answers it.
    #[test]
    fn a_hostile_server_answers_each_call_once_and_no_more(
        steps in proptest::collection::vec(step(), 1..40),
        ep_exits_at in proptest::option::of(0usize..40),
    ) {
        let mut scene = Scene::new();
        let (honest, honest_thread) = scene.honest;
        let target = scene.target.0 as usize;
        let space = move |world: &World| -> Vec<CapEntry> {
            let mut slots = world.state.caps[honest.index()].slots.to_vec();
            // The capability to the hostile object goes stale when the
            // entrypoint ends, as it should.
            slots.remove(target);
            slots
        };
        let before = space(&scene.world);
        let mut utcb = view(scene.world.utcb_of(honest_thread));
        for (index, step) in steps.iter().enumerate() {
            // The entrypoint ends at one step, in half the cases.
            let step = if ep_exits_at == Some(index) { &Step::EpExit } else { step };
            let nonce = 0x6e00_0000 + index;
            let was_open = scene.open != Open::None;
            let (owed, by) = scene.take(step, nonce)?;
            let answered = was_open
                && !matches!(
                    scene.state_of(honest_thread),
                    ThreadState::SendQueued | ThreadState::AwaitingReply
                );
            prop_assert_eq!(answered, owed, "answered at {:?}", step);
            if answered {
                scene.check_answer(by)?;
            } else if scene.open == Open::None && !matches!(step, Step::Call { .. }) {
                prop_assert_eq!(&view(scene.world.utcb_of(honest_thread)), &utcb, "UTCB written between calls");
            }
            if scene.open == Open::None {
                utcb = view(scene.world.utcb_of(honest_thread));
            }
            scene.check_answerable()?;
            prop_assert_eq!(&space(&scene.world), &before, "the honest space");
        }
        // Its parent ends the hostile server: an open call fails.
        scene.world.act_as(scene.world.main);
        prop_assert!(scene.world.state.destroy_component(scene.hostile).is_ok());
        if scene.open != Open::None {
            prop_assert!(!matches!(
                scene.state_of(honest_thread),
                ThreadState::SendQueued | ThreadState::AwaitingReply
            ));
            prop_assert_eq!(scene.world.utcb_of(honest_thread).error, TransportError::ServerDead.code());
        }
        prop_assert_eq!(&space(&scene.world), &before, "the honest space");
    }
}
