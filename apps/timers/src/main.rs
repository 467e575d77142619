//! timers: the core Timer service under load.
//!
//! One Timer server multiplexes every session onto the board's one
//! hardware alarm (its interrupt only submits a signal; the server's alarm
//! thread does the rest). `ticker` opens eight sessions, arms them with
//! different timeouts in a scrambled order and checks that each fires no
//! earlier than its deadline and within one scheduler tick after it (so in
//! the order of the deadlines), that a periodic timeout fires every period,
//! that a session's quota (its shortest period) is enforced, that a
//! closed session's armed timeout never fires, and that a sleep
//! (`component::sleep_us`) lasts its time though a timeout fell before it.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::Env;
use ferrode_board::kernel;
use ferrode_component::{SessionError, Timer};
use ferrode_ipc::Capability;

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 3, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
    }
    clients {
        ticker: { priority: 2, stack: 8192, main: ticker },
    }
    routes {
        ticker: "LOG" "" => log,
        ticker: "Timer" "t1" => timer,
        ticker: "Timer" "t2" => timer,
        ticker: "Timer" "t3" => timer,
        ticker: "Timer" "t4" => timer,
        ticker: "Timer" "t5" => timer,
        ticker: "Timer" "t6" => timer,
        ticker: "Timer" "t7" => timer,
        ticker: "Timer" "t8" => timer quota 5000,
    }
}

/// Checks that failed.
static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(log: &mut ferrode_board::component::LogClient, what: &str, ok: bool) {
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
}

/// One signal for two sessions, told apart by badges (Genode's signal
/// contexts on one receiver): t5 and t7 each get a copy of t5's signal
/// minted with a badge of its own (1 and 2). With t7 due first, each wait
/// names one session, t7's then t5's; with both due before the wait, one
/// wait counts two and names both.
fn badges(sessions: &mut [(ferrode_board::component::TimerClient, ferrode_ipc::CapSel)]) -> bool {
    let k = kernel::kernel();
    let signal = sessions[4].1;
    let (Ok(t5_copy), Ok(t7_copy)) = (k.mint_signal(signal, 1), k.mint_signal(signal, 2)) else {
        return false;
    };
    let [.., (t5, _), _, (t7, _), _] = sessions else { return false };
    let given = t5.sigh(Capability::from_selector(t5_copy)).is_ok()
        && t7.sigh(Capability::from_selector(t7_copy)).is_ok();
    let armed = t5.trigger(30_000, false).is_ok() && t7.trigger(10_000, false).is_ok();
    let first = k.wait_signal_badges(signal);
    let second = k.wait_signal_badges(signal);
    let one_each = first.is_ok_and(|s| s.count == 1 && s.badges == 1 << 2)
        && second.is_ok_and(|s| s.count == 1 && s.badges == 1 << 1);
    // Both due before the wait: the ticker watches the clock past them.
    let both = t5.trigger(2_000, false).is_ok() && t7.trigger(4_000, false).is_ok();
    let start = t5.now_us().unwrap_or(0);
    while t5.now_us().is_ok_and(|now| now < start + 8_000) {}
    let together = k.wait_signal_badges(signal);
    let named_both = together.is_ok_and(|s| s.count == 2 && s.from(1) && s.from(2) && !s.from(0));
    given && armed && one_each && both && named_both
}

