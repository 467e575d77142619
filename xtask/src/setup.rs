//! `cargo xtask setup` and the prerequisite checks every command makes.
//!
//! Ferrode needs QEMU >= 9.2 (the first with `amd-microblaze-v-generic`),
//! the two bare-metal rust targets, for `gdb` gdb-multiarch, and for the
//! test suite's Miri checks Miri on a pinned nightly ([`MIRI_TOOLCHAIN`]),
//! whose `rust-src` also builds std for apps in Rust std
//! ([`STD_TOOLCHAIN`]). On
//! Debian 12 QEMU comes from bookworm-backports (bookworm's own 7.2 lacks
//! the MicroBlaze V machine).

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use ferrode_tests::boards::{BOARDS, Board};

/// Where the backports suite is declared when setup adds it.
const BACKPORTS_SOURCE: &str = "/etc/apt/sources.list.d/ferrode-bookworm-backports.sources";

/// How bare-metal images are compiled.
pub enum Toolchain {
    /// rustup's prebuilt `core` for the target (the normal case).
    Rustup,
    /// Debian's rustc-web with `-Zbuild-std`, when rustup cannot fetch the
    /// target (Debian 12's rustc-web, cargo-web, rust-web-src and lld-22).
    DebianBuildStd,
}

impl Toolchain {
    /// The cargo to run.
    pub fn cargo(&self) -> &'static str {
        match self {
            Self::Rustup => "cargo",
            Self::DebianBuildStd => "/usr/bin/cargo",
        }
    }

    /// Adds the toolchain's flags to a `cargo build`.
    pub fn configure(&self, command: &mut Command, target: &str) {
        if let Self::DebianBuildStd = self {
            let linker = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace('-', "_"));
            command
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTC_BOOTSTRAP", "1")
                .env(linker, DEBIAN_LLD)
                .args([
                    "-Zbuild-std=core,compiler_builtins",
                    "-Zbuild-std-features=compiler-builtins-mem",
                ]);
        }
    }
}

/// The lld Debian's rustc-web works with.
const DEBIAN_LLD: &str = "ld.lld-22";

/// The nightly toolchain `cargo xtask test` runs Miri on: pinned, as
/// rust-toolchain.toml pins the compiler, since a newer Miri may judge the
/// same code differently. To move it, change it here and run the Miri
/// checks (`cargo xtask test --host-only`) in the same commit.
pub const MIRI_TOOLCHAIN: &str = "nightly-2026-05-20";

/// The toolchain apps using Rust std build with: the same pinned nightly,
/// whose `rust-src` `-Zbuild-std` compiles std from (std has no prebuilt
/// form for Ferrode's targets).
pub const STD_TOOLCHAIN: &str = MIRI_TOOLCHAIN;

/// What the pinned nightly needs: Miri, the library source Miri and std
/// apps build std from, and clippy for the std apps' lints.
const NIGHTLY_COMPONENTS: [&str; 3] = ["miri", "rust-src", "clippy"];

/// The components of [`NIGHTLY_COMPONENTS`] that [`MIRI_TOOLCHAIN`] lacks;
/// `None` if the toolchain itself is not installed.
fn nightly_missing() -> Option<Vec<&'static str>> {
    let list =
        quiet("rustup", &["component", "list", "--installed", "--toolchain", MIRI_TOOLCHAIN])?;
    Some(
        NIGHTLY_COMPONENTS
            .into_iter()
            .filter(|wanted| {
                !list.lines().any(|line| line == *wanted || line.starts_with(&format!("{wanted}-")))
            })
            .collect(),
    )
}

/// Whether [`MIRI_TOOLCHAIN`] is installed with Miri, the library source
/// and clippy ([`NIGHTLY_COMPONENTS`]).
pub fn nightly_installed() -> bool {
    nightly_missing().is_some_and(|missing| missing.is_empty())
}

