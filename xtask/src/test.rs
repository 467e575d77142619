//! `cargo xtask test`: host unit tests, then every QEMU case.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use ferrode_tests::{cases, harness};

use crate::apps::{self, workspace_root};
use crate::setup::Toolchain;
use crate::{build, setup};

/// Tallies of one test run.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// Sums cargo's `test result: ok. N passed; M failed; ...` lines.
fn parse_cargo_results(output: &str) -> (usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    for line in output.lines().filter(|line| line.starts_with("test result:")) {
        let number_before = |word: &str| {
            line.split(';')
                .find(|part| part.trim_end().ends_with(word))
                .and_then(|part| part.split_whitespace().rev().nth(1))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        };
        passed += number_before("passed");
        failed += number_before("failed");
    }
    (passed, failed)
}

fn host_tests(tally: &mut Tally) {
    println!("host: cargo test (workspace default members) ...");
    let started = Instant::now();
    let output = Command::new("cargo")
        .current_dir(workspace_root())
        .args(["test", "--color", "never"])
        .stdin(Stdio::null())
        .output();
    let Ok(output) = output else {
        println!("host: FAILED: cannot run cargo test");
        tally.failed += 1;
        return;
    };
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let (passed, failed) = parse_cargo_results(&text);
    tally.passed += passed;
    tally.failed += failed;
    if output.status.success() {
        println!("host: ok, {passed} passed ({:.1}s)", started.elapsed().as_secs_f64());
    } else {
        let log = log_dir().join("host-tests.log");
        let _ = std::fs::write(&log, &text);
        // A build failure reports no failed tests: count it as one.
        if failed == 0 {
            tally.failed += 1;
        }
        println!("host: FAILED, {passed} passed, {failed} failed (log: {})", log.display());
    }
}

/// Lints with warnings denied, each counted as one test: clippy on the
/// host crates, clippy on every app for every board it supports (the
/// firmware crates only build for their targets), and rustdoc.
fn lints(tally: &mut Tally) {
    let root = workspace_root();
    let clippy_here = Command::new("cargo").args(["clippy", "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !clippy_here.is_ok_and(|status| status.success()) {
        println!("lint: FAILED: cargo clippy is not installed (rust-toolchain.toml lists it; run `rustup component add clippy`)");
        tally.failed += 1;
        return;
    }
    let mut checks: Vec<(String, Command)> = Vec::new();
    let mut host = Command::new("cargo");
    build::clean_cargo(&mut host);
    host.args(["clippy", "--color", "never", "--all-targets", "--", "-D", "warnings"]);
    checks.push(("clippy, host crates".into(), host));
    for board in ferrode_tests::boards::BOARDS {
        // Boards built with Debian's compiler (no rustup target) have no
        // clippy for their target; their images are still built and tested.
        if !matches!(setup::toolchain_for(board), Ok(Toolchain::Rustup)) {
            println!("lint: clippy for {} skipped: its target is built without rustup", board.name);
            continue;
        }
        let mut command = Command::new("cargo");
        build::clean_cargo(&mut command);
        command.args(["clippy", "--color", "never", "--target", board.target, "--features", board.name]);
        for app in apps::all().into_iter().filter(|app| app.boards.contains(&board)) {
            command.args(["--package", &app.name]);
        }
        command.args(["--", "-D", "warnings"]);
        checks.push((format!("clippy, apps for {}", board.name), command));
    }
    let mut doc = Command::new("cargo");
    build::clean_cargo(&mut doc);
    doc.args(["doc", "--color", "never", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings");
    checks.push(("rustdoc".into(), doc));
    for (name, mut command) in checks {
        let started = Instant::now();
        let output = command.current_dir(&root).stdin(Stdio::null()).output();
        match output {
            Ok(output) if output.status.success() => {
                tally.passed += 1;
                println!("lint: {name} ... ok ({:.1}s)", started.elapsed().as_secs_f64());
            }
            Ok(output) => {
                tally.failed += 1;
                let log = harness::log_path(&log_dir(), &format!("lint {name}"));
                let _ = std::fs::write(&log, String::from_utf8_lossy(&output.stderr).as_bytes());
                println!("lint: {name} ... FAILED (log: {})", log.display());
            }
            Err(error) => {
                tally.failed += 1;
                println!("lint: {name} ... FAILED: cannot run cargo: {error}");
            }
        }
    }
}

fn log_dir() -> PathBuf {
    let dir = build::target_dir().join("test-logs");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs the tests; prints `N passed, N failed` last.
pub fn run(filter: Option<&str>, qemu_only: bool, host_only: bool) -> Result<ExitCode, String> {
    let mut tally = Tally::default();
    if !host_only {
        setup::ensure()?;
    }
    if !qemu_only && filter.is_none() {
        host_tests(&mut tally);
        lints(&mut tally);
    }
    if !host_only {
        let cases: Vec<_> = cases::all().into_iter().filter(|case| filter.is_none_or(|f| case.name.contains(f))).collect();
        let mut images: BTreeMap<(&str, &str), Result<PathBuf, String>> = BTreeMap::new();
        for case in &cases {
            let started = Instant::now();
            let prefix = format!("qemu: {} ...", case.name);
            if let Err(message) = setup::require_qemu(case.board) {
                println!("{prefix} FAILED: {message}");
                tally.failed += 1;
                continue;
            }
            let image = images
                .entry((case.board.name, case.app))
                .or_insert_with(|| build::build(case.board, case.app, false))
                .clone();
            let result = match image {
                Ok(image) => case.execute(&image),
                Err(message) => Err(cases::Failure { message, console: String::new() }),
            };
            match result {
                Ok(_) => {
                    tally.passed += 1;
                    println!("{prefix} ok ({:.1}s)", started.elapsed().as_secs_f64());
                }
                Err(failure) => {
                    tally.failed += 1;
                    let log = harness::log_path(&log_dir(), &case.name);
                    let _ = std::fs::write(&log, &failure.console);
                    println!("{prefix} FAILED: {} (console log: {})", failure.message, log.display());
                }
            }
        }
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(if tally.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_result_lines_are_summed() {
        let output = "test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
                      other\n\
                      test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n";
        assert_eq!(parse_cargo_results(output), (7, 1));
        assert_eq!(parse_cargo_results("nothing"), (0, 0));
    }
}
