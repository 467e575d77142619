//! `cargo xtask profile` on PBX-A9.
//!
//! hello: the image runs to its exit under the exec log; hello's function,
//! the kernel's and the arch crate's `exit` all have instructions, next to
//! none fall outside every function, and counting from the app's main
//! skips as many instructions as [`measure::instructions_to_main`] counts
//! in a run of its own. By source line (`--lines hello::hello`), hello's
//! function was entered once and the line that writes its greeting has
//! instructions.
//!
//! echo-net-direct with `--tcp-echo` (64 KiB): the echo comes back intact,
//! the boot is left out (`_start` has no instructions, some were skipped),
//! the network's known functions (the checksum, the memcpy family, the
//! driver's transmit, the echo) have instructions, and the instructions
//! per echoed byte are within [`PER_BYTE_BAND`] of `bench net`'s budget.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::figures::Budgets;
use crate::harness::symbolize::{Symbolizer, line_of};
use crate::measure::{self, MAIN_SYMBOL};
use crate::profile::{self, Counts, NO_SYMBOL, Row, Symbols};

/// How far the instructions before main may differ between the two runs,
/// in percent: the profile runs under `-icount`, the boot count without.
const BOOT_TOLERANCE: f64 = 2.0;

/// Bytes the echo case sends: 64 KiB, about 0.85 million instructions
/// counted, a few seconds under the exec log.
const ECHO_BYTES: usize = 64 << 10;

/// The instructions per echoed byte the echo case accepts, as factors of
/// the budget of `bench net`'s direct-driver figure (a little above that
/// figure). The profile counts the idle instructions too, which the bench
/// leaves out: under the slow exec log the guest has little idle time
/// (the two agree within a few percent), but a loaded host may add
/// more; a small echo has a larger share of connection set-up.
const PER_BYTE_BAND: (f64, f64) = (0.8, 3.0);

/// Whether a profile's row is of a kind of function the echo case expects.
type RowTest = fn(&Row) -> bool;

/// The budget file, for `bench net`'s figure.
const BUDGETS: &str = include_str!("../../budgets.toml");

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "profile of hello on realview-pbx-a9".into(),
            board: board("realview-pbx-a9"),
            app: "hello",
            options: RunOptions { args: vec!["hello".into()], ..Default::default() },
            timeout: Duration::from_secs(20),
            check: Check::Scripted(check),
        },
        Case {
            name: "profile of echo-net-direct on realview-pbx-a9 through a TCP echo".into(),
            board: board("realview-pbx-a9"),
            app: "echo-net-direct",
            options: RunOptions { args: vec!["echo-net-direct".into()], ..Default::default() },
            timeout: Duration::from_secs(20),
            check: Check::Scripted(check_tcp_echo),
        },
    ]
}

fn check_tcp_echo(script: &Scripted<'_>) -> Result<(), Failure> {
    let plain = |message: String| Failure { message, console: String::new() };
    let symbols = Symbols::from_image(script.image).map_err(plain)?;
    let budget_key = format!("{}.net.direct_instructions_per_byte", script.board.name);
    let budget = Budgets::parse(BUDGETS)
        .map_err(plain)?
        .0
        .get(&budget_key)
        .copied()
        .ok_or_else(|| plain(format!("tests/budgets.toml has no {budget_key}")))?;
    // The boot and the echo get a third of the case's time each.
    let limit = script.timeout / 3;
    let profiled = profile::run_tcp_echo(
        script.board,
        script.image,
        script.app,
        script.options,
        ECHO_BYTES,
        limit,
    )
    .map_err(plain)?;
    let counts = &profiled.counts;
    let rows = profile::by_function(&symbols, &counts.by_pc);
    let table = profile::table(&rows, 30);
    let total = counts.total();
    let per_byte = total as f64 / ECHO_BYTES as f64;
    let failure = |message: String| Failure {
        message,
        console: format!(
            "{}\n--- profile ---\n{}\n{table}",
            profiled.console,
            profile::per_byte_line(total, ECHO_BYTES)
        ),
    };
    let counted = |matches: &dyn Fn(&Row) -> bool| {
        rows.iter().filter(|row| matches(row)).map(|row| row.instructions).sum::<u64>()
    };
    let expected: [(&str, RowTest); 5] = [
        ("ferrode_net::checksum::", |row| row.name.starts_with("ferrode_net::checksum::")),
        ("the memcpy family", |row| {
            row.name.starts_with("__aeabi_memcpy") || row.name.ends_with("memcpy")
        }),
        ("the driver's transmit", |row| row.name.ends_with("EthernetDevice>::transmit")),
        ("ferrode_net::echo::Echo::serve", |row| row.name == "ferrode_net::echo::Echo::serve"),
        (MAIN_SYMBOL, |row| row.name == MAIN_SYMBOL),
    ];
    for (what, matches) in expected {
        if counted(&matches) == 0 {
            return Err(failure(format!("no instructions counted in {what}")));
        }
    }
    if counted(&|row| row.name == "_start") > 0 || counts.skipped == 0 {
        return Err(failure(format!(
            "the boot was counted ({} instructions skipped before the echo)",
            counts.skipped
        )));
    }
    let outside = counted(&|row| row.name == NO_SYMBOL);
    if outside * 100 > total {
        return Err(failure(format!("{outside} of {total} instructions outside every function")));
    }
    let (low, high) = (budget * PER_BYTE_BAND.0, budget * PER_BYTE_BAND.1);
    if !(low..=high).contains(&per_byte) {
        return Err(failure(format!(
            "{per_byte:.2} instructions per echoed byte, outside {low:.1}..{high:.1} \
             ({}x to {}x bench net's budget of {budget})",
            PER_BYTE_BAND.0, PER_BYTE_BAND.1
        )));
    }
    Ok(())
}

