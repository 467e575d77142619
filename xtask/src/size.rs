//! Image sizes: text (code and read-only data), data, bss and stack, and
//! what a raw flash image carries (text and the initial values of data).

use std::process::ExitCode;

use object::{Object, ObjectSection, SectionFlags, SectionKind};

use crate::{apps, build};

/// Column titles of the size table.
pub const HEADER: &str =
    "board            app                  text     data      bss    flash    stack      ram";

/// Bytes an image occupies, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code and read-only data.
    pub text: u64,
    /// Initialised writable data.
    pub data: u64,
    /// Zero-initialised data.
    pub bss: u64,
    /// The boot stack reserved by the linker script.
    pub stack: u64,
}

impl Sizes {
    /// Bytes a raw flash image carries: the text and the initial values of
    /// the data (copied to RAM at boot); bss and the stack are only
    /// reserved.
    pub fn flash(&self) -> u64 {
        self.text + self.data
    }

    /// Bytes of RAM the running image occupies: both boards run images
    /// from RAM, so its text, data, bss and boot stack (what a design with
    /// block RAM only, such as a MicroBlaze V's LMB, must hold).
    pub fn ram(&self) -> u64 {
        self.text + self.data + self.bss + self.stack
    }

    /// One row of the size table.
    pub fn row(&self, board: &str, app: &str) -> String {
        format!(
            "{board:<16} {app:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            self.text,
            self.data,
            self.bss,
            self.flash(),
            self.stack,
            self.ram()
        )
    }
}

/// Reads the ELF `image` and hands it, parsed, to `read`.
fn with_elf<T>(
    image: &std::path::Path,
    read: impl FnOnce(&object::File<'_>) -> T,
) -> Result<T, String> {
    let bytes = std::fs::read(image)
        .map_err(|error| format!("cannot read {}: {error}", image.display()))?;
    let file = object::File::parse(&*bytes)
        .map_err(|error| format!("{} is not an ELF image: {error}", image.display()))?;
    Ok(read(&file))
}

/// Reads an ELF image's allocated sections.
pub fn measure(image: &std::path::Path) -> Result<Sizes, String> {
    with_elf(image, sizes_of)
}

/// The allocated sections of `file`, by kind.
fn sizes_of(file: &object::File<'_>) -> Sizes {
    let mut sizes = Sizes::default();
    for section in file.sections() {
        let allocated = match section.flags() {
            SectionFlags::Elf { sh_flags } => sh_flags & u64::from(object::elf::SHF_ALLOC) != 0,
            _ => false,
        };
        if !allocated {
            continue;
        }
        let name = section.name().unwrap_or("");
        match section.kind() {
            _ if name == ".stack" => sizes.stack += section.size(),
            SectionKind::UninitializedData | SectionKind::UninitializedTls => {
                sizes.bss += section.size()
            }
            SectionKind::Data | SectionKind::Tls => sizes.data += section.size(),
            _ => sizes.text += section.size(),
        }
    }
    sizes
}

/// Where an image's code goes: bytes per crate, from the sized function
/// symbols (a generic function counts for the crate that defines it,
/// wherever it was instantiated), then the code no symbol names a crate
/// for. The rest of the size table's text is read-only data.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TextByCrate {
    /// (crate, bytes), largest first.
    pub crates: Vec<(String, u64)>,
    /// Code of symbols without a crate path: `#[no_mangle]` functions,
    /// the C library names of `compiler_builtins`, assembly labels.
    pub unnamed: u64,
    /// Code that no sized symbol covers (assembly, alignment padding).
    pub uncovered: u64,
}

/// The crate a demangled symbol name belongs to: the first path segment
/// (the first name followed by `::`), which for a trait method is the
/// type's crate (`<ferrode_ipc::rpc::RpcObject<I, S> as
/// ferrode_ipc::rpc::Dispatch>::dispatch`) and for a generic type
/// parameter the trait's (`<&T as core::fmt::Display>::fmt`). `None` for a
/// name without a path.
pub fn crate_of(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let mut start = None;
    for (at, &byte) in bytes.iter().enumerate() {
        let word = byte.is_ascii_alphanumeric() || byte == b'_';
        match (word, start) {
            (true, None) if !byte.is_ascii_digit() => start = Some(at),
            (false, Some(from)) => {
                if name[at..].starts_with("::") {
                    return Some(&name[from..at]);
                }
                start = None;
            }
            _ => {}
        }
    }
    None
}

/// `file`'s code symbols and sections as a [`TextByCrate`].
fn text_by_crate(file: &object::File<'_>) -> TextByCrate {
    use object::ObjectSymbol;
    let code: u64 = file
        .sections()
        .filter(|section| section.kind() == SectionKind::Text)
        .map(|section| section.size())
        .sum();
    let mut breakdown = TextByCrate::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut crates = std::collections::BTreeMap::<String, u64>::new();
    let mut named = 0;
    for symbol in file.symbols() {
        let in_code = symbol
            .section_index()
            .and_then(|index| file.section_by_index(index).ok())
            .is_some_and(|section| section.kind() == SectionKind::Text);
        // One count per address: aliases (`__aeabi_memcpy4`/`8`) share code.
        if !in_code || symbol.size() == 0 || !seen.insert(symbol.address() & !1) {
            continue;
        }
        let raw = symbol.name().unwrap_or("");
        let demangled = addr2line::demangle_auto(std::borrow::Cow::Borrowed(raw), None);
        match crate_of(&demangled) {
            Some(name) => *crates.entry(name.to_string()).or_default() += symbol.size(),
            None => breakdown.unnamed += symbol.size(),
        }
        named += symbol.size();
    }
    breakdown.uncovered = code.saturating_sub(named);
    breakdown.crates = crates.into_iter().collect();
    breakdown.crates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    breakdown
}

