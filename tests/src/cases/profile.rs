//! `cargo xtask profile` on hello on PBX-A9: the image runs to its exit
//! under the exec log; hello's function, the kernel's and the arch
//! crate's `exit` all have instructions, next to none fall outside every
//! function, and counting from the app's main skips as many instructions
//! as [`measure::instructions_to_main`] counts in a run of its own.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::measure::{self, MAIN_SYMBOL};
use crate::profile::{self, Counts, NO_SYMBOL, Symbols};

/// How far the instructions before main may differ between the two runs,
/// in percent: the profile runs under `-icount`, the boot count without.
const BOOT_TOLERANCE: f64 = 2.0;

pub fn cases() -> Vec<Case> {
    vec![Case {
        name: "profile of hello on realview-pbx-a9".into(),
        board: board("realview-pbx-a9"),
        app: "hello",
        options: RunOptions { args: vec!["hello".into()], ..Default::default() },
        timeout: Duration::from_secs(20),
        check: Check::Scripted(check),
    }]
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
