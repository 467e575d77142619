//! First boot: hello, and the panic and fault reports with their source
//! lines.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board, console_case};
use crate::boards::{Board, RunOptions};
use crate::harness::{self, symbolize};

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
        // nic-reopen, one case per mode of its `first` client; `second`,
        // started when `first` is gone, must print the same in each.
        let nic_reopen = |mode: &[&str], first: &[&str]| {
            let second = [
                "[second] ok: the next client has a NIC session",
                "[second] ok: the transmit slots hold nothing `first` left in them",
                "[second] ok: the session's counters start at its opening: no frame sent yet",
                "[second] ok: the gateway answers ARP through the restarted streams",
                "[second] ok: acknowledgements alone wake the driver for frames that waited in the controller",
                "[second] nic-reopen: 0 checks failed",
            ];
            let lines: Vec<&str> = first.iter().chain(&second).copied().collect();
            let mut case = console_case(board, "nic-reopen", mode, &lines, 0);
            case.options.network = true;
            case
        };
        // A NIC session closed by one client (its streams handed back) and
        // opened by the next, which reaches the network through the
        // restarted streams.
        cases.push(nic_reopen(
            &[],
            &[
                "[first] ok: the gateway answers ARP through the NIC session's streams",
                "[first] ok: closing while holding the streams is refused (InUse)",
                "[first] ok: close_nic hands the streams back and closes the session",
            ],
        ));
        // A client that ends without taking its NIC session's streams: the
        // composer closes the session for it, and the next client has one.
        cases.push(nic_reopen(
            &["bystander"],
            &["[first] bystander: ends without taking its NIC session's streams"],
        ));
        // A client that ends holding its streams and a packet (as one that
        // fails): the composer destroys it, the driver reclaims the
        // session with whatever the client left in it, and the next client
        // reaches the network through streams started afresh.
        cases.push(nic_reopen(
            &["holder"],
            &[
                "[first] ok: the gateway answers ARP through the NIC session's streams",
                "[first] ok: holder: ends holding its streams and a packet",
            ],
        ));
        // A client that keeps a copy of the driver's signal past its
        // session: the copy dies at close, and the next client has the NIC.
        cases.push(nic_reopen(
            &["keeper"],
            &["[first] ok: keeper: a closed NIC session's copy of the driver's signal is dead"],
        ));
        // The README's two-component example, as a newcomer copies it.
        cases.push(console_case(board, "greeter", &[], &["[app] the greeter says Ok(42)"], 0));
        // Rust std over hermit-abi: an ordinary main as a client component.
        cases.push(console_case(
            board,
            "hello-std",
            &[],
            &[
                &format!("[app] Hello from Rust std on Ferrode ({})!", board.name),
                "[app] arguments: []",
                "[app] environment: 2 variables, GREETING=Ok(\"hello from the env module\"), ROUNDS + 1 = 4, HOME=None",
                "[app] word counts: [(\"brown\", 1), (\"dog\", 1), (\"end\", 1), (\"fox\", 1), (\"jumps\", 1), (\"lazy\", 1), (\"over\", 1), (\"quick\", 1), (\"the\", 3)]",
                &format!("[app] {}\n", "0123456789".repeat(14)),
                "[app] 0123456789\n",
                "[app] sum of the first ten squares: 385",
                "[app] a 32 MiB Vec: 33554432 bytes, ends 1 and 2",
                "[app] slept 10 ms: not early",
                "[app] /rom/motd: 53 bytes, last line Some(\"This is the second line.\")",
                "[app] its last 25 bytes: \"This is the second line.\\n\"",
                "[app] /rom/zeds: 1000 bytes, all z: true",
                "[app] /rom lists motd (file, 53 bytes), zeds (file, 1000 bytes), env (file, 61 bytes)",
                "[app] /rom is a directory: true",
                "[app] reading /rom: Is a directory (os error 21); listing /rom/motd: Not a directory (os error 20)",
                "[app] listing /etc: No such file or directory (os error 2)",
                "[app] /rom/missing: No such file or directory (os error 2)",
                "[app] /etc/hostname: No such file or directory (os error 2)",
                "[app] writing: Read-only file system (os error 30)",
                "[app] removing a module: Read-only file system (os error 30); making a directory: Read-only file system (os error 30)",
                "[app] threads: a fourth at once: unable to create thread!",
                "[app] threads: woke in order [1, 0, 2], counted 3, thread-locals [10, 11, 12], main's 0",
                "[app] threads: another after them: Ok(true)",
                "[app] threads: ping-pong, 100 rounds: 200, the worker joined: true",
                "[app] threads: a Condvar woke its waiter: true; unparked: true; scoped threads wrote [10, 20]",
                "[app] threads: 20 spawned and joined one after another: 20 ran",
                "[app] threads: a detached thread's stack of 3/4 of the heap is back: true",
                "[app] to stderr, without a line end at first...",
                "[app] and the rest of the line",
                "[app] an unfinished line goes out at exit",
            ],
            0,
        ));
        cases.push(console_case(
            board,
            "hello-std",
            &["panic"],
            &[
                "[app] arguments: [\"panic\"]",
                "[app] thread 'main' (1) panicked at apps/hello-std/src/main.rs:",
                "[app] asked to panic",
            ],
            101,
        ));
        // A CPU fault in a std thread ends the std component, as a
        // component's fault does: the report, then the composer's line.
        cases.push(console_case(
            board,
            "hello-std",
            &["fault"],
            &[
                "[app] a thread is about to fault",
                "FAULT: ",
                "composition: app faulted; it ends, the others run on",
            ],
            102,
        ));
        cases.push(Case {
            name: format!("hello-std reads stdin from the Terminal on {}", board.name),
            board,
            app: "hello-std",
            options: RunOptions {
                args: vec!["hello-std".into(), "stdin".into()],
                ..Default::default()
            },
            timeout: Duration::from_secs(60),
            check: Check::Scripted(hello_std_stdin),
        });
        // SystemTime from core's Rtc service.
        cases.push(Case {
            name: format!("date-std tells the date on {}", board.name),
            board,
            app: "date-std",
            options: RunOptions::default(),
            timeout: Duration::from_secs(60),
            check: Check::Scripted(date_std),
        });
        cases.push(console_case(
            board,
            "hello-std",
            &["oom"],
            &["[app] memory allocation of 1073741824 bytes failed"],
            101,
        ));
        cases.push(console_case(
            board,
            "hello-std",
            &["deadlock"],
            &["[app] std: a futex wait no other thread can end (a deadlock): the component ends"],
            101,
        ));
        // std threads: a deadlock between two ends the component, and so
        // does a thread's panic.
        cases.push(console_case(
            board,
            "hello-std",
            &["deadlock-threads"],
            &["[app] std: every thread waits for another (a deadlock): the component ends"],
            101,
        ));
        cases.push(console_case(
            board,
            "hello-std",
            &["thread-panic"],
            &[
                "[app] thread 'worker' (2) panicked at apps/hello-std/src/main.rs:",
                "[app] asked to panic in a thread",
            ],
            101,
        ));
        // A component's panic ends that component, not the image: a client
        // that panics is ended and its sessions reclaimed (the client after
        // it gets the one-session server's session), a server whose thread
        // panics ends as a whole and answers ServerDead, to calls and to
        // the waits on a signal it held; the image exits with PANIC at the
        // end.
        cases.push(console_case(
            board,
            "contained",
            &[],
            &[
                "[crasher] holding the Fragile session, about to panic",
                "composition: crasher panicked; it ends, the others run on",
                "[survivor] ok: the Fragile session the crasher held is mine",
                "[survivor] ok: the Fragile server answers",
                "[survivor] ok: the Fragile server submits the signal it was given",
                "composition: fragile panicked; it ends, the others run on",
                // The composer's watch: the hook is told, the server's two
                // threads are reaped and its Timer session reclaimed.
                "contained: ok: the parent hook has its last look at the ended server",
                "composition: fragile has ended: 2 threads reaped, 1 of its sessions reclaimed",
                "[survivor] ok: the Fragile server's panic comes back as ServerDead",
                "[survivor] ok: the ended server answers no more",
                "[survivor] ok: the next wait on the signal the server held says it is gone",
                "[survivor] ok: upgrading the ended server's session fails, before its quota is counted",
                "[survivor] ok: closing the ended server's session fails: the parent's call to its root did",
                "[survivor] ok: and the composer has forgotten it",
                "[survivor] contained: 0 checks failed",
                // Due after survivor, with a route to the ended server.
                "composition: client heir not started: no such component",
                "contained: ok: the ended server is forgotten and its kernel slot is free",
                "contained: ok: the composer dropped the ended server's root and session copy",
            ],
            101,
        ));
        // The server's other thread panics while the client waits on the
        // signal it gave the server: the wait ends, and the whole server.
        cases.push(console_case(
            board,
            "contained",
            &["worker-panic"],
            &[
                "[survivor] ok: the Fragile server submits the signal it was given",
                "[survivor] ok: the worker's timeout is armed",
                "composition: fragile panicked; it ends, the others run on",
                "composition: fragile has ended: 2 threads reaped, 1 of its sessions reclaimed",
                "[survivor] ok: the worker's panic ends the Fragile server, and the wait on its signal with ServerDead",
                "[survivor] ok: the entrypoint ended with its worker",
                "[survivor] contained: 0 checks failed",
                "composition: client heir not started: no such component",
                "contained: ok: the ended server is forgotten and its kernel slot is free",
                "contained: ok: the composer dropped the ended server's root and session copy",
            ],
            101,
        ));
        // A server that panics at the composer's request for a session at
        // boot: the composition fails, with PANIC, the first failing status.
        cases.push(console_case(
            board,
            "contained",
            &["boot-panic"],
            &[
                "composition: fragile panicked; it ends, the others run on",
                "composition: fragile refused crasher's Fragile session",
                "composition failed: ",
            ],
            101,
        ));
        // A server that answers a session request with a capability the
        // composer holds already (its own Timer session): refused, not
        // recorded.
        cases.push(console_case(
            board,
            "contained",
            &["timer-as-session"],
            &[
                "composition: fragile answered crasher's Fragile session with a capability it did not make",
                "composition failed: invalid capability",
            ],
            1,
        ));
        // One that answers with its copy of the signal the composer
        // watches its servers with, which the composer holds itself (its
        // own): refused too, so no session's end can drop it.
        cases.push(console_case(
            board,
            "contained",
            &["watch-as-session"],
            &[
                "composition: fragile answered crasher's Fragile session with a capability it did not make",
                "composition failed: invalid capability",
            ],
            1,
        ));
        // A component's console text cannot pass for another's, and its
        // exit ends only it: its lines go out under its name, its
        // carriage return as `?`, the line it left open is ended before
        // its LOG line, a board service it starts itself is refused, and
        // the survivor runs after its `exit(0)`.
        cases.push(console_case(
            board,
            "contained",
            &["forge"],
            &[
                // Each expected line from its start: a line end, then
                // the label.
                "[crasher] forging",
                "\n[crasher] [survivor] contained: 0 checks failed?[log] x",
                "\n[crasher] half a line\n[crasher] after the half line",
                "\n[crasher] ok: starting the IRQ service itself is refused",
                "\n[survivor] ok: the Fragile session the crasher held is mine",
                "\n[survivor] contained: 0 checks failed",
                "contained: ok: the composer dropped the ended server's root and session copy",
            ],
            101,
        ));
        // An exit inside a critical section ends the image, with FAILURE.
        cases.push(console_case(
            board,
            "contained",
            &["forge-masked"],
            &["composition: crasher exited with interrupts masked; the image ends"],
            1,
        ));
        // A component's CPU fault ends that component, as its panic does:
        // the report, then the crasher ends, its session goes to the
        // survivor, and the image exits with FAULT, the first failing
        // status.
        let pbx_board = std::ptr::eq(board, pbx);
        let illegal = if pbx_board {
            "FAULT: undefined instruction at pc="
        } else {
            "FAULT: illegal instruction at pc="
        };
        let crasher_ends = [
            "[crasher] holding the Fragile session, about to fault",
            illegal,
            "backtrace: ",
            "composition: crasher faulted; it ends, the others run on",
            "[survivor] ok: the Fragile session the crasher held is mine",
            "composition: fragile panicked; it ends, the others run on",
            "[survivor] contained: 0 checks failed",
            "contained: ok: the composer dropped the ended server's root and session copy",
        ];
        cases.push(console_case(board, "contained", &["fault"], &crasher_ends, 102));
        // A fault inside a critical section, whose state it may leave half
        // changed, ends the image.
        cases.push(console_case(
            board,
            "contained",
            &["fault-masked"],
            &[illegal, "composition: the crash came with interrupts masked; the image ends"],
            102,
        ));
        // Into the guard page below its stack: a fault the crasher ends on
        // alone, its thread landing at its stack's end.
        let overflow = [
            "[crasher] holding the Fragile session, about to run off my stack",
            if pbx_board {
                "FAULT: data abort at pc="
            } else {
                "FAULT: store/AMO access fault at pc="
            },
            "is in the guard page below the stack of component `crasher`: its thread ran off its stack",
            "composition: crasher faulted; it ends, the others run on",
            "[survivor] ok: the Fragile session the crasher held is mine",
            "[survivor] contained: 0 checks failed",
        ];
        cases.push(console_case(board, "contained", &["overflow"], &overflow, 102));
        // A server's thread that faults while it serves a call ends the
        // server as a whole, as its panic would: the caller hears
        // ServerDead, the composer reaps the server's threads.
        cases.push(console_case(
            board,
            "contained",
            &["server-fault"],
            &[
                "composition: crasher panicked; it ends, the others run on",
                "[survivor] ok: the Fragile server answers",
                illegal,
                "composition: fragile faulted; it ends, the others run on",
                "composition: fragile has ended: 2 threads reaped, 1 of its sessions reclaimed",
                "[survivor] ok: the Fragile server's fault comes back as ServerDead",
                "[survivor] ok: the ended server answers no more",
                "[survivor] contained: 0 checks failed",
            ],
            101,
        ));
        // The Timer service: eight sessions on the board's one alarm, in
        // order, each within one tick (exact virtual time under -icount).
        let mut timers = console_case(
            board,
            "timers",
            &[],
            &[
                "[ticker] ok: a Timer session refuses a period below its quota",
                "[ticker] ok: a Timer session without a quota refuses a period below the floor, not a one-shot",
                "[ticker] ok: a Timer session refuses its own capability as the signal to raise",
                "[ticker] ok: 8 Timer sessions fire in the order of their deadlines, each within one tick",
                "[ticker] ok: a periodic timeout fires every period",
                "[ticker] ok: a closed Timer session's armed timeout never fires",
                "[ticker] ok: one signal, two sessions: each wait names the session that fired",
                "[ticker] ok: a 20 ms sleep lasts 20 ms though a timeout fell before it",
                "[ticker] ok: a 1 ms sleep on a session with a 5 ms quota sleeps 5 ms",
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
                "[client] forged? ?[victim] this line is the client's??[2J",
                "[client] ok: upgrades beyond what the route allows are refused, up to it they are not",
                "[client] ok: a closed session's capability is dead",
                "[client] ok: after closing, label \"b\" falls to the catch-all route (greeter_a)",
                "composition: greeter_b refused refused's Greeter session",
                "composition: client refused not started: invalid capability",
                "[late] ok: the client's closed LOG session refused its next line",
                "[late] ok: a destroyed client's LOG session is closed with it",
                "[late] ok: a client that claims its exit runs no further",
                "[late] ok: a client whose session is refused is not started, and the others go on",
                "[late] ok: a route without an upgrade allowance refuses every upgrade",
                "[late] sessions: 0 checks failed",
            ],
            // `refused`'s FAILURE: the checks all passed.
            1,
        ));
        // A release image says only `PANIC`; the host's source line for the
        // return address into main found on the stack says where. A debug
        // image prints the panic's location and message too.
        let line = crash_line("panic");
        let mut case = console_case(
            board,
            "crash",
            &["panic"],
            &[
                "PANIC (release image: the backtrace shows where)",
                "backtrace: 0x",
                &format!("at {CRASH_SOURCE}:{line} (crash::main)"),
            ],
            101,
        );
        if let Check::Console { debug_lines, .. } = &mut case.check {
            *debug_lines = Some(vec![
                format!("PANIC at {CRASH_SOURCE}:{line}:"),
                "crash test asked to panic".into(),
                "backtrace: 0x".into(),
                format!("at {CRASH_SOURCE}:{line} (crash::main)"),
            ]);
        }
        cases.push(case);
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
    // PBX-A9's MMU: the null page is not mapped, code is read-only, RAM
    // never runs (QEMU's board reads unbacked addresses as zero and the
    // CPU with the MMU off writes and runs anything).
    cases.push(console_case(
        pbx,
        "crash",
        &["bad-access", "0"],
        &[
            "FAULT: data abort at pc=0x701",
            "address=0x00000000 status=0x5 (translation fault)",
            &format!("{CRASH_SOURCE}:{} (crash::main)", crash_line("bad-access")),
        ],
        102,
    ));
    cases.push(console_case(
        pbx,
        "crash",
        &["write-code"],
        &[
            "FAULT: data abort at pc=0x701",
            "(permission fault)",
            &format!("{CRASH_SOURCE}:{} (crash::main)", crash_line("write-code")),
        ],
        102,
    ));
    cases.push(Case {
        name: "crash write-code over the MMU's tables on realview-pbx-a9".into(),
        board: pbx,
        app: "crash",
        options: RunOptions::default(),
        timeout: Duration::from_secs(60),
        check: Check::Scripted(write_tables),
    });
    cases.push(console_case(
        pbx,
        "crash",
        &["run-data"],
        &["FAULT: prefetch abort at pc=0x701", "status=0xf (permission fault)"],
        102,
    ));
    // The boot thread runs off its stack into the guard below it (PBX-A9:
    // an unmapped page, MicroBlaze V: a region locked with PMP): a fault
    // before anything below is written, named by the host.
    cases.push(console_case(
        pbx,
        "crash",
        &["main-stack-guard"],
        &[
            "FAULT: data abort at pc=0x701",
            "(translation fault)",
            "is in the guard page below the boot stack: the boot thread ran off its stack",
            "backtrace: 0x",
        ],
        102,
    ));
    cases.push(console_case(
        mbv,
        "crash",
        &["main-stack-guard"],
        &[
            "FAULT: store/AMO access fault at pc=0x800",
            "(mcause=7)",
            "is in the guard page below the boot stack: the boot thread ran off its stack",
            "backtrace: 0x",
        ],
        102,
    ));
    // So does a thread on a stack of `thread_stack!` (every component's),
    // into the guard page below that stack, which the host names.
    cases.push(console_case(
        pbx,
        "crash",
        &["thread-stack-guard"],
        &[
            "FAULT: data abort at pc=0x701",
            "(translation fault)",
            "is in the guard page below the stack of `crash::overflow::GUARDED_STACK`",
            "backtrace: 0x",
            &format!(
                "{CRASH_SOURCE}:{} (crash::overflow::recurse)",
                crash_line("thread-stack-guard")
            ),
        ],
        102,
    ));
    cases.push(console_case(
        mbv,
        "crash",
        &["thread-stack-guard"],
        &[
            "FAULT: store/AMO access fault at pc=0x800",
            "(mcause=7)",
            "is in the guard page below the stack of `crash::overflow::GUARDED_STACK`",
            "backtrace: 0x",
            &format!(
                "{CRASH_SOURCE}:{} (crash::overflow::recurse)",
                crash_line("thread-stack-guard")
            ),
        ],
        102,
    ));
    // The idle thread's stack has its guard page too (an interrupt taken
    // while the image idles runs on that stack); a store into it faults,
    // and the host names the stack.
    for (board, fault, kind) in [
        (pbx, "FAULT: data abort at pc=0x701", "(translation fault)"),
        (mbv, "FAULT: store/AMO access fault at pc=0x800", "(mcause=7)"),
    ] {
        let source = format!("{CRASH_SOURCE}:{} (crash::main)", crash_line("idle-stack-guard"));
        let guard = "is in the guard page below the stack of `idle`";
        let mut case = console_case(
            board,
            "crash",
            &["idle-stack-guard"],
            // Release builds inline the store: its line is the pc's.
            &[fault, kind, &source, guard],
            102,
        );
        // Debug builds call it: the line is the return address's, after
        // the address's note.
        if let Check::Console { debug_lines, .. } = &mut case.check {
            *debug_lines = Some([fault, kind, guard, &source].map(String::from).to_vec());
        }
        cases.push(case);
    }
    // MicroBlaze V's PMP: code is not written, RAM is not run.
    cases.push(console_case(
        mbv,
        "crash",
        &["write-code"],
        &[
            "FAULT: store/AMO access fault at pc=0x800",
            "(mcause=7)",
            &format!("{CRASH_SOURCE}:{} (crash::main)", crash_line("write-code")),
        ],
        102,
    ));
    cases.push(console_case(
        mbv,
        "crash",
        &["run-data"],
        &["FAULT: instruction access fault at pc=0x800", "(mcause=1)"],
        102,
    ));
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

