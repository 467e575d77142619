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

use std::borrow::Cow;
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
    stack_guard: Option<std::ops::Range<u64>>,
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
        Ok(Self {
            context,
            code,
            symbols,
            isa,
            little_endian: file.is_little_endian(),
            stack_guard,
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
            if let Some(address) = hex_after(report, "address=")
                && self.stack_guard.as_ref().is_some_and(|guard| guard.contains(&address))
            {
                added.push(format!(
                    "{INDENT}address {address:#010x} is in the guard page below the boot stack: \
                     the boot thread ran off its stack"
                ));
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

/// The guard page below the boot stack (`__stack_guard` up to
/// `__stack_bottom`), where the image has one.
pub fn boot_stack_guard(file: &object::File<'_>) -> Option<std::ops::Range<u64>> {
    let address_of = |name: &str| {
        file.symbols().find(|symbol| symbol.name() == Ok(name)).map(|symbol| symbol.address())
    };
    match (address_of("__stack_guard"), address_of("__stack_bottom")) {
        (Some(start), Some(end)) if start < end => Some(start..end),
        _ => None,
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
