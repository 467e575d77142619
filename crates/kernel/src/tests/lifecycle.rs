//! Host tests of how threads and components end: killing a thread in
//! every state it can be in, destroying a component, reaping, and what
//! each leaves behind for the others.
//!
//! One kind of mutation of this code no test can catch, as it changes no
//! behaviour: `kill_thread` without its `ThreadState::SignalWait` arm. A
//! thread waits only on a signal of its own component (only the owner's
//! capability carries the wait right), `kill_thread` runs only from
//! `destroy_one` for that component's threads, and `destroy_one` resets
//! every signal of the component right after, waiter included. Likewise
//! the `&&`s of `fail_deferred`'s condition with `||`: every reply
//! capability it is given stands for an open deferred call, because
//! `kill_thread` turns those of a killed caller into tombstones.

use super::*;
use crate::ids::ObjectId;

/// The current thread calls `selector` with a request of `label` (no
/// words, no capabilities).
fn call_with(
    world: &mut World,
    selector: CapSel,
    label: usize,
) -> Result<Option<Switch>, TransportError> {
    write_ping(world);
    world.current_utcb().label = label;
    world.state.call(selector)
}

/// The current thread pings `selector`.
fn call_ping(world: &mut World, selector: CapSel) -> Result<Option<Switch>, TransportError> {
    call_with(world, selector, ping_label())
}

fn state_of(world: &World, thread: ThreadId) -> ThreadState {
    world.state.threads[thread.index()].state
}

/// The caller `server` is serving, if any.
fn serving(world: &World, server: ThreadId) -> Option<ThreadId> {
    world.state.threads[server.index()].reply_to.get()
}

/// A component of its own (priority 2, created by root) with one thread,
/// and a copy of root's capability `demo`.
fn caller_component(
    world: &mut World,
    name: &'static str,
    demo: CapSel,
) -> (ComponentId, ThreadId, CapSel) {
    let (component, thread) = world.component_with_thread(name, Quota::at_priority(2));
    let held = world.state.delegate(world.root, demo, component).unwrap();
    (component, thread, held)
}

/// A thread of root at `priority`.
fn root_thread(world: &mut World, name: &'static str, priority: u8) -> ThreadId {
    world.state.add_thread(world.root, name, priority, 0, utcb(), (0, 0), false).unwrap()
}

/// A second server component (priority 3) whose entrypoint waits, serving
/// a counter object whose capability is root's.
fn second_server(world: &mut World) -> (ComponentId, ThreadId, ObjectId, CapSel) {
    let (component, _) = world.state.create_component("other", Quota::at_priority(3)).unwrap();
    let entrypoint =
        world.state.add_thread(component, "other-ep", 3, 0, utcb(), (0, 0), false).unwrap();
    assert_eq!(world.state.yield_if_outranked().map(|s| s.to), Some(entrypoint));
    assert_eq!(world.state.reply_and_wait(false).map(|s| s.to), Some(world.main));
    let (dispatch, window) = object::<dyn Counter, _>(CounterServer(0));
    let (object, selector) = world.state.create_object(entrypoint, dispatch, window).unwrap();
    (component, entrypoint, object, selector)
}

fn counter_label() -> usize {
    ferrode_ipc::label::<dyn Counter>(0)
}

// ----- reaping --------------------------------------------------------------

/// The boot thread's stack and UTCB are the image's (the linker script's
/// boot stack, the board's static UTCB), never given to the kernel by
/// `spawn`: a reap of it is refused and leaves its slot as it was, rather
/// than freeing the slot and then failing.
#[test]
fn the_boot_thread_is_never_reaped() {
    let mut world = World::new();
    let idle = ThreadId(1);
    assert_eq!(world.state.threads[idle.index()].component, world.root, "idle is root's");
    world.act_as(world.main);
    world.state.exit_current();
    assert_eq!(state_of(&world, world.main), ThreadState::Dead);
    // Root itself, which has authority over its own component, asks.
    world.act_as(idle);
    assert_eq!(world.state.reap(world.main), Err(KernelError::InvalidThread));
    assert_eq!(state_of(&world, world.main), ThreadState::Dead, "its slot is not freed");
    assert_eq!(world.state.components[world.root.index()].threads, 2, "still counted");
}

