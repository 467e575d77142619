//! Building images with the right target, linker script and features, and
//! booting them in QEMU.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use ferrode_tests::boards::{Board, RunOptions};
use ferrode_tests::harness::{self, symbolize};

use crate::apps::{self, workspace_root};
use crate::{setup, size};

/// Environment variables of the outer `cargo xtask` that must not leak
/// into the nested firmware build (they describe the host build).
pub fn clean_cargo(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let leaks = (key.starts_with("CARGO") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR")
            || key.starts_with("RUSTC")
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS";
        if leaks {
            command.env_remove(&key);
        }
    }
}

/// `--remap-path-prefix` flags that shorten the paths of crates.io
/// sources (`$CARGO_HOME/registry/src/<index>/smoltcp-0.12.0/src/...`) to
/// `smoltcp-0.12.0/src/...`, as cargo's `trim-paths` would: the panic
/// locations an image carries shrink (about 1 KiB in echo-net), and
/// images no longer depend on where the builder's cargo home is. Fault
/// reports and defmt locations name the crate and version instead.
/// Workspace paths are relative already. A directory whose path holds a
/// space is left alone (the flags are split at spaces).
fn registry_remaps() -> String {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let Some(home) = home else { return String::new() };
    let Ok(entries) = std::fs::read_dir(home.join("registry/src")) else { return String::new() };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|dir| dir.is_dir())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|dir| dir.display().to_string())
        .filter(|dir| !dir.contains(' '))
        .map(|dir| format!(" --remap-path-prefix={dir}/="))
        .collect()
}

/// `CARGO_TARGET_<TRIPLE>_...` prefix for a target triple.
fn target_env(target: &str) -> String {
    format!("CARGO_TARGET_{}", target.to_uppercase().replace(['-', '.'], "_"))
}

/// The target directory the workspace builds into.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds `app` for `board`; returns the ELF path.
pub fn build(board: &'static Board, app: &str, release: bool) -> Result<PathBuf, String> {
    let std = apps::is_std(app);
    let toolchain = if std { None } else { Some(setup::toolchain_for(board)?) };
    let root = workspace_root();
    let linker = root.join("linker");
    let mut command = match &toolchain {
        Some(toolchain) => Command::new(toolchain.cargo()),
        None => std_cargo()?,
    };
    clean_cargo(&mut command);
    let target =
        if std { std_target_spec(board).display().to_string() } else { board.target.to_string() };
    command
        .current_dir(&root)
        .args(["build", "--quiet", "--package", app, "--target", &target, "--features", board.name])
        .env(
            format!("{}_RUSTFLAGS", target_env(target_name(board, std))),
            format!(
                "{} -C link-arg=-L{} -C link-arg=-T{}{}",
                board.codegen,
                linker.display(),
                board.linker_script,
                registry_remaps()
            ),
        );
    if std {
        command.args(STD_BUILD_FLAGS);
    }
    // defmt's filter, read when an app using defmt compiles: every level
    // unless the caller chose (`DEFMT_LOG=info cargo xtask run ...`).
    if std::env::var_os("DEFMT_LOG").is_none() {
        command.env("DEFMT_LOG", "trace");
    }
    if release {
        command.arg("--release");
    }
    if let Some(toolchain) = toolchain {
        toolchain.configure(&mut command, board.target);
    }
    let status = run_filtered(&mut command)?;
    if !status.success() {
        return Err(format!("building {app} for {} failed", board.name));
    }
    Ok(image_path(board, app, release))
}

/// Where `build` puts `app`'s image for `board`.
pub fn image_path(board: &Board, app: &str, release: bool) -> PathBuf {
    let profile = if release { "release" } else { "debug" };
    target_dir().join(target_name(board, apps::is_std(app))).join(profile).join(app)
}

/// The board's std target spec, `targets/<std target>.json`.
pub fn std_target_spec(board: &Board) -> PathBuf {
    workspace_root().join("targets").join(format!("{}.json", board.std_target))
}

/// The target an app builds for: the board's bare-metal one, or its
/// std spec (`targets/NAME.json`, whose outputs cargo files under NAME).
fn target_name(board: &Board, std: bool) -> &'static str {
    if std { board.std_target } else { board.target }
}

/// How std apps build std itself: from the pinned nightly's library
/// source, for the spec's `"os": "hermit"` (std's Hermit layer, which
/// calls the board crate's `hermit` module), with compiler-builtins'
/// memory functions (the bare targets' prebuilt `core` has them).
pub const STD_BUILD_FLAGS: &[&str] = &[
    "-Zbuild-std=std,panic_abort",
    "-Zbuild-std-features=compiler-builtins-mem",
    "-Zjson-target-spec",
];

