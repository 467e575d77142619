//! Where an image's instructions go, by function: `cargo xtask profile`
//! and a QEMU case.
//!
//! QEMU runs the image under `-icount` (as every measurement does) with
//! one instruction per translation block and block chaining off (`-accel
//! tcg,one-insn-per-tb=on -d exec,nochain`), so its exec log has one line
//! per guest instruction executed, the guest PC in its second bracketed
//! field ([`measure::trace_pc`]). The log comes through QEMU's standard
//! error, a pipe read while QEMU runs: only a count per PC is kept, never
//! the log (ipc-bench executes millions of instructions). The PCs are then
//! attributed to the image's function symbols ([`Symbols`]) and summed per
//! function ([`by_function`], [`table`]).
//!
//! An echo app, which never exits, is profiled through one TCP echo
//! ([`run_tcp_echo`]): a [`Mark`] set around the echo tells the log's
//! reader which lines to count.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use crate::boards::{Board, RunOptions};
use crate::harness::{self, Running, symbolize};
use crate::measure;
use crate::net::{self, Random};

/// The row of instructions at PCs inside no function symbol.
pub const NO_SYMBOL: &str = "(no symbol)";

/// Characters of a function's name the table shows; longer names keep
/// their start and end, joined by `…`.
pub const NAME_WIDTH: usize = 80;

/// One function of the image: its code's addresses and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Its code's addresses (on PBX-A9 without the T32 bit).
    pub code: Range<u64>,
    /// Demangled, without the hash.
    pub name: String,
}

/// An image's function symbols, sorted by address, for attributing PCs.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    /// Sorted by start, not overlapping.
    functions: Vec<Function>,
    /// Bits of a PC kept when looking it up: all but bit 0 on ARM, where
    /// a T32 address may carry it.
    pc_mask: u64,
}

/// A symbol as read from the image, before [`Symbols::new`] gives each its
/// end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its value (on ARM a T32 function's has bit 0 set).
    pub start: u64,
    /// Its size; 0 for an assembly label, which then reaches to the next
    /// symbol or the end of its section.
    pub size: u64,
    /// The end of the section it is in.
    pub section_end: u64,
    /// Demangled, without the hash.
    pub name: String,
}

impl Symbols {
    /// The functions of `symbols`; with `arm`, symbol values and PCs are
    /// taken without bit 0 (set in a T32 function's value). Of symbols at
    /// the same address the first with a size is kept (e.g. a function,
    /// not a label at its start), else the first.
    pub fn new(mut symbols: Vec<Symbol>, arm: bool) -> Self {
        let pc_mask = if arm { !1 } else { !0 };
        for symbol in &mut symbols {
            symbol.start &= pc_mask;
        }
        // Stable: at equal starts, sized symbols first, in the given order.
        symbols.sort_by_key(|symbol| (symbol.start, symbol.size == 0));
        symbols.dedup_by_key(|symbol| symbol.start);
        let ends: Vec<u64> = symbols
            .iter()
            .enumerate()
            .map(|(index, symbol)| {
                if symbol.size > 0 {
                    return symbol.start + symbol.size;
                }
                let next = symbols.get(index + 1).map_or(u64::MAX, |next| next.start);
                next.min(symbol.section_end).max(symbol.start)
            })
            .collect();
        let functions = symbols
            .into_iter()
            .zip(ends)
            .map(|(symbol, end)| Function { code: symbol.start..end, name: symbol.name })
            .collect();
        Self { functions, pc_mask }
    }

    /// The function symbols of the ELF `image`: functions and the labels
    /// of its assembly (what `nm` types t, T or W) in executable sections,
    /// without local labels (`.L…`) and ARM's and RISC-V's mapping symbols
    /// (`$a`, `$t`, `$d`, `$x`).
    pub fn from_image(image: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(image)
            .map_err(|error| format!("cannot read {}: {error}", image.display()))?;
        let file = object::File::parse(&*bytes)
            .map_err(|error| format!("{} is not an ELF image: {error}", image.display()))?;
        let mut symbols = Vec::new();
        for symbol in file.symbols() {
            if !matches!(symbol.kind(), SymbolKind::Text | SymbolKind::Unknown) {
                continue;
            }
            let Some(section) =
                symbol.section_index().and_then(|index| file.section_by_index(index).ok())
            else {
                continue;
            };
            if section.kind() != SectionKind::Text {
                continue;
            }
            let Ok(raw) = symbol.name() else { continue };
            if raw.is_empty() || raw.starts_with(".L") || raw.starts_with('$') {
                continue;
            }
            let demangled = addr2line::demangle_auto(Cow::Borrowed(raw), None);
            symbols.push(Symbol {
                start: symbolize::code_start(&file, &symbol),
                size: symbol.size(),
                section_end: section.address() + section.size(),
                name: symbolize::without_hash(&demangled).to_string(),
            });
        }
        if symbols.is_empty() {
            return Err(format!(
                "{} has no function symbols (stripped?): a profile needs them",
                image.display()
            ));
        }
        Ok(Self::new(symbols, file.architecture() == object::Architecture::Arm))
    }