/// Catches `authorized_above` replaced with `Ok(())`.
#[test]
fn a_dead_thread_is_reaped_only_with_authority_over_its_component() {
    let mut world = World::new();
    let (doomed, thread) = world.component_with_thread("doomed", Quota::at_priority(2));
    let (_, outsider) = world.component_with_thread("outsider", Quota::at_priority(2));
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(state_of(&world, thread), ThreadState::Dead);
    // A component holding no capability to `doomed`, nor to any component
    // above it, may not take its thread's stack and UTCB.
    world.act_as(outsider);
    assert_eq!(world.state.reap(thread), Err(KernelError::NoAuthority));
    assert_eq!(state_of(&world, thread), ThreadState::Dead, "still waiting to be reaped");
    assert!(world.state.components[doomed.index()].used, "and its component with it");
    // Its creator may.
    world.act_as(world.main);
    assert!(world.state.reap(thread).is_ok());
    assert_eq!(state_of(&world, thread), ThreadState::Free);
    assert!(!world.state.components[doomed.index()].used);
}

#[test]
fn authority_over_an_ancestor_reaps_the_threads_below_it() {
    let mut world = World::new();
    let (parent, thread) = world.component_with_thread(
        "parent",
        Quota { components: 1, threads: 2, ..Quota::at_priority(2) },
    );
    let (_, outsider) = world.component_with_thread("outsider", Quota::at_priority(2));
    world.act_as(thread);
    let (child, _) = world.state.create_component("child", Quota::at_priority(2)).unwrap();
    let worker = world.state.add_thread(child, "worker", 2, 0, utcb(), (0, 0), false).unwrap();
    world.act_as(world.main);
    world.state.destroy_component(parent).unwrap();
    assert_eq!(state_of(&world, worker), ThreadState::Dead);
    // Root holds a capability to the parent only, not to the child...
    assert_eq!(world.state.authorized(child), Err(KernelError::NoAuthority));
    // ...and someone with neither reaps nothing.
    world.act_as(outsider);
    assert_eq!(world.state.reap(worker), Err(KernelError::NoAuthority));
    // Authority over the parent reaches the child's threads.
    world.act_as(world.main);
    assert!(world.state.reap(worker).is_ok());
    assert!(world.state.reap(thread).is_ok());
    assert!(!world.state.components[child.index()].used);
    assert!(!world.state.components[parent.index()].used);
}

// ----- destroying a component ------------------------------------------------

/// Catches, in `destroy_one`, `t.component == component && !matches!(..)`
/// with `||` or `!=`; in `kill_thread`, the `ThreadState::Ready` arm
/// deleted (the killed thread would stay in the ready queue and run).
#[test]
fn destroying_a_component_stops_its_threads_and_no_others() {
    let mut world = World::new();
    let (doomed, ready) = world.component_with_thread("doomed", Quota::at_priority(2));
    let bystander = root_thread(&mut world, "bystander", 2);
    // The ready queue at priority 2: the doomed thread, then the bystander.
    assert_eq!(world.state.destroy_component(doomed).unwrap(), None);
    assert_eq!(state_of(&world, ready), ThreadState::Dead);
    // Others' threads are as they were: the actor runs, the bystander is
    // ready, the server waits.
    assert_eq!(world.state.current, world.main);
    assert_eq!(state_of(&world, world.main), ThreadState::Running);
    assert_eq!(state_of(&world, bystander), ThreadState::Ready);
    assert_eq!(state_of(&world, world.entrypoint), ThreadState::Waiting);
    // The killed thread left the ready queue: it never runs again.
    assert_eq!(world.state.yield_now(), Some(Switch { from: world.main, to: bystander }));
    assert_eq!(world.state.yield_now(), Some(Switch { from: bystander, to: world.main }));
    assert_eq!(world.state.yield_now(), Some(Switch { from: world.main, to: bystander }));
    assert_eq!(state_of(&world, ready), ThreadState::Dead);
}

