//! IRQ delivery through the IRQ service (apps/irq-demo): each board's
//! probe driver component gets its device's level interrupt as its signal,
//! masked until it acks, re-armed by the ack, quiet once served; on PBX-A9
//! the GPIO driver component's IRQ reaches a GPIO session as its
//! input-change signal. The two clients of the PBX-A9 image print
//! concurrently, so each one's lines are a case of their own.

use super::{Case, board, console_case};

/// The probe's lines on `board`, for its device and interrupt.
fn probe_lines(what: &str, device: &str, irq: u32) -> Vec<String> {
    vec![
        format!(
            "[probe] ok: {what} (IRQ {irq}) arrived as the probe's signal (1 submission, badges 0x20)"
        ),
        format!(
            "[probe] ok: not acked: no second interrupt in 20 ms while {device} still asserts it"
        ),
        format!("[probe] ok: acked: a second interrupt arrived (the ack re-armed IRQ {irq})"),
        format!("[probe] ok: {device} served: its interrupt is no longer asserted"),
        "[probe] ok: served and acked: no further interrupt in 20 ms".to_string(),
        "[probe] ok: an IRQ session without a route (gpio) is denied".to_string(),
        "[probe] irq-demo probe: 0 checks failed".to_string(),
    ]
}

fn case(board_name: &str, name: &str, lines: &[String]) -> Case {
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut case = console_case(board(board_name), "irq-demo", &[], &lines, 0);
    case.name = format!("irq-demo {name} on {board_name}");
    case
}

/// The irq-demo cases on both boards.
pub fn cases() -> Vec<Case> {
    let button = [
        "[button] ok: pin 0 is an input reading low",
        "[button] ok: the GPIO driver's IRQ 38 arrived as this session's input signal: changes Ok(1)",
        "[button] ok: a level is signalled once per watch: nothing more in 20 ms",
        "[button] ok: watched again: signalled again (the driver acked its IRQ)",
        "[button] ok: a pin outside the session's quota is not watched",
        "[button] ok: IRQ without a route: denied",
        "[button] irq-demo button: 0 checks failed",
    ]
    .map(String::from);
    vec![
        case(
            "realview-pbx-a9",
            "probe (PL031 RTC)",
            &probe_lines("the PL031's match interrupt", "rtc", 42),
        ),
        case("realview-pbx-a9", "GPIO input signal", &button),
        case(
            "microblaze-v",
            "probe (AXI UART 16550)",
            &probe_lines("the 16550's received-data interrupt", "uart16550", 4),
        ),
    ]
}