    /// The function whose code holds `pc`, if any.
    /// (On ARM a PC's bit 0 is cleared first; QEMU logs T32 PCs even, and
    /// functions start and end at even addresses, so this is only a
    /// safeguard.)
    pub fn find(&self, pc: u64) -> Option<&Function> {
        let pc = pc & self.pc_mask;
        let after = self.functions.partition_point(|function| function.code.start <= pc);
        let function = self.functions.get(after.checked_sub(1)?)?;
        function.code.contains(&pc).then_some(function)
    }

    /// The code of every function named `name` (demangled, without the
    /// hash: `ferrode_app_main`, `hello::hello`).
    pub fn named(&self, name: &str) -> Vec<Range<u64>> {
        self.functions
            .iter()
            .filter(|function| function.name == name)
            .map(|function| function.code.clone())
            .collect()
    }
}

/// Which part of a run the exec log's lines belong to: the thread that
/// drives the guest sets it ([`Mark::start`], [`Mark::stop`]), the thread
/// that reads the log looks at it for every line ([`Counts::marked`]).
/// A line is taken in the phase the mark is in when it is read; the
/// reader is at most the pipe's and its buffer's worth of lines (a few
/// thousand instructions) behind QEMU, and usually waits on it.
#[derive(Debug, Default)]
pub struct Mark(AtomicU8);

/// The phases of a [`Mark`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not counted yet (e.g. the boot): [`Counts::skipped`].
    Before,
    /// Counted per PC.
    During,
    /// Counted no more: [`Counts::after`].
    After,
}

impl Mark {
    /// Counting starts with the next line read.
    pub fn start(&self) {
        self.0.store(1, Ordering::Release);
    }

    /// Counting stops with the next line read.
    pub fn stop(&self) {
        self.0.store(2, Ordering::Release);
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        match self.0.load(Ordering::Acquire) {
            0 => Phase::Before,
            1 => Phase::During,
            _ => Phase::After,
        }
    }
}

/// Instructions counted per guest PC from an exec log, line by line.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Instructions executed at each PC (once counting started).
    pub by_pc: HashMap<u64, u64>,
    /// Instructions executed before counting started (see
    /// [`Counts::starting_at`], [`Counts::marked`]).
    pub skipped: u64,
    /// Instructions executed after counting stopped ([`Counts::marked`]).
    pub after: u64,
    /// With [`Counts::starting_at`]: counting starts with the first instruction
    /// inside one of these ranges (a function's code); without, at once.
    from: Vec<Range<u64>>,
    /// Counting has started.
    started: bool,
    /// With [`Counts::marked`]: what is counted, set by another thread.
    mark: Option<Arc<Mark>>,
    /// The first lines that were not trace lines (QEMU's own messages).
    pub other_lines: Vec<String>,
}

/// How many of QEMU's own lines [`Counts`] keeps.
const OTHER_LINES_KEPT: usize = 20;

impl Counts {
    /// Counts from the first instruction.
    pub fn new() -> Self {
        Self { started: true, ..Self::default() }
    }

    /// Counts from the first instruction inside one of `code` (the ranges
    /// of [`Symbols::named`]); the instructions before are only counted
    /// as [`Counts::skipped`].
    pub fn starting_at(code: Vec<Range<u64>>) -> Self {
        Self { from: code, started: false, ..Self::default() }
    }

    /// Counts only the lines read while `mark` is in [`Phase::During`]:
    /// those before are [`Counts::skipped`], those after
    /// [`Counts::after`].
    pub fn marked(mark: Arc<Mark>) -> Self {
        Self { mark: Some(mark), ..Self::new() }
    }

    /// Whether counting has started (always, without [`Counts::starting_at`]).
    pub fn started(&self) -> bool {
        self.started
    }

    /// All instructions counted.
    pub fn total(&self) -> u64 {
        self.by_pc.values().sum()
    }

    /// Takes one line of the log (without its newline).
    pub fn line(&mut self, line: &str) {
        let Some(pc) = measure::trace_pc(line) else {
            if self.other_lines.len() < OTHER_LINES_KEPT && !line.trim().is_empty() {
                self.other_lines.push(line.to_string());
            }
            return;
        };
        if let Some(mark) = &self.mark {
            match mark.phase() {
                Phase::Before => {
                    self.skipped += 1;
                    return;
                }
                Phase::During => {}
                Phase::After => {
                    self.after += 1;
                    return;
                }
            }
        }
        if !self.started {
            // T32 PCs are even; a range's start is too (its bit 0 cleared).
            if self.from.iter().any(|code| code.contains(&(pc & !1))) {
                self.started = true;
            } else {
                self.skipped += 1;
                return;
            }
        }
        *self.by_pc.entry(pc).or_insert(0) += 1;
    }