/// `crash write-code` at the first word of the MMU's level 1 table (the
/// linker script's `__ttb_start`): mapped read-only once the MMU is on, so
/// the store is a permission fault at that address.
fn write_tables(script: &Scripted<'_>) -> Result<(), Failure> {
    let fail = |message: String, console: String| Failure { message, console };
    let tables = crate::measure::symbol_address(script.image, "__ttb_start")
        .map_err(|message| fail(message, String::new()))?;
    let args = ["crash".to_string(), "write-code".into(), format!("{tables:x}")];
    let options = RunOptions { args: args.to_vec(), ..script.options.clone() };
    let outcome = harness::run(
        script.board.qemu,
        &script.board.qemu_args(script.image, &options),
        script.timeout,
    )
    .map_err(|error| fail(error.to_string(), String::new()))?;
    let console = outcome.console;
    let wanted = [
        "FAULT: data abort at pc=0x701".to_string(),
        format!("address={tables:#010x}"),
        "(permission fault)".into(),
    ];
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    if let Some(missing) = harness::missing_in_order(&console, &wanted) {
        return Err(fail(format!("console lacks {missing:?}"), console));
    }
    if outcome.status != Some(102) {
        return Err(fail(format!("exit status {:?}, expected 102", outcome.status), console));
    }
    Ok(())
}