fn quiet(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn installed_targets() -> Vec<String> {
    quiet("rustup", &["target", "list", "--installed"])
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Picks the toolchain that can build for `board`, or says what is missing.
pub fn toolchain_for(board: &Board) -> Result<Toolchain, String> {
    if installed_targets().iter().any(|target| target == board.target) {
        return Ok(Toolchain::Rustup);
    }
    if Path::new("/usr/bin/rustc").exists()
        && Path::new("/usr/bin/cargo").exists()
        && which(DEBIAN_LLD)
    {
        return Ok(Toolchain::DebianBuildStd);
    }
    Err(format!(
        "the rust target {} is not installed; run `cargo xtask setup` (or `rustup target add {}`)",
        board.target, board.target
    ))
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Fails with an install hint unless `program` is on PATH.
pub fn require_program(program: &str, package: &str) -> Result<(), String> {
    if which(program) {
        Ok(())
    } else {
        Err(format!(
            "{program} is not installed; run `cargo xtask setup` (or `apt-get install {package}`)"
        ))
    }
}

fn qemu_has_machine(board: &Board) -> bool {
    quiet(board.qemu, &["-M", "help"]).is_some_and(|text| {
        text.lines().any(|line| line.split_whitespace().next() == Some(board.machine))
    })
}

/// Fails with an install hint unless QEMU can emulate `board`.
pub fn require_qemu(board: &Board) -> Result<(), String> {
    require_program(board.qemu, board.qemu_package)?;
    if qemu_has_machine(board) {
        Ok(())
    } else {
        Err(format!(
            "{} has no machine `{}` (QEMU >= 9.2 is needed); run `cargo xtask setup`",
            board.qemu, board.machine
        ))
    }
}

fn is_root() -> bool {
    quiet("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

fn debian_codename() -> Option<String> {
    let release = std::fs::read_to_string("/etc/os-release").ok()?;
    release.lines().find_map(|line| {
        line.strip_prefix("VERSION_CODENAME=").map(|name| name.trim_matches('"').to_string())
    })
}

/// Runs a step, printing it first; without root, prints the command instead.
fn step(description: &str, program: &str, args: &[&str]) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    if !is_root() {
        return Err(format!("{description}: needs root; run as root: {shown}"));
    }
    println!("setup: {description}: {shown}");
    let status = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{description} failed: {shown}")) }
}

fn write_backports_source() -> Result<(), String> {
    if Path::new(BACKPORTS_SOURCE).exists() {
        return Ok(());
    }
    let existing = std::fs::read_dir("/etc/apt/sources.list.d")
        .map(|entries| {
            entries.flatten().any(|entry| {
                std::fs::read_to_string(entry.path())
                    .is_ok_and(|text| text.contains("bookworm-backports"))
            })
        })
        .unwrap_or(false)
        || std::fs::read_to_string("/etc/apt/sources.list")
            .is_ok_and(|text| text.contains("bookworm-backports"));
    if existing {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "adding bookworm-backports needs root; as root, create {BACKPORTS_SOURCE}"
        ));
    }
    println!("setup: adding the bookworm-backports suite ({BACKPORTS_SOURCE})");
    let source = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
    std::fs::write(BACKPORTS_SOURCE, source)
        .map_err(|error| format!("cannot write {BACKPORTS_SOURCE}: {error}"))
}

/// Whether everything `setup` installs is present.
/// Whether QEMU and the rust targets are there: what every image needs.
fn complete() -> bool {
    BOARDS.iter().all(|board| require_qemu(board).is_ok() && toolchain_for(board).is_ok())
}

/// Runs `setup` first if something it installs is missing (QEMU, a rust
/// target, gdb-multiarch), so that `run`, `test` and `stacks` work on a
/// fresh machine with no separate set-up step. When only gdb-multiarch or
/// Miri is missing and setup cannot install it (not root, no rustup
/// download), this says so and goes on: only `cargo xtask gdb`, the gdb
/// cases and the Miri checks need them (the checks then fail, naming
/// `cargo xtask setup`).
pub fn ensure() -> Result<(), String> {
    let images = complete();
    if images && which("gdb-multiarch") && nightly_installed() {
        return Ok(());
    }
    println!("setup: prerequisites missing; running `cargo xtask setup` first");
    match run() {
        Ok(_) => Ok(()),
        Err(error) if images => {
            println!("setup: {error}; going on (the images have what they need)");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Set to `yes` to install OpenOCD without being asked (`no` to skip).
const OPENOCD_VARIABLE: &str = "FERRODE_SETUP_OPENOCD";

/// Whether to install OpenOCD: the variable's answer, else the user's when
/// setup runs on a terminal; never without one of them.
fn want_openocd() -> bool {
    match std::env::var(OPENOCD_VARIABLE).ok().as_deref().map(str::trim) {
        Some("yes" | "1" | "y") => return true,
        Some(_) => return false,
        None => {}
    }
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    print!(
        "setup: install OpenOCD (Debian package openocd; `cargo xtask flash --jtag` loads a \
         PBX-A9 through it)? [y/N] "
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Offers OpenOCD, which only `flash --jtag` on a PBX-A9 needs: nothing
/// else waits for it, and a failed installation is reported, not fatal.
fn offer_openocd() {
    if which("openocd") {
        println!("setup: OpenOCD present (for `cargo xtask flash --jtag` on a PBX-A9)");
        return;
    }
    if !want_openocd() {
        println!(
            "setup: OpenOCD (optional, for `cargo xtask flash --jtag` on a PBX-A9) not installed; \
             `apt-get install openocd`, or {OPENOCD_VARIABLE}=yes cargo xtask setup"
        );
        return;
    }
    let installed = step("apt index", "apt-get", &["update", "-q"]).and_then(|()| {
        step("OpenOCD", "apt-get", &["install", "-y", "-q", "--no-install-recommends", "openocd"])
    });
    if let Err(message) = installed {
        println!("setup: OpenOCD not installed (optional): {message}");
    }
}

/// `cargo xtask setup`.
pub fn run() -> Result<ExitCode, String> {
    // 1. Rust targets.
    let missing: Vec<&str> = BOARDS
        .iter()
        .map(|board| board.target)
        .filter(|target| !installed_targets().iter().any(|t| t == target))
        .collect();
    if missing.is_empty() {
        println!("setup: rust targets present");
    } else {
        println!("setup: adding rust targets: rustup target add {}", missing.join(" "));
        let added = Command::new("rustup")
            .arg("target")
            .arg("add")
            .args(&missing)
            .status()
            .is_ok_and(|s| s.success());
        if !added {
            println!(
                "setup: rustup could not add the targets; installing Debian's rustc-web with build-std"
            );
            step("apt index", "apt-get", &["update", "-q"])?;
            step(
                "Debian rust toolchain",
                "apt-get",
                &[
                    "install",
                    "-y",
                    "-q",
                    "-t",
                    "bookworm-updates",
                    "rustc-web",
                    "cargo-web",
                    "rust-web-src",
                    "lld-22",
                ],
            )?;
        }
    }
    // 2. QEMU with both machines, and gdb-multiarch.
    let qemu_ok = BOARDS.iter().all(|board| require_qemu(board).is_ok());
    let gdb_ok = which("gdb-multiarch");
    if qemu_ok && gdb_ok {
        println!(
            "setup: QEMU with {} and gdb-multiarch present",
            BOARDS.iter().map(|b| b.machine).collect::<Vec<_>>().join(", ")
        );
    } else {
        let bookworm = debian_codename().as_deref() == Some("bookworm");
        if bookworm {
            write_backports_source()?;
        }
        step("apt index", "apt-get", &["update", "-q"])?;
        let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
        if bookworm {
            args.extend(["-t", "bookworm-backports"]);
        }
        args.extend(["qemu-system-arm", "qemu-system-misc", "gdb-multiarch"]);
        step("QEMU and gdb-multiarch", "apt-get", &args)?;
    }
    for board in BOARDS {
        require_qemu(board)?;
        println!("setup: {} emulates {}", board.qemu, board.machine);
    }
    for board in BOARDS {
        toolchain_for(board)?;
    }
    // 3. The pinned nightly: Miri, for the host tests of the crates with
    // `unsafe` code; its library source and clippy, for apps in Rust std.
    // rustup's own downloads: no root needed.
    match nightly_missing() {
        Some(missing) if missing.is_empty() => {
            println!("setup: {MIRI_TOOLCHAIN} with Miri, rust-src and clippy present");
        }
        missing => {
            let mut args: Vec<&str> = match &missing {
                Some(_) => vec!["component", "add", "--toolchain", MIRI_TOOLCHAIN],
                None => vec!["toolchain", "install", MIRI_TOOLCHAIN, "--profile", "minimal"],
            };
            for component in missing.unwrap_or(NIGHTLY_COMPONENTS.to_vec()) {
                if args[0] == "toolchain" {
                    args.push("--component");
                }
                args.push(component);
            }
            println!("setup: {MIRI_TOOLCHAIN}: rustup {}", args.join(" "));
            let installed = Command::new("rustup").args(&args).status().is_ok_and(|s| s.success());
            if !installed || !nightly_installed() {
                return Err(format!(
                    "installing {MIRI_TOOLCHAIN} failed: rustup {}",
                    args.join(" ")
                ));
            }
        }
    }
    offer_openocd();
    println!("setup: done");
    Ok(ExitCode::SUCCESS)
}