    /// Takes a whole log as it is read, line by line (one line in memory
    /// at a time).
    pub fn read(&mut self, log: impl Read) {
        let mut log = BufReader::with_capacity(1 << 16, log);
        let mut line = Vec::with_capacity(256);
        loop {
            line.clear();
            match log.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            self.line(text.trim_end_matches(['\n', '\r']));
        }
    }
}

/// One row of the profile: a function and the instructions executed in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The function (or [`NO_SYMBOL`]).
    pub name: String,
    /// Instructions executed in it.
    pub instructions: u64,
}

/// The counts summed per function, most instructions first (equal counts
/// by name); PCs outside every function make one [`NO_SYMBOL`] row.
pub fn by_function(symbols: &Symbols, counts: &HashMap<u64, u64>) -> Vec<Row> {
    // By the function's start: two functions may share a name.
    let mut sums: HashMap<Option<u64>, (&str, u64)> = HashMap::new();
    for (&pc, &count) in counts {
        let (key, name) = match symbols.find(pc) {
            Some(function) => (Some(function.code.start), function.name.as_str()),
            None => (None, NO_SYMBOL),
        };
        sums.entry(key).or_insert((name, 0)).1 += count;
    }
    let mut rows: Vec<Row> = sums
        .into_values()
        .map(|(name, instructions)| Row { name: name.to_string(), instructions })
        .collect();
    rows.sort_by(|a, b| b.instructions.cmp(&a.instructions).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// How much of the image's code ran: the functions with at least one
/// instruction counted, and the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodeRun {
    /// Functions that ran, and their code's bytes (whole functions: a
    /// function counts once any of it ran).
    pub ran: (usize, u64),
    /// Functions that never ran in the counted part, and their bytes.
    pub not_ran: (usize, u64),
}

/// Which of `symbols`' functions ran, by `counts`.
pub fn code_run(symbols: &Symbols, counts: &HashMap<u64, u64>) -> CodeRun {
    let mut ran = std::collections::HashSet::new();
    for (&pc, &count) in counts {
        if count > 0
            && let Some(function) = symbols.find(pc)
        {
            ran.insert(function.code.start);
        }
    }
    let mut run = CodeRun::default();
    for function in &symbols.functions {
        let bytes = function.code.end - function.code.start;
        let side = if ran.contains(&function.code.start) { &mut run.ran } else { &mut run.not_ran };
        side.0 += 1;
        side.1 += bytes;
    }
    run
}

/// [`CodeRun`] as the profile's last line.
pub fn code_run_line(run: &CodeRun) -> String {
    let functions = |count: usize| if count == 1 { "function" } else { "functions" };
    format!(
        "code: {} bytes in {} {} ran in the counted part, {} bytes in {} {} did not",
        run.ran.1,
        run.ran.0,
        functions(run.ran.0),
        run.not_ran.1,
        run.not_ran.0,
        functions(run.not_ran.0)
    )
}

/// `name` in at most `width` characters: a longer one keeps its start and
/// its end (where a Rust path has the function's own name), joined by `…`.
pub fn shorten(name: &str, width: usize) -> Cow<'_, str> {
    let length = name.chars().count();
    if length <= width || width < 3 {
        return Cow::Borrowed(name);
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(length - tail).collect();
    Cow::Owned(format!("{start}…{end}"))
}

/// The profile as a table: the `top` rows with their instructions and
/// share of the total, a line for the rest, and the total.
pub fn table(rows: &[Row], top: usize) -> String {
    let total: u64 = rows.iter().map(|row| row.instructions).sum();
    let share = |count: u64| if total == 0 { 0.0 } else { count as f64 * 100.0 / total as f64 };
    let mut out = format!("{:>12} {:>6}  function\n", "instructions", "%");
    for row in rows.iter().take(top) {
        out.push_str(&format!(
            "{:>12} {:>6.2}  {}\n",
            row.instructions,
            share(row.instructions),
            shorten(&row.name, NAME_WIDTH)
        ));
    }
    if rows.len() > top {
        let rest: u64 = rows[top..].iter().map(|row| row.instructions).sum();
        let more = rows.len() - top;
        let plural = if more == 1 { "" } else { "s" };
        out.push_str(&format!("{rest:>12} {:>6.2}  ({more} more function{plural})\n", share(rest)));
    }
    out.push_str(&format!("{total:>12} {:>6.2}  total\n", share(total)));
    out
}

/// What [`run`] collected.
pub struct Profiled {
    /// Instructions per PC.
    pub counts: Counts,
    /// The console's bytes as they came (defmt frames binary).
    pub raw_console: Vec<u8>,
    /// The console as text.
    pub console: String,
    /// QEMU's exit status (the image's), `None` when it was stopped.
    pub status: Option<i32>,
    /// The image was stopped at the time limit.
    pub timed_out: bool,
}

/// QEMU options in front of the board's: one instruction per translation
/// block, no chaining, every block executed logged (on standard error).
pub const EXEC_LOG_ARGS: [&str; 4] = ["-accel", "tcg,one-insn-per-tb=on", "-d", "exec,nochain"];

/// Runs `image` on `board` under `-icount` with the exec log on, until it
/// exits or for `limit` (wall clock, then QEMU is killed), counting
/// instructions per PC into `counts` ([`Counts::new`] or
/// [`Counts::starting_at`]).
pub fn run(
    board: &Board,
    image: &Path,
    options: &RunOptions,
    limit: Duration,
    counts: Counts,
) -> Result<Profiled, String> {
    let (running, reader) =
        spawn_counting(board, image, options, counts).map_err(|error| error.to_string())?;
    let deadline = Instant::now() + limit;
    while !running.has_ended() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let timed_out = !running.has_ended();
    let (raw_console, console, status) = if timed_out {
        let raw = running.raw_console();
        let console = running.console();
        // Dropping it kills QEMU, which closes the log.
        drop(running);
        (raw, console, None)
    } else {
        let outcome = running.finish(Duration::from_secs(10));
        (outcome.raw, outcome.console, outcome.status)
    };
    let counts = join(reader)?;
    Ok(Profiled { counts, raw_console, console, status, timed_out })
}

/// Starts QEMU with `image` on `board` under `-icount` (`sleep=on`) with
/// the exec log on, and a thread that counts the log into `counts` until
/// QEMU closes it.
fn spawn_counting(
    board: &Board,
    image: &Path,
    options: &RunOptions,
    counts: Counts,
) -> std::io::Result<(Running, JoinHandle<Counts>)> {
    let options = RunOptions { icount: true, icount_sleep: true, ..options.clone() };
    let mut args: Vec<String> = EXEC_LOG_ARGS.map(String::from).to_vec();
    args.extend(board.qemu_args(image, &options));
    let (running, log) = harness::spawn_with_stderr(board.qemu, &args)?;
    let reader = std::thread::spawn(move || {
        let mut counts = counts;
        counts.read(log);
        counts
    });
    Ok((running, reader))
}

/// The counts of [`spawn_counting`]'s thread, once QEMU closed the log.
fn join(reader: JoinHandle<Counts>) -> Result<Counts, String> {
    reader.join().map_err(|_| "the exec log's reader panicked".to_string())
}

/// Boots `app` (one of [`net::TCP_ECHO_APPS`]) from `image` on `board`
/// with `options` under the exec log, as [`run`] does, with the echo port
/// forwarded;
/// waits up to `limit` (nominal) for its listening line, then echoes
/// `bytes` random bytes through TCP (within `limit` too) and stops QEMU.
/// Only the instructions from just before the first byte is sent until
/// the whole echo is back are counted per PC ([`Counts::marked`]): the
/// boot and the wait are [`Counts::skipped`], what ran after
/// [`Counts::after`]. An echo that does not come back intact is an
/// error, with the console.
pub fn run_tcp_echo(
    board: &Board,
    image: &Path,
    app: &str,
    options: &RunOptions,
    bytes: usize,
    limit: Duration,
) -> Result<Profiled, String> {
    let ready = net::echo_ready_line(app).ok_or_else(|| {
        format!(
            "{app} does not serve TCP echo on port {}; the apps that do: {}",
            net::ECHO_PORT,
            net::tcp_echo_app_names()
        )
    })?;
    let mark = Arc::new(Mark::default());
    let spawn =
        |options: &RunOptions| spawn_counting(board, image, options, Counts::marked(mark.clone()));
    let (running, reader, ports) =
        net::boot_forwarded_with(&[net::ECHO_PORT], options, ready, limit, spawn).map_err(
            |(message, console)| {
                format!("{app} did not start serving: {message}; console:\n{console}")
            },
        )?;
    let data = Random::new(1).bytes(bytes);
    mark.start();
    let echoed = net::tcp_echo(ports[0], &data, harness::scaled(limit));
    mark.stop();
    let checked = echoed
        .map_err(|error| error.to_string())
        .and_then(|echoed| net::check_echo(&data, &echoed));
    if let Err(error) = checked {
        let console = running.report();
        drop(running);
        let _ = join(reader);
        return Err(format!(
            "the TCP echo of {bytes} bytes through {app} failed: {error} (the limit was {:.0} s); \
             console:\n{console}",
            harness::scaled(limit).as_secs_f64()
        ));
    }
    let raw_console = running.raw_console();
    let console = running.console();
    // Dropping it kills QEMU, which closes the log.
    drop(running);
    let counts = join(reader)?;
    Ok(Profiled { counts, raw_console, console, status: None, timed_out: false })
}

/// One source line of a function's profile ([`by_line`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRow {
    /// `file:line (function)` of the code's innermost frame: for code
    /// inlined into the function, the line it was inlined from.
    pub location: String,
    /// Instructions executed at that line's code.
    pub instructions: u64,
}

