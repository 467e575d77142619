//! `cargo xtask`: every Ferrode task behind one command.
//!
//! Run `cargo xtask --help` for the list; each subcommand has its own
//! `--help`. Prerequisites (QEMU, rust targets) are checked before work
//! starts and named when missing; `cargo xtask setup` installs them.

mod apps;
mod bench;
mod build;
mod flash;
mod profile;
mod sd_image;
mod setup;
mod size;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Ferrode's build, run, test and measurement tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what a fresh Debian 12 machine lacks: QEMU >= 9.2 with both
    /// boards, the two rust targets, gdb-multiarch. Safe to run again.
    Setup,
    /// Build an application image for a board and print its path and size.
    Build {
        #[command(flatten)]
        image: Image,
    },
    /// Build an image, boot it in QEMU with the console on this terminal and
    /// return the image's exit status.
    Run {
        #[command(flatten)]
        boot: Boot,
        /// Count instructions deterministically (QEMU -icount shift=0).
        #[arg(long)]
        icount: bool,
        /// Print the console as it comes: defmt frames stay binary (for
        /// `defmt-print -e IMAGE` or a file), no source lines under reports.
        #[arg(long)]
        raw: bool,
        /// A raw disk image to put in the board's SD card slot (PBX-A9;
        /// its size a power of two). The image writes to it.
        #[arg(long, value_name = "IMAGE")]
        sd: Option<std::path::PathBuf>,
        /// Run under `-icount shift=N` (0 to 10) instead of in real time:
        /// the interleaving of the guest's threads that `cargo xtask test
        /// --shift N` ran a case under, for replaying a race it found.
        #[arg(long, value_name = "N", conflicts_with = "icount",
              value_parser = clap::value_parser!(u8).range(0..=ferrode_tests::boards::MAX_SHIFT as i64))]
        shift: Option<u8>,
    },
    /// Run the host unit tests and every QEMU test, then print
    /// `N passed, N failed`.
    Test {
        /// Only run tests whose name contains this text (QEMU cases); host
        /// tests are skipped when a filter is given.
        filter: Option<String>,
        /// Skip the host unit tests.
        #[arg(long)]
        qemu_only: bool,
        /// Skip the QEMU tests.
        #[arg(long)]
        host_only: bool,
        /// Run the QEMU cases (those a filter matches) once under each of
        /// these `-icount` shifts (`3`, `3,7` or `0-10`) instead of in real
        /// time: each shift is one fixed interleaving of the guest's
        /// threads, the same on every run. Finds and replays races; no
        /// host tests, no budgets. Cases that count instructions keep
        /// their own shift.
        #[arg(long, value_name = "SHIFTS", value_parser = shifts, conflicts_with = "host_only")]
        shift: Option<Shifts>,
    },
    /// Print the text/data/bss size table of application images.
    Size {
        /// Board (default: every board).
        #[arg(long, value_parser = board_names())]
        board: Option<String>,
        /// Application (default with --all: every app).
        #[arg(long, value_parser = app_names())]
        app: Option<String>,
        /// Every app on every board it supports.
        #[arg(long)]
        all: bool,
        /// Optimised build.
        #[arg(long)]
        release: bool,
        /// Also show where each image's text goes: bytes of code per crate
        /// (from its symbols), code without a crate's name, read-only data.
        #[arg(long)]
        crates: bool,
    },
    /// Measure guest instructions under QEMU -icount and image sizes, print
    /// one JSON object per board and append it to docs/bench/history.jsonl;
    /// `bench report` renders that history.
    Bench {
        /// Which benchmark (default: all), or `report`.
        #[arg(value_enum, default_value = "all")]
        which: bench::Which,
        /// Board to measure on (default: every board).
        #[arg(long, value_parser = board_names())]
        board: Option<String>,
        /// Print the figures without appending them to the history.
        #[arg(long)]
        no_record: bool,
    },
    /// Write what a real board loads into target/flash/BOARD/APP: PBX-A9 a
    /// raw binary, a U-Boot uImage and the U-Boot commands; MicroBlaze V the
    /// ELF, a BRAM file for updatemem and the xsdb command. --jtag loads it
    /// now (xsdb; OpenOCD with --openocd-adapter).
    Flash {
        /// Board to flash.
        #[arg(long, value_parser = board_names())]
        board: String,
        /// Application in apps/.
        #[arg(long, value_parser = app_names())]
        app: String,
        /// Build nothing, write nothing: print the build, every file and
        /// every command.
        #[arg(long)]
        dry_run: bool,
        /// Write the files here instead of target/flash/BOARD/APP.
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// Load the image over JTAG now: xsdb (MicroBlaze V) or OpenOCD
        /// (PBX-A9, with --openocd-adapter).
        #[arg(long)]
        jtag: bool,
        /// PBX-A9: OpenOCD interface configuration of your JTAG adapter (the
        /// board's target configuration is in platforms/realview-pbx-a9/flash/).
        #[arg(long, value_name = "FILE")]
        openocd_adapter: Option<std::path::PathBuf>,
        /// PBX-A9: the TFTP server's address for the U-Boot commands.
        #[arg(long, value_name = "IP")]
        serverip: Option<String>,
        /// MicroBlaze V: xsdb target filter selecting the hart [default: "Hart #0*"].
        #[arg(long, value_name = "FILTER")]
        jtag_target: Option<String>,
    },
    /// Run an image under QEMU until it exits (or for --seconds) and print
    /// how deep each of its stacks went: every component's, the board's
    /// helper threads', the idle thread's and the boot stack.
    Stacks {
        #[command(flatten)]
        boot: Boot,
        /// Stop the image after this many seconds if it has not exited
        /// (drive it meanwhile, e.g. through --forward).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Run an image under QEMU's exec log (-icount, one line per guest
    /// instruction) until it exits (or for --seconds), or with --tcp-echo
    /// through one TCP echo, and print where its instructions went:
    /// instructions and share per function, most first.
    Profile {
        #[command(flatten)]
        boot: Boot,
        /// Functions shown; the rest are summed on one line.
        #[arg(long, default_value_t = 30)]
        top: usize,
        /// Stop the image after this many seconds if it has not exited
        /// (the profile collected so far is printed).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Count only from the first time this function runs (its path
        /// without the hash, e.g. `ferrode_app_main` to skip the boot).
        #[arg(long, value_name = "SYMBOL")]
        from: Option<String>,
        /// Echo apps only: once the image listens, send BYTES random bytes
        /// through its TCP echo (port 7, forwarded), check the echo, stop
        /// it, and count only the instructions run during the echo. BYTES:
        /// a number, optionally with K (KiB) or M (MiB), e.g. 256K.
        /// --seconds bounds the boot and the echo, each. Not with --from
        /// or --forward.
        #[arg(long, value_name = "BYTES", value_parser = ferrode_tests::profile::parse_size,
              conflicts_with_all = ["from", "forward"])]
        tcp_echo: Option<usize>,
        /// Also show where this function's instructions went, by source
        /// line (its path without the hash, as for --from): each line of
        /// its code, and of the code inlined into it, with its
        /// instructions and their number per entry of the function.
        #[arg(long, value_name = "SYMBOL")]
        lines: Option<String>,
    },
    /// Add source lines under the fault and panic reports of a console log,
    /// such as a real board's serial output: reads the log (FILE, or
    /// standard input) and prints it with each report's addresses looked up
    /// in the image that `build` or `flash` made.
    Symbolize {
        #[command(flatten)]
        image: Image,
        /// The console log (default: standard input).
        file: Option<std::path::PathBuf>,
    },
    /// Make, list and read SD card images: raw files with an MBR and one
    /// FAT partition, as `run --sd` puts them in the PBX-A9's slot and
    /// Ferrode's FAT driver (embedded-sdmmc) reads them.
    SdImage {
        #[command(subcommand)]
        action: SdImageAction,
    },
    /// Boot an image in QEMU halted, waiting for gdb, and start gdb-multiarch
    /// attached to it.
    Gdb {
        /// Board to run on.
        #[arg(long, default_value = "realview-pbx-a9", value_parser = board_names())]
        board: String,
        /// Application in apps/.
        #[arg(long, default_value = "hello", value_parser = app_names())]
        app: String,
    },
}