/// `cargo` of the nightly std apps build with ([`setup::STD_TOOLCHAIN`]),
/// if it is installed with its library source.
pub fn std_cargo() -> Result<Command, String> {
    if !setup::nightly_installed() {
        return Err(format!(
            "apps using Rust std build with the {} toolchain and its rust-src: run `cargo xtask setup`",
            setup::STD_TOOLCHAIN
        ));
    }
    let mut command = Command::new("rustup");
    command.args(["run", setup::STD_TOOLCHAIN, "cargo"]);
    Ok(command)
}

/// The first line of the warning rustc gives for the board's deliberate
/// use of `thumb-mode` (stable Rust calls that target feature unstable).
const THUMB_MODE_WARNING: &str = "unstable feature specified for `-Ctarget-feature`: `thumb-mode`";

/// Runs the firmware `cargo build`, passing its error output on as it
/// comes through a [`WarningFilter`].
fn run_filtered(command: &mut Command) -> Result<std::process::ExitStatus, String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stderr().is_terminal() {
        command.args(["--color", "always"]);
    }
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if let Some(errors) = child.stderr.take() {
        let mut filter = WarningFilter::default();
        let mut out = std::io::stderr().lock();
        for line in std::io::BufReader::new(errors).split(b'\n') {
            let Ok(line) = line else { break };
            if filter.passes(&String::from_utf8_lossy(&line)) {
                let _ = out.write_all(&line);
                let _ = out.write_all(b"\n");
            }
        }
    }
    child.wait().map_err(|error| format!("cannot run cargo: {error}"))
}

/// Drops [`THUMB_MODE_WARNING`]'s block (its line up to the blank line
/// that ends it), which would otherwise open every PBX-A9 build, and
/// passes every other line, coloured or not.
#[derive(Default)]
struct WarningFilter {
    /// Inside the block.
    skipping: bool,
}

impl WarningFilter {
    /// Whether `line` (without its newline) is to be shown.
    fn passes(&mut self, line: &str) -> bool {
        let text = strip_ansi(line);
        if text.contains(THUMB_MODE_WARNING) {
            self.skipping = true;
        }
        if self.skipping && text.trim().is_empty() {
            self.skipping = false;
            return false;
        }
        !self.skipping
    }
}

/// `text` without ANSI escape sequences (cargo's colours).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `cargo xtask build`.
pub fn build_command(board: &str, app: &str, release: bool) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board, app)?;
    let image = build(board, &app.name, release)?;
    println!("image: {}", image.display());
    let sizes = size::measure(&image)?;
    println!("{}", size::HEADER);
    println!("{}", sizes.row(board.name, &app.name));
    Ok(ExitCode::SUCCESS)
}

