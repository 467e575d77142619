//! gdb through QEMU's GDB server, as `cargo xtask gdb` sets it up: QEMU
//! halted at reset on a free port, gdb-multiarch in batch mode with the
//! image's symbols. On both boards, in each profile the crash app's cases
//! run in: break at the crash app's `main`, continue, read a local variable
//! (the buffer `main` fills with the command line), step, read registers,
//! and a backtrace that ends at `_start` (the boot code marks the outermost
//! frame) without gdb's "corrupt stack?".

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness;

/// The crash app's command line here: a word it does not know, so it
/// prints its usage and exits if it ever runs to the end.
const WORDS: [&str; 2] = ["crash", "gdb-probe"];

/// The gdb case on each board, and on PBX-A9 the SCTLR and L2 cases.
pub fn cases() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| crash_case(format!("gdb steps through crash on {name}"), name, session))
        .chain([
            crash_case(
                // On PBX-A9, gdb also reads SCTLR (QEMU's GDB server shows
                // the CP15 registers) at the crash app's `main`: the MMU,
                // the caches, branch prediction and alignment checks must
                // be on by then. QEMU models no caches, so this is the one
                // place their enable bits can be seen.
                "gdb reads SCTLR at main: MMU, caches and branch prediction on, on realview-pbx-a9"
                    .into(),
                "realview-pbx-a9",
                sctlr_session,
            ),
            crash_case(
                // The same for the L2 cache: gdb reads the L2C-310's
                // registers (QEMU's `l2x0` model keeps what is written to
                // Control) at `main`.
                "gdb reads the L2 cache controller at main: L2 cache on, on realview-pbx-a9".into(),
                "realview-pbx-a9",
                l2_cache_session,
            ),
        ])
        .collect()
}

/// A case that runs the crash app with [`WORDS`] on board `name` under gdb.
fn crash_case(case: String, name: &str, script: fn(&Scripted<'_>) -> Result<(), Failure>) -> Case {
    Case {
        name: case,
        board: board(name),
        app: "crash",
        options: RunOptions {
            args: WORDS.iter().map(|word| word.to_string()).collect(),
            ..Default::default()
        },
        timeout: Duration::from_secs(90),
        check: Check::Scripted(script),
    }
}

/// SCTLR's M, A, C, Z and I bits (ARM ARM B4.1.130).
const SCTLR_ON: u64 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 11) | (1 << 12);

fn sctlr_session(script: &Scripted<'_>) -> Result<(), Failure> {
    let failure = |message: String, console: &str| Failure { message, console: console.into() };
    let commands: Vec<String> = [
        "break crash::main",
        "continue",
        "echo @@sctlr\\n",
        "print/x $SCTLR",
        "echo @@end\\n",
        "kill",
    ]
    .iter()
    .map(|command| command.to_string())
    .collect();
    let (qemu, gdb) = harness::gdb_batch(script.board, script.image, script.options, &commands)
        .map_err(|(message, console)| failure(message, &console))?;
    let output = gdb.finish(script.timeout).console;
    let report = format!("{output}\n--- image console ---\n{}", qemu.console());
    let sctlr = section(&output, "sctlr")
        .map_err(|message| failure(message, &report))?
        .lines()
        .find(|line| line.starts_with('$'))
        .and_then(first_hex)
        .ok_or_else(|| failure("gdb printed no SCTLR".into(), &report))?;
    if sctlr & SCTLR_ON != SCTLR_ON {
        return Err(failure(
            format!(
                "SCTLR is {sctlr:#x} at main: bits {:#x} of {SCTLR_ON:#x} are off",
                !sctlr & SCTLR_ON
            ),
            &report,
        ));
    }
    Ok(())
}

/// The PBX-A9's L2C-310 (`memory_map::L2_CACHE_BASE`): its Cache ID
/// and Control registers (L2C-310 TRM, DDI 0246, 3.3).
const L2_CACHE_ID: u64 = 0x1f00_2000;
const L2_CONTROL: u64 = 0x1f00_2100;

