//! `cargo xtask sd-image`: SD card images for `cargo xtask run --sd`,
//! made from a directory of the host, what is on one after a run, and
//! whether its file system is whole (`ferrode_tests::sd_image` does the
//! work).

use std::io::Write;
use std::process::ExitCode;

use ferrode_tests::sd_image;

use crate::SdImageAction;

/// Runs one `sd-image` action.
pub fn run(action: SdImageAction) -> Result<ExitCode, String> {
    match action {
        SdImageAction::Create { image, size, from, label } => {
            if label.len() > 11 || !label.is_ascii() {
                return Err(format!(
                    "--label {label}: a FAT volume label is up to 11 ASCII characters"
                ));
            }
            if let Some(from) = &from
                && !from.is_dir()
            {
                return Err(format!("--from {}: not a directory", from.display()));
            }
            let made = sd_image::card_from_dir(&image, size, &label, from.as_deref())
                .map_err(|error| format!("{}: {error}", image.display()))?;
            println!(
                "{}: a {} MiB card, one {} partition from 1 MiB on; files: {} ({} bytes), directories: {}",
                image.display(),
                size >> 20,
                made.fat,
                made.files,
                made.bytes,
                made.directories
            );
            println!("in the PBX-A9's slot: cargo xtask run --app APP --sd {}", image.display());
        }
        SdImageAction::List { image } => {
            let entries = sd_image::list(&image).map_err(|error| error_of(&image, error))?;
            for entry in &entries {
                let slash = if entry.directory { "/" } else { "" };
                let size = if entry.directory { String::new() } else { entry.size.to_string() };
                // The short name where a program that reads short names
                // only (embedded-sdmmc's calls, as apps/sd-files makes
                // them) needs it.
                let short = entry.short.as_ref().map(|short| format!("  ({short})"));
                // When it was last modified (UTC; a directory fatfs made has
                // no date).
                let modified = entry.modified.map_or("-".into(), |modified| modified.to_string());
                println!(
                    "{size:>12}  {modified:<20}  {}{slash}{}",
                    entry.path,
                    short.unwrap_or_default()
                );
            }
            println!("{} entries", entries.len());
        }
        SdImageAction::Check { image } => {
            let check = sd_image::check_fat(&image).map_err(|error| error_of(&image, error))?;
            println!("{}: {}", image.display(), check.fat);
            let lost = match check.lost.as_slice() {
                [] => "none".to_string(),
                lost @ [first, ..] => format!("{} (the first: {first})", lost.len()),
            };
            println!("  clusters taken that no file or directory holds: {lost}");
            println!(
                "  entries of long names without their file's or directory's: {}",
                check.orphaned_long_names
            );
            println!(
                "  files and directories whose cluster chain is broken (cut off, shared, looping, \
                 or not as long as the file): {}",
                check.broken_chains
            );
            match check.free_count {
                None => {}
                Some((u32::MAX, free)) => {
                    println!("  FSInfo's count of free clusters: unknown (the FAT has {free} free)")
                }
                Some((recorded, free)) if recorded == free => {
                    println!("  FSInfo's count of free clusters: {recorded}, right")
                }
                Some((recorded, free)) => println!(
                    "  FSInfo's count of free clusters: {recorded}, wrong (the FAT has {free} free)"
                ),
            }
            if !check.clean() {
                println!("not clean: `fsck.vfat` would repair this");
                return Ok(ExitCode::FAILURE);
            }
            println!("clean");
        }
        SdImageAction::Read { image, path } => {
            if !image.is_file() {
                return Err(format!("{}: no such image file", image.display()));
            }
            let contents = sd_image::read_fat_file(&image, &path).map_err(|error| {
                if error.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "{path}: not on the card {} (`sd-image list` shows what is)",
                        image.display()
                    )
                } else {
                    error_of(&image, error)
                }
            })?;
            std::io::stdout()
                .write_all(&contents)
                .map_err(|error| format!("standard output: {error}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An error reading `image`, said with what to do about a card that is
/// not one.
fn error_of(image: &std::path::Path, error: std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::InvalidData {
        format!(
            "{}: {error} (an image needs an MBR whose first partition is FAT; \
             `cargo xtask sd-image create` makes one)",
            image.display()
        )
    } else {
        format!("{}: {error}", image.display())
    }
}