/// What `cargo xtask sd-image` does.
#[derive(Subcommand)]
enum SdImageAction {
    /// Write a new card image: an MBR and one FAT partition (FAT16 below
    /// 512 MiB, FAT32 from there on), with the files and directories of
    /// --from under their names (long ones, with short 8.3 ones beside
    /// them, as a computer writes them; two names that differ only in
    /// case, or a name FAT cannot hold, are refused).
    Create {
        /// The image file to write (replaced if it exists).
        image: std::path::PathBuf,
        /// The card's size: a power of two, from 4M to 1024G (QEMU takes
        /// no other), e.g. 8M or 1G.
        #[arg(long, default_value = "8M", value_parser = ferrode_tests::sd_image::parse_card_size)]
        size: u64,
        /// A directory whose contents go on the card.
        #[arg(long, value_name = "DIR")]
        from: Option<std::path::PathBuf>,
        /// The volume label (up to 11 characters).
        #[arg(long, default_value = "FERRODE")]
        label: String,
    },
    /// List the files and directories on a card image, with their sizes.
    List {
        /// The image file.
        image: std::path::PathBuf,
    },
    /// Check a card image's FAT file system for what a program writing
    /// it can get wrong: clusters taken that no file or directory holds,
    /// long names left without their entry, cluster chains cut off,
    /// shared, looping or not as long as their file, FAT32's count of
    /// free clusters gone wrong. Exits 1 if it finds any.
    Check {
        /// The image file.
        image: std::path::PathBuf,
    },
    /// Write a file of a card image to standard output.
    Read {
        /// The image file.
        image: std::path::PathBuf,
        /// The file's path on the card, e.g. LOGS/DAY1.TXT.
        path: String,
    },
}

