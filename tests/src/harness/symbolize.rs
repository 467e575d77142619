//! Source lines for the addresses in an image's fault and panic reports.
//!
//! The board prints a fault as `FAULT: ... pc=0x... lr=0x...` (`ra=` on
//! RV32) and, after a fault or a panic, `backtrace: 0x... 0x...`: the words
//! on the stack that point into the image's code. [`Symbolizer::annotate`]
//! reads the image's DWARF line tables (with `addr2line`) and adds, under
//! such a line, where each address is in the source:
//!
//! ```text
//! FAULT: data abort at pc=0x70100bc0 ... lr=0x70100bb8 sp=0x7011a910
//!     pc 0x70100bc0 at crates/arch/armv7a/src/cpu.rs:126 (ferrode_arch_armv7a::cpu::load_word)
//!                   inlined into apps/crash/src/main.rs:33 (crash::main)
//!     lr 0x70100bb8 at apps/crash/src/main.rs:31 (crash::main)
//! backtrace: 0x70104874 0x701020d0
//!     #1 0x70104874 at platforms/board/src/lib.rs:57 (ferrode_app_main)
//! ```
//!
//! Return addresses (`lr`, `ra` and the backtrace's words) are looked up one
//! byte before the address, inside the call; backtrace words that do not
//! follow a call instruction are stale data and left out, as are repeats.
//! Paths inside the workspace are shown relative to its root.
//!
//! A fault whose `address=` lies in a guard page gets a line naming the
//! stack it guards: the boot stack's (`__stack_guard`..`__stack_bottom`)
//! or a thread stack's, from the image's stack records ([`stack_records`]):
//!
//! ```text
//!     address 0x7010cff8 is in the guard page below the stack of component `log`: its thread ran off its stack
//! ```

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

use object::{Object, ObjectSection, ObjectSymbol};

/// The DWARF reader: sections held in memory, shared by reference count.
type Reader = gimli::EndianRcSlice<gimli::RunTimeEndian>;

/// Indentation of the lines the host adds under a report line.
const INDENT: &str = "    ";

/// One frame at an address: the innermost function first, then each
/// function it was inlined into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The function's demangled name, if the debug info has one.
    pub function: Option<String>,
    /// The source file (relative to the workspace root where inside it).
    pub file: Option<String>,
    /// The line in `file`.
    pub line: Option<u32>,
}

impl Frame {
    /// `file:line (function)`, with `?` for what the debug info lacks.
    pub fn describe(&self) -> String {
        let function = self.function.as_deref().unwrap_or("?");
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line} ({function})"),
            (Some(file), None) => format!("{file} ({function})"),
            (None, _) => format!("{function} (no line info)"),
        }
    }
}

/// Where the code of a function symbol starts. On ARM, a function in T32
/// state has bit 0 of its symbol value set (the ELF for the Arm
/// Architecture's rule, which interworking branches rely on); the code
/// starts at the even address.
pub fn code_start(file: &object::File<'_>, symbol: &object::Symbol<'_, '_>) -> u64 {
    let thumb = file.architecture() == object::Architecture::Arm
        && symbol.kind() == object::SymbolKind::Text;
    if thumb { symbol.address() & !1 } else { symbol.address() }
}

/// The instruction set, for telling return addresses from stale words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    /// A32 and T32 (PBX-A9 images are T32 but for their assembly and the
    /// prebuilt `core`, which are A32): a return address into T32 code has
    /// bit 0 set.
    Arm,
    /// RV32 with the C extension.
    RiscV,
    /// Anything else: every candidate is kept.
    Other,
}

/// An image's debug info and code, ready to turn addresses into lines.
pub struct Symbolizer {
    context: addr2line::Context<Reader>,
    /// Executable sections: (address, bytes).
    code: Vec<(u64, Vec<u8>)>,
    /// Function symbols (start, size, name), for code without line info
    /// (the assembly of `_start`, the vectors).
    symbols: Vec<(u64, u64, String)>,
    isa: Isa,
    little_endian: bool,
    /// The guard page below the boot stack (`__stack_guard` up to
    /// `__stack_bottom`), where the image has one.
    stack_guard: Option<Range<u64>>,
    /// The thread stacks of the image's stack records, with their guard
    /// pages (empty on a board without them).
    thread_stacks: Vec<ThreadStack>,
}

