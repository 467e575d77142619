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

/// Reads an ELF image's allocated sections.
pub fn measure(image: &std::path::Path) -> Result<Sizes, String> {
    let bytes = std::fs::read(image)
        .map_err(|error| format!("cannot read {}: {error}", image.display()))?;
    let file = object::File::parse(&*bytes)
        .map_err(|error| format!("{} is not an ELF image: {error}", image.display()))?;
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
    Ok(sizes)
}

/// `cargo xtask size`. With `all`, every app on every board it supports
/// (or on `board`), always as release images (what `flash` and the size
/// budgets use), one row per image, grouped by board.
pub fn run(
    board: Option<&str>,
    app: Option<&str>,
    all: bool,
    release: bool,
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
            rows.push((board.name, measure(&image)?.row(board.name, &app.name)));
        }
        if supported == 0 && !all {
            // No board supports it: let resolve name the valid choices.
            apps::resolve(boards[0], app)?;
        }
    }
    // Grouped by board, in the boards' order (apps stay in their order).
    let order = |name: &str| boards.iter().position(|board| *board == name);
    rows.sort_by_key(|(board, _)| order(board));
    println!("{HEADER}");
    for (_, row) in rows {
        println!("{row}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

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
