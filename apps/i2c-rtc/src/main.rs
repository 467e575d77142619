//! The RealView PBX-A9's DS1338 real-time clock, over the baseboard's SBCon
//! I2C bus, through the I2c service.
//!
//! `i2c` is the bus's driver component (`component::i2c_root`): its route
//! grants it the SBCon's register window (`"IO_MEM" "i2c"`; no other
//! component can reach the bus). `clock` holds two I2c sessions, each reaching the one device its
//! route grants: `rtc`, the DS1338 at 0x68, and `eeprom`, address 0x50,
//! where QEMU's bus has nothing. Its sessions are embedded-hal's `I2c`
//! buses (`component::I2cClient`), so `ferrode-ds1338`, written for any
//! bus, drives the clock from `clock`. It
//!
//! - reads the date and checks it against the PL031's (core's Rtc
//!   service): QEMU runs both from the host's clock (on a board the check
//!   holds where the boot loader set the PL031 from the DS1338, which
//!   keeps the time on its battery);
//! - writes the DS1338's 56 bytes of battery-backed RAM and reads them
//!   back;
//! - sets the clock to a date of its own, reads it back, and puts the
//!   clock back where it was (plus the time the run took);
//! - checks the errors a caller gets: an address nobody acknowledges (the
//!   `eeprom` session's), an address that is not its session's, a RAM
//!   access past its end, a year the part cannot hold.
//!
//! The composer's hook asks the I2c root for sessions of its own while
//! `clock` holds its two: a second session of 0x68 and the addresses I2C
//! reserves are denied, and an address given back by a close can be
//! had again; `clock` reports what it found.
//!
//! `i2c-rtc: 0 checks failed` and exit status 0 end a good run.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use embedded_hal::i2c::{ErrorKind, I2c, NoAcknowledgeSource};
use ferrode_board::component::{Env, Event, I2cClientError, LogClient, ParentEnv};
use ferrode_board::exit_code;
use ferrode_board::kernel;
use ferrode_component::{RTC, Root, Rtc, SessionArgs, SessionError, Timer};
use ferrode_ds1338::{Ds1338, RAM_SIZE};
use ferrode_hal::CivilTime;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        rtc: { priority: 5, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
        i2c: { priority: 4, stack: 4096, provides: "I2c", root: ferrode_board::component::i2c_root },
    }
    clients {
        clock: { priority: 3, stack: 8192, main: clock },
    }
    routes {
        i2c: "IO_MEM" "i2c" => io_mem,
        clock: "LOG" "" => log,
        clock: "Timer" "" => timer,
        clock: "Rtc" "" => rtc,
        clock: "I2c" "rtc" => i2c quota 0x68,
        clock: "I2c" "eeprom" => i2c quota 0x50,
    }
    parent: parent,
}

/// The checks of the I2c root the hook made, a bit each (all four set: as
/// the root should answer).
static ROOT_CHECKS: AtomicU32 = AtomicU32::new(0);

/// Every bit of [`ROOT_CHECKS`].
const ALL_ROOT_CHECKS: u32 = 0b1111;

/// The composer's hook: once `clock` has its sessions (0x68 and 0x50), and
/// before it runs, asks the I2c root for sessions of its own.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if event != Event::Starting("clock") {
        return 0;
    }
    let Some(root) = env.root("i2c") else { return exit_code::FAILURE };
    let mut root = kernel::client(root);
    let ask = |root: &mut ferrode_ipc::Client<dyn Root, kernel::Transport>, quota| {
        let label = heapless::String::try_from("hook").unwrap_or_default();
        root.session(SessionArgs { label, quota })
    };
    let mut checks = 0;
    if ask(&mut root, 0x68) == Err(SessionError::Denied) {
        checks |= 0b0001;
    }
    if [0x00, 0x07, 0x78, 0x7f, 0x168]
        .into_iter()
        .all(|quota| ask(&mut root, quota) == Err(SessionError::Denied))
    {
        checks |= 0b0010;
    }
    for bit in [0b0100, 0b1000] {
        if ask(&mut root, 0x51).is_ok_and(|session| root.close(session).is_ok()) {
            checks |= bit;
        }
    }
    ROOT_CHECKS.store(checks, Ordering::Relaxed);
    0
}

/// The date `clock` sets the DS1338 to, and expects back.
const SET_TO: CivilTime =
    CivilTime { year: 2031, month: 7, day: 4, hour: 12, minute: 0, second: 0 };

/// How far apart the DS1338's and the PL031's seconds may be: each counts
/// whole seconds, read a few milliseconds apart.
const AGREE_SECONDS: u64 = 2;

fn clock(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let mut failed = 0;
    let mut check = |log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>| {
        let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
        if !ok {
            failed += 1;
        }
    };
    let Ok((mut timer, _)) = env.timer("") else {
        check(&mut log, false, format_args!("a Timer session"));
        return exit_code::FAILURE;
    };
    let Ok(mut rtc_session) = env.session::<dyn Rtc>(RTC, "").map(kernel::client) else {
        check(&mut log, false, format_args!("an Rtc session"));
        return exit_code::FAILURE;
    };
    let (Ok(mut bus), Ok(mut eeprom)) = (env.i2c("rtc"), env.i2c("eeprom")) else {
        check(&mut log, false, format_args!("the I2c sessions rtc and eeprom"));
        return exit_code::FAILURE;
    };
    check(
        &mut log,
        bus.address() == ferrode_ds1338::ADDRESS && eeprom.address() == 0x50,
        format_args!(
            "the I2c sessions reach {:#04x} and {:#04x}, as their routes grant",
            bus.address(),
            eeprom.address()
        ),
    );
    let checks = ROOT_CHECKS.load(Ordering::Relaxed);
    check(
        &mut log,
        checks == ALL_ROOT_CHECKS,
        format_args!(
            "the I2c root denied the hook 0x68 (held here) and the reserved addresses, and gave \
             it 0x51 twice, closed in between ({checks:#06b})"
        ),
    );
    let probe = bus.write(ferrode_ds1338::ADDRESS, &[]);
    check(&mut log, probe.is_ok(), format_args!("the DS1338 acknowledges ({probe:?})"));
    let absent =
        eeprom.read(0x50, &mut [0]).map_err(|error| embedded_hal::i2c::Error::kind(&error));
    check(
        &mut log,
        absent == Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)),
        format_args!("reading 0x50: no device acknowledges the address ({absent:?})"),
    );
    let other = eeprom.read(ferrode_ds1338::ADDRESS, &mut [0]);
    check(
        &mut log,
        other == Err(I2cClientError::NotThisDevice(ferrode_ds1338::ADDRESS)),
        format_args!("the eeprom session does not reach the DS1338 ({other:?})"),
    );

    let mut clock = Ds1338::new(&mut bus);
    let before = timer.now_us();
    let read = clock.datetime();
    let after = timer.now_us();
    let pl031 = rtc_session.seconds();
    let (Ok(started), Ok(read), Ok(pl031)) = (before, read, pl031) else {
        check(&mut log, false, format_args!("the first date: {read:?}, PL031 {pl031:?}"));
        return exit_code::FAILURE;
    };
    let _ = log.write_fmt(format_args!("ds1338 reads {read}"));
    if let Ok(after) = after {
        let _ = log.write_fmt(format_args!(
            "i2c: a date read (10 bytes on the bus) took {} us",
            after.saturating_sub(started)
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
