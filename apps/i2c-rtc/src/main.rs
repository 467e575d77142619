//! The RealView PBX-A9's DS1338 real-time clock, over the baseboard's SBCon
//! I2C bus, driven from a component.
//!
//! `clock` is the bus's driver component: its route `"IO_MEM" "i2c"`
//! grants it the SBCon's register window (no other component can reach
//! the bus), and a Timer session (`"Timer" "bus"`) times the bus's edges
//! (`TimerDelay`). It drives the bus as embedded-hal's `I2c`
//! (`ferrode-versatile-i2c`) and the clock with `ferrode-ds1338`, which
//! takes any embedded-hal bus. It
//!
//! - clears the bus and lists the addresses that acknowledge;
//! - reads the date and checks it against the PL031's (core's Rtc
//!   service): QEMU runs both from the host's clock, a board from their
//!   batteries;
//! - writes the DS1338's 56 bytes of battery-backed RAM and reads them
//!   back;
//! - sets the clock to a date of its own, reads it back, and puts the
//!   clock back where it was (plus the time the run took);
//! - checks the errors a caller gets: an address nobody acknowledges, a
//!   RAM access past its end, a year the part cannot hold.
//!
//! `i2c-rtc: 0 checks failed` and exit status 0 end a good run.
#![no_std]
#![no_main]

use embedded_hal::i2c::{ErrorKind, I2c, NoAcknowledgeSource};
use ferrode_board::component::{Env, TimerDelay};
use ferrode_board::kernel;
use ferrode_board::{exit_code, platform};
use ferrode_component::{IO_MEM, IoMem, RTC, Rtc, Timer};
use ferrode_ds1338::{Ds1338, RAM_SIZE};
use ferrode_hal::CivilTime;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        rtc: { priority: 5, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
    }
    clients {
        clock: { priority: 3, stack: 8192, main: clock },
    }
    routes {
        clock: "LOG" "" => log,
        clock: "Timer" "bus" => timer,
        clock: "Timer" "" => timer,
        clock: "IO_MEM" "i2c" => io_mem,
        clock: "Rtc" "" => rtc,
    }
}

/// The date `clock` sets the DS1338 to, and expects back.
const SET_TO: CivilTime =
    CivilTime { year: 2031, month: 7, day: 4, hour: 12, minute: 0, second: 0 };

/// How far apart the DS1338's and the PL031's seconds may be: each counts
/// whole seconds, read a few milliseconds apart.
const AGREE_SECONDS: u64 = 2;

/// The first address past the 7-bit range's reserved low ones (0x00-0x07),
/// and the last before its reserved high ones (0x78-0x7f).
const SCAN: core::ops::RangeInclusive<u8> = 0x08..=0x77;

/// An address nothing on the PBX-A9's bus answers (QEMU's bus holds only
/// the DS1338).
const ABSENT: u8 = 0x50;