fn l2_cache_session(script: &Scripted<'_>) -> Result<(), Failure> {
    let failure = |message: String, console: &str| Failure { message, console: console.into() };
    // `x` reads the words through QEMU's GDB server, whatever language
    // the frame is in; the MMU maps them as Device memory.
    let commands: Vec<String> = vec![
        "break crash::main".into(),
        "continue".into(),
        "echo @@l2\\n".into(),
        format!("x/1wx {L2_CACHE_ID:#x}"),
        format!("x/1wx {L2_CONTROL:#x}"),
        "echo @@end\\n".into(),
        "kill".into(),
    ];
    let (qemu, gdb) = harness::gdb_batch(script.board, script.image, script.options, &commands)
        .map_err(|(message, console)| failure(message, &console))?;
    let output = gdb.finish(script.timeout).console;
    let report = format!("{output}\n--- image console ---\n{}", qemu.console());
    check_l2_cache(&output).map_err(|message| failure(message, &report))
}

/// Checks the words gdb's `x` printed: an Arm L2C-310 at the base, and
/// Control's enable bit (bit 0) set.
fn check_l2_cache(output: &str) -> Result<(), String> {
    let section = section(output, "l2")?;
    let word = |address: u64| {
        section
            .lines()
            .find(|line| line.starts_with(&format!("{address:#x}")))
            .and_then(|line| line.split_once(':'))
            .and_then(|(_, value)| first_hex(value))
            .ok_or_else(|| format!("gdb printed no word at {address:#x}: {:?}", section.trim()))
    };
    let cache_id = word(L2_CACHE_ID)?;
    // Implementer 0x41 (bits 31:24), part number 0b0011 (bits 9:6).
    if cache_id >> 24 != 0x41 || (cache_id >> 6) & 0xf != 0b0011 {
        return Err(format!("the Cache ID is {cache_id:#x}: no L2C-310 at {L2_CACHE_ID:#x}"));
    }
    let control = word(L2_CONTROL)?;
    if control & 1 == 0 {
        return Err(format!("the L2 cache's Control is {control:#x} at main: the L2 is off"));
    }
    Ok(())
}

/// gdb's commands, with `echo` markers that split its output into sections.
const COMMANDS: &[&str] = &[
    "break crash::main",
    "continue",
    // Past `let mut buffer = ...` and the `cmdline` call that fills it.
    "next",
    "next",
    "echo @@local\\n",
    "print buffer",
    "echo @@before\\n",
    "frame",
    "step",
    "echo @@after\\n",
    "frame",
    "print/x $pc",
    "echo @@registers\\n",
    "info registers pc sp",
    "echo @@backtrace\\n",
    "bt",
    "echo @@end\\n",
    "kill",
];

fn session(script: &Scripted<'_>) -> Result<(), Failure> {
    let failure = |message: String, console: &str| Failure { message, console: console.into() };
    let commands: Vec<String> = COMMANDS.iter().map(|command| command.to_string()).collect();
    let (qemu, gdb) = harness::gdb_batch(script.board, script.image, script.options, &commands)
        .map_err(|(message, console)| failure(message, &console))?;
    let outcome = gdb.finish(script.timeout);
    let output = outcome.console;
    let report = format!("{output}\n--- image console ---\n{}", qemu.console());
    check_session(&output).map_err(|message| failure(message, &report))
}

/// The text between `@@name` and the next marker.
fn section<'a>(output: &'a str, name: &str) -> Result<&'a str, String> {
    let marker = format!("@@{name}\n");
    let start = output
        .find(&marker)
        .map(|at| at + marker.len())
        .ok_or_else(|| format!("gdb did not get to the {name} commands"))?;
    let rest = &output[start..];
    Ok(&rest[..rest.find("@@").unwrap_or(rest.len())])
}

