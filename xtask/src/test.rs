//! `cargo xtask test`: host unit tests, then every QEMU case.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant};

use ferrode_tests::cases::{self, Profile};
use ferrode_tests::{figures, harness};

use crate::apps::{self, workspace_root};
use crate::setup::Toolchain;
use crate::{build, setup, size};

/// Tallies of one test run.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    /// The QEMU cases that failed, with why: repeated above the summary
    /// line, where a CI page that shows only the end of the output still
    /// has them.
    failed_cases: Vec<String>,
}

/// How long `cargo test` may run once built (nominal, scaled).
const HOST_TESTS_LIMIT: Duration = Duration::from_secs(10 * 60);
/// How long one lint may take, compiling included (nominal, scaled).
const LINT_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Runs `command` with its output captured, or kills it and every process
/// it started (it runs in a process group of its own) once the nominal
/// `limit`, scaled, has passed: `Ok(None)`. (Being its own group, it also
/// does not get the terminal's Ctrl-C: an interrupted `cargo xtask test`
/// leaves it to finish in the background.)
fn output_within(command: &mut Command, limit: Duration) -> std::io::Result<Option<Output>> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let deadline = Instant::now() + harness::scaled(limit);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // The whole group: cargo and the test binaries it started.
            let _ =
                Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    Ok(status.map(|status| Output { status, stdout, stderr }))
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
    // Build first with cargo's progress shown: on a fresh checkout this is
    // the longest silent step otherwise.
    let built = Command::new("cargo")
        .current_dir(workspace_root())
        .args(["test", "--no-run", "--color", "never"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    if !built.is_ok_and(|status| status.success()) {
        println!("host: FAILED: the host tests do not build (cargo's errors are above)");
        tally.failed += 1;
        return;
    }
    let mut command = Command::new("cargo");
    command.current_dir(workspace_root()).args(["test", "--color", "never"]);
    let output = match output_within(&mut command, HOST_TESTS_LIMIT) {
        Ok(Some(output)) => output,
        Ok(None) => {
            println!(
                "host: FAILED: cargo test was still running after {} min and was killed (a test hangs?)",
                harness::scaled(HOST_TESTS_LIMIT).as_secs() / 60
            );
            tally.failed += 1;
            return;
        }
        Err(error) => {
            println!("host: FAILED: cannot run cargo test: {error}");
            tally.failed += 1;
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
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
        let failures: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("test ") && line.ends_with("FAILED"))
            .collect();
        for line in failures.iter().take(20) {
            println!("    | {line}");
        }
        print_tail(&text);
    }
}

/// `cargo fmt --check` with the workspace's `rustfmt.toml`, counted as one
/// test; the progress line names the files that differ and the command that
/// reformats them.
fn format_check(tally: &mut Tally) {
    let started = Instant::now();
    let mut command = Command::new("cargo");
    build::clean_cargo(&mut command);
    let output = command
        .current_dir(workspace_root())
        .args(["fmt", "--all", "--", "--check", "--color", "never", "--files-with-diff"])
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => {
            tally.passed += 1;
            println!("fmt: cargo fmt --check ... ok ({:.1}s)", started.elapsed().as_secs_f64());
        }
        Ok(output) => {
            tally.failed += 1;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let root = workspace_root();
            let files: Vec<String> = stdout
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| {
                    std::path::Path::new(line)
                        .strip_prefix(&root)
                        .map_or(line.to_string(), |path| path.display().to_string())
                })
                .collect();
            if files.is_empty() {
                println!(
                    "fmt: cargo fmt --check ... FAILED: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            } else {
                println!(
                    "fmt: cargo fmt --check ... FAILED: {} files are not formatted; `cargo fmt --all` reformats them",
                    files.len()
                );
                for file in files.iter().take(20) {
                    println!("    | {file}");
                }
                if files.len() > 20 {
                    println!("    | ... and {} more", files.len() - 20);
                }
            }
        }
        Err(error) => {
            tally.failed += 1;
            println!(
                "fmt: cargo fmt --check ... FAILED: cannot run cargo fmt: {error} (rust-toolchain.toml lists rustfmt)"
            );
        }
    }
}

