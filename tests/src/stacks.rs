//! How deep each of an image's stacks went: the peak use of every thread
//! stack while the image ran under QEMU, for `cargo xtask stacks` and a
//! QEMU case.
//!
//! Every stack of a Ferrode image is a zeroed static (the thread stacks
//! after `.bss`, which the boot code zeroes by their records) or the
//! linker script's boot stack (`.stack`, never written before use), so
//! the lowest word above a stack's guard that is no longer zero is as
//! deep as the stack ever went. The image
//! runs halted under QEMU's GDB server; gdb-multiarch stops it where it
//! exits (a breakpoint on the arch crate's `exit`) or after a while, and
//! dumps the memory that holds the stacks, in pieces that leave out every
//! guard page (unmapped on PBX-A9: gdb cannot read them).
//!
//! The thread stacks (`ferrode_board::thread_stack!`: a composition's
//! component stacks, named by component, the board's helper threads'
//! stacks, such as `terminal::IRQ_MEMORY`, and the idle thread's, named
//! `idle`) are found by the image's stack records
//! ([`harness::symbolize::stack_records`]), and the boot stack by the
//! linker script's symbols (`__stack_bottom`..`__stack_top`, thread
//! `main`).

use std::borrow::Cow;
use std::ops::Range;
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
/// 64-byte guard there (with room for the kernel aligning the stack's
/// bottom up).
const BOTTOM_SKIP: u64 = 80;
// The kernel's 16 guard words.
const _: () = assert!(BOTTOM_SKIP >= 16 * 4);

/// One stack of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    /// The component or thread it belongs to (`log`, `main (boot stack)`,
    /// `nic::DATA_MEMORY`).
    pub name: String,
    /// Lowest address (the kernel's guard words there [`usage`] does not
    /// count).
    pub start: u64,
    /// Bytes.
    pub size: u64,
    /// Bytes at its bottom never counted as used: 80 for a stack the
    /// kernel guards (its 64-byte guard, with room for the kernel aligning
    /// the bottom up), 0 for an exception stack.
    pub skip: u64,
}

/// The CPU's exception stacks, from the arch crates' symbols (`symbol`
/// gives an address by name): ARMv7-A's IRQ, abort, undefined and FIQ mode
/// stacks (each from the one below's top to its own; the fault report
/// runs on the abort mode's), RV32's fault stack. None on an image without
/// them.
fn exception_stacks(symbol: impl Fn(&str) -> Option<u64>) -> Vec<Stack> {
    let mut found = Vec::new();
    let mut push = |name: &str, bottom: &str, top: &str| {
        if let (Some(start), Some(end)) = (symbol(bottom), symbol(top))
            && end > start
        {
            found.push(Stack { name: name.into(), start, size: end - start, skip: 0 });
        }
    };
    push("irq (exception stack)", "__ferrode_mode_stacks_bottom", "__ferrode_irq_stack_top");
    push("abort (exception stack)", "__ferrode_irq_stack_top", "__ferrode_abt_stack_top");
    push("undefined (exception stack)", "__ferrode_abt_stack_top", "__ferrode_und_stack_top");
    push("fiq (exception stack)", "__ferrode_und_stack_top", "__ferrode_fiq_stack_top");
    push("fault (exception stack)", "__ferrode_fault_stack_bottom", "__ferrode_fault_stack_top");
    found
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
                harness::symbolize::without_hash(&demangled) == path
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
    let mut found: Vec<Stack> = harness::symbolize::stack_records(file)?
        .into_iter()
        .map(|stack| Stack {
            name: stack.name,
            start: stack.stack.start,
            size: stack.stack.end - stack.stack.start,
            skip: BOTTOM_SKIP,
        })
        .collect();
    found.extend(exception_stacks(|name| harness::symbolize::symbol_address(file, name)));
    let bottom = harness::symbolize::symbol_address(file, "__stack_bottom");
    let top = harness::symbolize::symbol_address(file, "__stack_top");
    if let (Some(bottom), Some(top)) = (bottom, top)
        && top > bottom
    {
        found.push(Stack {
            name: "main (boot stack)".into(),
            start: bottom,
            size: top - bottom,
            skip: BOTTOM_SKIP,
        });
    }
    found.sort_by_key(|stack| stack.start);
    Ok(found)
}

