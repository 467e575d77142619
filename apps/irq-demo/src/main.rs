//! IRQ delivery through the IRQ service, on both boards.
//!
//! A small driver component, `probe`, holds the IO_MEM and IRQ sessions of
//! one device (PBX-A9: the PL031 RTC; MicroBlaze V: the AXI UART 16550),
//! makes the device assert its level interrupt, and checks what the IRQ
//! service promises: the interrupt arrives as the probe's signal, the line
//! stays masked while the device still asserts it until the probe acks
//! (no second interrupt in 20 ms), the ack re-arms it (a second one
//! arrives at once), and once the device is served and acked it is quiet.
//! A Timer session on the same signal is the sentinel that ends each
//! waiting window. The IRQ service gets a copy of the signal minted with
//! a badge of its own ([`IRQ_BADGE`]), the Timer the signal's own
//! capability (badge 0): each wait says which of them submitted, so a
//! window that collects one submission, the sentinel's, saw no interrupt.
//!
//! On PBX-A9 the GPIO driver component also holds the PL061's IRQ session:
//! `button`'s GPIO session watches input pin 0 for a low level (QEMU's
//! PL061 reads an unconnected input as 0), gets its input-change signal
//! once per `watch`, and is denied an IRQ session of its own.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::kernel::{self, kernel};
use ferrode_board::{exit_code, platform};
use ferrode_component::{IRQ, IoMem, IoWindow, Irq, SessionError, TIMER, Timer};
use ferrode_ipc::{CapSel, Capability};

#[cfg(feature = "realview-pbx-a9")]
ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        gpio: { priority: 4, stack: 4096, provides: "Gpio", root: ferrode_board::component::gpio_root },
    }
    clients {
        probe: { priority: 3, stack: 4096, main: probe },
        button: { priority: 3, stack: 4096, main: button },
    }
    routes {
        gpio: "IO_MEM" "gpio" => io_mem,
        gpio: "IRQ" "gpio" => irq,
        probe: "LOG" "" => log,
        probe: "Timer" "" => timer,
        probe: "IO_MEM" "rtc" => io_mem,
        probe: "IRQ" "rtc" => irq,
        button: "LOG" "" => log,
        button: "Timer" "" => timer,
        button: "Gpio" "button" => gpio quota 0x01,
    }
}

#[cfg(feature = "microblaze-v")]
ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
    }
    clients {
        probe: { priority: 3, stack: 4096, main: probe },
    }
    routes {
        probe: "LOG" "" => log,
        probe: "Timer" "" => timer,
        probe: "IO_MEM" "uart16550" => io_mem,
        probe: "IRQ" "uart16550" => irq,
    }
}

/// How long a window waits for an interrupt that must not come.
const QUIET_US: u64 = 20_000;

/// A volatile pointer to the register block `R` at `offset` in the window
/// an IO_MEM session granted, if the window holds it.
fn registers<R>(window: IoWindow, offset: u32) -> Option<volatile::VolatilePtr<'static, R>> {
    let end = (offset as usize).checked_add(core::mem::size_of::<R>())?;
    if (window.size as usize) < end {
        return None;
    }
    let pointer = core::ptr::NonNull::new((window.base + offset) as usize as *mut R)?;
    // SAFETY: the IO_MEM service granted this window, the registers of
    // one device laid out as `R`, to this component alone (one session
    // per device), for the rest of the run; it is device memory, reached
    // only through volatile accesses.
    Some(unsafe { volatile::VolatilePtr::new(pointer) })
}

/// The PL031's match interrupt: a level, held until RTCICR clears it.
#[cfg(feature = "realview-pbx-a9")]
mod device {
    use super::*;

    pub const NAME: &str = "rtc";
    pub const WHAT: &str = "the PL031's match interrupt";

