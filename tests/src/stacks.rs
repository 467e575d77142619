//! How deep each of an image's stacks went: the peak use of every thread
//! stack while the image ran under QEMU, for `cargo xtask stacks` and a
//! QEMU case.
//!
//! Every stack of a Ferrode image is a zeroed static (`.bss`) or the
//! linker script's boot stack (`.stack`, never written before use), so
//! the lowest word above a stack's guard that is no longer zero is as
//! deep as the stack ever went. The image runs halted under QEMU's GDB
//! server; gdb-multiarch stops it where it exits (a breakpoint on the
//! arch crate's `exit`) or after a while, and dumps the memory that holds
//! the stacks. The stacks are found by their symbols: a composition's
//! component stacks (`__composition::memory::NAME`), the board's helper
//! thread stacks (`..._MEMORY`), the idle thread's, and the boot stack
//! (`__stack_bottom`..`__stack_top`, thread `main`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use object::{Object, ObjectSymbol, SymbolKind};

use crate::boards::{Board, RunOptions};
use crate::harness;

/// The kernel's stack guard word (`ferrode_kernel`'s `STACK_GUARD`):
/// written at the bottom of every guarded stack, so not a sign of use.
const STACK_GUARD: u32 = 0x57ac_6a2d;
/// Bytes at the bottom of a stack never counted as used: the kernel's
/// 64-byte guard, and the byte of the cell a stack static lives in.
const BOTTOM_SKIP: u64 = 80;

/// One stack of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    /// The component or thread it belongs to (`log`, `main (boot stack)`,
    /// `nic::DATA_MEMORY`).
    pub name: String,
    /// Lowest address.
    pub start: u64,
    /// Bytes.
    pub size: u64,
}

/// How much of a stack was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// As in [`Stack::name`].
    pub name: String,
    /// The stack's size in bytes.
    pub size: u64,
    /// Bytes from its top down to the deepest word written.
    pub peak: u64,
}

/// The addresses of the functions named `path` (demangled, without the
/// hash) in the image: a breakpoint by address does not depend on how gdb
/// resolves a Rust path in a given image's debug info.
fn functions(file: &object::File<'_>, path: &str) -> Result<Vec<u64>, String> {
    let mut found: Vec<u64> = file
        .symbols()
        .filter(|symbol| symbol.kind() == SymbolKind::Text)
        .filter(|symbol| {
            symbol.name().is_ok_and(|raw| {
                let demangled = addr2line::demangle_auto(Cow::Borrowed(raw), None);
                without_hash(&demangled) == path
            })
        })
        .map(|symbol| crate::harness::symbolize::code_start(file, &symbol))
        .collect();
    found.sort_unstable();
    found.dedup();
    if found.is_empty() {
        return Err(format!("no function {path} in the image"));
    }
    Ok(found)
}

/// A demangled Rust symbol without the hash Rust appends
/// (`::h0123456789abcdef`).
fn without_hash(symbol: &str) -> &str {
    match symbol.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            path
        }
        _ => symbol,
    }
}