/// hello's source, for the line `--lines` must find.
const HELLO_SOURCE: &str = include_str!("../../../apps/hello/src/main.rs");

/// `--lines hello::hello`: hello's function was entered once, and the line
/// that writes its greeting (in apps/hello/src/main.rs) has instructions.
fn check_lines(script: &Scripted<'_>, symbols: &Symbols, counts: &Counts) -> Result<(), String> {
    let code = symbols.named("hello::hello");
    let symbolizer = Symbolizer::load(script.image)?;
    let rows = profile::by_line(|pc| symbolizer.frames(pc & !1), &code, &counts.by_pc);
    let entries = profile::entries(&code, &counts.by_pc);
    let table = profile::lines_table("hello::hello", &rows, entries, 30);
    if entries != 1 {
        return Err(format!("hello::hello entered {entries} times, not once:\n{table}"));
    }
    let line = line_of(HELLO_SOURCE, "log.write_parts(")
        .ok_or("apps/hello/src/main.rs has no `log.write_parts(`")?;
    let wanted = format!("apps/hello/src/main.rs:{line} ");
    if !rows.iter().any(|row| row.location.starts_with(&wanted) && row.instructions > 0) {
        return Err(format!("no instructions at {wanted}in hello::hello's lines:\n{table}"));
    }
    Ok(())
}

fn check(script: &Scripted<'_>) -> Result<(), Failure> {
    let plain = |message: String| Failure { message, console: String::new() };
    let symbols = Symbols::from_image(script.image).map_err(plain)?;
    let main = symbols.named(MAIN_SYMBOL);
    if main.is_empty() {
        return Err(plain(format!("no function {MAIN_SYMBOL} among the image's symbols")));
    }
    let profiled = profile::run(
        script.board,
        script.image,
        script.options,
        Duration::from_secs(10),
        Counts::starting_at(main),
    )
    .map_err(plain)?;
    let rows = profile::by_function(&symbols, &profiled.counts.by_pc);
    let table = profile::table(&rows, 30);
    let failure = |message: String| Failure {
        message,
        console: format!("{}\n--- profile ---\n{table}", profiled.console),
    };
    if profiled.timed_out || profiled.status != Some(0) {
        return Err(failure(format!(
            "hello did not exit with 0 (status {:?}, stopped: {})",
            profiled.status, profiled.timed_out
        )));
    }
    let counted = |name: &str| rows.iter().find(|row| row.name == name).map(|row| row.instructions);
    let exit = script.board.exit_symbol;
    for name in ["hello::hello", MAIN_SYMBOL, exit] {
        if counted(name).unwrap_or(0) == 0 {
            return Err(failure(format!("no instructions counted in {name}")));
        }
    }
    if !rows.iter().any(|row| row.name.starts_with("ferrode_kernel::") && row.instructions > 0) {
        return Err(failure("no instructions counted in the kernel".into()));
    }
    let total = profiled.counts.total();
    let outside = counted(NO_SYMBOL).unwrap_or(0);
    if outside * 100 > total {
        return Err(failure(format!("{outside} of {total} instructions outside every function")));
    }
    check_lines(script, &symbols, &profiled.counts).map_err(failure)?;
    let boot = measure::instructions_to_main(script.board, script.image, script.app)?;
    let skipped = profiled.counts.skipped;
    let off = (skipped as f64 - boot as f64).abs() * 100.0 / boot.max(1) as f64;
    if off > BOOT_TOLERANCE {
        return Err(failure(format!(
            "{skipped} instructions before {MAIN_SYMBOL} in the profile, {boot} in a boot \
             count of their own ({off:.1} % apart; at most {BOOT_TOLERANCE} % expected)"
        )));
    }
    Ok(())
}