/// Catches, in `destroy_one`, `o.live && o.owner == component` with `||`
/// or `!=`.
#[test]
fn destroying_a_component_dissolves_its_objects_and_no_others() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (doomed, _, counter_object, counter) = second_server(&mut world);
    world.state.destroy_component(doomed).unwrap();
    assert!(!world.state.objects[counter_object.index()].live);
    assert_eq!(
        ferrode_ipc::Client::<dyn Counter, _>::new(&mut world, Capability::from_selector(counter))
            .bump(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
    // Another component's object is untouched.
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

/// Catches the reset of a destroyed component's signal losing
/// `generation: signal.generation.wrapping_add(1)` (the slot's next
/// signal would come back at generation 0, which the old copy holds).
#[test]
fn a_copy_of_a_destroyed_components_signal_does_not_reach_the_next_signal_in_its_slot() {
    let mut world = World::new();
    let (doomed, thread) = world.component_with_thread("doomed", Quota::at_priority(2));
    world.act_as(thread);
    let (signal, own) = world.state.create_signal().unwrap();
    world.act_as(world.main);
    let copy = world.state.delegate(doomed, own, world.root).unwrap();
    assert!(world.state.submit(copy).is_ok(), "the copy works while its signal lives");
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(world.state.submit(copy), Err(TransportError::InvalidCapability));
    // The signal slot serves root's next signal.
    let (reused, fresh) = world.state.create_signal().unwrap();
    assert_eq!(reused, signal, "the signal slot is reused");
    assert_eq!(world.state.submit(copy), Err(TransportError::InvalidCapability));
    // Nothing was counted on the new signal: waiting blocks.
    let switch = world.state.wait_signal(fresh).unwrap();
    assert!(switch.is_some());
    assert_eq!(state_of(&world, world.main), ThreadState::SignalWait);
}

// ----- killing a thread in each state ---------------------------------------

/// Catches, in `kill_thread`, the `ThreadState::AwaitingReply` arm
/// deleted and its `t.reply_to.get() == Some(thread)` with `!=` (the
/// server would still serve the dead caller).
#[test]
fn killing_a_caller_awaiting_its_reply_frees_its_server() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (doomed, caller, held) = caller_component(&mut world, "doomed", demo);
    world.act_as(caller);
    call_ping(&mut world, held).unwrap();
    assert_eq!(serving(&world, world.entrypoint), Some(caller));
    // Root destroys the caller's component while the server serves it;
    // the server outranks root and runs.
    world.act_as(world.main);
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(state_of(&world, caller), ThreadState::Dead);
    assert_eq!(world.state.current, world.entrypoint);
    assert_eq!(serving(&world, world.entrypoint), None, "the server serves no one");
    // It has no reply to defer; its reply goes nowhere and it waits.
    assert_eq!(world.state.defer_reply(), Err(KernelError::NoReplyPending));
    world.state.reply_and_wait(true);
    assert_eq!(state_of(&world, world.entrypoint), ThreadState::Waiting);
    assert_eq!(state_of(&world, caller), ThreadState::Dead);
    // The dead caller's slot, reaped and reused, is served afresh.
    assert_eq!(world.state.current, world.main);
    world.state.reap(caller).unwrap();
    let next = root_thread(&mut world, "next", 2);
    assert_eq!(next, caller, "the thread slot is reused");
    world.act_as(next);
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

/// Catches, in `kill_thread`, `t.reply_to.get() == Some(thread)` with
/// `!=` (every other server would forget its caller).
#[test]
fn killing_a_caller_awaiting_its_reply_leaves_other_calls_in_service() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (_, other, _, counter) = second_server(&mut world);
    let (doomed, caller, held) = caller_component(&mut world, "doomed", demo);
    let second = root_thread(&mut world, "second", 2);
    // Two calls in service at once: second's at the other server, the
    // doomed caller's at the demo server.
    world.act_as(second);
    call_with(&mut world, counter, counter_label()).unwrap();
    assert_eq!(serving(&world, other), Some(second));
    world.act_as(caller);
    call_ping(&mut world, held).unwrap();
    assert_eq!(serving(&world, world.entrypoint), Some(caller));
    world.act_as(world.main);
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(serving(&world, world.entrypoint), None);
    assert_eq!(serving(&world, other), Some(second), "the other call is still served");
    // And its reply arrives.
    world.act_as(other);
    write_ok_reply(&mut world, 5);
    world.state.reply_and_wait(true);
    assert_eq!(state_of(&world, other), ThreadState::Waiting);
    assert_ne!(state_of(&world, second), ThreadState::AwaitingReply);
    assert_eq!(world.utcb_of(second).error, 0);
    assert_eq!(world.utcb_of(second).words[..2], [0, 5]);
}

/// Catches, in `kill_thread`, `signal.waiter == Some(thread)` with `!=`
/// (every other signal would lose its waiter). Deleting the `SignalWait`
/// arm itself changes nothing (see the module's notes).
#[test]
fn killing_a_signal_waiter_leaves_other_waiters_waiting() {
    let mut world = World::new();
    let listener = root_thread(&mut world, "listener", 2);
    let (doomed, waiter) = world.component_with_thread("doomed", Quota::at_priority(2));
    // Root's signal, which the listener waits on.
    let (_, own) = world.state.create_signal().unwrap();
    world.act_as(listener);
    assert!(world.state.wait_signal(own).unwrap().is_some());
    // The doomed component's signal, which its thread waits on.
    world.act_as(waiter);
    let (doomed_signal, theirs) = world.state.create_signal().unwrap();
    assert!(world.state.wait_signal(theirs).unwrap().is_some());
    world.act_as(world.main);
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(state_of(&world, waiter), ThreadState::Dead);
    assert_eq!(state_of(&world, listener), ThreadState::SignalWait);
    // A submission of root's signal still wakes its waiter.
    world.state.submit(own).unwrap();
    assert_eq!(state_of(&world, listener), ThreadState::Ready);
    assert_eq!(world.state.threads[listener.index()].signal_count, 1);
    // The dead waiter's signal slot serves a new signal, which a new
    // waiter may wait on and a submission wakes; the dead stays dead.
    let (reused, fresh) = world.state.create_signal().unwrap();
    assert_eq!(reused, doomed_signal, "the signal slot is reused");
    world.act_as(listener);
    assert!(world.state.wait_signal(fresh).unwrap().is_some());
    world.act_as(world.main);
    world.state.submit(fresh).unwrap();
    assert_eq!(state_of(&world, listener), ThreadState::Ready);
    assert_eq!(state_of(&world, waiter), ThreadState::Dead);
}

// ----- send queues ------------------------------------------------------------

/// Makes `thread` current and has it ping `selector` while the server is
/// busy: it queues.
fn queue(world: &mut World, thread: ThreadId, selector: CapSel) {
    world.act_as(thread);
    call_ping(world, selector).unwrap();
    assert_eq!(state_of(world, thread), ThreadState::SendQueued);
}

/// The demo server (serving a request) replies to it and to every queued
/// one in turn (echoing the request: nothing is dispatched); the callers
/// it took from its queue, in order.
fn served_in_order(world: &mut World) -> Vec<ThreadId> {
    world.act_as(world.entrypoint);
    let mut order = Vec::new();
    for _ in 0..crate::state::MAX_THREADS {
        world.state.reply_and_wait(true);
        match serving(world, world.entrypoint) {
            Some(caller) => order.push(caller),
            None => break,
        }
    }
    assert_eq!(state_of(world, world.entrypoint), ThreadState::Waiting);
    order
}

/// Catches `push_sendq`'s `<` with `<=` (equal priorities would be served
/// last come, first served).
#[test]
fn queued_callers_are_served_by_priority_then_in_arrival_order() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let low = root_thread(&mut world, "low", 1);
    let a = root_thread(&mut world, "a", 2);
    let later_low = root_thread(&mut world, "later-low", 1);
    let b = root_thread(&mut world, "b", 2);
    // main's request is being served; the others queue in this order.
    call_ping(&mut world, demo).unwrap();
    for thread in [low, a, later_low, b] {
        queue(&mut world, thread, demo);
    }
    assert_eq!(served_in_order(&mut world), [a, b, low, later_low]);
}

