//! First boot: hello, and the panic and fault reports with their source
//! lines.

use super::{Case, board, console_case};
use crate::boards::Board;
use crate::harness::symbolize;

/// The crash app's source, as its debug info names it.
const CRASH_SOURCE: &str = "apps/crash/src/main.rs";

/// The line of the crash app's source marked `// crash-line: WHAT`, read
/// now, so a moved statement moves what the cases expect.
fn crash_line(what: &str) -> u32 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(CRASH_SOURCE);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let marker = format!("// crash-line: {what}");
    symbolize::line_of(&source, &marker)
        .unwrap_or_else(|| panic!("{} has no line marked {marker:?}", path.display()))
}

/// Boot, panic and CPU-exception reports on both boards.
pub fn cases() -> Vec<Case> {
    let pbx = board("realview-pbx-a9");
    let mbv = board("microblaze-v");
    let mut cases = Vec::new();
    for board in [pbx, mbv] {
        // hello's line reaches the console through its LOG session,
        // prefixed with its label.
        let greeting = format!("[hello] Hello from Ferrode on {}", board.name);
        cases.push(console_case(board, "hello", &[], &[&greeting], 0));
        // The Timer service: eight sessions on the board's one alarm, in
        // order, each within one tick (exact virtual time under -icount).
        let mut timers = console_case(
            board,
            "timers",
            &[],
            &[
                "[ticker] ok: a Timer session refuses a period below its quota",
                "[ticker] ok: 8 Timer sessions fire in the order of their deadlines, each within one tick",
                "[ticker] ok: a periodic timeout fires every period",
                "[ticker] ok: a closed Timer session's armed timeout never fires",
                "[ticker] timers: 0 checks failed",
            ],
            0,
        );
        timers.options.icount = true;
        cases.push(timers);
        // Sessions: routing by label, denial, quotas, upgrade, close.
        cases.push(console_case(
            board,
            "sessions",
            &[],
            &[
                "[client] ok: the label \"b\" routes to greeter_b",
                "[client] ok: any other label routes to greeter_a",
                "[client] ok: a session of a service without a route is denied",
                "[client] ok: the ROM module routed as \"config\" reads back whole",
                "[client] ok: a ROM module without a route is denied",
                "[client] ok: a line beyond the session's quota is refused",
                "[client] ok: the server keeps serving within the quota",
                "[client] ok: upgrading the quota by 40 gives 100",
                "[client] ok: the long line goes through after the upgrade",
                "[client] ok: a closed session's capability is dead",
                "[client] ok: after closing, label \"b\" falls to the catch-all route (greeter_a)",
                "[late] ok: the client's closed LOG session refused its next line",
                "[late] sessions: 0 checks failed",
            ],
            0,
        ));
        // The panic's own location, then the host's source line for the
        // return address into main found on the stack.
        let line = crash_line("panic");
        cases.push(console_case(
            board,
            "crash",
            &["panic"],
            &[
                &format!("PANIC at {CRASH_SOURCE}:{line}:"),
                "crash test asked to panic",
                "backtrace: 0x",
                &format!("at {CRASH_SOURCE}:{line} (crash::main)"),
            ],
            101,
        ));
    }
    // Faults: the report, then the faulting statement's line, which the
    // host finds from the pc (or, when the faulting function is not
    // inlined, from the return address) in the image's debug info.
    let faults: [(&Board, &str, &[&str]); 4] = [
        (
            pbx,
            "bad-access",
            &["FAULT: data abort at pc=0x701", "address=0x70100002", "(alignment fault)"],
        ),
        (pbx, "illegal", &["FAULT: undefined instruction at pc=0x701"]),
        (mbv, "illegal", &["FAULT: illegal instruction at pc=0x800", "(mcause=2)"]),
        (mbv, "bad-access", &["FAULT: load access fault at pc=0x800", "address=0xe0000000"]),
    ];
    for (board, what, report) in faults {
        let source = format!("{CRASH_SOURCE}:{} (crash::main)", crash_line(what));
        let mut lines = report.to_vec();
        lines.push(&source);
        cases.push(console_case(board, "crash", &[what], &lines, 102));
    }
    // A kernel thread that overflows its stack is caught by the stack
    // guard and named.
    for board in [pbx, mbv] {
        cases.push(console_case(
            board,
            "crash",
            &["stack-overflow"],
            &["FAULT: stack overflow in thread 'deep-recursion' (its stack guard was overwritten)"],
            102,
        ));
        // The boot thread's stack (the linker script's) is guarded too.
        cases.push(console_case(
            board,
            "crash",
            &["main-stack-overflow"],
            &["FAULT: stack overflow in thread 'main' (its stack guard was overwritten)"],
            102,
        ));
    }
    cases
}