/// Lints with warnings denied, each counted as one test: clippy on the
/// host crates, clippy on every app for every board it supports (the
/// firmware crates only build for their targets), and rustdoc.
fn lints(tally: &mut Tally) {
    let root = workspace_root();
    let clippy_here = Command::new("cargo")
        .args(["clippy", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !clippy_here.is_ok_and(|status| status.success()) {
        println!(
            "lint: FAILED: cargo clippy is not installed (rust-toolchain.toml lists it; run `rustup component add clippy`)"
        );
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
        // `cargo clippy` for the board's target with `features`.
        let clippy = |features: &str| {
            let mut command = Command::new("cargo");
            build::clean_cargo(&mut command);
            command.args(["clippy", "--color", "never", "--target", board.target]);
            command.args(["--features", features]);
            command
        };
        let mut command = clippy(board.name);
        // Apps using Rust std need std for their target, which only the
        // nightly's -Zbuild-std makes: they are linted below with the
        // nightly's clippy, and the board's `hermit` module they run on
        // with this one.
        for app in apps::all().into_iter().filter(|app| app.boards.contains(&board) && !app.std) {
            command.args(["--package", &app.name]);
        }
        command.args(["--", "-D", "warnings"]);
        checks.push((format!("clippy, apps for {}", board.name), command));
        // The board runtime's std support is no_std code: it lints on the
        // bare target as a library.
        // With and without its sockets (`hermit-net`), whose absence
        // brings stand-ins of its own.
        // The Block service too: only PBX-A9's apps use it, and MicroBlaze
        // V's stand-in for the card must keep building; and std's files on
        // the card (`hermit-sd`).
        for (feature, what) in [
            ("hermit", "std support"),
            ("hermit-net", "std sockets"),
            ("block", "Block service"),
            ("hermit-sd", "std files on the SD card"),
        ] {
            let features = format!("ferrode-board/{},ferrode-board/{feature}", board.name);
            let mut command = clippy(&features);
            command.args(["--package", "ferrode-board", "--", "-D", "warnings"]);
            checks.push((format!("clippy, {what} for {}", board.name), command));
        }
        // The board runtime's docs for the target, with every feature an
        // image may pick (the host's rustdoc run below leaves the board
        // crate out: it builds only for a board).
        let mut docs = Command::new("cargo");
        build::clean_cargo(&mut docs);
        docs.args(["doc", "--color", "never", "--no-deps", "--target", board.target]);
        docs.args(["--package", "ferrode-board", "--features"]);
        docs.arg(format!(
            "ferrode-board/{},ferrode-board/hermit-net,ferrode-board/hermit-sd,ferrode-board/gdb,ferrode-board/block",
            board.name
        ));
        docs.env("RUSTDOCFLAGS", "-D warnings");
        checks.push((format!("rustdoc, board runtime for {}", board.name), docs));
        // The std apps themselves, with the nightly's clippy over std built
        // for their target (`--no-deps`: the crates they use are linted
        // above, with the pinned stable's clippy).
        let std_apps: Vec<String> = apps::all()
            .into_iter()
            .filter(|app| app.boards.contains(&board) && app.std)
            .map(|app| app.name)
            .collect();
        if !std_apps.is_empty() {
            match build::std_cargo() {
                Ok(mut command) => {
                    build::clean_cargo(&mut command);
                    command.current_dir(&root).args(["clippy", "--no-deps", "--color", "never"]);
                    command.arg("--target").arg(build::std_target_spec(board));
                    command.args(["--features", board.name]);
                    for app in &std_apps {
                        command.args(["--package", app]);
                    }
                    command.args(build::STD_BUILD_FLAGS).args(["--", "-D", "warnings"]);
                    checks.push((format!("clippy, std apps for {}", board.name), command));
                }
                Err(error) => {
                    println!("lint: clippy, std apps for {}: FAILED: {error}", board.name);
                    tally.failed += 1;
                }
            }
        }
    }
    let mut doc = Command::new("cargo");
    build::clean_cargo(&mut doc);
    doc.args(["doc", "--color", "never", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings");
    checks.push(("rustdoc".into(), doc));
    for (name, mut command) in checks {
        counted_check(tally, "lint", &name, command.current_dir(&root), LINT_LIMIT, |_| {
            String::new()
        });
    }
}

/// Runs `command` as one counted test, printed as `{kind}: {name} ...`:
/// ok with `detail` of its output and the time taken; or FAILED, killed
/// after `limit` (scaled), unable to start, or with its output (standard
/// output, then error) written to a log and its end printed.
fn counted_check(
    tally: &mut Tally,
    kind: &str,
    name: &str,
    command: &mut Command,
    limit: Duration,
    detail: impl FnOnce(&Output) -> String,
) {
    let started = Instant::now();
    match output_within(command, limit) {
        Ok(None) => {
            tally.failed += 1;
            println!(
                "{kind}: {name} ... FAILED: still running after {} min, killed",
                harness::scaled(limit).as_secs() / 60
            );
        }
        Ok(Some(output)) if output.status.success() => {
            tally.passed += 1;
            println!(
                "{kind}: {name} ... ok{} ({:.1}s)",
                detail(&output),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(Some(output)) => {
            tally.failed += 1;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let log = harness::log_path(&log_dir(), &format!("{kind} {name}"));
            let _ = std::fs::write(&log, text.as_bytes());
            println!("{kind}: {name} ... FAILED (log: {})", log.display());
            print_tail(&text);
        }
        Err(error) => {
            tally.failed += 1;
            println!(
                "{kind}: {name} ... FAILED: cannot run {}: {error}",
                command.get_program().to_string_lossy()
            );
        }
    }
}

/// The crates whose host tests also run under Miri: those with `unsafe`
/// code whose soundness the tests exercise (the packet stream's shared
/// buffer and rings, the kernel's message and capability copies, the IPC
/// layer's UTCB marshalling, the HAL's word moves, the AXI Ethernet
/// driver's DMA rings and its model's DMA). Miri reports undefined
/// behaviour (an out-of-bounds or misaligned access, a use of a pointer
/// whose borrow ended, a data race) that the same tests pass natively.
const MIRI_CRATES: [&str; 5] =
    ["ferrode-packet-stream", "ferrode-kernel", "ferrode-ipc", "ferrode-hal", "axi-ethernet"];
/// How long one crate's Miri run may take, its standard library's build
/// for Miri included (nominal, scaled).
const MIRI_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Each of [`MIRI_CRATES`]' host tests under Miri
/// ([`setup::MIRI_TOOLCHAIN`]), each crate counted as one test.
/// Isolation is off (proptest reads the working directory for its
/// failure records) and leaks are not reported (the tests leak on
/// purpose: the kernel takes `'static` UTCBs and stacks, which the tests
/// make with `Box::leak`).
fn miri(tally: &mut Tally) {
    if !setup::nightly_installed() {
        println!(
            "miri: FAILED: Miri is not installed on {}; run `cargo xtask setup`",
            setup::MIRI_TOOLCHAIN
        );
        tally.failed += 1;
        return;
    }
    for krate in MIRI_CRATES {
        let mut command = Command::new("rustup");
        build::clean_cargo(&mut command);
        command
            .current_dir(workspace_root())
            .args(["run", setup::MIRI_TOOLCHAIN, "cargo", "miri", "test", "--color", "never"])
            .args(["--package", krate])
            // A target directory of the pinned toolchain's own: artifacts
            // another nightly of the same version left look fresh to cargo
            // but do not fit the Miri sysroot.
            .env(
                "CARGO_TARGET_DIR",
                build::target_dir().join(format!("miri-{}", setup::MIRI_TOOLCHAIN)),
            )
            .env("MIRIFLAGS", "-Zmiri-disable-isolation -Zmiri-ignore-leaks");
        counted_check(tally, "miri", krate, &mut command, MIRI_LIMIT, |output| {
            let (passed, _) = parse_cargo_results(&String::from_utf8_lossy(&output.stdout));
            format!(", {passed} tests")
        });
    }
}

/// The host's load and the QEMU processes still running (Linux `/proc`;
/// "unknown" elsewhere), for a failure's log.
fn host_state() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").ok();
    let qemus = std::fs::read_dir("/proc").ok().map(|entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| std::fs::read_to_string(entry.path().join("comm")).ok())
            .filter(|name| name.starts_with("qemu-system"))
            .count()
    });
    host_line(load.as_deref(), qemus)
}

/// [`host_state`]'s line: `/proc/loadavg`'s first three fields and the
/// number of QEMU processes.
fn host_line(loadavg: Option<&str>, qemus: Option<usize>) -> String {
    let load = loadavg
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .filter(|load| !load.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let qemus = qemus.map_or_else(|| "unknown".into(), |count| count.to_string());
    format!("host: load average {load}; QEMU processes running: {qemus}")
}

fn log_dir() -> PathBuf {
    let dir = build::target_dir().join("test-logs");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The most the QEMU cases may take together (nominal, scaled by
/// `FERRODE_TIME_SCALE`): normally they take a few minutes, but if every
/// image hung, each case would run to its own limit and the suite past CI's
/// 90 minutes. Cases not started by then fail without running.
const QEMU_PHASE_LIMIT: Duration = Duration::from_secs(40 * 60);

/// Lines of a failure's console or log printed under its progress line
/// (the whole text is in its log file).
const TAIL_LINES: usize = 25;

/// Prints the end of a failure's console, indented, after the progress line.
fn print_tail(console: &str) {
    if console.trim().is_empty() {
        return;
    }
    println!("    --- last {TAIL_LINES} lines ---");
    for line in harness::tail(console, TAIL_LINES).lines() {
        println!("    | {line}");
    }
}

/// Every QEMU run of this invocation: the planned cases, plus one "boots to
/// main" measurement per app and board (so that every app's release image
/// boots in a test, and its boot instructions are budgeted).
fn planned_runs() -> Vec<cases::Run> {
    let mut runs = cases::plan();
    for app in apps::all() {
        // The case list holds &'static names; the apps are few and fixed
        // for the life of the command.
        let name: &'static str = Box::leak(app.name.into_boxed_str());
        for board in app.boards {
            runs.push(cases::Run {
                case: cases::boot_to_main(board, name),
                profile: Profile::Release,
            });
        }
    }
    runs
}

/// The (app, board) pairs whose release image no case checks beyond the
/// boot-to-main measurement every image gets.
fn release_images_without_a_case<'a>(
    runs: impl Iterator<Item = &'a cases::Run> + Clone,
) -> Vec<String> {
    let mut missing = Vec::new();
    for app in apps::all() {
        for board in &app.boards {
            let checked = runs.clone().any(|run| {
                run.profile == Profile::Release
                    && run.case.app == app.name
                    && run.case.board == *board
                    && !run.case.name.ends_with(&format!("boots to main on {}", board.name))
            });
            if !checked {
                missing.push(format!("{} on {}", app.name, board.name));
            }
        }
    }
    missing
}

/// Builds (once per image) and runs the QEMU cases; collects their figures
/// and the release images' sizes into `measured`, keyed `board.figure`.
fn qemu(filter: Option<&str>, tally: &mut Tally, measured: &mut BTreeMap<String, f64>) {
    qemu_selected(filter, &|name| filter.is_none_or(|f| name.contains(f)), tally, measured);
}

/// [`qemu`] of the cases whose names `selected` takes; `filter` is what
/// the command line asked for (`None`: every case, and the check that
/// every image has one).
fn qemu_selected(
    filter: Option<&str>,
    selected: &dyn Fn(&str) -> bool,
    tally: &mut Tally,
    measured: &mut BTreeMap<String, f64>,
) {
    let all_runs = planned_runs();
    let names: Vec<String> = all_runs.iter().map(cases::Run::name).collect();
    let runs: Vec<(String, cases::Run)> =
        names.into_iter().zip(all_runs).filter(|(name, _)| selected(name)).collect();
    if let Some(filter) = filter
        && runs.is_empty()
    {
        println!(
            "qemu: FAILED: no case matches the filter {filter:?} (names look like `hello on microblaze-v [release]`)"
        );
        tally.failed += 1;
        return;
    }
    if filter.is_none() {
        let missing = release_images_without_a_case(runs.iter().map(|(_, run)| run));
        if missing.is_empty() {
            tally.passed += 1;
            println!(
                "qemu: every app's release image has a case on every board it supports ... ok"
            );
        } else {
            tally.failed += 1;
            println!(
                "qemu: every app's release image has a case on every board it supports ... FAILED: none for {} \
                 (add one in tests/src/cases/)",
                missing.join(", ")
            );
        }
    }
    let mut images: BTreeMap<(&str, &str, Profile), Result<PathBuf, String>> = BTreeMap::new();
    let deadline = Instant::now() + harness::scaled(QEMU_PHASE_LIMIT);
    for (name, run) in &runs {
        let case = &run.case;
        let prefix = format!("qemu: {name} ...");
        if Instant::now() >= deadline {
            println!(
                "{prefix} FAILED: not run, the QEMU cases' time limit of {} min passed",
                QEMU_PHASE_LIMIT.as_secs() / 60
            );
            tally.failed += 1;
            continue;
        }
        if let Err(message) = setup::require_qemu(case.board) {
            println!("{prefix} FAILED: {message}");
            tally.failed += 1;
            continue;
        }
        let image = images
            .entry((case.board.name, case.app, run.profile))
            .or_insert_with(|| {
                let started = Instant::now();
                println!(
                    "build: {} for {} [{}] ...",
                    case.app,
                    case.board.name,
                    run.profile.name()
                );
                let built = build::build(case.board, case.app, run.profile == Profile::Release);
                if built.is_ok() {
                    println!(
                        "build: {} for {} [{}] ... done ({:.1}s)",
                        case.app,
                        case.board.name,
                        run.profile.name(),
                        started.elapsed().as_secs_f64()
                    );
                }
                built
            })
            .clone();
        let started = Instant::now();
        let result = match &image {
            Ok(image) => case.execute(image, run.profile).map_err(|mut failure| {
                // Source lines under a given-up guest's state.
                failure.console = harness::symbolize::annotate_guest_state(image, &failure.console);
                failure
            }),
            Err(message) => {
                Err(cases::Failure { message: message.clone(), console: String::new() })
            }
        };
        match result {
            Ok(passed) => {
                tally.passed += 1;
                let figures: Vec<String> = passed
                    .figures
                    .iter()
                    .filter(|(key, _)| figures::is_budgeted(&format!("{}.{key}", case.board.name)))
                    .map(|(key, value)| format!("{key} {}", figures::number(*value)))
                    .collect();
                let shown = if figures.is_empty() {
                    String::new()
                } else {
                    format!(": {}", figures.join(", "))
                };
                println!("{prefix} ok ({:.1}s){shown}", started.elapsed().as_secs_f64());
                // Budgets are for what ships: debug runs' figures are shown only.
                if run.profile == Profile::Release {
                    for (key, value) in passed.figures {
                        measured.insert(format!("{}.{key}", case.board.name), value);
                    }
                }
            }
            Err(failure) => {
                tally.failed += 1;
                let log = harness::log_path(&log_dir(), name);
                // The reason goes into the log too, which CI prints, with
                // the host's state: a case that times out on a busy host
                // reads differently from one whose guest hung.
                let _ = std::fs::write(
                    &log,
                    format!(
                        "{}\n=== FAILED: {}\n=== {}\n",
                        failure.console,
                        failure.message,
                        host_state()
                    ),
                );
                tally.failed_cases.push(format!("{name}: {}", failure.message));
                println!(
                    "{prefix} FAILED ({:.1}s): {} (console log: {})",
                    started.elapsed().as_secs_f64(),
                    failure.message,
                    log.display()
                );
                print_tail(&failure.console);
            }
        }
    }
    // Sizes of every release image built.
    for ((board, app, profile), image) in &images {
        if *profile != Profile::Release {
            continue;
        }
        let Ok(image) = image else { continue };
        match size::measure(image) {
            Ok(sizes) => {
                for (part, bytes) in [
                    ("text", sizes.text),
                    ("data", sizes.data),
                    ("bss", sizes.bss),
                    ("stack", sizes.stack),
                ] {
                    measured.insert(format!("{board}.size.{app}.{part}"), bytes as f64);
                }
            }
            Err(message) => {
                tally.failed += 1;
                println!("size: {app} on {board} ... FAILED: {message}");
            }
        }
    }
}

/// Checks the measured figures against the budget file, one test each.
fn budgets(measured: &BTreeMap<String, f64>, complete: bool, tally: &mut Tally) {
    let path = workspace_root().join(figures::BUDGET_FILE);
    let budgets = match std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| figures::Budgets::parse(&text))
    {
        Ok(budgets) => budgets,
        Err(message) => {
            tally.failed += 1;
            println!("budget: FAILED: {message}");
            return;
        }
    };
    for check in figures::check_budgets(&budgets, measured, complete) {
        if check.passed() {
            tally.passed += 1;
            println!("budget: {} ... ok, {}", check.key, check.describe());
        } else {
            tally.failed += 1;
            println!("budget: {} ... FAILED: {}", check.key, check.describe());
        }
    }
}

/// Runs the QEMU cases `filter` matches once under each of `shifts`
/// ([`ferrode_tests::boards::set_interleaving`]); a failure's name says
/// the shift. No budgets: what a case measures is measured under its own
/// options.
fn interleavings(filter: Option<&str>, shifts: &[u8], tally: &mut Tally) {
    let selected = |name: &str| filter.is_none_or(|f| name.contains(f));
    under_shifts("interleaving: the QEMU cases", shifts, filter, &selected, tally);
}

/// Runs the cases `selected` takes (`filter` as for [`qemu_selected`])
/// once under each of `shifts`, announced with `what`; a failure's name
/// says the shift.
fn under_shifts(
    what: &str,
    shifts: &[u8],
    filter: Option<&str>,
    selected: &dyn Fn(&str) -> bool,
    tally: &mut Tally,
) {
    for &shift in shifts {
        ferrode_tests::boards::set_interleaving(Some(shift));
        println!("{what} under -icount shift={shift} ...");
        let failed_before = tally.failed_cases.len();
        qemu_selected(filter, selected, tally, &mut BTreeMap::new());
        for case in &mut tally.failed_cases[failed_before..] {
            case.insert_str(0, &format!("under -icount shift={shift}: "));
        }
    }
    ferrode_tests::boards::set_interleaving(None);
}

/// The cases the whole suite runs once more under each of
/// [`RACE_SHIFTS`] ([`races`]): the apps whose components use one server
/// at once (sessions opened, used and closed while others run; a driver's
/// clients; std's threads), where the order in which the tick preempts
/// them decides what happens. In real time each run takes the
/// interleaving the host's timing gives it; these are fixed ones, the
/// same on every machine, so a race that one of them shows fails every
/// run. A case's name starts with one of these (release images only).
const RACE_CASES: [&str; 14] = [
    "contained on",
    "files-std",
    "greeter on",
    "hello-std on",
    "impostor",
    "irq-demo",
    "nic-reopen",
    "rpc-demo on",
    "sd-card",
    "sd-parts",
    "sd-swap",
    "sessions",
    "timers",
    "uart-echo",
];

/// The `-icount` shifts of [`races`]: 3 is one under which the Block
/// driver's lost wake-up showed every time (3df94d5), 7 another.
const RACE_SHIFTS: [u8; 2] = [3, 7];

/// Whether the whole suite's race stage runs the case named `name`.
fn race_case(name: &str) -> bool {
    name.ends_with("[release]")
        && !name.contains(" boots to main ")
        && RACE_CASES.iter().any(|prefix| name.starts_with(prefix))
}

/// The whole suite's last stage: [`RACE_CASES`] once under each of
/// [`RACE_SHIFTS`] (as `--shift` runs cases; failures name the shift).
fn races(tally: &mut Tally) {
    let what = "races: the cases of concurrent components";
    under_shifts(what, &RACE_SHIFTS, Some("races"), &race_case, tally);
}

/// Runs the tests; prints `N passed, N failed` last. With `shifts`, only
/// the QEMU cases, once under each shift ([`interleavings`]). The whole
/// suite ends with [`races`].
pub fn run(
    filter: Option<&str>,
    qemu_only: bool,
    host_only: bool,
    shifts: Option<&[u8]>,
) -> Result<ExitCode, String> {
    let mut tally = Tally::default();
    if !host_only {
        setup::ensure()?;
    }
    if let Some(shifts) = shifts {
        interleavings(filter, shifts, &mut tally);
    } else if !qemu_only && filter.is_none() {
        format_check(&mut tally);
        host_tests(&mut tally);
        lints(&mut tally);
        miri(&mut tally);
    }
    if !host_only && shifts.is_none() {
        let mut measured = BTreeMap::new();
        qemu(filter, &mut tally, &mut measured);
        figures::derive(&mut measured);
        budgets(&measured, filter.is_none(), &mut tally);
        if filter.is_none() {
            races(&mut tally);
        }
    }
    for case in &tally.failed_cases {
        println!("failed: {case}");
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(if tally.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_checked_only_by_its_boot_measurement_is_reported() {
        let mbv = ferrode_tests::boards::find("microblaze-v").unwrap();
        let runs =
            [cases::Run { case: cases::boot_to_main(mbv, "hello"), profile: Profile::Release }];
        assert!(
            release_images_without_a_case(runs.iter())
                .contains(&"hello on microblaze-v".to_string())
        );
        let all = planned_runs();
        assert_eq!(
            release_images_without_a_case(all.iter()),
            Vec::<String>::new(),
            "apps without a QEMU case"
        );
    }

    #[test]
    fn each_race_case_names_release_cases_and_no_boot_measurement() {
        let names: Vec<String> = planned_runs().iter().map(cases::Run::name).collect();
        for prefix in RACE_CASES {
            let matched: Vec<&String> =
                names.iter().filter(|name| name.starts_with(prefix) && race_case(name)).collect();
            assert!(!matched.is_empty(), "{prefix:?} names no case");
            assert!(matched.iter().all(|name| name.ends_with("[release]")), "{matched:?}");
        }
        assert!(!race_case("sd-parts boots to main on realview-pbx-a9 [release]"));
        assert!(!race_case("contained on microblaze-v [debug]"));
        assert!(race_case("contained on microblaze-v [release]"));
        // `contained on` is the plain case, not its crash modes.
        assert!(!race_case("contained fault on microblaze-v [release]"));
    }

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo started; sleep 60 & wait"]);
        assert!(output_within(&mut command, Duration::from_millis(300)).unwrap().is_none());
        let mut quick = Command::new("sh");
        quick.args(["-c", "echo done"]);
        let output = output_within(&mut quick, Duration::from_secs(60)).unwrap().unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "done\n");
    }

    #[test]
    fn cargo_result_lines_are_summed() {
        let output = "test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
                      other\n\
                      test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n";
        assert_eq!(parse_cargo_results(output), (7, 1));
        assert_eq!(parse_cargo_results("nothing"), (0, 0));
    }

    #[test]
    fn a_failure_log_names_the_hosts_load_and_its_qemu_processes() {
        assert_eq!(
            host_line(Some("3.52 1.20 0.80 4/312 9921\n"), Some(2)),
            "host: load average 3.52 1.20 0.80; QEMU processes running: 2"
        );
        assert_eq!(
            host_line(None, None),
            "host: load average unknown; QEMU processes running: unknown"
        );
        assert!(host_state().starts_with("host: load average "));
    }
}
