//! `cargo xtask stacks` on hello, on both boards: the image runs to its
//! exit under gdb, and every stack of its composition is found and was
//! used, none to its end (the composer's boot stack, which hello sets to
//! 4 KiB with `parent_stack`, at most half used). And on `crash
//! bad-access`: the exception stack its fault is reported on (PBX-A9's
//! abort mode stack, MicroBlaze V's fault stack) was used, not to its end.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::stacks;

/// The stacks hello must have, each used.
const EXPECTED: [&str; 4] = ["log", "hello", "idle", "main (boot stack)"];

pub fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| Case {
            name: format!("stacks of hello on {name}"),
            board: board(name),
            app: "hello",
            options: RunOptions { args: vec!["hello".into()], ..Default::default() },
            timeout: Duration::from_secs(90),
            check: Check::Scripted(check),
        })
        .collect();
    for name in ["realview-pbx-a9", "microblaze-v"] {
        cases.push(Case {
            name: format!("stacks of crash bad-access on {name}: the fault report's"),
            board: board(name),
            app: "crash",
            options: RunOptions {
                args: vec!["crash".into(), "bad-access".into()],
                ..Default::default()
            },
            timeout: Duration::from_secs(90),
            check: Check::Scripted(fault_report_stack),
        });
    }
    cases
}

/// `crash bad-access` reports its fault on an exception stack (PBX-A9's
/// abort mode stack, MicroBlaze V's fault stack) and exits: the stack was
/// used by the report, and not to its end.
fn fault_report_stack(script: &Scripted<'_>) -> Result<(), Failure> {
    let stack = match script.board.name {
        "microblaze-v" => "fault (exception stack)",
        _ => "abort (exception stack)",
    };
    let measured = measure(script)?;
    if !measured.at_exit || !measured.console.contains("FAULT: ") {
        return Err(failure(
            &measured,
            "crash was not stopped at its exit after the fault report".into(),
        ));
    }
    used_not_full(&measured, stack)
}

/// Runs the case's image to its exit (or 30 s) under gdb and measures
/// its stacks.
fn measure(script: &Scripted<'_>) -> Result<stacks::Measurement, Failure> {
    stacks::measure(script.board, script.image, script.options, Duration::from_secs(30))
        .map_err(|message| Failure { message, console: String::new() })
}

/// A failed check of `measured`: the console, gdb's output and the table.
fn failure(measured: &stacks::Measurement, message: String) -> Failure {
    Failure {
        message,
        console: format!(
            "{}\n--- gdb ---\n{}\n--- stacks ---\n{}",
            measured.console,
            measured.gdb,
            stacks::table(&measured.stacks)
        ),
    }
}

/// The stack `name` was found in `measured`, and used, not to its end.
fn used_not_full(measured: &stacks::Measurement, name: &str) -> Result<(), Failure> {
    let Some(stack) = measured.stacks.iter().find(|stack| stack.name == name) else {
        return Err(failure(measured, format!("no stack {name:?} found")));
    };
    if stack.peak == 0 || stack.peak >= stack.size {
        return Err(failure(
            measured,
            format!(
                "stack {name:?}: peak {} of {} bytes (expected used, not to its end)",
                stack.peak, stack.size
            ),
        ));
    }
    Ok(())
}

fn check(script: &Scripted<'_>) -> Result<(), Failure> {
    let measured = measure(script)?;
    let failure = |message: String| failure(&measured, message);
    if !measured.at_exit {
        return Err(failure("hello was not stopped at its exit".into()));
    }
    if !measured.console.contains("[hello] Hello from Ferrode on") {
        return Err(failure("hello did not print its line".into()));
    }
    for name in EXPECTED {
        used_not_full(&measured, name)?;
    }
    // hello declares `parent_stack: 4096`.
    let main = measured.stacks.iter().find(|stack| stack.name == "main (boot stack)");
    if main.is_none_or(|main| main.size != 4096 || main.peak > 2048) {
        return Err(failure(
            "the composer's boot stack is not hello's parent_stack of 4 KiB, or over half used"
                .into(),
        ));
    }
    Ok(())
}
