//! What `cargo xtask flash` writes, checked against the built ELF and booted
//! the way a board's loader would: the PBX-A9's raw binary at its load
//! address with the PC at the entry, and its U-Boot image (read back: magic,
//! both CRCs, addresses and type; `dumpimage -l` when installed; booted
//! through QEMU's uImage loader); the MicroBlaze V's raw binary the same
//! way, and its BRAM MEM file (read back and compared with the ELF's
//! loadable bytes, then put in the BRAM with the PC at the reset vector, so
//! that its copy loop moves the image to DDR and starts it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use object::{Object, ObjectSegment};

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::{Loader, RunOptions};
use crate::harness;
use crate::images::{self, FlatImage};

/// One case per board, on hello.
pub fn cases() -> Vec<Case> {
    let case = |board_name: &str, script: fn(&Scripted<'_>) -> Result<(), Failure>| {
        let board = board(board_name);
        Case {
            name: format!("flash output of hello boots on {}", board.name),
            board,
            app: "hello",
            options: RunOptions { args: vec!["hello".into()], ..Default::default() },
            timeout: Duration::from_secs(90),
            check: Check::Scripted(script),
        }
    };
    vec![case("realview-pbx-a9", pbx), case("microblaze-v", mbv)]
}

fn fail(message: impl Into<String>) -> Failure {
    Failure { message: message.into(), console: String::new() }
}

/// The ELF's entry and its loadable segments with file bytes, read here
/// with `object` directly rather than through [`images`].
fn elf_loadable(data: &[u8]) -> Result<(u64, images::Segments), Failure> {
    let file = object::File::parse(data).map_err(|error| fail(format!("ELF: {error}")))?;
    let mut segments = Vec::new();
    for segment in file.segments() {
        let bytes = segment.data().map_err(|error| fail(format!("ELF segment: {error}")))?;
        if !bytes.is_empty() {
            segments.push((segment.address(), bytes.to_vec()));
        }
    }
    Ok((file.entry(), segments))
}

/// A fresh scratch directory for one run of a case.
fn scratch(board: &str) -> Result<PathBuf, Failure> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ferrode-flash-{}-{board}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|error| fail(format!("{}: {error}", dir.display())))?;
    Ok(dir)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|error| fail(format!("{}: {error}", path.display())))
}

/// Boots with `loaders` in place of the board's usual loader and expects
/// hello's greeting and exit status 0.
fn boot(script: &Scripted<'_>, what: &str, loaders: &[String]) -> Result<(), Failure> {
    let mut args = script.board.qemu_args(Path::new("unused"), script.options);
    let usual = match script.board.loader {
        Loader::Kernel => "-kernel",
        Loader::DeviceLoader => "-device",
    };
    if args.len() < 2 || args[args.len() - 2] != usual {
        return Err(fail(format!("the board's loader is not the last argument: {args:?}")));
    }
    args.truncate(args.len() - 2);
    args.extend(loaders.iter().cloned());
    let outcome = harness::run(script.board.qemu, &args, script.timeout / 3)
        .map_err(|error| fail(format!("{what}: cannot run {}: {error}", script.board.qemu)))?;
    let greeting = format!("[hello] Hello from Ferrode on {}", script.board.name);
    let failed = |message: String| Failure {
        message: format!("{what}: {message} (qemu {})", args.join(" ")),
        console: outcome.console.clone(),
    };
    if outcome.timed_out {
        return Err(failed("timed out".into()));
    }
    if harness::missing_in_order(&outcome.console, &[&greeting]).is_some() {
        return Err(failed(format!("console lacks {greeting:?}")));
    }
    if outcome.status != Some(0) {
        return Err(failed(format!("exit status {:?}, expected 0", outcome.status)));
    }
    Ok(())
}

/// QEMU's generic loader: `file` at `address` as raw bytes, then the PC
/// of CPU 0 set to `pc`.
fn raw_loaders(file: &Path, address: u64, pc: u64) -> Vec<String> {
    vec![
        "-device".into(),
        format!("loader,file={},addr={address:#x},force-raw=on", file.display()),
        "-device".into(),
        format!("loader,addr={pc:#x},cpu-num=0"),
    ]
}

/// The raw binary: the ELF's loadable bytes at their offsets from the
/// lowest one, nothing else; boots when loaded at that address.
fn raw_binary(script: &Scripted<'_>, data: &[u8], dir: &Path) -> Result<FlatImage, Failure> {
    let (entry, segments) = elf_loadable(data)?;
    let image = FlatImage::from_elf(data).map_err(fail)?;
    let base = segments.iter().map(|(address, _)| *address).min().unwrap_or(0);
    if image.base != base || image.entry != entry {
        return Err(fail(format!(
            "binary at {:#x} entry {:#x}; the ELF loads at {base:#x}, entry {entry:#x}",
            image.base, image.entry
        )));
    }
    for (address, bytes) in &segments {
        let at = (address - base) as usize;
        if image.bytes.get(at..at + bytes.len()) != Some(bytes.as_slice()) {
            return Err(fail(format!("the binary differs from the segment at {address:#x}")));
        }
    }
    let bin = dir.join("hello.bin");
    write(&bin, &image.bytes)?;
    boot(script, "raw binary", &raw_loaders(&bin, image.base, image.entry))?;
    Ok(image)
}