/// date-std's `SystemTime`: on PBX-A9 the date the Rtc service reads from
/// the PL031, which QEMU starts at the host's time, so within a minute of
/// the host's clock; on the MicroBlaze V, which has no real-time clock,
/// the time since boot. Its date line must be what the host's `date`
/// makes of those seconds, and the date must follow a 1.5 s sleep.
fn date_std(s: &Scripted<'_>) -> Result<(), Failure> {
    let failure = |message: String, console: String| Failure { message, console };
    let running = harness::spawn(s.board.qemu, &s.board.qemu_args(s.image, s.options))
        .map_err(|error| failure(error.to_string(), String::new()))?;
    let outcome = running.finish(s.timeout);
    let console = outcome.console.clone();
    let host = harness::host_unix_seconds();
    let prefix = "[app] wall clock: ";
    let line = console.lines().find(|line| line.starts_with(prefix)).unwrap_or_default();
    let Some(seconds) = line
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(" s since 1970"))
        .and_then(|number| number.parse::<u64>().ok())
    else {
        return Err(failure(format!("no wall clock line ({line:?})"), console));
    };
    let expected = if s.board.name == "realview-pbx-a9" { host } else { 0 };
    if seconds.abs_diff(expected) > 60 {
        let message = format!("wall clock {seconds} s, expected {expected} within 60 s");
        return Err(failure(message, console));
    }
    let date = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map_err(|error| failure(format!("the host's date: {error}"), console.clone()))?;
    let date = String::from_utf8_lossy(&date.stdout).trim().to_string();
    let wanted = [
        format!("[app] the date: {date}"),
        "[app] after a 1.5 s sleep the date moved 1.5 s".to_string(),
    ];
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    if let Some(missing) = harness::missing_in_order(&console, &wanted) {
        return Err(failure(format!("console lacks {missing:?}"), console));
    }
    if outcome.status != Some(0) {
        return Err(failure(format!("exit status {:?}", outcome.status), console));
    }
    Ok(())
}