/// The location [`by_line`] gives code without line information.
pub const NO_LINE: &str = "(no line info)";

/// The instructions counted in `code` (the ranges of one function, as
/// [`Symbols::named`] gives them) summed per source line, by each PC's
/// innermost frame (`frames`, as [`symbolize::Symbolizer::frames`] gives
/// them), most instructions first (equal counts by location).
pub fn by_line(
    frames: impl Fn(u64) -> Vec<symbolize::Frame>,
    code: &[Range<u64>],
    counts: &HashMap<u64, u64>,
) -> Vec<LineRow> {
    let mut sums: HashMap<String, u64> = HashMap::new();
    for (&pc, &count) in counts {
        if count == 0 || !code.iter().any(|range| range.contains(&(pc & !1))) {
            continue;
        }
        let location =
            frames(pc).first().map_or_else(|| NO_LINE.to_string(), symbolize::Frame::describe);
        *sums.entry(location).or_insert(0) += count;
    }
    let mut rows: Vec<LineRow> = sums
        .into_iter()
        .map(|(location, instructions)| LineRow { location, instructions })
        .collect();
    rows.sort_by(|a, b| {
        b.instructions.cmp(&a.instructions).then_with(|| a.location.cmp(&b.location))
    });
    rows
}

/// How many times a function was entered: the instructions counted at
/// the first address of each of its ranges.
pub fn entries(code: &[Range<u64>], counts: &HashMap<u64, u64>) -> u64 {
    code.iter().map(|range| counts.get(&range.start).copied().unwrap_or(0)).sum()
}