/// Catches `remove_from_sendq` replaced with `()` and its `t == caller`
/// with `!=`, and `kill_thread`'s `ThreadState::SendQueued` arm deleted:
/// a killed queued caller, first, in the middle or last, leaves the
/// queue, and the others are served in their order.
#[test]
fn a_killed_queued_caller_leaves_the_send_queue_wherever_it_was() {
    for position in 0..3 {
        let mut world = World::new();
        let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
        let (doomed, victim, held) = caller_component(&mut world, "doomed", demo);
        let first = root_thread(&mut world, "first", 2);
        let a = root_thread(&mut world, "a", 2);
        let b = root_thread(&mut world, "b", 2);
        // first's request is being served; a, b and the victim (at
        // `position`) queue, all at one priority.
        world.act_as(first);
        call_ping(&mut world, demo).unwrap();
        let mut arrivals = std::vec![(a, demo), (b, demo)];
        arrivals.insert(position, (victim, held));
        for (thread, selector) in arrivals {
            queue(&mut world, thread, selector);
        }
        world.act_as(world.main);
        world.state.destroy_component(doomed).unwrap();
        assert_eq!(state_of(&world, victim), ThreadState::Dead, "position {position}");
        assert_eq!(served_in_order(&mut world), [a, b], "victim at position {position}");
        assert_eq!(state_of(&world, victim), ThreadState::Dead, "position {position}");
    }
}

