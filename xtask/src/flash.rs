//! `cargo xtask flash`: write what a real board loads, and say (or do) how.
//!
//! Every file goes to `target/flash/BOARD/APP/` (or `--out DIR`); the
//! formats are in [`ferrode_tests::images`], where the tests read them back.
//!
//! - RealView PBX-A9: `APP.bin` (the loadable segments, flattened; load it
//!   at the printed address and start the core at the entry), `APP.uimg`
//!   (a U-Boot legacy image of that binary: load and entry addresses from
//!   the ELF, both CRCs), `APP.uboot.txt` (the U-Boot commands that fetch
//!   it over TFTP, check it and boot it; also printed) and `APP.elf`. With
//!   `--jtag --openocd-adapter FILE`, OpenOCD loads the ELF through core 0
//!   with `platforms/realview-pbx-a9/flash/openocd.cfg` (the other cores
//!   stay halted).
//! - MicroBlaze V: `APP.elf`, `APP.bin`, `APP.mem` (the LMB BRAM contents
//!   for Vivado's `updatemem`: a copy loop at the reset vector and the
//!   image, which it copies to DDR and starts), `APP.load.txt` (the `xsdb`
//!   and `updatemem` command lines; also printed). With `--jtag`, xsdb runs
//!   `platforms/microblaze-v/flash/xsdb-load.tcl` (connect, pick the hart,
//!   download the ELF, continue).
//!
//! `--dry-run` builds nothing and writes nothing: it prints the build it
//! would run, every file it would write and every command. Flags that do
//! not apply to the chosen board are refused.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::UNIX_EPOCH;

use ferrode_tests::images::{self, FlatImage};

use crate::apps::{self, workspace_root};
use crate::{build, setup};

/// Options of `cargo xtask flash`.
#[derive(Debug, Default, Clone)]
pub struct FlashOptions {
    /// Board name.
    pub board: String,
    /// App name.
    pub app: String,
    /// Print what would be built, written and run; do nothing.
    pub dry_run: bool,
    /// Where the files go (default `target/flash/BOARD/APP`).
    pub out: Option<PathBuf>,
    /// Load the image over JTAG now (xsdb, or OpenOCD with an adapter).
    pub jtag: bool,
    /// PBX-A9: the OpenOCD interface configuration of the JTAG adapter.
    pub openocd_adapter: Option<PathBuf>,
    /// PBX-A9: the TFTP server U-Boot fetches from (`setenv serverip`).
    pub serverip: Option<String>,
    /// MicroBlaze V: xsdb target filter selecting the hart.
    pub jtag_target: Option<String>,
}

/// The PBX-A9 board name.
const PBX: &str = "realview-pbx-a9";
/// The MicroBlaze V board name.
const MBV: &str = "microblaze-v";
/// xsdb's name for the first MicroBlaze V hart, unless `--jtag-target`.
const DEFAULT_JTAG_TARGET: &str = "Hart #0*";

/// The OpenOCD target configuration kept in the repository.
pub fn openocd_config() -> PathBuf {
    workspace_root().join("platforms/realview-pbx-a9/flash/openocd.cfg")
}

/// The xsdb loading script kept in the repository.
pub fn xsdb_script() -> PathBuf {
    workspace_root().join("platforms/microblaze-v/flash/xsdb-load.tcl")
}

/// Refuses flags that do not apply to `board`, naming the board they are for.
pub fn check_flags(board: &str, options: &FlashOptions) -> Result<(), String> {
    let refuse = |flag: &str, owner: &str, why: &str| {
        Err(format!("{flag} does not apply to {board}: it is for {owner} ({why})"))
    };
    match board {
        PBX => {
            if options.jtag_target.is_some() {
                return refuse("--jtag-target", MBV, "it picks the hart xsdb loads");
            }
            if options.jtag && options.openocd_adapter.is_none() {
                return Err(format!(
                    "--jtag on {PBX} needs --openocd-adapter FILE: the OpenOCD interface \
                     configuration of your JTAG adapter (e.g. interface/ftdi/olimex-arm-usb-ocd-h.cfg)"
                ));
            }
            if options.openocd_adapter.is_some() && !options.jtag {
                return Err(
                    "--openocd-adapter is only used with --jtag (load over JTAG now)".into()
                );
            }
        }
        MBV => {
            if options.openocd_adapter.is_some() {
                return refuse("--openocd-adapter", PBX, "MicroBlaze V loads through xsdb");
            }
            if options.serverip.is_some() {
                return refuse("--serverip", PBX, "the TFTP server in the U-Boot commands");
            }
        }
        other => return Err(format!("flash does not know the board {other}")),
    }
    Ok(())
}