/// `cargo xtask profile --lines`'s table: the `top` lines of `name`'s
/// profile with their instructions and, when the function was entered,
/// the instructions per entry; a line for the rest; the total.
pub fn lines_table(name: &str, rows: &[LineRow], entries: u64, top: usize) -> String {
    let total: u64 = rows.iter().map(|row| row.instructions).sum();
    let per_entry = |count: u64| {
        if entries == 0 { "-".to_string() } else { format!("{:.1}", count as f64 / entries as f64) }
    };
    let called = match entries {
        0 => "never entered at its start".to_string(),
        1 => "entered once".to_string(),
        _ => format!("entered {entries} times"),
    };
    let mut out = format!(
        "lines of {name} ({called}): {total} instructions, {} per entry
",
        per_entry(total)
    );
    out.push_str(&format!("{:>12} {:>9}  line\n", "instructions", "per entry"));
    for row in rows.iter().take(top) {
        out.push_str(&format!(
            "{:>12} {:>9}  {}\n",
            row.instructions,
            per_entry(row.instructions),
            row.location
        ));
    }
    if rows.len() > top {
        let rest: u64 = rows[top..].iter().map(|row| row.instructions).sum();
        let more = rows.len() - top;
        let plural = if more == 1 { "" } else { "s" };
        out.push_str(&format!("{rest:>12} {:>9}  ({more} more line{plural})\n", per_entry(rest)));
    }
    out
}

/// The line under a TCP echo's profile: the bytes echoed and the
/// instructions counted per byte (`cargo xtask bench net`'s figure, which
/// leaves out the instructions run idle, so it comes out lower).
pub fn per_byte_line(instructions: u64, bytes: usize) -> String {
    let per_byte = instructions as f64 / bytes.max(1) as f64;
    format!(
        "{bytes} bytes echoed, {instructions} instructions: {per_byte:.2} instructions per echoed byte"
    )
}