/// Catches `would_deadlock`'s `ThreadState::SendQueued` arm deleted: the
/// cycle goes through a server queued at a busy one.
#[test]
fn a_cycle_through_a_queued_caller_is_refused_as_deadlock() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (other_component, other, _, counter) = second_server(&mut world);
    let counter_in_server =
        world.state.delegate(world.root, counter, world.server_component).unwrap();
    let demo_in_other = world.state.delegate(world.root, demo, other_component).unwrap();
    let second = root_thread(&mut world, "second", 2);
    // second's call keeps the other server busy.
    world.act_as(second);
    call_with(&mut world, counter, counter_label()).unwrap();
    assert_eq!(serving(&world, other), Some(second));
    // main calls the demo server, which calls the busy other server and
    // queues there; the other server runs.
    world.act_as(world.main);
    call_ping(&mut world, demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    call_with(&mut world, counter_in_server, counter_label()).unwrap();
    assert_eq!(state_of(&world, world.entrypoint), ThreadState::SendQueued);
    assert_eq!(world.state.current, other);
    // The other server calls the demo server, which waits for it: a cycle.
    assert_eq!(call_ping(&mut world, demo_in_other), Err(TransportError::Deadlock));
    assert_eq!(state_of(&world, other), ThreadState::Running);
}

// ----- threads that end ---------------------------------------------------------

/// Catches, in `end_thread`, `o.live && o.entrypoint == thread` with `||`
/// or `!=`.
#[test]
fn a_thread_that_exits_dissolves_the_objects_it_served_and_no_others() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    // A second entrypoint in the server component, with an object of its
    // own.
    let second_ep =
        world.state.add_thread(world.server_component, "ep2", 3, 0, utcb(), (0, 0), false).unwrap();
    let (dispatch, window) = object::<dyn Counter, _>(CounterServer(0));
    let (counter_object, counter) = world.state.create_object(second_ep, dispatch, window).unwrap();
    world.act_as(second_ep);
    world.state.exit_current();
    assert_eq!(state_of(&world, second_ep), ThreadState::Dead);
    assert_eq!(world.state.current, world.main);
    // Its object is dissolved...
    assert!(!world.state.objects[counter_object.index()].live);
    assert_eq!(world.state.revoke(counter), Err(KernelError::InvalidCapability));
    // ...the other entrypoint's is not.
    assert_eq!(client(&mut world, demo).ping(), Ok(1));
}

// ----- deferred replies ----------------------------------------------------------

/// main pings `demo` and the server defers the reply: the reply
/// capability (in the server's space) is returned; the server is current.
fn deferred_call(world: &mut World, demo: CapSel) -> CapSel {
    call_ping(world, demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    world.state.defer_reply().unwrap()
}

/// Catches `fail_deferred` replaced with `()` and its `t.state ==
/// ThreadState::AwaitingReply` or `t.reply_seq == seq` with `!=`.
#[test]
fn a_caller_whose_reply_capabilitys_holder_is_destroyed_fails() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let second = root_thread(&mut world, "second", 2);
    deferred_call(&mut world, demo);
    // The server waits again; main still awaits its reply.
    world.state.reply_and_wait(true);
    assert_eq!(state_of(&world, world.main), ThreadState::AwaitingReply);
    // Root's second thread destroys the server component: the reply
    // capability is gone with its space, and main learns so.
    world.act_as(second);
    world.state.destroy_component(world.server_component).unwrap();
    assert_eq!(state_of(&world, world.main), ThreadState::Ready);
    let utcb = world.utcb_of(world.main);
    assert_eq!(utcb.error, TransportError::ServerDead.code());
    assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
}