    pub struct Device(ferrode_pl031::Pl031<ferrode_pl031::Mmio<'static>>);

    impl Device {
        pub fn take(window: IoWindow) -> Option<Self> {
            let rtc = ferrode_pl031::Pl031::new(ferrode_pl031::Mmio::new(registers(window, 0)?));
            rtc.is_pl031().then_some(Self(rtc))
        }

        /// Sets the counter and its match to the same second: the match
        /// interrupt is asserted at once. True once it is.
        ///
        /// The count must not move on between the two writes: QEMU's
        /// PL031 raises a match written equal to the count at once, but
        /// one written a second behind it wraps and is armed for 2^32
        /// seconds later. A second boundary can fall between the writes,
        /// so the pair is tried again (at most three times) until RTCRIS
        /// shows the match.
        pub fn raise(&mut self) -> bool {
            (0..3).any(|_| {
                self.0.set_seconds(1000);
                self.0.set_alarm(1000);
                self.0.alarm_pending()
            })
        }

        /// Clears the match; true if it was pending.
        pub fn serve(&mut self) -> bool {
            self.0.take_alarm()
        }
    }
}

/// The UART 16550's received-data interrupt: a level, held until the
/// received characters are read.
#[cfg(feature = "microblaze-v")]
mod device {
    use super::*;

    pub const NAME: &str = "uart16550";
    pub const WHAT: &str = "the 16550's received-data interrupt";

    pub struct Device(axi_uart16550::Uart16550<axi_uart16550::Mmio<'static>>);

    impl Device {
        pub fn take(window: IoWindow) -> Option<Self> {
            let mut uart = axi_uart16550::Uart16550::new(
                // The 16550 registers sit at 0x1000 in the core's window
                // (PG143, register space).
                axi_uart16550::Mmio::new(registers(window, 0x1000)?),
                platform::memory_map::UART16550_CLOCK_HZ,
            );
            uart.configure(&axi_uart16550::Config { baud_rate: 115_200 }).ok()?;
            Some(Self(uart))
        }

        /// Loopback, the received-data interrupt unmasked, and eight
        /// characters sent (the FIFO's trigger level): they come back at
        /// once and the interrupt is asserted. True once they are sent.
        pub fn raise(&mut self) -> bool {
            self.0.set_loopback(true);
            self.0.enable_receive_interrupt(true);
            let mut sent = 0;
            while sent < 8 {
                sent += self.0.write_available(&b"loopback"[sent..]);
            }
            true
        }

        /// Reads every received character; true if the interrupt was
        /// asserted for received data.
        pub fn serve(&mut self) -> bool {
            let pending = matches!(
                self.0.interrupt_id(),
                Some(
                    axi_uart16550::Interrupt::ReceivedData
                        | axi_uart16550::Interrupt::CharacterTimeout
                )
            );
            while let Ok(Some(_)) = self.0.try_read_byte() {}
            pending && self.0.interrupt_id().is_none()
        }
    }
}

/// The interrupt line the platform lists for `name`.
fn line_of(name: &str) -> u32 {
    platform::memory_map::DEVICES
        .iter()
        .find(|device| device.name == name)
        .and_then(|device| device.irq)
        .unwrap_or(u32::MAX)
}

/// A Timer session whose timeouts go to `signal` (the window's sentinel).
fn sentinel(
    env: &Env,
    signal: CapSel,
) -> Result<ferrode_ipc::Client<dyn Timer, kernel::Transport>, SessionError> {
    let mut timer = kernel::client(env.session::<dyn Timer>(TIMER, "")?);
    timer.sigh(Capability::from_selector(signal))?;
    Ok(timer)
}

/// The badge of the copy of the probe's signal the IRQ service submits.
const IRQ_BADGE: u8 = 5;

/// What one wait on `signal` collected (nothing on an error).
fn wait(signal: CapSel) -> kernel::Signalled {
    kernel().wait_signal_badges(signal).unwrap_or(kernel::Signalled { count: 0, badges: 0 })
}

/// One submission, through the copy with `badge`.
fn one_from(signalled: kernel::Signalled, badge: u8) -> bool {
    signalled.count == 1 && signalled.badges == 1 << badge
}

fn probe(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let mut failed = 0;
    let mut check = |ok: bool, what: core::fmt::Arguments<'_>| {
        let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
        if !ok {
            failed += 1;
        }
    };
    let name = device::NAME;
    let window = env.session::<dyn IoMem>(ferrode_component::IO_MEM, name);
    let device = window.and_then(|window| kernel::client(window).window());
    let Some(mut device) = device.ok().and_then(device::Device::take) else {
        check(false, format_args!("the {name} window"));
        return exit_code::FAILURE;
    };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let irq = env.session::<dyn Irq>(IRQ, name).map(kernel::client);
    let (Ok(mut irq), Ok(mut timer)) = (irq, sentinel(&env, signal)) else {
        check(false, format_args!("IRQ and Timer sessions"));
        return exit_code::FAILURE;
    };
    let Ok(irq_copy) = kernel().mint_signal(signal, IRQ_BADGE) else {
        return exit_code::FAILURE;
    };
    if irq.sigh(Capability::from_selector(irq_copy)).is_err() {
        check(false, format_args!("IRQ sigh"));
        return exit_code::FAILURE;
    }
    let line = line_of(name);