/// The first `0x...` number in `text`.
fn first_hex(text: &str) -> Option<u64> {
    let at = text.find("0x")?;
    let digits: String = text[at + 2..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u64::from_str_radix(&digits, 16).ok()
}

/// Checks gdb's output against what the session must show.
fn check_session(output: &str) -> Result<(), String> {
    if !output.contains("Breakpoint 1, crash::main () at apps/crash/src/main.rs:") {
        return Err("gdb did not stop at the breakpoint in crash::main".into());
    }
    // The local buffer holds the command line, byte by byte.
    let bytes: Vec<String> = WORDS.join(" ").bytes().map(|byte| byte.to_string()).collect();
    let expected = format!("= [{}, 0 <repeats", bytes.join(", "));
    let local = section(output, "local")?;
    if !local.contains(&expected) {
        return Err(format!("`print buffer` gave {:?}, expected {expected:?}...", local.trim()));
    }
    // `step` goes to another line or into a call (an inlined one leaves
    // the pc where it is): the innermost frame is another one.
    let frame = |text: &str| text.lines().find(|line| line.starts_with("#0")).map(String::from);
    let after_step = section(output, "after")?;
    let (before, after) = (frame(section(output, "before")?), frame(after_step));
    if before.is_none() || before == after {
        return Err(format!("`step` did not move on from {before:?} (now {after:?})"));
    }
    let after = after_step.lines().find(|line| line.starts_with('$')).and_then(first_hex);
    let registers = section(output, "registers")?;
    let register = |name: &str| {
        registers
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .and_then(first_hex)
    };
    if register("pc") != after || register("sp").is_none_or(|sp| sp == 0) {
        return Err(format!("`info registers pc sp` gave {:?}", registers.trim()));
    }
    let backtrace = section(output, "backtrace")?;
    let frames: Vec<&str> = backtrace.lines().filter(|line| line.starts_with('#')).collect();
    let ends_at_start = frames.last().is_some_and(|frame| frame.contains(" _start "));
    if !ends_at_start || !frames.iter().any(|frame| frame.contains("crash::main")) {
        return Err(format!("the backtrace does not run from crash::main to _start: {frames:?}"));
    }
    for complaint in ["corrupt stack", "Backtrace stopped"] {
        if output.contains(complaint) {
            return Err(format!("gdb says {complaint:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What gdb prints for a good session (shortened).
    const GOOD: &str = "Breakpoint 1, crash::main () at apps/crash/src/main.rs:24\n\
        @@local\n$1 = [99, 114, 97, 115, 104, 32, 103, 100, 98, 45, 112, 114, 111, 98, 101, 0 <repeats 113 times>]\n\
        @@before\n#0  crash::main () at apps/crash/src/main.rs:26\n26\t    let mut words\n\
        @@after\n#0  core::iter::traits::iterator::Iterator::skip (n=1) at iterator.rs:1345\n$3 = 0x80000604\n\
        @@registers\npc             0x80000604\t0x80000604 <crash::main+84>\nsp             0x80019110\t0x80019110\n\
        @@backtrace\n#0  crash::main () at apps/crash/src/main.rs:26\n#1  0x80000074 in _start ()\n@@end\n";

    /// What gdb prints for the L2 case with the cache on.
    const L2_ON: &str = "Breakpoint 1, crash::main () at apps/crash/src/main.rs:24\n\
        @@l2\n0x1f002000:\t0x410000c8\n0x1f002100:\t0x00000001\n@@end\n";

    #[test]
    fn the_l2_case_passes_with_the_cache_on_and_fails_otherwise() {
        assert_eq!(check_l2_cache(L2_ON), Ok(()));
        let broken = [
            L2_ON.replace("0x00000001", "0x00000000"),
            L2_ON.replace("0x410000c8", "0x00000000"),
            L2_ON.replace("0x1f002100:\t0x00000001\n", ""),
            L2_ON.replace("@@l2", "@@nothing"),
        ];
        for output in broken {
            assert!(check_l2_cache(&output).is_err(), "{output}");
        }
    }

    #[test]
    fn a_good_session_passes() {
        assert_eq!(check_session(GOOD), Ok(()));
    }

    #[test]
    fn each_missing_piece_fails() {
        let broken = [
            GOOD.replace("Breakpoint 1", "Breakpoint 2"),
            GOOD.replace("99, 114", "98, 114"),
            GOOD.replace(
                "#0  core::iter::traits::iterator::Iterator::skip (n=1) at iterator.rs:1345",
                "#0  crash::main () at apps/crash/src/main.rs:26",
            ),
            GOOD.replace("$3 = 0x80000604", "$3 = 0x800005ce"),
            GOOD.replace("pc             0x80000604", "pc             0x80000600"),
            GOOD.replace("in _start ()", "in ferrode_platform_start ()"),
            GOOD.replace(
                "@@end",
                "Backtrace stopped: previous frame identical to this frame (corrupt stack?)\n@@end",
            ),
            GOOD.replace("@@registers", "@@nothing"),
        ];
        for output in broken {
            assert!(check_session(&output).is_err(), "{output}");
        }
    }
}
