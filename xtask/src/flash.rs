//! `cargo xtask flash`: put an image on a real board.
//!
//! - MicroBlaze V (an FPGA design): AMD's `xsdb` downloads the ELF over
//!   JTAG into the soft core's memory and starts it (the bitstream must
//!   already be configured).
//! - RealView PBX-A9: OpenOCD, with the configuration for your JTAG
//!   adapter (`--openocd-config`), loads the ELF into DDR and resumes at
//!   its entry. Without a configuration, the raw binary and its load
//!   address are printed for the board's Boot Monitor or another loader.
//!
//! Every run also writes `IMAGE.bin` (the loadable segments, flattened)
//! next to the ELF. `--dry-run` prints the commands without running them.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use object::{Object, ObjectSegment};

use crate::{apps, build, setup};

/// Options of `cargo xtask flash`.
pub struct FlashOptions {
    /// Board name.
    pub board: String,
    /// App name.
    pub app: String,
    /// Print the commands only.
    pub dry_run: bool,
    /// OpenOCD configuration for the PBX-A9's JTAG adapter and target.
    pub openocd_config: Option<PathBuf>,
    /// xsdb target filter for the MicroBlaze V core.
    pub jtag_target: String,
}

/// The loadable part of an image: where it goes and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct FlatImage {
    /// Load address of the first byte.
    pub base: u64,
    /// Entry point.
    pub entry: u64,
    /// Bytes from `base`, gaps between segments zero-filled.
    pub bytes: Vec<u8>,
}

/// Flattens loadable segments `(address, file bytes)` into one blob.
pub fn flatten(entry: u64, segments: &[(u64, &[u8])]) -> Result<FlatImage, String> {
    let loaded: Vec<&(u64, &[u8])> = segments.iter().filter(|(_, data)| !data.is_empty()).collect();
    let base = loaded
        .iter()
        .map(|(address, _)| *address)
        .min()
        .ok_or("the image has no loadable bytes")?;
    let end =
        loaded.iter().map(|(address, data)| address + data.len() as u64).max().unwrap_or(base);
    let length = usize::try_from(end - base).map_err(|_| "image too large")?;
    if length > 256 << 20 {
        return Err(format!("loadable segments span {length} bytes: more than any board's RAM"));
    }
    let mut bytes = vec![0u8; length];
    for (address, data) in loaded {
        let start = (address - base) as usize;
        bytes[start..start + data.len()].copy_from_slice(data);
    }
    Ok(FlatImage { base, entry, bytes })
}

fn flat_image(elf: &Path) -> Result<FlatImage, String> {
    let data =
        std::fs::read(elf).map_err(|error| format!("cannot read {}: {error}", elf.display()))?;
    let file = object::File::parse(&*data)
        .map_err(|error| format!("{} is not an ELF image: {error}", elf.display()))?;
    let segments: Vec<(u64, &[u8])> =
        file.segments().map(|segment| (segment.address(), segment.data().unwrap_or(&[]))).collect();
    flatten(file.entry(), &segments)
}

/// The programmer command for `board`, or `None` when there is no tool to
/// run (the manual steps are printed instead).
pub fn programmer_command(
    board: &str,
    elf: &Path,
    image: &FlatImage,
    options: &FlashOptions,
) -> Option<(String, Vec<String>)> {
    match board {
        "microblaze-v" => {
            let script = format!(
                "connect; targets -set -nocase -filter {{name =~ \"{}\"}}; rst -processor; dow {{{}}}; con; disconnect",
                options.jtag_target,
                elf.display()
            );
            Some(("xsdb".into(), vec!["-eval".into(), script]))
        }
        "realview-pbx-a9" => options.openocd_config.as_ref().map(|config| {
            let commands = format!(
                "init; halt; load_image {} 0 elf; resume {:#x}; shutdown",
                elf.display(),
                image.entry
            );
            (
                "openocd".into(),
                vec!["-f".into(), config.display().to_string(), "-c".into(), commands],
            )
        }),
        _ => None,
    }
}

/// `cargo xtask flash`.
pub fn run(options: &FlashOptions) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(&options.board, &options.app)?;
    let elf = build::build(board, &app.name, true)?;
    let image = flat_image(&elf)?;
    let bin = elf.with_extension("bin");
    std::fs::write(&bin, &image.bytes)
        .map_err(|error| format!("cannot write {}: {error}", bin.display()))?;
    println!(
        "image: {} ({} bytes at {:#010x}, entry {:#010x})",
        bin.display(),
        image.bytes.len(),
        image.base,
        image.entry
    );
    let Some((program, args)) = programmer_command(board.name, &elf, &image, options) else {
        println!("no JTAG configuration given (--openocd-config FILE); to load by hand:");
        println!(
            "  write {} to {:#010x} (DDR) and start the core at {:#010x},",
            bin.display(),
            image.base,
            image.entry
        );
        println!(
            "  e.g. from the board's Boot Monitor or any JTAG debugger attached to the Cortex-A9."
        );
        return Ok(ExitCode::SUCCESS);
    };
    let shown = format!(
        "{program} {}",
        args.iter().map(|arg| format!("'{arg}'")).collect::<Vec<_>>().join(" ")
    );
    if options.dry_run {
        println!("would run: {shown}");
        return Ok(ExitCode::SUCCESS);
    }
    setup::require_program(
        &program,
        if program == "openocd" { "openocd" } else { "AMD Vivado/Vitis (xsdb)" },
    )?;
    println!("running: {shown}");
    let status = Command::new(&program)
        .args(&args)
        .status()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_flattened_with_gaps_zeroed() {
        let text = [1u8, 2, 3, 4];
        let data = [9u8, 9];
        let image =
            flatten(0x7010_0000, &[(0x7010_0008, &data), (0x7010_0000, &text), (0x7020_0000, &[])])
                .unwrap();
        assert_eq!(image.base, 0x7010_0000);
        assert_eq!(image.bytes, [1, 2, 3, 4, 0, 0, 0, 0, 9, 9]);
        assert!(flatten(0, &[]).is_err());
    }

    fn options(config: Option<&str>) -> FlashOptions {
        FlashOptions {
            board: String::new(),
            app: String::new(),
            dry_run: true,
            openocd_config: config.map(PathBuf::from),
            jtag_target: "*MicroBlaze*".into(),
        }
    }

    #[test]
    fn each_board_gets_its_programmer() {
        let image = FlatImage { base: 0x8000_0000, entry: 0x8000_0000, bytes: vec![] };
        let (program, args) =
            programmer_command("microblaze-v", Path::new("/i/blinky"), &image, &options(None))
                .unwrap();
        assert_eq!(program, "xsdb");
        assert!(
            args[1].contains("dow {/i/blinky}") && args[1].contains("*MicroBlaze*"),
            "{}",
            args[1]
        );
        let image = FlatImage { base: 0x7010_0000, entry: 0x7010_0000, bytes: vec![] };
        assert_eq!(
            programmer_command("realview-pbx-a9", Path::new("/i/hello"), &image, &options(None)),
            None
        );
        let (program, args) = programmer_command(
            "realview-pbx-a9",
            Path::new("/i/hello"),
            &image,
            &options(Some("pbx.cfg")),
        )
        .unwrap();
        assert_eq!(program, "openocd");
        assert_eq!(args[..2], ["-f", "pbx.cfg"]);
        assert!(args[3].contains("load_image /i/hello 0 elf; resume 0x70100000"), "{}", args[3]);
    }
}