fn clock(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let mut failed = 0;
    let mut check = |log: &mut ferrode_board::component::LogClient,
                     ok: bool,
                     what: core::fmt::Arguments<'_>| {
        let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
        if !ok {
            failed += 1;
        }
    };
    let (Ok((mut bus_timer, _)), Ok((mut timer, _))) = (env.timer("bus"), env.timer("")) else {
        check(&mut log, false, format_args!("two Timer sessions"));
        return exit_code::FAILURE;
    };
    let Ok(mut rtc_session) = env.session::<dyn Rtc>(RTC, "").map(kernel::client) else {
        check(&mut log, false, format_args!("an Rtc session"));
        return exit_code::FAILURE;
    };
    let window = env.session::<dyn IoMem>(IO_MEM, "i2c").and_then(|w| kernel::client(w).window());
    let Ok(window) = window else {
        check(&mut log, false, format_args!("the i2c window"));
        return exit_code::FAILURE;
    };
    let window = ferrode_hal::DeviceWindow {
        name: "i2c",
        base: window.base as usize,
        size: window.size as usize,
        irq: None,
    };
    // SAFETY: this component is the bus's one driver: its route grants it
    // the "i2c" window, which the IO_MEM service grants one session.
    let bus = unsafe { platform::devices::i2c_port(&window, TimerDelay(&mut bus_timer)) };
    let Some(mut bus) = bus else {
        check(&mut log, false, format_args!("the SBCon behind the i2c window"));
        return exit_code::FAILURE;
    };

    let recovered = bus.recover();
    check(&mut log, recovered.is_ok(), format_args!("the bus is idle ({recovered:?})"));

    // Who answers: an empty write is an address and a stop.
    let mut found = [0u8; 8];
    let mut count = 0;
    for address in SCAN {
        if bus.write(address, &[]).is_ok() {
            if let Some(slot) = found.get_mut(count) {
                *slot = address;
            }
            count += 1;
        }
    }
    let _ = log.write_fmt(format_args!(
        "i2c: {count} devices acknowledge: {:02x?}",
        &found[..count.min(found.len())]
    ));
    check(
        &mut log,
        found[..count.min(found.len())].contains(&ferrode_ds1338::ADDRESS),
        format_args!("the DS1338 acknowledges at {:#04x}", ferrode_ds1338::ADDRESS),
    );
    let absent = bus.read(ABSENT, &mut [0]).map_err(|error| embedded_hal::i2c::Error::kind(&error));
    check(
        &mut log,
        absent == Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)),
        format_args!("reading {ABSENT:#04x}: no device acknowledges the address ({absent:?})"),
    );

    let mut clock = Ds1338::new(&mut bus);
    let started = timer.now_us();
    let before = timer.now_us();
    let read = clock.datetime();
    let after = timer.now_us();
    let pl031 = rtc_session.seconds();
    let (Ok(started), Ok(read), Ok(pl031)) = (started, read, pl031) else {
        check(&mut log, false, format_args!("the first date: {read:?}, PL031 {pl031:?}"));
        return exit_code::FAILURE;
    };
    let _ = log.write_fmt(format_args!("ds1338 reads {read}"));
    if let (Ok(before), Ok(after)) = (before, after) {
        let _ = log.write_fmt(format_args!(
            "i2c: a date read (10 bytes on the bus) took {} us",
            after.saturating_sub(before)
        ));
    }
    let saved = read.to_unix_seconds().unwrap_or(0);
    check(
        &mut log,
        saved.abs_diff(pl031) <= AGREE_SECONDS,
        format_args!(
            "the DS1338 agrees with the PL031 ({}) within {AGREE_SECONDS} s",
            CivilTime::from_unix_seconds(pl031)
        ),
    );
    let flags = (clock.oscillator_stopped(), clock.is_running());
    check(
        &mut log,
        flags.0 == Ok(false) && flags.1 == Ok(true),
        format_args!("its oscillator runs and never stopped ({flags:?})"),
    );

    let pattern: [u8; RAM_SIZE] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
    let mut back = [0u8; RAM_SIZE];
    let ram = clock.write_ram(0, &pattern).and_then(|()| clock.read_ram(0, &mut back));
    check(
        &mut log,
        ram.is_ok() && back == pattern,
        format_args!("{RAM_SIZE} bytes of its RAM written and read back ({ram:?})"),
    );
    let past = clock.read_ram(RAM_SIZE - 1, &mut [0; 2]);
    check(
        &mut log,
        past == Err(ferrode_ds1338::Error::OutOfRange),
        format_args!("a RAM read past its end is refused ({past:?})"),
    );

    let set = clock.set_datetime(&SET_TO);
    let expected = SET_TO.to_unix_seconds().unwrap_or(0);
    match clock.datetime() {
        Ok(now) => {
            let kept = now.to_unix_seconds().unwrap_or(0).wrapping_sub(expected);
            check(
                &mut log,
                set.is_ok() && kept <= AGREE_SECONDS,
                format_args!("set to {SET_TO} ({set:?}), it reads {now}"),
            );
        }
        Err(error) => check(
            &mut log,
            false,
            format_args!("set to {SET_TO} ({set:?}), reading it back: {error:?}"),
        ),
    }
    let refused = clock.set_datetime(&CivilTime { year: 2100, ..SET_TO });
    check(
        &mut log,
        refused == Err(ferrode_ds1338::Error::OutOfRange),
        format_args!("a year past 2099 is refused ({refused:?})"),
    );

    // Back to its own time, plus what this run took since it was read.
    let elapsed = timer.now_us().map_or(0, |now| now.saturating_sub(started) / 1_000_000);
    let restored = clock.set_datetime(&CivilTime::from_unix_seconds(saved + elapsed));
    let now = clock.unix_seconds();
    let pl031 = rtc_session.seconds();
    check(
        &mut log,
        restored.is_ok()
            && matches!((now, pl031), (Ok(now), Ok(pl031)) if now.abs_diff(pl031) <= AGREE_SECONDS),
        format_args!("put back: it agrees with the PL031 again ({now:?}, {pl031:?})"),
    );
    let _ = log.write_fmt(format_args!("i2c-rtc: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}