/// The image's guard pages: the boot stack's and each thread stack's
/// (none on a board without them).
fn guards_in(file: &object::File<'_>) -> Result<Vec<Range<u64>>, String> {
    let mut guards: Vec<Range<u64>> = harness::symbolize::stack_records(file)?
        .into_iter()
        .map(|stack| stack.guard)
        .chain(harness::symbolize::boot_stack_guard(file))
        .filter(|guard| !guard.is_empty())
        .collect();
    guards.sort_by_key(|guard| guard.start);
    Ok(guards)
}

/// The memory to dump for `stacks`: from the lowest stack to the highest,
/// without any of `guards`, in pieces (lowest first) that each hold some
/// stack and start and end with one.
fn pieces(stacks: &[Stack], guards: &[Range<u64>]) -> Vec<Range<u64>> {
    let (Some(low), Some(high)) = (
        stacks.iter().map(|stack| stack.start).min(),
        stacks.iter().map(|stack| stack.start + stack.size).max(),
    ) else {
        return Vec::new();
    };
    // The span, cut at each guard.
    let mut cut: Vec<Range<u64>> = std::iter::once(low..high).collect();
    for guard in guards {
        cut = cut
            .into_iter()
            .flat_map(|piece| {
                [piece.start..piece.end.min(guard.start), piece.start.max(guard.end)..piece.end]
            })
            .filter(|piece| !piece.is_empty())
            .collect();
    }
    // Each piece trimmed to the stacks in it.
    cut.into_iter()
        .filter_map(|piece| {
            let inside =
                |stack: &&Stack| stack.start < piece.end && piece.start < stack.start + stack.size;
            let start = stacks.iter().filter(inside).map(|stack| stack.start).min()?;
            let end = stacks.iter().filter(inside).map(|stack| stack.start + stack.size).max()?;
            Some(start.max(piece.start)..end.min(piece.end))
        })
        .collect()
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
            let skip = (stack.skip as usize).min(bytes.len()) & !3;
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
    let (stacks, exits, guards) = with_elf(image, |file| {
        Ok((stacks_in(file)?, functions(file, board.exit_symbol)?, guards_in(file)?))
    })?;
    // The memory that holds the stacks, in pieces around the guard pages.
    let pieces = pieces(&stacks, &guards);
    let (Some(low), Some(high)) =
        (pieces.first().map(|piece| piece.start), pieces.last().map(|piece| piece.end))
    else {
        return Err(format!("no stacks found in {}", image.display()));
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
    for (piece, dump) in pieces.iter().zip(&dumps) {
        commands.push(format!(
            "dump binary memory {} {:#x} {:#x}",
            dump.display(),
            piece.start,
            piece.end
        ));
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
    // What lies between the pieces (guard pages, other statics) stays
    // zero: no stack is there.
    let mut memory = vec![0u8; (high - low) as usize];
    let mut missing = None;
    for (piece, dump) in pieces.iter().zip(&dumps) {
        match std::fs::read(dump) {
            Ok(bytes) if bytes.len() as u64 == piece.end - piece.start => {
                let at = (piece.start - low) as usize;
                memory[at..at + bytes.len()].copy_from_slice(&bytes);
            }
            Ok(bytes) => {
                missing.get_or_insert(format!(
                    "the dump of {:#x}..{:#x} has {} bytes, not {}",
                    piece.start,
                    piece.end,
                    bytes.len(),
                    piece.end - piece.start
                ));
            }
            Err(error) => {
                missing.get_or_insert(format!("gdb wrote no memory dump ({error})"));
            }
        }
        let _ = std::fs::remove_file(dump);
    }
    if let Some(message) = missing {
        return Err(format!("{message}: {output}"));
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

    fn stack(name: &str, start: u64, size: u64) -> Stack {
        Stack { name: name.into(), start, size, skip: BOTTOM_SKIP }
    }

    #[test]
    fn exception_stacks_come_from_the_arch_crates_symbols() {
        // PBX-A9's mode stacks (as they were: 256, 1024, 1024, 256 bytes).
        let arm = |name: &str| match name {
            "__ferrode_mode_stacks_bottom" => Some(0x7011_8ac0),
            "__ferrode_irq_stack_top" => Some(0x7011_8bc0),
            "__ferrode_abt_stack_top" => Some(0x7011_8fc0),
            "__ferrode_und_stack_top" => Some(0x7011_93c0),
            "__ferrode_fiq_stack_top" => Some(0x7011_94c0),
            _ => None,
        };
        let found = exception_stacks(arm);
        let named: Vec<(&str, u64, u64, u64)> =
            found.iter().map(|s| (s.name.as_str(), s.start, s.size, s.skip)).collect();
        assert_eq!(
            named,
            [
                ("irq (exception stack)", 0x7011_8ac0, 256, 0),
                ("abort (exception stack)", 0x7011_8bc0, 1024, 0),
                ("undefined (exception stack)", 0x7011_8fc0, 1024, 0),
                ("fiq (exception stack)", 0x7011_93c0, 256, 0),
            ]
        );
        // MicroBlaze V's fault stack; none without the symbols.
        let riscv = |name: &str| match name {
            "__ferrode_fault_stack_bottom" => Some(0x8005_5480),
            "__ferrode_fault_stack_top" => Some(0x8005_5680),
            _ => None,
        };
        let found = exception_stacks(riscv);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].name.as_str(), found[0].size), ("fault (exception stack)", 512));
        assert!(exception_stacks(|_| None).is_empty());
        // An exception stack has no guard words: use down to its bottom
        // word counts.
        let mut memory = vec![0u8; 256];
        memory[0] = 1;
        let usage = usage(&exception_stacks(arm)[..1], 0x7011_8ac0, &memory);
        assert_eq!(usage[0].peak, 256);
    }

    #[test]
    fn the_dumped_pieces_leave_out_every_guard() {
        // PBX-A9: a stack without a guard, two thread stacks each above
        // its guard page, the boot stack above its guard (right after the
        // last thread stack).
        let stacks = [
            stack("unguarded", 0x7010_89ac, 0x800),
            stack("log", 0x7010_d000, 0x1000),
            stack("hello", 0x7010_f000, 0x1000),
            stack("main (boot stack)", 0x7011_1000, 0x1000),
        ];
        let guards = [0x7010_c000..0x7010_d000, 0x7010_e000..0x7010_f000, 0x7011_0000..0x7011_1000];
        let pieces = pieces(&stacks, &guards);
        assert_eq!(
            pieces,
            [
                0x7010_89ac..0x7010_91ac,
                0x7010_d000..0x7010_e000,
                0x7010_f000..0x7011_0000,
                0x7011_1000..0x7011_2000
            ]
        );
        for piece in &pieces {
            assert!(
                guards.iter().all(|guard| piece.end <= guard.start || guard.end <= piece.start)
            );
        }
        // MicroBlaze V: no guards, one piece from the lowest stack to the
        // highest; none without stacks.
        let stacks = [stack("log", 0x8000_4000, 0x1000), stack("timer", 0x8000_1000, 0x800)];
        let span = 0x8000_1000..0x8000_5000;
        assert_eq!(super::pieces(&stacks, &[]), [span]);
        assert_eq!(super::pieces(&[], &[]), []);
        // A guard between stacks with other memory around it: the pieces
        // end at the stacks, not at the guard.
        let stacks = [stack("a", 0x1000, 0x100), stack("b", 0x3000, 0x100)];
        let guard = 0x2000..0x2800;
        assert_eq!(super::pieces(&stacks, &[guard]), [0x1000..0x1100, 0x3000..0x3100]);
    }

    #[test]
    fn the_deepest_word_written_gives_the_peak() {
        // Two thread stacks with the kernel's guard at their bottom; a
        // third written only in its very top byte.
        let stacks =
            [stack("used", 0x1000, 256), stack("unused", 0x1100, 256), stack("top", 0x1200, 256)];
        let mut memory = vec![0u8; 768];
        for base in [0, 256] {
            for word in 0..16 {
                memory[base + word * 4..][..4].copy_from_slice(&STACK_GUARD.to_le_bytes());
            }
        }
        for word in 0..16 {
            memory[512 + word * 4..][..4].copy_from_slice(&STACK_GUARD.to_le_bytes());
        }
        memory[767] = 1;
        // `used` was written 100 bytes below its top (offset 156).
        memory[156] = 0x42;
        memory[200] = 0x17;
        let usage = usage(&stacks, 0x1000, &memory);
        assert_eq!(usage[0], Usage { name: "used".into(), size: 256, peak: 100 });
        // The guard is not use.
        assert_eq!(usage[1].peak, 0);
        // A byte at the very top counts as the top word only.
        assert_eq!(usage[2].peak, 4);
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