/// A byte count as `cargo xtask profile --tcp-echo` takes it: a whole
/// number, optionally followed by `K` (KiB) or `M` (MiB), either case
/// (`65536`, `64K`, `1M`); more than 0.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let wrong = || {
        format!(
            "`{text}` is not a byte count: give a whole number of bytes, optionally followed \
             by K (KiB) or M (MiB), e.g. 65536, 64K or 1M"
        )
    };
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1 << 10),
        Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(wrong());
    }
    let count: usize = digits.parse().map_err(|_| wrong())?;
    let bytes = count.checked_mul(unit).ok_or_else(wrong)?;
    if bytes == 0 {
        return Err(format!("`{text}`: the echo needs at least one byte"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(start: u64, size: u64, name: &str) -> Symbol {
        Symbol { start, size, section_end: 0x1000, name: name.into() }
    }

    /// `main` at 0x100..0x140, a label `vectors` at 0x200 reaching to
    /// `tail` at 0x280, which (size 0) reaches to the section's end.
    fn symbols(arm: bool) -> Symbols {
        Symbols::new(
            vec![
                symbol(0x280, 0, "tail"),
                symbol(0x100, 0x40, "main"),
                symbol(0x200, 0, "vectors"),
                // An alias without a size at main's address: main is kept.
                symbol(0x100, 0, "main_label"),
            ],
            arm,
        )
    }

    fn name(symbols: &Symbols, pc: u64) -> Option<&str> {
        symbols.find(pc).map(|function| function.name.as_str())
    }

    #[test]
    fn pcs_are_attributed_to_the_function_holding_them() {
        let symbols = symbols(false);
        assert_eq!(name(&symbols, 0xff), None, "before the first symbol");
        assert_eq!(name(&symbols, 0x100), Some("main"));
        assert_eq!(name(&symbols, 0x13e), Some("main"));
        assert_eq!(name(&symbols, 0x140), None, "past main's size");
        assert_eq!(name(&symbols, 0x1ff), None);
        assert_eq!(name(&symbols, 0x200), Some("vectors"));
        assert_eq!(name(&symbols, 0x27e), Some("vectors"), "a label reaches the next symbol");
        assert_eq!(name(&symbols, 0x280), Some("tail"));
        assert_eq!(name(&symbols, 0xffe), Some("tail"));
        assert_eq!(name(&symbols, 0x1000), None, "after the last symbol's section");
        assert_eq!(name(&symbols, u64::MAX), None);
    }

    #[test]
    fn arm_symbols_and_pcs_are_taken_without_the_thumb_bit() {
        // A T32 function's value has bit 0 set: its code starts below.
        let thumb =
            vec![symbol(0x101, 0x40, "t32"), symbol(0x141, 0, "label"), symbol(0x200, 8, "a32")];
        let arm = Symbols::new(thumb.clone(), true);
        assert_eq!(name(&arm, 0xfe), None);
        assert_eq!(name(&arm, 0x100), Some("t32"));
        assert_eq!(name(&arm, 0x101), Some("t32"));
        assert_eq!(name(&arm, 0x13e), Some("t32"));
        assert_eq!(name(&arm, 0x140), Some("label"));
        assert_eq!(name(&arm, 0x1fe), Some("label"));
        assert_eq!(name(&arm, 0x201), Some("a32"));
        assert_eq!(name(&arm, 0x208), None);
        // RISC-V values are taken as they are.
        let riscv = Symbols::new(thumb, false);
        assert_eq!(name(&riscv, 0x100), None);
        assert_eq!(name(&riscv, 0x140), Some("t32"));
        assert_eq!(name(&riscv, 0x141), Some("label"));
    }

    #[test]
    fn code_that_ran_is_told_from_code_that_did_not() {
        // main 0x100..0x140 (64 bytes), vectors 0x200..0x280 (128), tail
        // 0x280..0x1000 (3,456).
        let symbols = symbols(false);
        let counts = HashMap::from([(0x13e, 5), (0x200, 0), (0x90, 7)]);
        let run = code_run(&symbols, &counts);
        // main ran; vectors' count is 0; 0x90 is in no function.
        assert_eq!(run, CodeRun { ran: (1, 0x40), not_ran: (2, 0x80 + 0xd80) });
        assert_eq!(
            code_run_line(&run),
            "code: 64 bytes in 1 function ran in the counted part, 3584 bytes in 2 functions did not"
        );
        let all = HashMap::from([(0x100, 1), (0x27e, 1), (0xffe, 1)]);
        assert_eq!(
            code_run(&symbols, &all),
            CodeRun { ran: (3, 0x40 + 0x80 + 0xd80), not_ran: (0, 0) }
        );
    }

    fn frame(file: &str, line: u32, function: &str) -> symbolize::Frame {
        symbolize::Frame {
            function: Some(function.into()),
            file: Some(file.into()),
            line: Some(line),
        }
    }

    /// Frames for a function at 0x100..0x140 whose code at 0x110..0x120 is
    /// a loop inlined from `core`, and whose 0x130 has no line info.
    fn frames_at(pc: u64) -> Vec<symbolize::Frame> {
        match pc & !1 {
            0x110..0x120 => vec![
                frame("library/core/src/iter/range.rs", 772, "core::iter::range::next"),
                frame("src/main.rs", 12, "app::work"),
            ],
            0x130 => Vec::new(),
            pc if pc < 0x108 => vec![frame("src/main.rs", 10, "app::work")],
            _ => vec![frame("src/main.rs", 14, "app::work")],
        }
    }

    #[test]
    fn a_functions_instructions_are_summed_by_the_innermost_line() {
        // Two functions of one name (as `Symbols::named` may give).
        let code = [0x100..0x140, 0x300..0x310];
        let counts = HashMap::from([
            (0x300, 2),
            (0x100, 3),
            (0x104, 3),
            (0x110, 30),
            (0x11e, 30),
            (0x124, 3),
            (0x130, 1),
            (0x138, 0),
            // Outside the function: left out.
            (0x140, 100),
            (0x90, 100),
        ]);
        let rows = by_line(frames_at, &code, &counts);
        let location =
            |file: &str, line: u32, function: &str| frame(file, line, function).describe();
        assert_eq!(
            rows,
            vec![
                LineRow {
                    location: location(
                        "library/core/src/iter/range.rs",
                        772,
                        "core::iter::range::next"
                    ),
                    instructions: 60
                },
                LineRow { location: location("src/main.rs", 10, "app::work"), instructions: 6 },
                LineRow { location: location("src/main.rs", 14, "app::work"), instructions: 5 },
                LineRow { location: NO_LINE.into(), instructions: 1 },
            ]
        );
        assert_eq!(entries(&code, &counts), 5, "the counts at the functions' first addresses");
        assert_eq!(entries(&[0x200..0x240, 0x400..0x440], &counts), 0);
    }

    #[test]
    fn the_lines_table_shows_instructions_per_entry_and_the_rest() {
        let rows = [
            LineRow { location: "a.rs:1 (f)".into(), instructions: 60 },
            LineRow { location: "a.rs:2 (f)".into(), instructions: 6 },
            LineRow { location: "a.rs:3 (f)".into(), instructions: 3 },
        ];
        assert_eq!(
            lines_table("f", &rows, 3, 2),
            "lines of f (entered 3 times): 69 instructions, 23.0 per entry\n\
             instructions per entry  line\n\
             \x20         60      20.0  a.rs:1 (f)\n\
             \x20          6       2.0  a.rs:2 (f)\n\
             \x20          3       1.0  (1 more line)\n"
        );
        assert!(lines_table("f", &rows, 0, 5).starts_with(
            "lines of f (never entered at its start): 69 instructions, - per entry\n"
        ));
        assert!(lines_table("f", &rows[..1], 1, 5).contains("(entered once)"));
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        assert_eq!(Symbols::new(Vec::new(), true).find(0x100), None);
    }

    #[test]
    fn exec_log_lines_count_per_pc() {
        let log = "\
Trace 0: 0x7f23dc000100 [00000400/0000000070100000/00000520/ff022201] _start\n\
Trace 0: 0x7f23dc059a40 [00800400/00000000701042e6/00000520/ff022201] _ZN4core3ptr5write\n\
Trace 0: 0x7f23dc059a40 [00800400/00000000701042e6/00000520/ff022201] _ZN4core3ptr5write\n\
Trace 0: 0x7ff24c000100 [00000000/0000000080000000/01c14003/ff022201] \n\
qemu-system-arm: terminating on signal 15\n\
\n\
Trace 0: 0x7f23dc05 [00800400/000000007010\n\
Trace 0: 0x7f23dc000100 [00000400/zz/00000520/ff022201] _start\n\
[hello] Hello from Ferrode\n";
        let mut counts = Counts::new();
        counts.read(log.as_bytes());
        assert_eq!(counts.by_pc.get(&0x7010_0000), Some(&1));
        assert_eq!(counts.by_pc.get(&0x7010_42e6), Some(&2));
        assert_eq!(counts.by_pc.get(&0x8000_0000), Some(&1));
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.by_pc.len(), 3);
        assert_eq!(counts.skipped, 0);
        assert_eq!(counts.other_lines.len(), 4, "{:?}", counts.other_lines);
        assert_eq!(counts.other_lines[0], "qemu-system-arm: terminating on signal 15");
    }

    #[test]
    fn counting_from_a_function_skips_what_runs_before() {
        let line = |pc: u64| format!("Trace 0: 0x7f00 [00000400/{pc:016x}/00000520/ff022201] x");
        let mut counts = Counts::starting_at(vec![0x600..0x610, 0x200..0x240]);
        for pc in [0x100, 0x104, 0x108, 0x201, 0x100, 0x202] {
            counts.line(&line(pc));
        }
        assert!(counts.started());
        assert_eq!(counts.skipped, 3);
        assert_eq!(counts.total(), 3);
        assert_eq!(counts.by_pc.get(&0x100), Some(&1), "counted once started");
        let mut never = Counts::starting_at(vec![0x400..0x410, 0x500..0x510]);
        never.line(&line(0x100));
        assert!(!never.started());
        assert_eq!((never.skipped, never.total()), (1, 0));
    }

    #[test]
    fn a_mark_counts_only_the_lines_read_between_start_and_stop() {
        let line = |pc: u64| format!("Trace 0: 0x7f00 [00000400/{pc:016x}/00000520/ff022201] x");
        let mark = Arc::new(Mark::default());
        let mut counts = Counts::marked(mark.clone());
        let mut take = |pcs: &[u64]| {
            for &pc in pcs {
                counts.line(&line(pc));
            }
        };
        assert_eq!(mark.phase(), Phase::Before);
        take(&[0x100, 0x104, 0x108]);
        mark.start();
        assert_eq!(mark.phase(), Phase::During);
        take(&[0x200, 0x204, 0x200, 0x100]);
        mark.stop();
        assert_eq!(mark.phase(), Phase::After);
        take(&[0x300, 0x200]);
        // A line that is not a trace line counts in no phase.
        counts.line("qemu-system-arm: terminating on signal 15");
        assert_eq!(counts.skipped, 3);
        assert_eq!(counts.after, 2);
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.by_pc.get(&0x200), Some(&2));
        assert_eq!(counts.by_pc.get(&0x100), Some(&1), "counted in its phase only");
        assert_eq!(counts.by_pc.get(&0x300), None);
        // Set from another thread, as the run does.
        let mark = Arc::new(Mark::default());
        let mut counts = Counts::marked(mark.clone());
        counts.line(&line(0x100));
        let setter = mark.clone();
        std::thread::spawn(move || setter.start()).join().unwrap();
        counts.line(&line(0x100));
        assert_eq!((counts.skipped, counts.total(), counts.after), (1, 1, 0));
    }

    #[test]
    fn echo_sizes_are_bytes_kib_or_mib() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("1"), Ok(1));
        for wrong in
            ["", "K", "M", "1.5M", "-1", "+1", "1G", "1 K", " 1", "1KB", "1KiB", "0x10", "k1"]
        {
            let error = parse_size(wrong).unwrap_err();
            assert!(
                error.contains("optionally followed by K (KiB) or M (MiB)"),
                "{wrong}: {error}"
            );
        }
        let huge = format!("{}M", usize::MAX / 1024);
        assert!(parse_size(&huge).unwrap_err().contains("not a byte count"));
        assert!(parse_size("0").unwrap_err().contains("at least one byte"));
        assert!(parse_size("0K").unwrap_err().contains("at least one byte"));
    }

    #[test]
    fn the_per_byte_line_divides_by_the_bytes_echoed() {
        assert_eq!(
            per_byte_line(3_300_000, 262_144),
            "262144 bytes echoed, 3300000 instructions: 12.59 instructions per echoed byte"
        );
        assert_eq!(
            per_byte_line(0, 0),
            "0 bytes echoed, 0 instructions: 0.00 instructions per echoed byte"
        );
    }

    #[test]
    fn rows_sum_per_function_most_first() {
        let symbols = symbols(true);
        let counts: HashMap<u64, u64> =
            [(0x100, 5), (0x101, 1), (0x13c, 4), (0x200, 10), (0x280, 3), (0x50, 2), (0x2000, 1)]
                .into_iter()
                .collect();
        let rows = by_function(&symbols, &counts);
        let row = |name: &str, instructions| Row { name: name.into(), instructions };
        assert_eq!(
            rows,
            [row("main", 10), row("vectors", 10), row("(no symbol)", 3), row("tail", 3)]
        );
    }

    #[test]
    fn the_table_has_the_top_rows_the_rest_and_the_total() {
        let row = |name: &str, instructions| Row { name: name.into(), instructions };
        let long = format!("ferrode_kernel::{}::end", "x".repeat(100));
        let rows = [row("kernel::switch", 600), row(&long, 300), row("a", 60), row("b", 40)];
        let table = table(&rows, 2);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "instructions      %  function");
        assert_eq!(lines[1], "         600  60.00  kernel::switch");
        assert!(lines[2].starts_with("         300  30.00  ferrode_kernel::xx"), "{}", lines[2]);
        assert!(lines[2].ends_with("xx::end"), "{}", lines[2]);
        assert_eq!(lines[2].split("  ").last().unwrap().chars().count(), NAME_WIDTH);
        assert_eq!(lines[3], "         100  10.00  (2 more functions)");
        assert_eq!(lines[4], "        1000 100.00  total");
        assert_eq!(lines.len(), 5);
        let one_more = super::table(&rows, 3);
        assert!(one_more.contains("          40   4.00  (1 more function)\n"), "{one_more}");
        // All rows shown: no line for the rest.
        let all = super::table(&rows, 30);
        assert_eq!(all.lines().count(), 6);
        assert!(!all.contains("more functions"));
        assert_eq!(super::table(&[], 30).lines().last(), Some("           0   0.00  total"));
    }

    #[test]
    fn short_names_are_left_alone() {
        assert_eq!(shorten("hello::hello", 12), "hello::hello");
        assert_eq!(shorten("hello::hello", 11), "hello…hello");
        assert_eq!(shorten("abcdefgh", 4), "ab…h");
    }
}