    if !device.raise() {
        check(false, format_args!("{name} did not assert {}", device::WHAT));
        return exit_code::FAILURE;
    }
    let first = wait(signal);
    check(
        one_from(first, IRQ_BADGE),
        format_args!(
            "{} (IRQ {}) arrived as the probe's signal ({} submission, badges {:#x})",
            device::WHAT,
            line,
            first.count,
            first.badges
        ),
    );
    // Not acked: the device still asserts the level, the line stays
    // masked; the window ends with the sentinel's timeout alone.
    let quiet = timer.trigger(QUIET_US, false).is_ok() && one_from(wait(signal), 0);
    check(
        quiet,
        format_args!("not acked: no second interrupt in 20 ms while {name} still asserts it"),
    );
    let acked = irq.ack().is_ok() && one_from(wait(signal), IRQ_BADGE);
    check(acked, format_args!("acked: a second interrupt arrived (the ack re-armed IRQ {line})"));
    let served = device.serve();
    check(served, format_args!("{name} served: its interrupt is no longer asserted"));
    let quiet =
        irq.ack().is_ok() && timer.trigger(QUIET_US, false).is_ok() && one_from(wait(signal), 0);
    check(quiet, format_args!("served and acked: no further interrupt in 20 ms"));
    // Routes grant one device: another device's interrupt is not the probe's.
    let other = env.session::<dyn Irq>(IRQ, "gpio").err();
    check(
        other == Some(SessionError::Denied),
        format_args!("an IRQ session without a route (gpio) is denied"),
    );
    let _ = log.write_fmt(format_args!("irq-demo probe: {} checks failed", failed));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

#[cfg(feature = "realview-pbx-a9")]
fn button(env: Env) -> u32 {
    use ferrode_component::{Gpio, GpioTrigger};

    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let mut failed = 0;
    let mut check = |ok: bool, what: core::fmt::Arguments<'_>| {
        let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
        if !ok {
            failed += 1;
        }
    };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let (Ok(mut gpio), Ok(mut timer)) = (env.gpio("button"), sentinel(&env, signal)) else {
        check(false, format_args!("GPIO and Timer sessions"));
        return exit_code::FAILURE;
    };
    let ready = gpio.configure(0, false, false).is_ok()
        && gpio.sigh(Capability::from_selector(signal)).is_ok()
        && gpio.read() == Ok(0);
    check(ready, format_args!("pin 0 is an input reading low"));

    let watched = gpio.watch(0x01, GpioTrigger::LowLevel).is_ok();
    let first = if watched { wait(signal).count } else { 0 };
    let changes = gpio.take_changes();
    check(
        first == 1 && changes == Ok(0x01),
        format_args!(
            "the GPIO driver's IRQ {} arrived as this session's input signal: changes {:?}",
            line_of("gpio"),
            changes
        ),
    );
    let quiet = timer.trigger(QUIET_US, false).is_ok() && wait(signal).count == 1;
    let changes = gpio.take_changes();
    check(
        quiet && changes == Ok(0),
        format_args!("a level is signalled once per watch: nothing more in 20 ms"),
    );
    let again = gpio.watch(0x01, GpioTrigger::LowLevel).is_ok() && wait(signal).count == 1;
    let changes = gpio.take_changes();
    check(
        again && changes == Ok(0x01),
        format_args!("watched again: signalled again (the driver acked its IRQ)"),
    );
    let outside = gpio.watch(0x02, GpioTrigger::LowLevel);
    check(
        outside == Err(SessionError::QuotaExceeded),
        format_args!("a pin outside the session's quota is not watched"),
    );
    let _ = gpio.watch(0x01, GpioTrigger::Off);
    // The GPIO block's interrupt is the driver's: no route, no session.
    let denied = env.session::<dyn Irq>(IRQ, "gpio").err();
    check(denied == Some(SessionError::Denied), format_args!("IRQ without a route: denied"));
    let _ = log.write_fmt(format_args!("irq-demo button: {} checks failed", failed));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}