/// As above, the capability dropped by its holder.
#[test]
fn a_caller_whose_reply_capability_is_dropped_fails() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let reply = deferred_call(&mut world, demo);
    world.state.drop_capability(reply).unwrap();
    assert_eq!(state_of(&world, world.main), ThreadState::Ready);
    assert_eq!(world.utcb_of(world.main).error, TransportError::ServerDead.code());
}

/// A stale reply capability: a caller of a component of its own calls
/// `demo` and the server defers the reply (the capability stays in the
/// server's space, a tombstone once the caller is killed); the caller's
/// component is destroyed, its thread reaped, and a new thread of root
/// takes the slot. Returns the capability and the new thread; main runs.
fn stale_reply_capability(world: &mut World, demo: CapSel) -> (CapSel, ThreadId) {
    let (doomed, caller, held) = caller_component(world, "doomed", demo);
    world.act_as(caller);
    call_ping(world, held).unwrap();
    let stale = world.state.defer_reply().unwrap();
    world.state.reply_and_wait(true);
    world.act_as(world.main);
    world.state.destroy_component(doomed).unwrap();
    assert_eq!(world.entry(world.server_component, stale), CapEntry::Revoked);
    world.state.reap(caller).unwrap();
    let next = root_thread(world, "next", 2);
    assert_eq!(next, caller, "the thread slot is reused");
    (stale, next)
}

/// Dropping the stale capability (a tombstone) fails no call of the
/// thread that reuses its caller's slot.
#[test]
fn dropping_a_stale_reply_capability_leaves_the_next_thread_in_its_slot_alone() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (stale, next) = stale_reply_capability(&mut world, demo);
    world.act_as(next);
    call_ping(&mut world, demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    // The server drops the old capability while it serves the new call.
    world.state.drop_capability(stale).unwrap();
    assert_eq!(state_of(&world, next), ThreadState::AwaitingReply);
    assert_eq!(serving(&world, world.entrypoint), Some(next));
    world.run_servers_until(next);
    assert_eq!(world.utcb_of(next).error, 0);
    assert_eq!(world.utcb_of(next).words[..2], [0, 1]);
}

/// As above, the new thread's call deferred too.
#[test]
fn dropping_a_stale_reply_capability_leaves_a_newer_deferred_call_alone() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (stale, next) = stale_reply_capability(&mut world, demo);
    world.act_as(next);
    call_ping(&mut world, demo).unwrap();
    let fresh = world.state.defer_reply().unwrap();
    world.state.drop_capability(stale).unwrap();
    assert_eq!(state_of(&world, next), ThreadState::AwaitingReply);
    write_ok_reply(&mut world, 7);
    world.state.reply_deferred(fresh).unwrap();
    assert_eq!(world.utcb_of(next).error, 0);
    assert_eq!(world.utcb_of(next).words[..2], [0, 7]);
}