/// A file `flash` writes.
#[derive(Debug)]
pub struct Output {
    /// Its path.
    pub path: PathBuf,
    /// Its contents.
    pub contents: Vec<u8>,
    /// What it is, for the listing.
    pub what: String,
}

/// Everything `flash` does for one image: the files, what to tell the
/// user, and the JTAG command when `--jtag` asks for it.
#[derive(Debug)]
pub struct Plan {
    /// The image's loadable bytes and addresses.
    pub image: FlatImage,
    /// The files to write.
    pub outputs: Vec<Output>,
    /// How to load them by hand (also written to the commands file).
    pub instructions: Vec<String>,
    /// The JTAG loader to run now, if `--jtag`.
    pub command: Option<(String, Vec<String>)>,
}

/// A command line as a shell would take it.
pub fn shell_line(program: &str, args: &[String]) -> String {
    let quote = |word: &str| {
        if !word.is_empty()
            && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c))
        {
            word.to_string()
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        }
    };
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `flash` writes and runs for the ELF `elf` (bytes `data`, modified
/// at `time`) of `app` on `board`, into `out`.
pub fn plan(
    board: &str,
    app: &str,
    data: &[u8],
    time: u32,
    out: &Path,
    options: &FlashOptions,
) -> Result<Plan, String> {
    let image = FlatImage::from_elf(data)?;
    let file = |extension: &str| out.join(format!("{app}.{extension}"));
    let elf = file("elf");
    let bin = file("bin");
    let summary = format!(
        "{} bytes, load at {:#010x}, entry {:#010x}",
        image.bytes.len(),
        image.base,
        image.entry
    );
    let mut outputs = vec![
        Output { path: elf.clone(), contents: data.to_vec(), what: "the ELF image".into() },
        Output {
            path: bin.clone(),
            contents: image.bytes.clone(),
            what: format!("raw binary: {summary}"),
        },
    ];
    let mut instructions = Vec::new();
    let command = match board {
        PBX => {
            let uimg = file("uimg");
            let name = format!("Ferrode {app} {board}");
            let uimage = images::uimage(&image, images::UIMAGE_ARCH_ARM, &name, time)?;
            outputs.push(Output {
                path: uimg.clone(),
                contents: uimage,
                what: format!(
                    "U-Boot legacy image \"{name}\" (kernel, standalone, ARM): {summary}"
                ),
            });
            let buffer = images::uboot_buffer(images::elf_memory_end(data)?);
            let file_name = format!("{app}.uimg");
            let commands = images::uboot_commands(&file_name, buffer, options.serverip.as_deref());
            instructions.push(format!(
                "U-Boot, over TFTP (copy {} to the TFTP server's directory{}):",
                uimg.display(),
                if options.serverip.is_some() { "" } else { "; set serverip to that server" }
            ));
            instructions.extend(commands.iter().map(|command| format!("  {command}")));
            let config = openocd_config();
            let adapter = options.openocd_adapter.as_ref();
            let args = vec![
                "-f".to_string(),
                adapter.map_or("ADAPTER.cfg".into(), |path| path.display().to_string()),
                "-f".into(),
                config.display().to_string(),
                "-c".into(),
                format!("init; ferrode_load {} {:#x}; shutdown", elf.display(), image.entry),
            ];
            instructions
                .push("JTAG, with OpenOCD and your adapter's interface configuration:".into());
            instructions.push(format!("  {}", shell_line("openocd", &args)));
            instructions.push(format!(
                "Any other loader: write {} to {:#010x} and start core 0 at {:#010x} (SVC mode, \
                 interrupts masked).",
                bin.display(),
                image.base,
                image.entry
            ));
            outputs.push(Output {
                path: file("uboot.txt"),
                contents: commands_file(app, board, &commands).into_bytes(),
                what: "the U-Boot commands".into(),
            });
            (options.jtag && adapter.is_some()).then(|| ("openocd".to_string(), args))
        }
        MBV => {
            let bram = images::bram_image(&image, images::MICROBLAZE_V_BRAM)?;
            let mem = file("mem");
            outputs.push(Output {
                path: mem.clone(),
                contents: images::mem_file(bram.base, &bram.bytes)?.into_bytes(),
                what: format!(
                    "BRAM contents for updatemem: {} bytes at {:#010x} (a copy loop, then the \
                     image from {:#x}, copied to {:#010x} at reset)",
                    bram.bytes.len(),
                    bram.base,
                    bram.base + bram.payload,
                    image.base
                ),
            });
            let filter = options.jtag_target.clone().unwrap_or_else(|| DEFAULT_JTAG_TARGET.into());
            let args = vec![xsdb_script().display().to_string(), elf.display().to_string(), filter];
            let updatemem: Vec<String> = [
                "-meminfo",
                "DESIGN.mmi",
                "-data",
                &mem.display().to_string(),
                "-proc",
                "DESIGN_INSTANCE/microblaze_riscv_0",
                "-bit",
                "DESIGN.bit",
                "-out",
                &format!("DESIGN-{app}.bit"),
                "-force",
            ]
            .iter()
            .map(|word| word.to_string())
            .collect();
            instructions.push("JTAG (bitstream already configured), with xsdb:".into());
            instructions.push(format!("  {}", shell_line("xsdb", &args)));
            instructions.push(
                "In the bitstream (boots from BRAM at reset; the MMI file comes with the design's \
                 implementation, e.g. from write_mem_info):"
                    .into(),
            );
            instructions.push(format!("  {}", shell_line("updatemem", &updatemem)));
            instructions.push(format!(
                "Any other loader: write {} to {:#010x} and start the hart at {:#010x}.",
                bin.display(),
                image.base,
                image.entry
            ));
            let lines: Vec<String> =
                [shell_line("xsdb", &args), shell_line("updatemem", &updatemem)].into();
            outputs.push(Output {
                path: file("load.txt"),
                contents: commands_file(app, board, &lines).into_bytes(),
                what: "the xsdb and updatemem commands".into(),
            });
            options.jtag.then(|| ("xsdb".to_string(), args))
        }
        other => return Err(format!("flash does not know the board {other}")),
    };
    Ok(Plan { image, outputs, instructions, command })
}

fn commands_file(app: &str, board: &str, commands: &[String]) -> String {
    let mut text = format!(
        "# Ferrode {app} on {board}: written by `cargo xtask flash --board {board} --app {app}`\n"
    );
    for command in commands {
        text.push_str(command);
        text.push('\n');
    }
    text
}

fn modified_seconds(path: &Path) -> u32 {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |age| age.as_secs().min(u32::MAX as u64) as u32)
}