/// Eight Timer sessions with different timeouts, armed in a scrambled
/// order: each must fire no earlier than its deadline and within one
/// scheduler tick (10 ms) after it, so they fire in the order of their
/// deadlines. The eighth session's quota (5 ms) refuses a shorter timeout;
/// the others, without a quota, refuse a period below the Timer's floor.
fn ticker(env: Env) -> u32 {
    const LABELS: [&str; 8] = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
    const AFTER_MS: [u64; 8] = [30, 10, 70, 50, 20, 80, 40, 60];
    const TICK_US: u64 = 10_000;
    let Ok(mut log) = env.log() else { return 1 };
    let mut sessions: heapless::Vec<_, 8> = heapless::Vec::new();
    for label in LABELS {
        match env.timer(label) {
            Ok(session) => {
                let _ = sessions.push(session);
            }
            Err(error) => {
                check(&mut log, "a Timer session per label", false);
                let _ = log.write_fmt(format_args!("timer {}: {}", label, error));
                return 1;
            }
        }
    }
    check(
        &mut log,
        "a Timer session refuses a period below its quota",
        sessions[7].0.trigger(1_000, false) == Err(SessionError::QuotaExceeded),
    );
    // A session without a quota: a periodic timeout below the Timer's
    // floor is refused (one call would keep the server busy for good), a
    // one-shot timeout as short is not; its signal is taken here.
    let floor = u64::from(ferrode_board::component::TIMER_PERIOD_FLOOR_US);
    let (t1, t1_signal) = &mut sessions[0];
    let refused = t1.trigger(floor - 1, true) == Err(SessionError::QuotaExceeded);
    let one_shot =
        t1.trigger(floor / 2, false).is_ok() && kernel::kernel().wait_signal(*t1_signal) == Ok(1);
    check(
        &mut log,
        "a Timer session without a quota refuses a period below the floor, not a one-shot",
        refused && one_shot,
    );
    // The session's own capability given as its signal: the Timer would
    // hold its own selector for the session as the client's signal and
    // drop it later. Refused; the session keeps its signal (the timeouts
    // below arrive on it).
    let own = env.session::<dyn Timer>("Timer", "t1").map(|cap| cap.selector());
    let refused = own.map(|own| sessions[0].0.sigh(Capability::from_selector(own)));
    check(
        &mut log,
        "a Timer session refuses its own capability as the signal to raise",
        refused == Ok(Err(SessionError::UnknownSession)),
    );
    let Ok(start) = sessions[0].0.now_us() else { return 1 };
    for (session, after) in sessions.iter_mut().zip(AFTER_MS) {
        if session.0.trigger(after * 1000, false).is_err() {
            check(&mut log, "arming eight timeouts", false);
            return 1;
        }
    }
    let mut order: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
    order.sort_unstable_by_key(|&i| AFTER_MS[i]);
    let mut in_time = 0;
    for index in order {
        let (timer, signal) = &mut sessions[index];
        let woke = kernel::kernel().wait_signal(*signal).is_ok();
        let now = timer.now_us().unwrap_or(0);
        let due = start + AFTER_MS[index] * 1000;
        // Arming took a little time after `start`: allow for it.
        if woke && now + 2_000 >= due && now <= due + TICK_US + 2_000 {
            in_time += 1;
        } else {
            let _ = log.write_fmt(format_args!(
                "timer {}: due at {} us, woke at {} us",
                LABELS[index], due, now
            ));
        }
    }
    check(
        &mut log,
        "8 Timer sessions fire in the order of their deadlines, each within one tick",
        in_time == 8,
    );
    // A periodic timeout: three periods of 20 ms.
    let (timer, signal) = &mut sessions[1];
    let periodic = timer.trigger(20_000, true).is_ok();
    let before = timer.now_us().unwrap_or(0);
    let mut fired = 0;
    for _ in 0..3 {
        fired += kernel::kernel().wait_signal(*signal).unwrap_or(0);
    }
    let _ = timer.stop();
    let elapsed = timer.now_us().unwrap_or(0).saturating_sub(before);
    check(
        &mut log,
        "a periodic timeout fires every period",
        periodic && fired == 3 && (60_000..=60_000 + TICK_US).contains(&elapsed),
    );
    // A closed session's armed timeout never fires: t3 and t4 share one
    // signal; t3 is armed for 5 ms and closed, t4 for 20 ms. The signal
    // must come once, from t4, at 20 ms.
    let shared = sessions[2].1;
    let Some((t3, t4)) = sessions.get_mut(2..4).and_then(|pair| pair.split_first_mut()) else {
        return 1;
    };
    let t4 = &mut t4[0].0;
    let armed = t4.sigh(kernel::ipc::Capability::from_selector(shared)).is_ok()
        && t3.0.trigger(5_000, false).is_ok();
    let closed = env.close("Timer", "t3").is_ok();
    let start = t4.now_us().unwrap_or(0);
    let armed = armed && t4.trigger(20_000, false).is_ok();
    let count = kernel::kernel().wait_signal(shared).unwrap_or(0);
    let woke_after = t4.now_us().unwrap_or(0).saturating_sub(start);
    check(
        &mut log,
        "a closed Timer session's armed timeout never fires",
        armed && closed && count == 1 && woke_after >= 18_000,
    );
    if !(armed && closed && count == 1 && woke_after >= 18_000) {
        let _ = log.write_fmt(format_args!(
            "armed {} closed {} count {} woke after {} us",
            armed, closed, count, woke_after
        ));
    }
    check(
        &mut log,
        "one signal, two sessions: each wait names the session that fired",
        badges(&mut sessions),
    );
    // A sleep is not cut short by a timeout that fell before it: t6's
    // 1 ms timeout fires while the ticker polls the clock (its signal is
    // submitted and waits), then a 20 ms sleep must last 20 ms, where a
    // plain `trigger` and `wait_signal` would take the old signal at once.
    let (t6, t6_signal) = &mut sessions[5];
    let mut fell = t6.trigger(1_000, false).is_ok();
    let armed = t6.now_us().unwrap_or(0);
    while fell {
        match t6.now_us() {
            Ok(now) if now < armed + 3_000 => {}
            Ok(_) => break,
            Err(_) => fell = false,
        }
    }
    let before = t6.now_us().unwrap_or(0);
    let slept = ferrode_board::component::sleep_us(t6, *t6_signal, 20_000).is_ok();
    let elapsed = t6.now_us().unwrap_or(0).saturating_sub(before);
    let in_time = (20_000..=20_000 + TICK_US + 2_000).contains(&elapsed);
    check(
        &mut log,
        "a 20 ms sleep lasts 20 ms though a timeout fell before it",
        fell && slept && in_time,
    );
    if !in_time {
        let _ = log.write_fmt(format_args!("the sleep took {} us", elapsed));
    }
    // A sleep shorter than the session's quota (t8's route: 5 ms) sleeps
    // the quota, where a plain `trigger` is refused.
    let (t8, t8_signal) = &mut sessions[7];
    let before = t8.now_us().unwrap_or(0);
    let slept = ferrode_board::component::sleep_us(t8, *t8_signal, 1_000).is_ok();
    let elapsed = t8.now_us().unwrap_or(0).saturating_sub(before);
    check(
        &mut log,
        "a 1 ms sleep on a session with a 5 ms quota sleeps 5 ms",
        slept && (5_000..=5_000 + TICK_US + 2_000).contains(&elapsed),
    );
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = log.write_fmt(format_args!("timers: {} checks failed", failed));
    failed
}