/// The board names, listed by `--help` and checked by clap.
fn board_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(ferrode_tests::boards::names())
}

/// The apps in `apps/`, listed by `--help` and checked by clap.
fn app_names() -> clap::builder::PossibleValuesParser {
    // clap keeps the names for the life of the process.
    let names =
        apps::all().into_iter().map(|app| -> &'static str { Box::leak(app.name.into_boxed_str()) });
    clap::builder::PossibleValuesParser::new(names)
}

/// Which image `build` makes and `symbolize` reads.
#[derive(clap::Args)]
struct Image {
    /// Board (realview-pbx-a9, microblaze-v).
    #[arg(long, value_parser = board_names())]
    board: String,
    /// Application in apps/ (hello, crash, ...).
    #[arg(long, value_parser = app_names())]
    app: String,
    /// The optimised build (opt-level s, LTO).
    #[arg(long)]
    release: bool,
}

/// What `run`, `stacks` and `profile` boot: the image, and how QEMU runs it.
#[derive(clap::Args)]
struct Boot {
    /// Board to run on.
    #[arg(long, default_value = "realview-pbx-a9", value_parser = board_names())]
    board: String,
    /// Application in apps/.
    #[arg(long, default_value = "hello", value_parser = app_names())]
    app: String,
    /// Optimised build.
    #[arg(long)]
    release: bool,
    /// Attach the board's NIC to QEMU's user network and forward host
    /// TCP and UDP port PORT to the guest's port 7 (echo).
    #[arg(long, value_name = "PORT")]
    forward: Option<u16>,
    /// Arguments passed to the image as its command line (semihosting).
    #[arg(last = true)]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup => setup::run(),
        Command::Build { image } => build::build_command(&image.board, &image.app, image.release),
        Command::Run { boot, icount, raw, sd, shift } => build::run_command(
            &boot.board,
            &boot.app,
            &build::RunFlags { release: boot.release, icount, raw, sd, shift },
            boot.forward,
            &boot.args,
        ),
        Command::Test { filter, qemu_only, host_only, shift } => {
            test::run(filter.as_deref(), qemu_only, host_only, shift.as_ref().map(|s| &s.0[..]))
        }
        Command::Size { board, app, all, release, crates } => {
            size::run(board.as_deref(), app.as_deref(), all, release, crates)
        }
        Command::SdImage { action } => sd_image::run(action),
        Command::Gdb { board, app } => build::gdb_command(&board, &app),
        Command::Symbolize { image, file } => {
            build::symbolize_command(&image.board, &image.app, image.release, file.as_deref())
        }
        Command::Stacks { boot, seconds } => build::stacks_command(
            &boot.board,
            &boot.app,
            boot.release,
            seconds,
            boot.forward,
            &boot.args,
        ),
        Command::Profile { boot, top, seconds, from, tcp_echo, lines } => {
            profile::run(&profile::ProfileOptions {
                board: &boot.board,
                app: &boot.app,
                release: boot.release,
                top,
                seconds,
                from: from.as_deref(),
                tcp_echo,
                lines: lines.as_deref(),
                forward: boot.forward,
                args: &boot.args,
            })
        }
        Command::Bench { which, board, no_record } => {
            bench::run(which, board.as_deref(), !no_record)
        }
        Command::Flash {
            board,
            app,
            dry_run,
            out,
            jtag,
            openocd_adapter,
            serverip,
            jtag_target,
        } => flash::run(&flash::FlashOptions {
            board,
            app,
            dry_run,
            out,
            jtag,
            openocd_adapter,
            serverip,
            jtag_target,
        }),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The `-icount` shifts of `cargo xtask test --shift`.
#[derive(Clone)]
struct Shifts(Vec<u8>);

/// `--shift` of `cargo xtask test`: one shift, a list or a range.
fn shifts(text: &str) -> Result<Shifts, String> {
    ferrode_tests::boards::parse_shifts(text).map(Shifts)
}
