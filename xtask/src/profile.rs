//! `cargo xtask profile`: where an image's instructions go, by function
//! (the counting is `ferrode_tests::profile`'s, shared with its QEMU case).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use ferrode_tests::harness::{self, symbolize};
use ferrode_tests::net;
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
    /// Echo this many bytes through the app's TCP echo and count only the
    /// instructions run meanwhile (not with `from` or `forward`).
    pub tcp_echo: Option<usize>,
    /// `--forward`, as for `run`.
    pub forward: Option<u16>,
    /// Also profile this function by source line.
    pub lines: Option<&'a str>,
    /// The image's command line after its name.
    pub args: &'a [String],
}

/// Builds the image, runs it under QEMU's exec log until it exits (or for
/// `seconds`), or with `tcp_echo` through one TCP echo, then prints its
/// console and the instructions per function.
pub fn run(options: &ProfileOptions<'_>) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(options.board, options.app)?;
    if options.tcp_echo.is_some() {
        // clap refuses these together already; said here for other callers.
        if options.from.is_some() || options.forward.is_some() {
            return Err("--tcp-echo counts the echo itself and forwards its port: \
                        leave out --from and --forward"
                .into());
        }
        if net::echo_ready_line(&app.name).is_none() {
            return Err(format!(
                "--tcp-echo needs an app that serves TCP echo on port {}: {} (not {})",
                net::ECHO_PORT,
                net::tcp_echo_app_names(),
                app.name
            ));
        }
    }
    setup::ensure()?;
    setup::require_qemu(board)?;
    let image = build::build(board, &app.name, options.release)?;
    let symbols = Symbols::from_image(&image)?;
    // The code of the function an option names, or why there is none.
    let code_of = |name: &str, option: &str| {
        let code = symbols.named(name);
        if code.is_empty() {
            return Err(format!(
                "{} has no function `{name}` for {option} (give its path without the hash, \
                 e.g. `ferrode_app_main` or `hello::hello`)",
                image.display()
            ));
        }
        Ok(code)
    };
    let lines_of = match options.lines {
        None => None,
        Some(name) => Some((name, code_of(name, "--lines")?, symbolize::Symbolizer::load(&image)?)),
    };
    let counts = match options.from {
        None => Counts::new(),
        Some(name) => Counts::starting_at(code_of(name, "--from")?),
    };
    let run_options = build::run_options(&app.name, options.forward, options.args);
    let limit = Duration::from_secs(options.seconds);
    let profiled = if let Some(bytes) = options.tcp_echo {
        eprintln!(
            "profiling {} on {} (QEMU exec log, -icount) through a TCP echo of {bytes} bytes \
             (boot and echo at most {} s each)",
            app.name, board.name, options.seconds
        );
        profile::run_tcp_echo(board, &image, &app.name, &run_options, bytes, limit)?
    } else {
        eprintln!(
            "profiling {} on {} (QEMU exec log, -icount) until it exits, at most {} s",
            app.name, board.name, options.seconds
        );
        profile::run(board, &image, &run_options, limit, counts)?
    };
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
    if let Some(bytes) = options.tcp_echo {
        println!(
            "profile of {} on {} during a TCP echo of {bytes} bytes (echo intact, then QEMU \
             stopped):",
            app.name, board.name
        );
        println!(
            "counted from just before the first byte was sent until the whole echo was back \
             (idle included); {} instructions before (boot, wait), {} after",
            counts.skipped, counts.after
        );
        println!("{}", profile::per_byte_line(counts.total(), bytes));
    } else {
        let ending = match (profiled.timed_out, profiled.status) {
            (true, _) => format!("stopped after {} s (--seconds), QEMU killed", options.seconds),
            (false, Some(status)) => format!("exited with status {status}"),
            (false, None) => "QEMU ended without a status".to_string(),
        };
        println!("profile of {} on {} ({ending}):", app.name, board.name);
    }
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
    println!("{}", profile::code_run_line(&profile::code_run(&symbols, &counts.by_pc)));
    if let Some((name, code, symbolizer)) = lines_of {
        let rows = profile::by_line(|pc| symbolizer.frames(pc & !1), &code, &counts.by_pc);
        let entries = profile::entries(&code, &counts.by_pc);
        println!();
        print!("{}", profile::lines_table(name, &rows, entries, options.top));
    }
    Ok(ExitCode::SUCCESS)
}