/// hello-std's `stdin` mode: lines typed on the console UART reach std's
/// stdin through the Terminal driver component, Enter's carriage return
/// ends a line, and Ctrl-D ends the input.
fn hello_std_stdin(s: &Scripted<'_>) -> Result<(), Failure> {
    let failure = |message: &str, console: String| Failure { message: message.into(), console };
    let mut running = harness::spawn(s.board.qemu, &s.board.qemu_args(s.image, s.options))
        .map_err(|error| failure(&error.to_string(), String::new()))?;
    if !running.wait_for("[app] reading stdin, Ctrl-D ends", s.timeout) {
        return Err(failure("no line saying it reads stdin", running.report()));
    }
    // A line longer than the UART's receive FIFO, so it arrives through
    // several interrupts; then an empty line; each ended as Enter ends it.
    let long: String = (0..40).map(|i| format!("{i:02}-")).collect();
    for input in [&b"first line\r"[..], format!("{long}\n").as_bytes(), b"\r", &[0x04]] {
        running.send(input).map_err(|error| failure(&error.to_string(), running.report()))?;
    }
    let outcome = running.finish(Duration::from_secs(20));
    let expected = [
        "[app] stdin line 1: \"first line\"".to_string(),
        format!("[app] stdin line 2: \"{long}\""),
        "[app] stdin line 3: \"\"".to_string(),
        format!("[app] stdin: 3 lines, {} bytes, then the end", 10 + long.len()),
    ];
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    if let Some(missing) = harness::missing_in_order(&outcome.console, &expected) {
        return Err(failure(&format!("console lacks {missing:?}"), outcome.console));
    }
    if outcome.status != Some(0) {
        return Err(failure(&format!("exit status {:?}", outcome.status), outcome.console));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The code blocks of the README's "Adding an app" section, in order,
    /// without the list item's indentation: what a newcomer copies.
    fn readme_example_blocks(readme: &str) -> Vec<(String, String)> {
        let section = readme
            .split("\n## Adding an app\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_default();
        let mut blocks = Vec::new();
        let mut lines = section.lines();
        while let Some(line) = lines.next() {
            let Some(language) = line.trim_start().strip_prefix("```").filter(|l| !l.is_empty())
            else {
                continue;
            };
            let indent = line.len() - line.trim_start().len();
            let mut body = String::new();
            for line in lines.by_ref() {
                if line.trim_start() == "```" {
                    break;
                }
                body.push_str(line.get(indent..).unwrap_or(line.trim_start()));
                body.push('\n');
            }
            blocks.push((language.to_string(), body));
        }
        blocks
    }

    fn read(path: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// The first line where `shown` and `file` differ, for the message.
    fn first_difference(shown: &str, file: &str) -> String {
        let line = shown.lines().zip(file.lines()).position(|(a, b)| a != b);
        match line {
            Some(index) => format!(
                "line {}: README {:?}, file {:?}",
                index + 1,
                shown.lines().nth(index).unwrap_or_default(),
                file.lines().nth(index).unwrap_or_default()
            ),
            None => format!(
                "{} lines in the README, {} in the file",
                shown.lines().count(),
                file.lines().count()
            ),
        }
    }

    #[test]
    fn the_readme_shows_the_greeter_app_whole() {
        let blocks = readme_example_blocks(&read("README.md"));
        let block = |language: &str| {
            blocks
                .iter()
                .find(|(l, _)| l == language)
                .map(|(_, body)| body.clone())
                .unwrap_or_else(|| panic!("\"Adding an app\" has no {language} block"))
        };
        for (language, path) in
            [("toml", "apps/greeter/Cargo.toml"), ("rust", "apps/greeter/src/main.rs")]
        {
            let (shown, file) = (block(language), read(path));
            assert!(
                shown == file,
                "README's {language} block is not {path}: {}",
                first_difference(&shown, &file)
            );
        }
    }

    #[test]
    fn example_blocks_lose_their_list_indentation_and_stop_at_their_fence() {
        let readme = "# x\n## Adding an app\n1. a\n   ```toml\n   [a]\n     b = 1\n   ```\n```rust\nfn f() {}\n```\n## Next\n```c\nno\n```\n";
        let blocks = readme_example_blocks(readme);
        assert_eq!(
            blocks,
            [
                ("toml".to_string(), "[a]\n  b = 1\n".to_string()),
                ("rust".to_string(), "fn f() {}\n".to_string())
            ]
        );
    }
}