impl Symbolizer {
    /// Reads `image` (an ELF with DWARF, as every Ferrode profile builds).
    pub fn load(image: &Path) -> Result<Self, String> {
        let data = std::fs::read(image).map_err(|error| format!("{}: {error}", image.display()))?;
        let file = object::File::parse(&*data)
            .map_err(|error| format!("{}: not an ELF: {error}", image.display()))?;
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            let bytes: Cow<'_, [u8]> = file
                .section_by_name(id.name())
                .and_then(|section| section.uncompressed_data().ok())
                .unwrap_or(Cow::Borrowed(&[]));
            Ok(gimli::EndianRcSlice::new(Rc::from(&*bytes), endian))
        };
        let dwarf = gimli::Dwarf::load(load)
            .map_err(|error| format!("{}: bad DWARF: {error}", image.display()))?;
        let context = addr2line::Context::from_dwarf(dwarf)
            .map_err(|error| format!("{}: bad DWARF: {error}", image.display()))?;
        let code = file
            .sections()
            .filter(|section| section.kind() == object::SectionKind::Text)
            .filter_map(|section| Some((section.address(), section.data().ok()?.to_vec())))
            .collect();
        let symbols = file
            .symbols()
            .filter(|symbol| symbol.kind() == object::SymbolKind::Text)
            .filter_map(|symbol| {
                Some((code_start(&file, &symbol), symbol.size(), symbol.name().ok()?.to_string()))
            })
            .collect();
        let isa = match file.architecture() {
            object::Architecture::Arm => Isa::Arm,
            object::Architecture::Riscv32 => Isa::RiscV,
            _ => Isa::Other,
        };
        let stack_guard = boot_stack_guard(&file);
        // Without readable records, faults in a thread stack's guard page
        // are not named; the source lines still are.
        let thread_stacks = stack_records(&file).unwrap_or_default();
        Ok(Self {
            context,
            code,
            symbols,
            isa,
            little_endian: file.is_little_endian(),
            stack_guard,
            thread_stacks,
        })
    }

    /// The frames at `address`, innermost first (empty when the debug info
    /// does not cover it).
    pub fn frames(&self, address: u64) -> Vec<Frame> {
        let mut frames = Vec::new();
        let Ok(mut iter) = self.context.find_frames(address).skip_all_loads() else {
            return frames;
        };
        while let Ok(Some(frame)) = iter.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|name| name.demangle().ok())
                .map(|name| name.into_owned());
            let (file, line) = match &frame.location {
                Some(location) => (location.file.map(relative), location.line),
                None => (None, None),
            };
            frames.push(Frame { function, file, line });
        }
        if frames.iter().all(|frame| frame.file.is_none())
            && let Some(name) = self.symbol(address)
        {
            frames = vec![Frame { function: Some(name.to_string()), file: None, line: None }];
        }
        frames
    }

    /// The function symbol that covers `address` (or, for symbols without a
    /// size, the nearest one below it): Ferrode's code without line info is
    /// assembly, whose labels are not mangled.
    fn symbol(&self, address: u64) -> Option<&str> {
        self.symbols
            .iter()
            .filter(|(start, size, _)| *start <= address && (*size == 0 || address < start + size))
            .max_by_key(|(start, _, _)| *start)
            .map(|(_, _, name)| name.as_str())
    }

    /// `count` bytes of code at `address`, if an executable section has them.
    fn code_at(&self, address: u64, count: usize) -> Option<&[u8]> {
        self.code.iter().find_map(|(start, bytes)| {
            let offset = usize::try_from(address.checked_sub(*start)?).ok()?;
            bytes.get(offset..offset.checked_add(count)?)
        })
    }

    fn word_at(&self, address: u64) -> Option<u32> {
        let bytes: [u8; 4] = self.code_at(address, 4)?.try_into().ok()?;
        Some(if self.little_endian { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) })
    }

    fn half_at(&self, address: u64) -> Option<u16> {
        let bytes: [u8; 2] = self.code_at(address, 2)?.try_into().ok()?;
        Some(if self.little_endian { u16::from_le_bytes(bytes) } else { u16::from_be_bytes(bytes) })
    }

    /// Whether `address` could be a return address: the instruction before
    /// it is a call that links (`bl`/`blx` on A32; on T32, with bit 0 of
    /// the address set, `bl`/`blx label` or a 16-bit `blx reg`;
    /// `jal`/`jalr` writing `ra`, or `c.jal`/`c.jalr`, on RV32).
    pub fn follows_call(&self, address: u64) -> bool {
        let word = address.checked_sub(4).and_then(|at| self.word_at(at));
        match self.isa {
            Isa::Arm if address & 1 == 1 => {
                let at = address & !1;
                let halves = |back: u64| at.checked_sub(back).and_then(|at| self.half_at(at));
                halves(2).is_some_and(thumb_links_16)
                    || halves(4)
                        .zip(halves(2))
                        .is_some_and(|(first, second)| thumb_links_32(first, second))
            }
            Isa::Arm => word.is_some_and(arm_links),
            Isa::RiscV => {
                word.is_some_and(riscv_links)
                    || address
                        .checked_sub(2)
                        .and_then(|at| self.half_at(at))
                        .is_some_and(riscv_c_links)
            }
            Isa::Other => true,
        }
    }

    /// An address inside the call instruction a return address follows:
    /// one byte before it (without a T32 return address's bit 0).
    fn inside_call(&self, address: u64) -> u64 {
        let address = if self.isa == Isa::Arm { address & !1 } else { address };
        address.saturating_sub(1)
    }

    /// Lines describing `address`: the first starts with `label address at`,
    /// the others name the functions it was inlined into. `return_address`
    /// looks the address up inside the call before it.
    fn describe(&self, label: &str, address: u64, return_address: bool) -> Vec<String> {
        let probe = if return_address { self.inside_call(address) } else { address };
        let frames = self.frames(probe);
        let head = format!("{INDENT}{label} {address:#010x}");
        if frames.is_empty() {
            return vec![format!("{head} (no debug info for this address)")];
        }
        let pad = " ".repeat(head.len() - INDENT.len());
        frames
            .iter()
            .enumerate()
            .map(|(index, frame)| match index {
                0 => format!("{head} at {}", frame.describe()),
                _ => format!("{INDENT}{pad} inlined into {}", frame.describe()),
            })
            .collect()
    }

    /// The lines to add under one console line (none for most lines).
    pub fn annotate_line(&self, line: &str) -> Vec<String> {
        let mut added = Vec::new();
        // A fault report, or where a guest that was given up on was.
        if let Some(at) = line.find("FAULT:").or_else(|| line.find(super::GUEST_STATE)) {
            let report = &line[at..];
            if let Some(pc) = hex_after(report, "pc=") {
                added.extend(self.describe("pc", pc, false));
            }
            if let Some(address) = hex_after(report, "address=") {
                added.extend(guard_note(self.stack_guard.as_ref(), &self.thread_stacks, address));
            }
            for label in ["lr", "ra"] {
                let Some(address) = hex_after(report, &format!(" {label}=")) else { continue };
                // The link register is the caller only when the faulting
                // function is a leaf; otherwise it holds the return of an
                // earlier call, likely in the same function: shown only
                // when it follows a call in another function than the pc.
                let caller = self.frames(self.inside_call(address));
                let faulting = hex_after(report, "pc=").map(|pc| self.frames(pc));
                let same = |frames: &[Frame]| frames.last().and_then(|f| f.function.clone());
                if self.follows_call(address)
                    && faulting.is_none_or(|frames| same(&frames) != same(&caller))
                {
                    added.extend(self.describe(label, address, true));
                }
            }
        } else if let Some(rest) = line.trim_start().strip_prefix("backtrace:") {
            let mut previous = None;
            let mut number = 0;
            for word in rest.split_whitespace() {
                let Some(address) = parse_hex(word) else { continue };
                if previous == Some(address) || !self.follows_call(address) {
                    continue;
                }
                previous = Some(address);
                number += 1;
                added.extend(self.describe(&format!("#{number}"), address, true));
            }
        }
        added
    }

    /// `console` with the lines of [`Symbolizer::annotate_line`] after each
    /// line they describe.
    pub fn annotate(&self, console: &str) -> String {
        self.annotate_where(console, |_| true)
    }

    /// [`Symbolizer::annotate`] for the lines `pick` chooses.
    fn annotate_where(&self, console: &str, pick: impl Fn(&str) -> bool) -> String {
        let mut out = String::with_capacity(console.len());
        for line in console.split_inclusive('\n') {
            out.push_str(line);
            let text = line.trim_end_matches(['\n', '\r']);
            let added = if pick(text) { self.annotate_line(text) } else { Vec::new() };
            if !added.is_empty() && !line.ends_with('\n') {
                out.push('\n');
            }
            for extra in added {
                out.push_str(&extra);
                out.push('\n');
            }
        }
        out
    }
}