/// `dumpimage -l`'s view of the uImage, when U-Boot's tools are installed.
fn dumpimage_agrees(uimg: &Path, image: &FlatImage, name: &str) -> Result<(), Failure> {
    let output = match Command::new("dumpimage").arg("-l").arg(uimg).output() {
        Ok(output) => output,
        Err(_) => {
            println!("  note: dumpimage (u-boot-tools) is not installed; its check is skipped");
            return Ok(());
        }
    };
    let listing = String::from_utf8_lossy(&output.stdout).into_owned();
    let wanted = [
        format!("Image Name:   {name}"),
        "ARM".to_string(),
        "Kernel Image".to_string(),
        "uncompressed".to_string(),
        format!("Load Address: {:08x}", image.base),
        format!("Entry Point:  {:08x}", image.entry),
        format!("Data Size:    {} Bytes", image.bytes.len()),
    ];
    for line in &wanted {
        if !listing.contains(line.as_str()) {
            return Err(Failure {
                message: format!("dumpimage -l lacks {line:?}"),
                console: listing.clone(),
            });
        }
    }
    Ok(())
}

fn pbx(script: &Scripted<'_>) -> Result<(), Failure> {
    let data = std::fs::read(script.image).map_err(|error| fail(error.to_string()))?;
    let dir = scratch(script.board.name)?;
    let image = raw_binary(script, &data, &dir)?;
    let (entry, segments) = elf_loadable(&data)?;
    let name = format!("Ferrode hello {}", script.board.name);
    let file = images::uimage(&image, images::UIMAGE_ARCH_ARM, &name, 0).map_err(fail)?;
    let (header, body) = images::parse_uimage(&file).map_err(fail)?;
    let lowest = segments.iter().map(|(address, _)| *address).min().unwrap_or(0);
    let checks = [
        (u64::from(header.load), lowest, "load address"),
        (u64::from(header.entry), entry, "entry point"),
        (u64::from(header.image_type), u64::from(images::UIMAGE_TYPE_KERNEL), "image type"),
        (u64::from(header.arch), u64::from(images::UIMAGE_ARCH_ARM), "architecture"),
        (u64::from(header.compression), u64::from(images::UIMAGE_COMP_NONE), "compression"),
    ];
    for (found, wanted, what) in checks {
        if found != wanted {
            return Err(fail(format!("uImage {what} {found:#x}, expected {wanted:#x}")));
        }
    }
    if body != image.bytes.as_slice() || header.name != name {
        return Err(fail("the uImage's data or name is not the raw binary's"));
    }
    let uimg = dir.join("hello.uimg");
    write(&uimg, &file)?;
    dumpimage_agrees(&uimg, &image, &name)?;
    // QEMU's own uImage loader reads the header, copies the data to the
    // load address and starts the entry.
    boot(script, "uImage", &["-kernel".into(), uimg.display().to_string()])?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn mbv(script: &Scripted<'_>) -> Result<(), Failure> {
    let data = std::fs::read(script.image).map_err(|error| fail(error.to_string()))?;
    let dir = scratch(script.board.name)?;
    let image = raw_binary(script, &data, &dir)?;
    let bram = images::bram_image(&image, images::MICROBLAZE_V_BRAM).map_err(fail)?;
    let text = images::mem_file(bram.base, &bram.bytes).map_err(fail)?;
    // The format: `@` and eight hex digits, then lines of at most eight
    // eight-digit words; the parser refuses anything else.
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if !(line.starts_with('@') || (1..=8).contains(&words.len())) {
            return Err(fail(format!("MEM line {line:?}")));
        }
    }
    let blocks = images::parse_mem_file(&text).map_err(fail)?;
    let [block] = blocks.as_slice() else {
        return Err(fail(format!("{} MEM blocks, expected one", blocks.len())));
    };
    let bram_end = images::MICROBLAZE_V_BRAM.base + images::MICROBLAZE_V_BRAM.size;
    if block.address != images::MICROBLAZE_V_BRAM.base
        || block.address as usize + block.bytes.len() > bram_end as usize
    {
        return Err(fail(format!(
            "MEM block at {:#x}, {} bytes: not inside the BRAM",
            block.address,
            block.bytes.len()
        )));
    }
    let (_, segments) = elf_loadable(&data)?;
    for (address, bytes) in &segments {
        let at = (bram.payload as u64 + address - image.base) as usize;
        if block.bytes.get(at..at + bytes.len()) != Some(bytes.as_slice()) {
            return Err(fail(format!(
                "the MEM file's copy of the segment at {address:#x} (BRAM offset {at:#x}) differs"
            )));
        }
    }
    // Into the BRAM as updatemem would put it; the hart comes out of reset
    // at the BRAM's base, as a MicroBlaze V with its vectors there does
    // (QEMU's generic loader cannot set the PC to 0, so the CPU's reset
    // vector is set instead).
    let contents = dir.join("bram.bin");
    write(&contents, &block.bytes)?;
    let loaders = vec![
        "-device".to_string(),
        format!("loader,file={},addr={:#x},force-raw=on", contents.display(), block.address),
        "-global".into(),
        format!("riscv-cpu.resetvec={:#x}", block.address),
    ];
    boot(script, "BRAM contents from the MEM file", &loaders)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