/// Reads `image` and hands its parsed ELF to `f`.
fn with_elf<R>(
    image: &Path,
    f: impl FnOnce(&object::File<'_>) -> Result<R, String>,
) -> Result<R, String> {
    let data = std::fs::read(image).map_err(|e| format!("reading {}: {e}", image.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("parsing the image: {e}"))?;
    f(&file)
}

/// The stacks in `image`, lowest address first.
pub fn stacks(image: &Path) -> Result<Vec<Stack>, String> {
    with_elf(image, stacks_in)
}

fn stacks_in(file: &object::File<'_>) -> Result<Vec<Stack>, String> {
    let mut found = Vec::new();
    let (mut bottom, mut top) = (None, None);
    for symbol in file.symbols() {
        let Ok(raw) = symbol.name() else { continue };
        match raw {
            "__stack_bottom" => bottom = Some(symbol.address()),
            "__stack_top" => top = Some(symbol.address()),
            _ => {}
        }
        if symbol.kind() != SymbolKind::Data || symbol.size() == 0 {
            continue;
        }
        let demangled = addr2line::demangle_auto(Cow::Borrowed(raw), None);
        if let Some(name) = stack_name(&demangled) {
            // A stack static is its bytes and the cell's flag byte.
            found.push(Stack { name, start: symbol.address(), size: symbol.size() & !3 });
        }
    }
    if let (Some(bottom), Some(top)) = (bottom, top)
        && top > bottom
    {
        found.push(Stack { name: "main (boot stack)".into(), start: bottom, size: top - bottom });
    }
    found.sort_by_key(|stack| stack.start);
    Ok(found)
}

/// The name a stack static is shown by, if `symbol` (demangled) is one.
fn stack_name(symbol: &str) -> Option<String> {
    let path = without_hash(symbol);
    if let Some((_, component)) = path.split_once("::__composition::memory::") {
        return Some(component.to_string());
    }
    if path == "ferrode_board::kernel::IDLE_STACK" {
        return Some("idle".into());
    }
    let last = path.rsplit("::").next().unwrap_or(path);
    if last == "MEMORY" || last.ends_with("_MEMORY") {
        let short = path.strip_prefix("ferrode_board::component::").unwrap_or(path);
        return Some(short.to_string());
    }
    None
}

/// The peak use of each of `stacks`, from `memory`, a copy of the image's
/// RAM starting at address `base`.
pub fn usage(stacks: &[Stack], base: u64, memory: &[u8]) -> Vec<Usage> {
    stacks
        .iter()
        .map(|stack| {
            let start = stack.start.saturating_sub(base) as usize;
            let end = (start + stack.size as usize).min(memory.len());
            let bytes = memory.get(start..end).unwrap_or(&[]);
            let skip = (BOTTOM_SKIP as usize).min(bytes.len()) & !3;
            let deepest = bytes[skip..]
                .chunks_exact(4)
                .position(|word| {
                    let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                    word != 0 && word != STACK_GUARD
                })
                .map(|words| skip as u64 + 4 * words as u64);
            Usage {
                name: stack.name.clone(),
                size: stack.size,
                peak: deepest.map_or(0, |offset| stack.size - offset),
            }
        })
        .collect()
}

/// Memory dumps made by this process so far (each gets its own file).
static DUMPS: AtomicU32 = AtomicU32::new(0);

/// What [`measure`] saw.
#[derive(Debug)]
pub struct Measurement {
    /// Each stack's peak use.
    pub stacks: Vec<Usage>,
    /// Whether the image was stopped where it exits (else after the time
    /// it was given).
    pub at_exit: bool,
    /// The image's console.
    pub console: String,
    /// The bytes of the image's serial port as they came (defmt frames
    /// stay binary here).
    pub raw_console: Vec<u8>,
    /// gdb's output.
    pub gdb: String,
}

/// Boots `image` on `board` halted under QEMU's GDB server, lets it run
/// until it exits or for `run_for` (nominal, see
/// [`harness::time_scale`]), and measures its stacks.
pub fn measure(
    board: &Board,
    image: &Path,
    options: &RunOptions,
    run_for: Duration,
) -> Result<Measurement, String> {
    let (stacks, exits, guard) = with_elf(image, |file| {
        Ok((
            stacks_in(file)?,
            functions(file, board.exit_symbol)?,
            harness::symbolize::boot_stack_guard(file),
        ))
    })?;
    let (Some(low), Some(high)) = (
        stacks.iter().map(|stack| stack.start).min(),
        stacks.iter().map(|stack| stack.start + stack.size).max(),
    ) else {
        return Err(format!("no stacks found in {}", image.display()));
    };
    // The memory from the lowest stack to the highest, in one piece or,
    // where the boot stack's guard page (unmapped: gdb cannot read it) lies
    // between, in two.
    let pieces: Vec<(u64, u64)> = match guard {
        Some(guard) if low < guard.start && guard.end < high => {
            vec![(low, guard.start), (guard.end, high)]
        }
        _ => vec![(low, high)],
    };
    let dumps: Vec<PathBuf> = pieces
        .iter()
        .map(|_| {
            std::env::temp_dir().join(format!(
                "ferrode-stacks-{}-{}.bin",
                std::process::id(),
                DUMPS.fetch_add(1, Ordering::Relaxed)
            ))
        })
        .collect();
    // A breakpoint where the image exits, then on until it gets there.
    let mut commands: Vec<String> =
        exits.iter().map(|address| format!("break *{address:#x}")).collect();
    commands.push("continue".to_string());
    for ((from, to), dump) in pieces.iter().zip(&dumps) {
        commands.push(format!("dump binary memory {} {from:#x} {to:#x}", dump.display()));
    }
    commands.extend(["echo @@dumped\\n".to_string(), "kill".to_string()]);
    let (qemu, gdb) = harness::gdb_batch(board, image, options, &commands)
        .map_err(|(message, console)| format!("{message}: {console}"))?;
    // Until the image exits (gdb stops at the breakpoint, dumps and kills
    // it) or the time is up: then gdb's interrupt stops the target, and
    // gdb goes on with the dump.
    if !gdb.wait_for("@@dumped", run_for) && !gdb.has_ended() {
        gdb.interrupt().map_err(|e| format!("interrupting gdb: {e}"))?;
    }
    let output = gdb.finish(Duration::from_secs(30)).console;
    let outcome = qemu.finish(Duration::from_secs(5));
    // Without QEMU's note that gdb ended it.
    let console = outcome
        .console
        .lines()
        .filter(|line| !line.contains("Terminated via GDBstub"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut memory = Vec::new();
    let mut missing = None;
    for (index, dump) in dumps.iter().enumerate() {
        match std::fs::read(dump) {
            Ok(bytes) => {
                if index > 0 {
                    // The guard page: never written (it cannot be).
                    let gap = pieces[index].0 - pieces[index - 1].1;
                    memory.resize(memory.len() + gap as usize, 0);
                }
                memory.extend(bytes);
            }
            Err(error) => missing = Some(error),
        }
        let _ = std::fs::remove_file(dump);
    }
    if let Some(e) = missing {
        return Err(format!("gdb wrote no memory dump ({e}): {output}"));
    }
    if memory.len() as u64 != high - low {
        return Err(format!("the memory dump has {} bytes, not {}", memory.len(), high - low));
    }
    Ok(Measurement {
        stacks: usage(&stacks, low, &memory),
        at_exit: stopped_at_breakpoint(&output),
        console,
        raw_console: outcome.raw,
        gdb: output,
    })
}

/// Whether gdb reported a stop at a breakpoint (`Breakpoint 2, 0x... in
/// ...`), not only setting one (`Breakpoint 2 at 0x...`).
fn stopped_at_breakpoint(gdb: &str) -> bool {
    gdb.lines().any(|line| {
        line.strip_prefix("Breakpoint ")
            .and_then(|rest| rest.split_once(','))
            .is_some_and(|(number, _)| number.parse::<u32>().is_ok())
    })
}

/// The table `cargo xtask stacks` prints.
pub fn table(stacks: &[Usage]) -> String {
    let width = stacks.iter().map(|stack| stack.name.len()).max().unwrap_or(5).max(5);
    let mut text = format!("{:<width$}  {:>7}  {:>7}  {:>7}\n", "stack", "size", "peak", "free");
    for stack in stacks {
        let warning = if stack.peak * 4 > stack.size * 3 { "  (over 75%)" } else { "" };
        text.push_str(&format!(
            "{:<width$}  {:>7}  {:>7}  {:>7}{warning}\n",
            stack.name,
            stack.size,
            stack.peak,
            stack.size - stack.peak
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_statics_are_named_by_component_or_path() {
        let name = |symbol: &str| stack_name(symbol);
        assert_eq!(
            name("echo_net::__composition::memory::nic::h0123456789abcdef").as_deref(),
            Some("nic")
        );
        assert_eq!(
            name("ferrode_board::component::nic::DATA_MEMORY::hfedcba9876543210").as_deref(),
            Some("nic::DATA_MEMORY")
        );
        assert_eq!(
            name("ferrode_board::kernel::IDLE_STACK::h0000000000000000").as_deref(),
            Some("idle")
        );
        assert_eq!(name("crash::overflow::MEMORY").as_deref(), Some("crash::overflow::MEMORY"));
        assert_eq!(name("ferrode_board::kernel::KERNEL::h0123456789abcdef"), None);
        assert_eq!(name("echo_net::__composition::utcb::nic::h0123456789abcdef"), None);
    }

    #[test]
    fn the_deepest_word_written_gives_the_peak() {
        let stacks = [
            Stack { name: "used".into(), start: 0x1000, size: 256 },
            Stack { name: "unused".into(), start: 0x1100, size: 256 },
        ];
        let mut memory = vec![0u8; 512];
        // The guard at the bottom of both, and the cell's flag byte.
        for stack in 0..2 {
            for word in 0..16 {
                memory[stack * 256 + word * 4..][..4].copy_from_slice(&STACK_GUARD.to_le_bytes());
            }
            memory[stack * 256 + 255] = 1;
        }
        // `used` was written 100 bytes below its top (offset 156).
        memory[156] = 0x42;
        memory[200] = 0x17;
        let usage = usage(&stacks, 0x1000, &memory);
        assert_eq!(usage[0], Usage { name: "used".into(), size: 256, peak: 100 });
        // The flag byte at the very top counts as the top word only.
        assert_eq!(usage[1].peak, 4);
    }

    #[test]
    fn a_stop_at_a_breakpoint_is_told_from_setting_one() {
        let set = "0x80000000 in _start ()\nBreakpoint 1 at 0x8000ad96: file src/cpu.rs, line 3.\n";
        assert!(!stopped_at_breakpoint(set));
        let hit =
            format!("{set}\nBreakpoint 1, 0x8000ad96 in ferrode_arch_riscv32::cpu::exit ()\n");
        assert!(stopped_at_breakpoint(&hit));
    }

    #[test]
    fn the_table_flags_a_stack_over_three_quarters_full() {
        let table = table(&[
            Usage { name: "log".into(), size: 4096, peak: 1200 },
            Usage { name: "nic".into(), size: 8192, peak: 7000 },
        ]);
        assert!(table.lines().nth(1).is_some_and(|line| line.ends_with("2896")));
        assert!(table.lines().nth(2).is_some_and(|line| line.ends_with("(over 75%)")));
    }
}