/// A thread slot's reply sequence wraps after four billion deferrals: a
/// reply capability to a caller that was killed meanwhile must not come to
/// answer whatever deferred call of the slot's next thread then carries
/// its number. Here the dead caller's server (`demo`'s) would forge the
/// reply to a call the next thread made to another server.
#[test]
fn a_stale_reply_capability_answers_nothing_after_its_sequence_wraps() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let (_, other_ep, _, counter) = second_server(&mut world);
    let (doomed, caller, held) = caller_component(&mut world, "doomed", demo);
    world.act_as(caller);
    call_ping(&mut world, held).unwrap();
    let stale = world.state.defer_reply().unwrap();
    let CapEntry::Reply { seq, .. } = world.entry(world.server_component, stale) else {
        panic!("not a reply capability")
    };
    world.state.reply_and_wait(true);
    world.act_as(world.main);
    world.state.destroy_component(doomed).unwrap();
    world.state.reap(caller).unwrap();
    let next = root_thread(&mut world, "next", 2);
    assert_eq!(next, caller, "the thread slot is reused");
    // As after 2^32 - 1 further deferrals of the slot's calls.
    world.state.set_reply_seq_for_tests(next, seq.wrapping_sub(1));
    // The next thread calls the other server, which defers its reply
    // under the stale capability's number.
    world.act_as(next);
    call_with(&mut world, counter, counter_label()).unwrap();
    assert_eq!(world.state.current, other_ep);
    let fresh = world.state.defer_reply().unwrap();
    let CapEntry::Reply { seq: wrapped, .. } = world.entry(world.state.actor(), fresh) else {
        panic!("not a reply capability")
    };
    assert_eq!(wrapped, seq, "the sequence wrapped");
    world.state.reply_and_wait(true);
    // main calls `demo`; while serving it, demo's server tries the stale
    // capability with a reply of its own.
    world.act_as(world.main);
    call_ping(&mut world, demo).unwrap();
    assert_eq!(world.state.current, world.entrypoint);
    write_ok_reply(&mut world, 666);
    assert_eq!(world.state.reply_deferred(stale), Err(KernelError::InvalidCapability));
    assert_eq!(state_of(&world, next), ThreadState::AwaitingReply);
    // The other server's own capability still answers its call.
    world.run_servers_until(world.main);
    world.act_as(other_ep);
    write_ok_reply(&mut world, 7);
    world.state.reply_deferred(fresh).unwrap();
    assert_eq!(world.utcb_of(next).words[..2], [0, 7]);
}

// ----- refused calls --------------------------------------------------------------

/// Catches `fail_current_call` replaced with `()`.
#[test]
fn a_refused_call_leaves_its_error_reply_in_the_callers_utcb() {
    let mut world = World::new();
    {
        let request = world.current_utcb();
        request.label = ping_label();
        request.word_count = 3;
        request.cap_count = 1;
        request.error = 0;
    }
    let error = world.state.call(CapSel(31)).unwrap_err();
    assert_eq!(error, TransportError::InvalidCapability);
    world.state.fail_current_call(error);
    let reply = world.utcb_of(world.main);
    assert_eq!(reply.error, TransportError::InvalidCapability.code());
    assert_eq!((reply.label, reply.word_count, reply.cap_count), (0, 0, 0));
    assert_eq!(world.state.current, world.main);
}

// ----- watched submitters, and a component that ends itself ----------------

/// A signal of root's, watched, with a copy in the server component (a
/// submitter, as a server a client gave its signal with `sigh`).
fn watched_signal_held_by_server(world: &mut World) -> CapSel {
    let (_, own) = world.state.create_signal().unwrap();
    world.state.watch_submitters(own).unwrap();
    world.state.delegate(world.root, own, world.server_component).unwrap();
    own
}

#[test]
fn a_watched_signals_waiter_wakes_without_a_count_when_a_submitter_is_destroyed() {
    let mut world = World::new();
    let listener = root_thread(&mut world, "listener", 2);
    let other = root_thread(&mut world, "other", 2);
    let own = watched_signal_held_by_server(&mut world);
    // A signal the server holds too, unwatched.
    let (_, plain) = world.state.create_signal().unwrap();
    world.state.delegate(world.root, plain, world.server_component).unwrap();
    world.act_as(listener);
    assert!(world.state.wait_signal(own).unwrap().is_some());
    world.act_as(other);
    assert!(world.state.wait_signal(plain).unwrap().is_some());
    world.act_as(world.main);
    world.state.destroy_component(world.server_component).unwrap();
    assert_eq!(state_of(&world, listener), ThreadState::Ready);
    assert_eq!(world.state.threads[listener.index()].signal_count, 0, "woken without a count");
    assert_eq!(state_of(&world, other), ThreadState::SignalWait, "an unwatched signal waits on");
    // Told once: the next wait blocks until a submission, which counts.
    world.act_as(listener);
    assert!(world.state.wait_signal(own).unwrap().is_some());
    world.act_as(world.main);
    world.state.submit(own).unwrap();
    assert_eq!(state_of(&world, listener), ThreadState::Ready);
    assert_eq!(world.state.threads[listener.index()].signal_count, 1);
}