/// The line to add under a fault report whose `address=` is `address`,
/// when that lies in a guard page: the boot stack's (`boot`) or a thread
/// stack's. Empty guards (MicroBlaze V has no guard pages) contain nothing.
fn guard_note(boot: Option<&Range<u64>>, threads: &[ThreadStack], address: u64) -> Option<String> {
    if boot.is_some_and(|guard| guard.contains(&address)) {
        return Some(format!(
            "{INDENT}address {address:#010x} is in the guard page below the boot stack: \
             the boot thread ran off its stack"
        ));
    }
    let stack = threads.iter().find(|stack| stack.guard.contains(&address))?;
    Some(format!(
        "{INDENT}address {address:#010x} is in the guard page below the stack of {}: \
         its thread ran off its stack",
        stack.describe()
    ))
}

/// The address of the symbol `name` in `file`.
pub fn symbol_address(file: &object::File<'_>, name: &str) -> Option<u64> {
    file.symbols().find(|symbol| symbol.name() == Ok(name)).map(|symbol| symbol.address())
}

/// The guard page below the boot stack (`__stack_guard` up to
/// `__stack_bottom`), where the image has one.
pub fn boot_stack_guard(file: &object::File<'_>) -> Option<Range<u64>> {
    match (symbol_address(file, "__stack_guard"), symbol_address(file, "__stack_bottom")) {
        (Some(start), Some(end)) if start < end => Some(start..end),
        _ => None,
    }
}

