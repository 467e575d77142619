//! `cargo xtask profile`: where an image's instructions go, by function
//! (the counting is `ferrode_tests::profile`'s, shared with its QEMU case).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use ferrode_tests::harness::{self, symbolize};
use ferrode_tests::profile::{self, Counts, Symbols};

use crate::{apps, build, setup};

/// What `cargo xtask profile` was asked for.
pub struct ProfileOptions<'a> {
    /// Board name.
    pub board: &'a str,
    /// App name.
    pub app: &'a str,
    /// Release image.
    pub release: bool,
    /// Rows shown.
    pub top: usize,
    /// Wall-clock limit, after which QEMU is killed.
    pub seconds: u64,
    /// Count only from this function's first instruction.
    pub from: Option<&'a str>,
    /// `--forward`, as for `run`.
    pub forward: Option<u16>,
    /// The image's command line after its name.
    pub args: &'a [String],
}

/// Builds the image, runs it under QEMU's exec log until it exits (or for
/// `seconds`), then prints its console and the instructions per function.
pub fn run(options: &ProfileOptions<'_>) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(options.board, options.app)?;
    setup::ensure()?;
    setup::require_qemu(board)?;
    let image = build::build(board, &app.name, options.release)?;
    let symbols = Symbols::from_image(&image)?;
    let counts = match options.from {
        None => Counts::new(),
        Some(name) => {
            let code = symbols.named(name);
            if code.is_empty() {
                return Err(format!(
                    "{} has no function `{name}` for --from (give its path without the hash, \
                     e.g. `ferrode_app_main` or `hello::hello`)",
                    image.display()
                ));
            }
            Counts::starting_at(code)
        }
    };
    eprintln!(
        "profiling {} on {} (QEMU exec log, -icount) until it exits, at most {} s",
        app.name, board.name, options.seconds
    );
    let run_options = build::run_options(&app.name, options.forward, options.args);
    let profiled =
        profile::run(board, &image, &run_options, Duration::from_secs(options.seconds), counts)?;
    // The console as `run` shows it.
    let mut console = harness::defmt::Stream::new(&image).feed(&profiled.raw_console);
    console = symbolize::Stream::new(&image).feed(&console);
    let mut out = std::io::stdout();
    let _ = out.write_all(&console);
    println!();
    let counts = &profiled.counts;
    if counts.by_pc.is_empty() && counts.skipped == 0 {
        let said = counts.other_lines.join("\n");
        return Err(format!(
            "QEMU logged no instructions{}",
            if said.is_empty() { String::new() } else { format!("; it said:\n{said}") }
        ));
    }
    let ending = match (profiled.timed_out, profiled.status) {
        (true, _) => format!("stopped after {} s (--seconds), QEMU killed", options.seconds),
        (false, Some(status)) => format!("exited with status {status}"),
        (false, None) => "QEMU ended without a status".to_string(),
    };
    println!("profile of {} on {} ({ending}):", app.name, board.name);
    if let Some(name) = options.from {
        if counts.started() {
            println!(
                "counted from the first entry of {name}; {} instructions before",
                counts.skipped
            );
        } else {
            println!("{name} never ran: nothing counted ({} instructions skipped)", counts.skipped);
        }
    }
    print!("{}", profile::table(&profile::by_function(&symbols, &counts.by_pc), options.top));
    Ok(ExitCode::SUCCESS)
}
