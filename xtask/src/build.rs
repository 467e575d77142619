//! Building images with the right target, linker script and features, and
//! booting them in QEMU.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use ferrode_tests::boards::{Board, RunOptions};

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
    let toolchain = setup::toolchain_for(board)?;
    let root = workspace_root();
    let linker = root.join("linker");
    let mut command = Command::new(toolchain.cargo());
    clean_cargo(&mut command);
    command
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--package",
            app,
            "--target",
            board.target,
            "--features",
            board.name,
        ])
        .env(
            format!("{}_RUSTFLAGS", target_env(board.target)),
            format!("-C link-arg=-L{} -C link-arg=-T{}", linker.display(), board.linker_script),
        );
    if release {
        command.arg("--release");
    }
    toolchain.configure(&mut command, board.target);
    let status = command.status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!("building {app} for {} failed", board.name));
    }
    let profile = if release { "release" } else { "debug" };
    Ok(target_dir().join(board.target).join(profile).join(app))
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

/// `cargo xtask run`.
pub fn run_command(
    board: &str,
    app: &str,
    release: bool,
    icount: bool,
    forward: Option<u16>,
    args: &[String],
) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board, app)?;
    setup::ensure()?;
    setup::require_qemu(board)?;
    let image = build(board, &app.name, release)?;
    let mut words = vec![app.name.clone()];
    words.extend(args.iter().cloned());
    let mut options = RunOptions { args: words, icount, ..Default::default() };
    if let Some(port) = forward {
        options.tcp_forwards.push((port, 7));
        options.udp_forwards.push((port, 7));
    }
    let qemu_args = board.qemu_args(&image, &options);
    eprintln!(
        "booting {} on {} (QEMU {}; exit with the image or Ctrl-C)",
        app.name, board.name, board.machine
    );
    let status = Command::new(board.qemu)
        .args(&qemu_args)
        .stdin(Stdio::inherit())
        .status()
        .map_err(|error| format!("cannot start {}: {error}", board.qemu))?;
    Ok(exit_code(status.code()))
}

/// `cargo xtask gdb`.
pub fn gdb_command(board: &str, app: &str) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board, app)?;
    setup::require_qemu(board)?;
    setup::require_program("gdb-multiarch", "gdb-multiarch")?;
    let image = build(board, &app.name, false)?;
    let options = RunOptions { args: vec![app.name.clone()], gdb: true, ..Default::default() };
    let mut qemu = Command::new(board.qemu)
        .args(board.qemu_args(&image, &options))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", board.qemu))?;
    let status = Command::new("gdb-multiarch")
        .arg(&image)
        .args(["-ex", "target remote localhost:1234"])
        .status()
        .map_err(|error| format!("cannot start gdb-multiarch: {error}"));
    let _ = qemu.kill();
    let _ = qemu.wait();
    Ok(exit_code(status?.code()))
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
}