impl TextByCrate {
    /// The table `--crates` prints, with each part's share of `text` (the
    /// size table's), whose rest is the read-only data (constants,
    /// strings, panic locations, unwind index).
    pub fn table(&self, text: u64) -> String {
        let code =
            self.crates.iter().map(|(_, bytes)| bytes).sum::<u64>() + self.unnamed + self.uncovered;
        let share = |bytes: u64| bytes as f64 * 100.0 / text.max(1) as f64;
        let mut out = format!("{:<44} {:>8} {:>7}\n", "text by crate", "bytes", "share");
        let rows = self.crates.iter().map(|(name, bytes)| (name.as_str(), *bytes)).chain([
            ("(code of #[no_mangle] and C-named symbols)", self.unnamed),
            ("(code no symbol covers: assembly, padding)", self.uncovered),
            ("(read-only data)", text.saturating_sub(code)),
        ]);
        for (name, bytes) in rows {
            out.push_str(&format!("{name:<44} {bytes:>8} {:>6.1}%\n", share(bytes)));
        }
        out
    }
}

/// `cargo xtask size`. With `all`, every app on every board it supports
/// (or on `board`), always as release images (what `flash` and the size
/// budgets use), one row per image, grouped by board. With `crates`, each
/// image's [`TextByCrate`] table follows the size table.
pub fn run(
    board: Option<&str>,
    app: Option<&str>,
    all: bool,
    release: bool,
    crates: bool,
) -> Result<ExitCode, String> {
    let boards: Vec<&str> = match board {
        Some(board) => vec![ferrode_tests::boards::find(board)?.name],
        None => ferrode_tests::boards::names(),
    };
    let apps: Vec<String> = match (app, all) {
        (Some(app), _) => vec![app.to_string()],
        (None, true) => apps::all().into_iter().map(|app| app.name).collect(),
        (None, false) => vec!["hello".to_string()],
    };
    // The table of every image is the table of what ships.
    let release = release || all;
    let mut rows = Vec::new();
    let mut breakdowns = Vec::new();
    for app in &apps {
        let mut supported = 0;
        for board in &boards {
            // Without --board, an app is measured on the boards it supports.
            let Ok((board, app)) = apps::resolve(board, app) else {
                if !all && boards.len() == 1 {
                    apps::resolve(board, app)?;
                }
                continue;
            };
            supported += 1;
            let image = build::build(board, &app.name, release)?;
            let (sizes, breakdown) =
                with_elf(&image, |file| (sizes_of(file), crates.then(|| text_by_crate(file))))?;
            rows.push((board.name, sizes.row(board.name, &app.name)));
            if let Some(breakdown) = breakdown {
                let table = breakdown.table(sizes.text);
                breakdowns.push((board.name, format!("{} on {}:\n{table}", app.name, board.name)));
            }
        }
        if supported == 0 && !all {
            // No board supports it: let resolve name the valid choices.
            apps::resolve(boards[0], app)?;
        }
    }
    // Grouped by board, in the boards' order (apps stay in their order).
    let order = |name: &str| boards.iter().position(|board| *board == name);
    rows.sort_by_key(|(board, _)| order(board));
    breakdowns.sort_by_key(|(board, _)| order(board));
    println!("{HEADER}");
    for (_, row) in rows {
        println!("{row}");
    }
    for (_, breakdown) in breakdowns {
        print!("\n{breakdown}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_counted_for_the_crate_of_their_first_path() {
        let cases = [
            ("ferrode_kernel::state::State::call_slow", Some("ferrode_kernel")),
            (
                "<ferrode_ipc::rpc::RpcObject<I,S> as ferrode_ipc::rpc::Dispatch>::dispatch",
                Some("ferrode_ipc"),
            ),
            ("<&T as core::fmt::Display>::fmt", Some("core")),
            ("<[u8] as core::fmt::Debug>::fmt", Some("core")),
            ("<&mut heapless::Vec<u8, 4> as core::fmt::Write>::write_str", Some("heapless")),
            ("hello::__composition::start::hello", Some("hello")),
            ("compiler_builtins::mem::memcpy", Some("compiler_builtins")),
            ("ferrode_irq", None),
            ("memcpy", None),
            ("__aeabi_memcpy4", None),
            ("<u32 as core::fmt::Display>::fmt", Some("core")),
        ];
        for (name, expected) in cases {
            assert_eq!(crate_of(name), expected, "{name}");
        }
    }

    #[test]
    fn the_crate_table_ends_with_what_no_crate_holds() {
        let breakdown = TextByCrate {
            crates: vec![("ferrode_kernel".into(), 600), ("core".into(), 200)],
            unnamed: 100,
            uncovered: 50,
        };
        let table = breakdown.table(1000);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[1].starts_with("ferrode_kernel") && lines[1].ends_with("60.0%"));
        assert!(lines[2].starts_with("core") && lines[2].ends_with("20.0%"));
        assert!(lines[5].starts_with("(read-only data)") && lines[5].contains(" 50 "));
    }

    #[test]
    fn a_row_lines_up_with_the_header_and_sums_the_ram() {
        let sizes = Sizes { text: 39_416, data: 80, bss: 22_988, stack: 8192 };
        assert_eq!(sizes.flash(), 39_496);
        assert_eq!(sizes.ram(), 70_676);
        let row = sizes.row("realview-pbx-a9", "echo-net-direct");
        assert_eq!(row.len(), HEADER.len());
        // Each number ends where its title does.
        for (title, value) in HEADER.split_whitespace().skip(2).zip(row.split_whitespace().skip(2))
        {
            assert_eq!(
                HEADER.find(title).map(|at| at + title.len()),
                row.find(value).map(|at| at + value.len()),
                "{title}"
            );
        }
    }
}