/// A thread stack of the image (one `ferrode_board::thread_stack!`), as
/// its record (`ferrode_hal::StackRecord`) gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadStack {
    /// What it is shown by: a composition's component (`log`), else the
    /// path of the static the stack was declared as, without the board
    /// crate's `ferrode_board::component::` (`terminal::IRQ_MEMORY`,
    /// `TIMER_ALARM_MEMORY`).
    pub name: String,
    /// Whether it is the stack of a composition's component.
    pub component: bool,
    /// The guard page below it (empty where the board has none).
    pub guard: Range<u64>,
    /// The stack's bytes (the kernel's guard words at their bottom).
    pub stack: Range<u64>,
}

impl ThreadStack {
    /// "component `log`", or "`terminal::IRQ_MEMORY`".
    pub fn describe(&self) -> String {
        if self.component {
            format!("component `{}`", self.name)
        } else {
            format!("`{}`", self.name)
        }
    }
}

/// The thread stacks of `file`'s stack records (the words between
/// `__stack_records_start` and `__stack_records_end`: guard start, guard
/// end = stack start, stack end, in the file's byte order and word size),
/// in the records' order, each named after the data symbol that holds its
/// guard's start (the stack's `MEMORY` static; see [`thread_stack_name`]).
/// None for an image without the symbols.
pub fn stack_records(file: &object::File<'_>) -> Result<Vec<ThreadStack>, String> {
    let (Some(start), Some(end)) = (
        symbol_address(file, "__stack_records_start"),
        symbol_address(file, "__stack_records_end"),
    ) else {
        return Ok(Vec::new());
    };
    if end <= start {
        return Ok(Vec::new());
    }
    let bytes = file
        .sections()
        .find_map(|section| section.data_range(start, end - start).ok().flatten())
        .ok_or_else(|| {
            format!("no section holds the stack records at {start:#010x}..{end:#010x}")
        })?;
    let word = if file.is_64() { 8 } else { 4 };
    let records = parse_records(bytes, file.is_little_endian(), word)?;
    let holders: Vec<(u64, u64, String)> = file
        .symbols()
        .filter(|symbol| symbol.kind() == object::SymbolKind::Data && symbol.size() > 0)
        .filter_map(|symbol| Some((symbol.address(), symbol.size(), symbol.name().ok()?.into())))
        .collect();
    Ok(records
        .into_iter()
        .map(|(guard, stack, end)| {
            let holder = holders
                .iter()
                .filter(|(at, size, _)| *at <= guard && guard - at < *size)
                .min_by_key(|(_, size, _)| *size);
            let (name, component) = match holder {
                Some((_, _, raw)) => {
                    thread_stack_name(&addr2line::demangle_auto(Cow::Borrowed(raw), None))
                }
                None => (format!("stack at {stack:#010x}"), false),
            };
            ThreadStack { name, component, guard: guard..stack, stack: stack..end }
        })
        .collect())
}