/// Converts QEMU's exit status into ours.
fn exit_code(status: Option<i32>) -> ExitCode {
    match status {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}

/// The switches of `cargo xtask run`.
#[derive(Clone)]
pub struct RunFlags {
    /// Release image.
    pub release: bool,
    /// QEMU `-icount`.
    pub icount: bool,
    /// The console as it comes, without decoding or source lines.
    pub raw: bool,
    /// A raw disk image for the board's SD card slot.
    pub sd: Option<std::path::PathBuf>,
    /// Under `-icount shift=N` instead of in real time (one interleaving).
    pub shift: Option<u8>,
}

/// `cargo xtask run`.
pub fn run_command(
    board: &str,
    app: &str,
    flags: &RunFlags,
    forward: Option<u16>,
    args: &[String],
) -> Result<ExitCode, String> {
    let RunFlags { release, icount, raw, ref sd, shift } = *flags;
    ferrode_tests::boards::set_interleaving(shift);
    let (board, app) = apps::resolve(board, app)?;
    setup::ensure()?;
    setup::require_qemu(board)?;
    let image = build(board, &app.name, release)?;
    if let Some(image) = sd {
        check_sd_image(image)?;
    }
    let options =
        RunOptions { icount, sd_card: sd.clone(), ..run_options(&app.name, forward, args) };
    let qemu_args = board.qemu_args(&image, &options);
    eprintln!(
        "booting {} on {} (QEMU {}; exit with the image or Ctrl-C)",
        app.name, board.name, board.machine
    );
    let mut qemu = Command::new(board.qemu)
        .args(&qemu_args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", board.qemu))?;
    // The console passes through as it arrives; defmt frames (images with
    // a `.defmt` table) become lines, and under a fault or panic report go
    // the source lines of its addresses, from the image's DWARF. `--raw`
    // leaves the bytes alone.
    if let Some(mut console) = qemu.stdout.take() {
        let mut frames = (!raw).then(|| harness::defmt::Stream::new(&image));
        let mut symbols = (!raw).then(|| symbolize::Stream::new(&image));
        let mut out = std::io::stdout();
        let mut buffer = [0u8; 4096];
        loop {
            let count = match console.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(count) => count,
            };
            let mut bytes = buffer[..count].to_vec();
            if let Some(frames) = &mut frames {
                bytes = frames.feed(&bytes);
            }
            if let Some(symbols) = &mut symbols {
                bytes = symbols.feed(&bytes);
            }
            let _ = out.write_all(&bytes);
            let _ = out.flush();
        }
        if let Some(frames) = &mut frames {
            let _ = out.write_all(&frames.finish());
        }
    }
    let status = qemu.wait().map_err(|error| format!("waiting for {}: {error}", board.qemu))?;
    Ok(exit_code(status.code()))
}

/// `cargo xtask symbolize`: the log with source lines under its reports.
/// The image is the one already built (not built again: the log came from
/// what was flashed, and a rebuild of changed sources would not match it).
pub fn symbolize_command(
    board: &str,
    app: &str,
    release: bool,
    file: Option<&std::path::Path>,
) -> Result<ExitCode, String> {
    let board = ferrode_tests::boards::find(board)?;
    let image = image_path(board, app, release);
    if !image.is_file() {
        let flag = if release { " --release" } else { "" };
        return Err(format!(
            "no image at {}: build it first (cargo xtask build --board {} --app {app}{flag})",
            image.display(),
            board.name
        ));
    }
    let log = match file {
        Some(path) => std::fs::read(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?,
        None => {
            let mut log = Vec::new();
            std::io::stdin()
                .read_to_end(&mut log)
                .map_err(|error| format!("cannot read standard input: {error}"))?;
            log
        }
    };
    let log = String::from_utf8_lossy(&log);
    print!("{}", symbolize::annotate(&image, &log));
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask gdb`: QEMU halted at reset with its GDB server on a free
/// local port, then gdb-multiarch with the image's symbols attached to it.
/// QEMU runs in a process group of its own and xtask ignores SIGINT while
/// gdb runs, so Ctrl-C reaches gdb alone (which stops the target); QEMU
/// ends when gdb does.
pub fn gdb_command(board: &str, app: &str) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board, app)?;
    setup::require_qemu(board)?;
    setup::require_program("gdb-multiarch", "gdb-multiarch")?;
    let image = build(board, &app.name, false)?;
    let port = harness::free_port().map_err(|error| format!("no free local port: {error}"))?;
    let options =
        RunOptions { args: vec![app.name.clone()], gdb: Some(port), ..Default::default() };
    let mut qemu = Command::new(board.qemu);
    qemu.args(board.qemu_args(&image, &options)).stdin(Stdio::null()).process_group(0);
    // SAFETY: between fork and exec only `prctl`, which is async-signal-
    // safe: QEMU is killed when xtask ends however it ends (its own
    // process group does not get the terminal's hang-up).
    unsafe {
        qemu.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    };
    let mut qemu = qemu.spawn().map_err(|error| format!("cannot start {}: {error}", board.qemu))?;
    let listening = harness::wait_for_port(port, Duration::from_secs(10), || {
        matches!(qemu.try_wait(), Ok(None))
    });
    if !listening {
        let _ = qemu.kill();
        let _ = qemu.wait();
        return Err(format!("QEMU's GDB server did not come up on 127.0.0.1:{port}"));
    }
    eprintln!(
        "{} halted at reset on {}, GDB server on 127.0.0.1:{port}; Ctrl-C in gdb stops the \
         target, `quit` ends gdb and QEMU",
        app.name, board.name
    );
    let status = Command::new("gdb-multiarch")
        .arg("-q")
        .arg(&image)
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")])
        .spawn()
        .and_then(|mut gdb| {
            let _ignored = IgnoreInterrupts::new();
            gdb.wait()
        })
        .map_err(|error| format!("cannot run gdb-multiarch: {error}"));
    let _ = qemu.kill();
    let _ = qemu.wait();
    Ok(exit_code(status?.code()))
}

/// An SD card image QEMU takes: a file whose size is a power of two (QEMU
/// refuses others with a message that suggests `qemu-img resize`).
fn check_sd_image(image: &std::path::Path) -> Result<(), String> {
    let size = std::fs::metadata(image)
        .map_err(|error| format!("--sd {}: {error}", image.display()))?
        .len();
    if size == 0 || !size.is_power_of_two() {
        return Err(format!(
            "--sd {}: {size} bytes; an SD card image must be a power of two bytes \
             (`truncate -s 1M {}` makes an empty 1 MiB card)",
            image.display(),
            image.display()
        ));
    }
    Ok(())
}

/// QEMU options for `run`, `stacks` and `profile`: the app's command line
/// (its name, then `args`) and, with `forward`, host port `forward`
/// forwarded to the guest's port 7 over TCP and UDP.
pub fn run_options(app: &str, forward: Option<u16>, args: &[String]) -> RunOptions {
    let mut words = vec![app.to_string()];
    words.extend(args.iter().cloned());
    let forwards: Vec<(u16, u16)> = forward.map(|port| (port, 7)).into_iter().collect();
    RunOptions {
        args: words,
        tcp_forwards: forwards.clone(),
        udp_forwards: forwards,
        nic_model: ferrode_tests::boards::app_nic_model(app),
        ..Default::default()
    }
}

/// `cargo xtask stacks`: runs `app` under gdb until it exits or for
/// `seconds`, then prints its console and each stack's peak use.
pub fn stacks_command(
    board: &str,
    app: &str,
    release: bool,
    seconds: u64,
    forward: Option<u16>,
    args: &[String],
) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board, app)?;
    setup::ensure()?;
    setup::require_qemu(board)?;
    setup::require_program("gdb-multiarch", "gdb-multiarch")?;
    let image = build(board, &app.name, release)?;
    let options = run_options(&app.name, forward, args);
    eprintln!(
        "running {} on {} under gdb until it exits, at most {seconds} s",
        app.name, board.name
    );
    let measured =
        ferrode_tests::stacks::measure(board, &image, &options, Duration::from_secs(seconds))?;
    // The console as `run` shows it: defmt frames decoded, source lines
    // under a fault report.
    let mut console = harness::defmt::Stream::new(&image).feed(&measured.raw_console);
    console = symbolize::Stream::new(&image).feed(&console);
    let mut out = std::io::stdout();
    let _ = out.write_all(&console);
    println!();
    println!(
        "stack use of {} on {} ({}; bytes, peak as deep as each stack was written):",
        app.name,
        board.name,
        if measured.at_exit { "stopped at its exit" } else { "stopped after the time given" }
    );
    print!("{}", ferrode_tests::stacks::table(&measured.stacks));
    Ok(ExitCode::SUCCESS)
}

/// SIGINT ignored by this process while it lives (the terminal's Ctrl-C
/// goes to gdb, which shares the foreground process group), the previous
/// disposition restored when dropped. Taken after gdb has started, so gdb
/// does not inherit it.
struct IgnoreInterrupts(libc::sighandler_t);

impl IgnoreInterrupts {
    fn new() -> Self {
        // SAFETY: installs the SIG_IGN disposition, no handler code runs;
        // the previous disposition is kept to be restored.
        Self(unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        // SAFETY: reinstalls the disposition `signal` returned before.
        unsafe { libc::signal(libc::SIGINT, self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_env_names_follow_cargo() {
        assert_eq!(
            target_env("riscv32imac-unknown-none-elf"),
            "CARGO_TARGET_RISCV32IMAC_UNKNOWN_NONE_ELF"
        );
        assert_eq!(target_env("armv7a-none-eabi"), "CARGO_TARGET_ARMV7A_NONE_EABI");
    }

    #[test]
    fn only_the_thumb_mode_warning_is_dropped() {
        // rustc's block as cargo passes it on, coloured, then plain.
        let block = [
            "\u{1b}[1m\u{1b}[33mwarning\u{1b}[0m\u{1b}[1m: unstable feature specified for \
             `-Ctarget-feature`: `thumb-mode`\u{1b}[0m",
            "  \u{1b}[1m\u{1b}[94m|\u{1b}[0m",
            "  \u{1b}[1m\u{1b}[94m= \u{1b}[0m\u{1b}[1mnote\u{1b}[0m: this feature is not stably \
             supported; its behavior can change in the future",
            "",
        ];
        let other = [
            "warning: unused variable: `x`",
            " --> apps/hello/src/main.rs:3:9",
            "",
            "error: could not compile `hello`",
        ];
        let mut filter = WarningFilter::default();
        let mut shown = Vec::new();
        for line in block.iter().chain(&other).chain(&block).chain(&other) {
            if filter.passes(line) {
                shown.push(*line);
            }
        }
        let twice: Vec<&str> = other.iter().chain(&other).copied().collect();
        assert_eq!(shown, twice);
        assert_eq!(strip_ansi(block[0]), format!("warning: {THUMB_MODE_WARNING}"));
    }
}