#[test]
fn a_submitter_destroyed_while_no_one_waits_is_told_after_the_submissions_before() {
    let mut world = World::new();
    let own = watched_signal_held_by_server(&mut world);
    world.state.submit(own).unwrap();
    world.state.submit(own).unwrap();
    world.state.destroy_component(world.server_component).unwrap();
    // First what was submitted, then the news, once.
    assert_eq!(world.state.wait_signal(own), Ok(None));
    assert_eq!(world.state.threads[world.main.index()].signal_count, 2);
    assert_eq!(world.state.wait_signal(own), Err(TransportError::ServerDead));
    assert!(world.state.wait_signal(own).unwrap().is_some(), "the next wait blocks");
    assert_eq!(state_of(&world, world.main), ThreadState::SignalWait);
}

#[test]
fn a_submitter_that_dropped_its_copy_before_it_was_destroyed_is_no_news() {
    let mut world = World::new();
    let (holder, thread) = world.component_with_thread("holder", Quota::at_priority(2));
    let (_, own) = world.state.create_signal().unwrap();
    world.state.watch_submitters(own).unwrap();
    let copy = world.state.delegate(world.root, own, holder).unwrap();
    // A copy may neither wait nor watch.
    world.act_as(thread);
    assert_eq!(world.state.watch_submitters(copy), Err(TransportError::InvalidCapability));
    world.state.drop_capability(copy).unwrap();
    world.act_as(world.main);
    world.state.destroy_component(holder).unwrap();
    assert!(world.state.wait_signal(own).unwrap().is_some(), "the wait blocks");
}

#[test]
fn a_stale_copy_of_a_freed_signal_tells_nothing_to_the_next_signal_in_its_slot() {
    let mut world = World::new();
    let listener = root_thread(&mut world, "listener", 2);
    // A component's watched signal, with a copy in a holder.
    let (owner, owner_thread) = world.component_with_thread("owner", Quota::at_priority(2));
    let (holder, _) = world.component_with_thread("holder", Quota::at_priority(2));
    world.act_as(owner_thread);
    let (first, own) = world.state.create_signal().unwrap();
    world.state.watch_submitters(own).unwrap();
    world.act_as(world.main);
    world.state.delegate(owner, own, holder).unwrap();
    // The owner goes, and its signal with it: root's next signal takes
    // the slot, watched too, with a waiter.
    world.state.destroy_component(owner).unwrap();
    let (second, next) = world.state.create_signal().unwrap();
    assert_eq!(second, first, "the slot is reused");
    world.state.watch_submitters(next).unwrap();
    world.act_as(listener);
    assert!(world.state.wait_signal(next).unwrap().is_some());
    // The holder's copy names the freed signal: its end is no news to
    // the signal now in the slot.
    world.act_as(world.main);
    world.state.destroy_component(holder).unwrap();
    assert_eq!(state_of(&world, listener), ThreadState::SignalWait, "the waiter waits on");
}

#[test]
fn a_component_that_ends_itself_stops_all_its_threads_and_tells_watchers() {
    let mut world = World::new();
    let demo = world.manage(object::<dyn Demo, _>(DemoServer::default()));
    let listener = root_thread(&mut world, "listener", 2);
    let own = watched_signal_held_by_server(&mut world);
    // A second thread of the server: it ends the server as a whole.
    let helper = world
        .state
        .add_thread(world.server_component, "helper", 3, 0, utcb(), (0, 0), false)
        .unwrap();
    world.act_as(listener);
    assert!(world.state.wait_signal(own).unwrap().is_some());
    world.act_as(helper);
    let switch = world.state.exit_component().unwrap();
    assert_eq!(switch.map(|s| s.from), Some(helper));
    assert_eq!(state_of(&world, helper), ThreadState::Dead);
    assert_eq!(state_of(&world, world.entrypoint), ThreadState::Dead, "the other thread too");
    assert_eq!(
        world.state.authorized_live(world.server_component),
        Err(KernelError::InvalidComponent)
    );
    assert_ne!(state_of(&world, listener), ThreadState::SignalWait, "the watcher was told");
    assert_eq!(world.state.threads[listener.index()].signal_count, 0);
    world.act_as(world.main);
    assert_eq!(
        client(&mut world, demo).ping(),
        Err(DemoError::Transport(TransportError::ServerDead))
    );
    // Core cannot end itself.
    assert_eq!(world.state.exit_component(), Err(KernelError::NoAuthority));
    assert_eq!(state_of(&world, world.main), ThreadState::Running);
}