/// `cargo xtask flash`.
pub fn run(options: &FlashOptions) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(&options.board, &options.app)?;
    check_flags(board.name, options)?;
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| build::target_dir().join("flash").join(board.name).join(&app.name));
    let built = build::image_path(board, &app.name, true);
    let elf = if options.dry_run {
        println!(
            "would build: cargo xtask build --board {} --app {} --release",
            board.name, app.name
        );
        if !built.is_file() {
            println!("dry run: {} is not built yet; the files and commands", built.display());
            println!("  depend on its addresses, so nothing more can be shown");
            return Ok(ExitCode::SUCCESS);
        }
        println!("dry run: addresses from the existing {}", built.display());
        built
    } else {
        build::build(board, &app.name, true)?
    };
    let data =
        std::fs::read(&elf).map_err(|error| format!("cannot read {}: {error}", elf.display()))?;
    let plan = plan(board.name, &app.name, &data, modified_seconds(&elf), &out, options)?;
    println!(
        "image: {} ({} loadable bytes at {:#010x}, entry {:#010x})",
        elf.display(),
        plan.image.bytes.len(),
        plan.image.base,
        plan.image.entry
    );
    for output in &plan.outputs {
        if options.dry_run {
            println!("would write: {} ({})", output.path.display(), output.what);
            continue;
        }
        std::fs::create_dir_all(&out)
            .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
        std::fs::write(&output.path, &output.contents)
            .map_err(|error| format!("cannot write {}: {error}", output.path.display()))?;
        println!("wrote: {} ({})", output.path.display(), output.what);
    }
    for line in &plan.instructions {
        println!("{line}");
    }
    let Some((program, args)) = plan.command else { return Ok(ExitCode::SUCCESS) };
    let shown = shell_line(&program, &args);
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

    fn options(board: &str) -> FlashOptions {
        FlashOptions { board: board.into(), app: "hello".into(), ..Default::default() }
    }

    #[test]
    fn flags_for_the_other_board_are_refused() {
        let mut pbx = options(PBX);
        assert!(check_flags(PBX, &pbx).is_ok());
        pbx.jtag_target = Some("Hart*".into());
        let error = check_flags(PBX, &pbx).unwrap_err();
        assert!(error.contains("--jtag-target") && error.contains(MBV), "{error}");
        let mut pbx = options(PBX);
        pbx.jtag = true;
        assert!(check_flags(PBX, &pbx).unwrap_err().contains("--openocd-adapter"));
        pbx.openocd_adapter = Some("a.cfg".into());
        pbx.serverip = Some("10.0.0.1".into());
        assert!(check_flags(PBX, &pbx).is_ok());
        pbx.jtag = false;
        assert!(check_flags(PBX, &pbx).unwrap_err().contains("only used with --jtag"));

        let mut mbv = options(MBV);
        mbv.jtag = true;
        mbv.jtag_target = Some("Hart #1".into());
        assert!(check_flags(MBV, &mbv).is_ok());
        mbv.serverip = Some("10.0.0.1".into());
        assert!(check_flags(MBV, &mbv).unwrap_err().contains("--serverip"));
        let mut mbv = options(MBV);
        mbv.openocd_adapter = Some("a.cfg".into());
        assert!(check_flags(MBV, &mbv).unwrap_err().contains("--openocd-adapter"));
    }

    #[test]
    fn shell_lines_quote_what_a_shell_would_split() {
        let line = shell_line("xsdb", &["a b".into(), "it's".into(), "/x/y.elf".into()]);
        assert_eq!(line, r"xsdb 'a b' 'it'\''s' /x/y.elf");
    }

    #[test]
    fn the_repository_keeps_the_jtag_scripts() {
        let openocd = std::fs::read_to_string(openocd_config()).unwrap();
        for needle in ["cortex_a", "-coreid $_core", "proc ferrode_load", "halt", "resume $entry"] {
            assert!(openocd.contains(needle), "openocd.cfg lacks {needle:?}");
        }
        let xsdb = std::fs::read_to_string(xsdb_script()).unwrap();
        for needle in ["connect", "targets -set", "dow $elf", "con\n"] {
            assert!(xsdb.contains(needle), "xsdb-load.tcl lacks {needle:?}");
        }
    }

    /// A minimal 32-bit little-endian ELF with one loadable segment.
    fn elf(machine: u16, base: u32, entry: u32, code: &[u8]) -> Vec<u8> {
        let mut file = vec![0u8; 0x54];
        file[..4].copy_from_slice(b"\x7fELF");
        file[4] = 1; // 32-bit
        file[5] = 1; // little-endian
        file[6] = 1; // version
        file[16..18].copy_from_slice(&2u16.to_le_bytes()); // executable
        file[18..20].copy_from_slice(&machine.to_le_bytes());
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        file[24..28].copy_from_slice(&entry.to_le_bytes());
        file[28..32].copy_from_slice(&0x34u32.to_le_bytes()); // program headers
        file[40..42].copy_from_slice(&0x34u16.to_le_bytes()); // ELF header size
        file[42..44].copy_from_slice(&0x20u16.to_le_bytes()); // program header size
        file[44..46].copy_from_slice(&1u16.to_le_bytes()); // one of them
        file[46..48].copy_from_slice(&0x28u16.to_le_bytes()); // section header size
        let header = [1, 0x54, base, base, code.len() as u32, code.len() as u32 + 64, 5, 4];
        for (index, word) in header.iter().enumerate() {
            file[0x34 + index * 4..0x38 + index * 4].copy_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(code);
        file
    }

    #[test]
    fn pbx_gets_a_binary_a_uimage_and_uboot_commands() {
        let code: Vec<u8> = (0..100u8).collect();
        let data = elf(40, 0x7010_0000, 0x7010_0008, &code);
        let mut options = options(PBX);
        options.serverip = Some("192.168.0.2".into());
        let plan = super::plan(PBX, "hello", &data, 5, Path::new("/o"), &options).unwrap();
        let names: Vec<String> =
            plan.outputs.iter().map(|output| output.path.display().to_string()).collect();
        assert_eq!(names, ["/o/hello.elf", "/o/hello.bin", "/o/hello.uimg", "/o/hello.uboot.txt"]);
        assert_eq!(plan.outputs[1].contents, code);
        let (header, body) = images::parse_uimage(&plan.outputs[2].contents).unwrap();
        assert_eq!((header.load, header.entry, header.time), (0x7010_0000, 0x7010_0008, 5));
        assert_eq!(header.image_type, images::UIMAGE_TYPE_KERNEL);
        assert_eq!(body, code.as_slice());
        let commands = String::from_utf8(plan.outputs[3].contents.clone()).unwrap();
        assert!(commands.contains("setenv serverip 192.168.0.2\n"), "{commands}");
        // The image ends at 0x70100000 + 164 (with .bss): the buffer is a MiB
        // past the next MiB boundary.
        assert!(commands.contains("tftpboot 0x70300000 hello.uimg\n"), "{commands}");
        assert!(commands.ends_with("bootm 0x70300000\n"), "{commands}");
        assert!(plan.command.is_none());
        options.jtag = true;
        options.openocd_adapter = Some("my adapter.cfg".into());
        let plan = super::plan(PBX, "hello", &data, 5, Path::new("/o"), &options).unwrap();
        let (program, args) = plan.command.unwrap();
        assert_eq!(program, "openocd");
        assert_eq!(args[..2], ["-f", "my adapter.cfg"]);
        assert!(args[3].ends_with("platforms/realview-pbx-a9/flash/openocd.cfg"), "{}", args[3]);
        assert_eq!(args[5], "init; ferrode_load /o/hello.elf 0x70100008; shutdown");
    }

    #[test]
    fn microblaze_v_gets_the_elf_a_bram_file_and_the_xsdb_command() {
        let code: Vec<u8> = (0..30u8).collect();
        let data = elf(243, 0x8000_0000, 0x8000_0000, &code);
        let mut options = options(MBV);
        let plan = super::plan(MBV, "hello", &data, 0, Path::new("/o"), &options).unwrap();
        let names: Vec<String> =
            plan.outputs.iter().map(|output| output.path.display().to_string()).collect();
        assert_eq!(names, ["/o/hello.elf", "/o/hello.bin", "/o/hello.mem", "/o/hello.load.txt"]);
        assert_eq!(plan.outputs[0].contents, data);
        let blocks =
            images::parse_mem_file(std::str::from_utf8(&plan.outputs[2].contents).unwrap())
                .unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].address, 0);
        assert_eq!(&blocks[0].bytes[0x40..0x40 + 30], code.as_slice());
        let commands = String::from_utf8(plan.outputs[3].contents.clone()).unwrap();
        assert!(commands.contains("/o/hello.elf 'Hart #0*'\n"), "{commands}");
        assert!(
            commands.contains("updatemem -meminfo DESIGN.mmi -data /o/hello.mem"),
            "{commands}"
        );
        assert!(plan.command.is_none());
        options.jtag = true;
        options.jtag_target = Some("Hart #1".into());
        let plan = super::plan(MBV, "hello", &data, 0, Path::new("/o"), &options).unwrap();
        let (program, args) = plan.command.unwrap();
        assert_eq!(program, "xsdb");
        assert!(args[0].ends_with("platforms/microblaze-v/flash/xsdb-load.tcl"));
        assert_eq!(args[1..], ["/o/hello.elf", "Hart #1"]);
    }
}