/// The records in `bytes`: (guard start, stack start, stack end), each a
/// `word`-byte address.
fn parse_records(
    bytes: &[u8],
    little_endian: bool,
    word: usize,
) -> Result<Vec<(u64, u64, u64)>, String> {
    let record = 3 * word;
    if !bytes.len().is_multiple_of(record) {
        return Err(format!(
            "the stack records take {} bytes, not a whole number of {record}-byte records",
            bytes.len()
        ));
    }
    let read = |bytes: &[u8]| {
        let mut value = [0u8; 8];
        if little_endian {
            value[..word].copy_from_slice(bytes);
            u64::from_le_bytes(value)
        } else {
            value[8 - word..].copy_from_slice(bytes);
            u64::from_be_bytes(value)
        }
    };
    let mut records = Vec::new();
    for chunk in bytes.chunks_exact(record) {
        let (guard, stack, end) =
            (read(&chunk[..word]), read(&chunk[word..2 * word]), read(&chunk[2 * word..]));
        if !(guard <= stack && stack <= end) {
            return Err(format!(
                "a stack record out of order: guard {guard:#010x}, stack {stack:#010x}, \
                 end {end:#010x}"
            ));
        }
        records.push((guard, stack, end));
    }
    Ok(records)
}

/// The name of a thread stack whose `MEMORY` static is `symbol`
/// (demangled, with or without the hash), and whether it is a
/// composition's component: `X::__composition::memory::NAME::MEMORY` is
/// `NAME`; the idle thread's is `idle`; another's is its static's path,
/// without the board crate's `ferrode_board::component::`.
pub fn thread_stack_name(symbol: &str) -> (String, bool) {
    let path = without_hash(symbol);
    let path = path.strip_suffix("::MEMORY").unwrap_or(path);
    if let Some((_, component)) = path.split_once("::__composition::memory::") {
        return (component.to_string(), true);
    }
    if path == IDLE_STACK {
        return ("idle".to_string(), false);
    }
    (path.strip_prefix("ferrode_board::component::").unwrap_or(path).to_string(), false)
}

/// The idle thread's stack (`ferrode_board::kernel`), named `idle`.
const IDLE_STACK: &str = "ferrode_board::kernel::IDLE_STACK";

/// A demangled Rust symbol without the hash Rust appends
/// (`::h0123456789abcdef`).
pub fn without_hash(symbol: &str) -> &str {
    match symbol.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            path
        }
        _ => symbol,
    }
}

/// [`Symbolizer::annotate`] for `image`; when the image cannot be read,
/// the console unchanged with a line saying why.
pub fn annotate(image: &Path, console: &str) -> String {
    if !console.contains("FAULT:") && !console.contains("backtrace:") {
        return console.to_string();
    }
    annotate_lines(image, console, |_| true)
}

/// `console` with source lines under its guest-state reports
/// ([`super::Running::guest_state`]) only: for consoles whose fault
/// reports were annotated already, or are kept as printed.
pub fn annotate_guest_state(image: &Path, console: &str) -> String {
    if !console.contains(super::GUEST_STATE) {
        return console.to_string();
    }
    annotate_lines(image, console, |line| line.contains(super::GUEST_STATE))
}

/// [`Symbolizer::annotate_where`] with `image`'s symbolizer; when the image
/// cannot be read, the console unchanged with a line saying why.
fn annotate_lines(image: &Path, console: &str, pick: impl Fn(&str) -> bool) -> String {
    match Symbolizer::load(image) {
        Ok(symbolizer) => symbolizer.annotate_where(console, pick),
        Err(error) => format!("{console}\n{INDENT}(no source lines: {error})\n"),
    }
}

/// Adds source lines under the fault and backtrace lines of a console
/// streamed in pieces (what `cargo xtask run` prints as it arrives).
pub struct Stream {
    symbolizer: Option<Symbolizer>,
    line: Vec<u8>,
}

impl Stream {
    /// A stream for `image`; without readable debug info it adds nothing.
    pub fn new(image: &Path) -> Self {
        Self { symbolizer: Symbolizer::load(image).ok(), line: Vec::new() }
    }

    /// Takes the next piece of console output; returns what to print for
    /// it: the piece, with the added lines after each line it completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Some(symbolizer) = &self.symbolizer else { return bytes.to_vec() };
        let mut out = Vec::with_capacity(bytes.len());
        for &byte in bytes {
            out.push(byte);
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            for extra in symbolizer.annotate_line(line.trim_end_matches('\r')) {
                out.extend_from_slice(extra.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }
}

/// Whether the A32 instruction `word` is `bl`, `blx label` or `blx reg`.
fn arm_links(word: u32) -> bool {
    let conditional = word >> 28 != 0xf;
    let bl = conditional && (word >> 24) & 0xf == 0xb;
    let blx_immediate = word >> 25 == 0x7d;
    let blx_register = conditional && word & 0x0fff_fff0 == 0x012f_ff30;
    bl || blx_immediate || blx_register
}

/// Whether the 16-bit T32 instruction `half` is `blx reg`.
fn thumb_links_16(half: u16) -> bool {
    half & 0xff87 == 0x4780
}

/// Whether the 32-bit T32 instruction of halfwords `first`, `second` is
/// `bl label` or `blx label`.
fn thumb_links_32(first: u16, second: u16) -> bool {
    first & 0xf800 == 0xf000 && (second & 0xd000 == 0xd000 || second & 0xd001 == 0xc000)
}

/// Whether the RV32 instruction `word` is `jal`/`jalr` writing `ra`.
fn riscv_links(word: u32) -> bool {
    let opcode = word & 0x7f;
    (opcode == 0x6f || opcode == 0x67) && (word >> 7) & 0x1f == 1
}

/// Whether the compressed RV32 instruction `half` is `c.jalr` or `c.jal`.
fn riscv_c_links(half: u16) -> bool {
    (half & 0xf07f == 0x9002 && (half >> 7) & 0x1f != 0) || half & 0xe003 == 0x2001
}

/// The number after `key` in `text` (`0x` hex).
fn hex_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    let word = rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
    parse_hex(word)
}

fn parse_hex(word: &str) -> Option<u64> {
    u64::from_str_radix(word.strip_prefix("0x")?, 16).ok()
}

/// `path` relative to the workspace root when inside it; the standard
/// library's `/rustc/<commit>/library/...` as `library/...`.
pub(crate) fn relative(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("/"));
    if let Ok(inside) = Path::new(path).strip_prefix(root) {
        return inside.display().to_string();
    }
    if let Some(at) = path.strip_prefix("/rustc/").and_then(|rest| rest.find("/library/")) {
        return path["/rustc/".len() + at + 1..].to_string();
    }
    path.to_string()
}

/// The 1-based number of the line of `source` that contains `marker`.
pub fn line_of(source: &str, marker: &str) -> Option<u32> {
    let index = source.lines().position(|line| line.contains(marker))?;
    u32::try_from(index + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_after_their_keys() {
        let line = "FAULT: data abort at pc=0x70100bc0 address=0x70100002 lr=0x70100bb8 sp=0x1";
        assert_eq!(hex_after(line, "pc="), Some(0x7010_0bc0));
        assert_eq!(hex_after(line, " lr="), Some(0x7010_0bb8));
        assert_eq!(hex_after(line, " ra="), None);
        assert_eq!(parse_hex("12"), None);
    }

    #[test]
    fn paths_are_shown_from_the_workspace_or_the_library() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let inside = root.join("apps/crash/src/main.rs");
        assert_eq!(relative(&inside.display().to_string()), "apps/crash/src/main.rs");
        assert_eq!(
            relative("/rustc/0123abcd/library/core/src/panicking.rs"),
            "library/core/src/panicking.rs"
        );
        assert_eq!(relative("/elsewhere/x.rs"), "/elsewhere/x.rs");
    }

    #[test]
    fn markers_are_found_by_line() {
        assert_eq!(line_of("a\nb // here\nc", "// here"), Some(2));
        assert_eq!(line_of("a", "// here"), None);
    }

    #[test]
    fn an_unreadable_image_leaves_the_console_and_says_why() {
        let console = "FAULT: x at pc=0x10\n";
        let out = annotate(Path::new("/nonexistent/image"), console);
        assert!(out.starts_with(console), "{out}");
        assert!(out.contains("no source lines"), "{out}");
        assert_eq!(annotate(Path::new("/nonexistent"), "hello\n"), "hello\n");
    }

    #[test]
    fn thread_stacks_are_named_by_component_or_static() {
        let name = |symbol: &str| thread_stack_name(symbol);
        assert_eq!(
            name("hello::__composition::memory::log::MEMORY::hbaf8954502f8d8a2"),
            ("log".into(), true)
        );
        assert_eq!(name("echo_net::__composition::memory::nic::MEMORY"), ("nic".into(), true));
        assert_eq!(
            name("ferrode_board::component::terminal::IRQ_MEMORY::MEMORY::h0123456789abcdef"),
            ("terminal::IRQ_MEMORY".into(), false)
        );
        assert_eq!(
            name("ferrode_board::component::TIMER_ALARM_MEMORY::MEMORY::hfedcba9876543210"),
            ("TIMER_ALARM_MEMORY".into(), false)
        );
        assert_eq!(
            name("ferrode_board::component::nic::DATA_MEMORY::MEMORY"),
            ("nic::DATA_MEMORY".into(), false)
        );
        assert_eq!(name("crash::WORKER_STACK::MEMORY"), ("crash::WORKER_STACK".into(), false));
        assert_eq!(
            name("ferrode_board::kernel::IDLE_STACK::MEMORY::h0123456789abcdef"),
            ("idle".into(), false)
        );
        // Not a hash: kept.
        assert_eq!(without_hash("a::hidden"), "a::hidden");
    }

    #[test]
    fn records_are_read_in_the_files_byte_order_and_word_size() {
        let little = [
            0x00, 0xc0, 0x10, 0x70, 0x00, 0xd0, 0x10, 0x70, 0x00, 0xe0, 0x10, 0x70, // one
            0x10, 0x00, 0x00, 0x80, 0x10, 0x00, 0x00, 0x80, 0x10, 0x10, 0x00, 0x80, // two
        ];
        assert_eq!(
            parse_records(&little, true, 4),
            Ok(vec![
                (0x7010_c000, 0x7010_d000, 0x7010_e000),
                (0x8000_0010, 0x8000_0010, 0x8000_1010)
            ])
        );
        let big = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        assert_eq!(parse_records(&big, false, 4), Ok(vec![(1, 2, 3)]));
        let wide = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_records(&wide, true, 8), Ok(vec![(1, 2, 3)]));
        assert!(parse_records(&little[..20], true, 4).is_err());
        assert!(parse_records(&[3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0], true, 4).is_err());
        assert_eq!(parse_records(&[], true, 4), Ok(vec![]));
    }

    /// A symbolizer without debug info or code, with these guards.
    fn guarded(boot: Option<Range<u64>>, thread_stacks: Vec<ThreadStack>) -> Symbolizer {
        let empty = |_| -> Result<Reader, gimli::Error> {
            Ok(gimli::EndianRcSlice::new(Rc::from(&[][..]), gimli::RunTimeEndian::Little))
        };
        let dwarf = gimli::Dwarf::load(empty).unwrap();
        Symbolizer {
            context: addr2line::Context::from_dwarf(dwarf).unwrap(),
            code: Vec::new(),
            symbols: Vec::new(),
            isa: Isa::Arm,
            little_endian: true,
            stack_guard: boot,
            thread_stacks,
        }
    }

    fn pbx_stacks() -> Vec<ThreadStack> {
        vec![
            ThreadStack {
                name: "log".into(),
                component: true,
                guard: 0x7010_c000..0x7010_d000,
                stack: 0x7010_d000..0x7010_e000,
            },
            ThreadStack {
                name: "terminal::IRQ_MEMORY".into(),
                component: false,
                guard: 0x7010_e000..0x7010_f000,
                stack: 0x7010_f000..0x7011_0000,
            },
        ]
    }

    #[test]
    fn a_fault_in_a_guard_page_names_the_stack() {
        let symbolizer = guarded(Some(0x7011_0000..0x7011_1000), pbx_stacks());
        let fault = |address: u64| {
            symbolizer.annotate_line(&format!(
                "FAULT: data abort at pc=0x70100bc0 address={address:#010x} lr=0x0 sp=0x1"
            ))
        };
        let lines = fault(0x7010_cff8);
        assert_eq!(lines[0], "    pc 0x70100bc0 (no debug info for this address)");
        assert_eq!(
            lines[1],
            "    address 0x7010cff8 is in the guard page below the stack of component `log`: \
             its thread ran off its stack"
        );
        assert_eq!(
            fault(0x7010_e000)[1],
            "    address 0x7010e000 is in the guard page below the stack of \
             `terminal::IRQ_MEMORY`: its thread ran off its stack"
        );
        assert_eq!(
            fault(0x7011_0ffc)[1],
            "    address 0x70110ffc is in the guard page below the boot stack: \
             the boot thread ran off its stack"
        );
        // In a stack, or past the last guard: no note.
        for address in [0x7010_d000, 0x7010_f000, 0x7011_1000, 0x7010_bffc] {
            assert_eq!(fault(address).len(), 1, "{address:#x}");
        }
    }

    #[test]
    fn empty_guards_contain_nothing() {
        // MicroBlaze V: guard start = stack start, and no boot guard.
        let stacks = vec![ThreadStack {
            name: "log".into(),
            component: true,
            guard: 0x8000_2000..0x8000_2000,
            stack: 0x8000_2000..0x8000_3000,
        }];
        assert_eq!(guard_note(None, &stacks, 0x8000_2000), None);
        assert_eq!(guard_note(None, &stacks, 0x8000_1ffc), None);
        let symbolizer = guarded(None, stacks);
        assert_eq!(
            symbolizer.annotate_line("FAULT: x at pc=0x80000010 address=0x80002000").len(),
            1
        );
    }

    #[test]
    fn calls_that_link_are_told_from_other_instructions() {
        assert!(arm_links(0xeb00_0010)); // bl
        assert!(arm_links(0xfa00_0010)); // blx label
        assert!(arm_links(0xe12f_ff33)); // blx r3
        assert!(!arm_links(0xe12f_ff1e)); // bx lr
        assert!(!arm_links(0xea00_0010)); // b
        assert!(riscv_links(0x0000_00ef)); // jal ra, .
        assert!(riscv_links(0x0002_80e7)); // jalr ra, 0(t0)
        assert!(!riscv_links(0x0000_8067)); // ret
        assert!(!riscv_links(0x0000_006f)); // j .
        assert!(riscv_c_links(0x9282)); // c.jalr t0
        assert!(riscv_c_links(0x2001)); // c.jal
        assert!(!riscv_c_links(0x8082)); // c.jr ra (ret)
        assert!(thumb_links_16(0x47a0)); // blx r4
        assert!(!thumb_links_16(0x4770)); // bx lr
        assert!(thumb_links_32(0xf001, 0xfac1)); // bl
        assert!(thumb_links_32(0xf005, 0xe92c)); // blx label
        assert!(!thumb_links_32(0xf000, 0xb800)); // b.w
        assert!(!thumb_links_32(0xf040, 0x8000)); // bne.w
        assert!(!thumb_links_32(0xe92d, 0x4ff0)); // push.w
    }
}
