//! The boards Ferrode supports and how QEMU emulates each.

use std::sync::atomic::{AtomicU8, Ordering};

/// How an image is put into the emulated machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loader {
    /// `-kernel image.elf` (QEMU loads the ELF and jumps to its entry).
    Kernel,
    /// `-device loader,file=image.elf,cpu-num=0` (sets the PC to the entry).
    DeviceLoader,
}

/// One board: its Rust target, its linker script and its QEMU machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// The name users type (`--board`), also the Cargo feature apps forward.
    pub name: &'static str,
    /// Rust target triple of its CPU.
    pub target: &'static str,
    /// The target spec in `targets/` (without `.json`) that apps using
    /// Rust std build for: the CPU's target with `"os": "hermit"` and
    /// thread-locals (see docs/ARCHITECTURE.md, "Rust std").
    pub std_target: &'static str,
    /// Linker script in `linker/`.
    pub linker_script: &'static str,
    /// Code generation flags every crate of an image is compiled with,
    /// beside the linker script's (empty: the target's defaults).
    pub codegen: &'static str,
    /// QEMU system emulator binary.
    pub qemu: &'static str,
    /// QEMU machine name.
    pub machine: &'static str,
    /// RAM to give the machine (matches the linker script).
    pub memory: &'static str,
    /// How QEMU loads the image.
    pub loader: Loader,
    /// QEMU NIC model name for `-nic user,model=...`.
    pub nic_model: &'static str,
    /// The function every way out of an image ends in (its arch crate's
    /// `exit`), for a debugger's breakpoint.
    pub exit_symbol: &'static str,
    /// Debian package that provides the emulator.
    pub qemu_package: &'static str,
    /// Device registers a report on a guest given up on shows (see
    /// `harness::Running::guest_state`): a label and the monitor command
    /// that reads them. Only registers whose read changes nothing (never
    /// a data register or an interrupt acknowledge).
    pub hang_probes: &'static [(&'static str, &'static str)],
}

/// Every supported board; the first is the default.
pub const BOARDS: &[Board] = &[
    Board {
        name: "realview-pbx-a9",
        target: "armv7a-none-eabi",
        std_target: "armv7a-ferrode-hermit",
        linker_script: "realview-pbx-a9.x",
        // Thumb-2: the same Cortex-A9, about a fifth less code than A32
        // (docs/ARCHITECTURE.md, "Instruction sets"). `core` stays A32
        // (the standard library comes prebuilt); calls between the two
        // interwork.
        codegen: "-C target-feature=+thumb-mode",
        qemu: "qemu-system-arm",
        machine: "realview-pbx-a9",
        memory: "128M",
        loader: Loader::Kernel,
        nic_model: "lan9118",
        exit_symbol: "ferrode_arch_armv7a::cpu::exit",
        qemu_package: "qemu-system-arm",
        hang_probes: &[
            // PL011 UART0 (console, Terminal): UARTFR, then UARTIMSC,
            // UARTRIS, UARTMIS.
            ("UART0 FR", "xp /1wx 0x10009018"),
            ("UART0 IMSC RIS MIS", "xp /3wx 0x10009038"),
            // LAN9118: IRQ_CFG, INT_STS, INT_EN.
            ("LAN9118 IRQ_CFG INT_STS INT_EN", "xp /3wx 0x4e000054"),
            // GIC distributor, IDs 0-63 (UART0 44, SP804 36/37, LAN9118
            // 60, private timer 29): set-enable, set-pending, set-active.
            ("GIC ISENABLER0-1", "xp /2wx 0x1f001100"),
            ("GIC ISPENDR0-1", "xp /2wx 0x1f001200"),
            ("GIC ISACTIVER0-1", "xp /2wx 0x1f001300"),
            // GIC CPU interface: ICCPMR, then ICCRPR and ICCHPIR.
            ("GICC PMR", "xp /1wx 0x1f000104"),
            ("GICC RPR HPPIR", "xp /2wx 0x1f000114"),
        ],
    },
    Board {
        name: "microblaze-v",
        target: "riscv32imac-unknown-none-elf",
        std_target: "riscv32imac-ferrode-hermit",
        linker_script: "microblaze-v.x",
        // Call-frame information in `.debug_frame`, for gdb: the target
        // writes it only into unwind tables, which the linker script
        // drops (docs/ARCHITECTURE.md, "Instruction sets"). No code
        // changes.
        codegen: "-C llvm-args=--force-dwarf-frame-section",
        qemu: "qemu-system-riscv32",
        machine: "amd-microblaze-v-generic",
        memory: "128M",
        loader: Loader::DeviceLoader,
        nic_model: "xlnx.xps-ethernetlite",
        exit_symbol: "ferrode_arch_riscv32::cpu::exit",
        qemu_package: "qemu-system-misc",
        hang_probes: &[
            // UART Lite (console, Terminal): STATUS, then CONTROL is
            // write-only.
            ("UART Lite STATUS", "xp /1wx 0x40600008"),
            // AXI INTC: ISR, IPR, IER, then MER.
            ("INTC ISR IPR IER", "xp /3wx 0x41200000"),
            ("INTC MER", "xp /1wx 0x4120001c"),
            // AXI DMA of the AXI Ethernet (echo-net-axi): each channel's
            // DMACR, DMASR, CURDESC, CURDESC_MSB, TAILDESC.
            ("AXI DMA MM2S CR SR CUR - TAIL", "xp /5wx 0x41e00000"),
            ("AXI DMA S2MM CR SR CUR - TAIL", "xp /5wx 0x41e00030"),
        ],
    },
];

/// Looks a board up by name; the error lists the valid names.
pub fn find(name: &str) -> Result<&'static Board, String> {
    BOARDS
        .iter()
        .find(|board| board.name == name)
        .ok_or_else(|| format!("unknown board `{name}`; valid boards: {}", names().join(", ")))
}

/// The names of all boards.
pub fn names() -> Vec<&'static str> {
    BOARDS.iter().map(|board| board.name).collect()
}

/// Options of one QEMU run beyond the board's defaults.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Semihosting command line words (the first is the program name).
    pub args: Vec<String>,
    /// Count instructions deterministically (`-icount shift=0`). While
    /// the guest sleeps, virtual time jumps to its next timer deadline
    /// (`sleep=off`) unless [`RunOptions::icount_sleep`] is set.
    pub icount: bool,
    /// With [`RunOptions::icount`]: while the guest sleeps, virtual time
    /// passes as real time does (`sleep=on`). For runs that wait on the
    /// host, such as the network benchmarks: under `sleep=off` a guest
    /// waiting for the host's next frame warps through its periodic tick
    /// as fast as QEMU can, hundreds of times per frame, and every wake-up
    /// it polls on counts as work.
    pub icount_sleep: bool,
    /// Host TCP ports forwarded to guest ports: (host, guest).
    pub tcp_forwards: Vec<(u16, u16)>,
    /// Host UDP ports forwarded to guest ports: (host, guest).
    pub udp_forwards: Vec<(u16, u16)>,
    /// Attach the board's NIC to QEMU's user network.
    pub network: bool,
    /// Log unimplemented-device accesses to this file (`-d unimp -D`).
    pub unimp_log: Option<std::path::PathBuf>,
    /// QEMU trace events to log (`-trace EVENT`), and the file they go to
    /// (`-D`; with [`RunOptions::unimp_log`] set, that file instead).
    pub trace: Option<(Vec<String>, std::path::PathBuf)>,
    /// Start halted, with QEMU's GDB server on this local TCP port
    /// (`-gdb tcp:127.0.0.1:PORT -S`; [`crate::harness::free_port`]).
    pub gdb: Option<u16>,
    /// A raw disk image as the SD card in the board's slot
    /// (`-drive if=sd,format=raw`; QEMU wants its size a power of two).
    pub sd_card: Option<std::path::PathBuf>,
    /// The QEMU NIC model the network attaches to instead of the board's
    /// [`Board::nic_model`]: for an app built for a design whose Ethernet
    /// is another of the machine's NICs, as its manifest says
    /// ([`app_nic_model`]).
    pub nic_model: Option<String>,
    /// The run checks what the host's clock does (the PL031 RTC counts
    /// host seconds): it stays in real time under an interleaving
    /// ([`set_interleaving`]), whose virtual time would race ahead of it.
    pub real_time: bool,
}

/// The QEMU NIC model an app's manifest names in
/// `[package.metadata.ferrode]` (`nic = "xlnx.axi-ethernet"`: echo-net-axi
/// is built for the MicroBlaze V design whose Ethernet is the AXI
/// Ethernet), or `None` for the board's own.
pub fn app_nic_model(app: &str) -> Option<String> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../apps")
        .join(app)
        .join("Cargo.toml");
    manifest_nic_model(&std::fs::read_to_string(manifest).ok()?)
}

/// `nic` of a manifest's `[package.metadata.ferrode]` table.
fn manifest_nic_model(manifest: &str) -> Option<String> {
    ferrode_metadata(manifest, "nic").map(|value| value.trim_matches('"').to_string())
}

/// The value of `key` in a manifest's `[package.metadata.ferrode]` table
/// (where apps say `std = true` and `nic = "..."`), its comment cut off.
pub fn ferrode_metadata<'a>(manifest: &'a str, key: &str) -> Option<&'a str> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.ferrode]";
        } else if in_table
            && let Some((name, value)) = line.split_once('=')
            && name.trim() == key
        {
            return Some(value.split('#').next().unwrap_or_default().trim());
        }
    }
    None
}

/// The `-icount` shift every QEMU run this process starts puts the runs
/// that do not count instructions themselves under ([`set_interleaving`]);
/// `u8::MAX` for none.
static INTERLEAVING: AtomicU8 = AtomicU8::new(u8::MAX);

/// The largest `-icount` shift QEMU takes: a guest instruction every
/// 2^10 ns of virtual time.
pub const MAX_SHIFT: u8 = 10;

/// From now on, every QEMU run this process starts without
/// [`RunOptions::icount`] runs under `-icount shift=SHIFT,align=off,sleep=off`
/// instead of in real time (`None`: in real time again). Virtual time then
/// advances by 2^SHIFT ns per guest instruction, so the board's tick, and
/// with it every preemption, falls at the same instruction on every run:
/// one fixed interleaving of the guest's threads per shift, whatever the
/// host's load. A race that shows once in many runs in real time shows on
/// every run under the shifts whose interleaving meets it
/// (`cargo xtask test --shift 0-10`). Shifts above [`MAX_SHIFT`] are
/// taken as it.
pub fn set_interleaving(shift: Option<u8>) {
    INTERLEAVING.store(shift.map_or(u8::MAX, |shift| shift.min(MAX_SHIFT)), Ordering::Relaxed);
}

/// The shift [`set_interleaving`] set, if any.
pub fn interleaving() -> Option<u8> {
    Some(INTERLEAVING.load(Ordering::Relaxed)).filter(|&shift| shift != u8::MAX)
}

/// Shifts as a developer writes them: one (`3`), a list (`3,7`) or a range
/// (`0-10`), each at most [`MAX_SHIFT`]; in order, without repeats.
pub fn parse_shifts(text: &str) -> Result<Vec<u8>, String> {
    let shift = |word: &str| {
        word.trim()
            .parse::<u8>()
            .ok()
            .filter(|&shift| shift <= MAX_SHIFT)
            .ok_or_else(|| format!("{word:?} is no -icount shift (0 to {MAX_SHIFT})"))
    };
    let mut shifts = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (shift(first)?, shift(last)?);
                if first > last {
                    return Err(format!("{part:?}: the range runs backwards"));
                }
                shifts.extend(first..=last);
            }
            None => shifts.push(shift(part)?),
        }
    }
    shifts.sort_unstable();
    shifts.dedup();
    Ok(shifts)
}

impl Board {
    /// QEMU arguments that boot `image` on this board with the console on
    /// stdio and semihosting on (under the interleaving
    /// [`set_interleaving`] chose, if it did).
    pub fn qemu_args(&self, image: &std::path::Path, options: &RunOptions) -> Vec<String> {
        self.qemu_args_under(image, options, interleaving())
    }

    /// [`Board::qemu_args`] under the interleaving of `shift` (for a run
    /// without [`RunOptions::icount`]).
    fn qemu_args_under(
        &self,
        image: &std::path::Path,
        options: &RunOptions,
        shift: Option<u8>,
    ) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "-M".into(),
            self.machine.into(),
            "-m".into(),
            self.memory.into(),
            "-display".into(),
            "none".into(),
            "-audio".into(),
            "none".into(),
            "-monitor".into(),
            "none".into(),
            "-serial".into(),
            "stdio".into(),
        ];
        let mut semihosting = String::from("enable=on,target=native");
        for word in &options.args {
            // QEMU option values escape a comma by doubling it.
            semihosting.push_str(&format!(",arg={}", word.replace(',', ",,")));
        }
        args.extend(["-semihosting-config".into(), semihosting]);
        if options.icount {
            let sleep = if options.icount_sleep { "on" } else { "off" };
            args.extend(["-icount".into(), format!("shift=0,align=off,sleep={sleep}")]);
        } else if let Some(shift) = shift.filter(|_| !options.real_time) {
            args.extend(["-icount".into(), format!("shift={shift},align=off,sleep=off")]);
        }
        if options.network || !options.tcp_forwards.is_empty() || !options.udp_forwards.is_empty() {
            let model = options.nic_model.as_deref().unwrap_or(self.nic_model);
            let mut nic = format!("user,model={model}");
            for (host, guest) in &options.tcp_forwards {
                nic.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
            }
            for (host, guest) in &options.udp_forwards {
                nic.push_str(&format!(",hostfwd=udp:127.0.0.1:{host}-:{guest}"));
            }
            args.extend(["-nic".into(), nic]);
        }
        if let Some(log) = &options.unimp_log {
            args.extend(["-d".into(), "unimp".into(), "-D".into(), log.display().to_string()]);
        }
        if let Some((events, log)) = &options.trace {
            for event in events {
                args.extend(["-trace".into(), event.clone()]);
            }
            if options.unimp_log.is_none() {
                args.extend(["-D".into(), log.display().to_string()]);
            }
        }
        if let Some(port) = options.gdb {
            args.extend(["-gdb".into(), format!("tcp:127.0.0.1:{port}"), "-S".into()]);
        }
        if let Some(image) = &options.sd_card {
            // QEMU option values escape a comma by doubling it.
            let file = image.display().to_string().replace(',', ",,");
            args.extend(["-drive".into(), format!("if=sd,format=raw,file={file}")]);
        }
        // A developer's extra QEMU options for every case (`-d int`,
        // `-gdb tcp::1234`, ...), split at whitespace.
        if let Ok(extra) = std::env::var("FERRODE_QEMU_ARGS") {
            args.extend(extra.split_whitespace().map(String::from));
        }
        match self.loader {
            Loader::Kernel => args.extend(["-kernel".into(), image.display().to_string()]),
            Loader::DeviceLoader => args
                .extend(["-device".into(), format!("loader,file={},cpu-num=0", image.display())]),
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn an_app_may_name_the_nic_the_network_attaches_to() {
        let manifest = "[package]\nname = \"x\"\n[features]\nnic = []\n\
                        [package.metadata.ferrode]\nnic = \"xlnx.axi-ethernet\" # the DMA one\n";
        assert_eq!(manifest_nic_model(manifest).as_deref(), Some("xlnx.axi-ethernet"));
        assert_eq!(manifest_nic_model("[features]\nnic = \"a\"\n"), None);
        assert_eq!(app_nic_model("echo-net-axi").as_deref(), Some("xlnx.axi-ethernet"));
        assert_eq!(app_nic_model("echo-net"), None);
        let mbv = find("microblaze-v").unwrap();
        let image = Path::new("x.elf");
        let options = RunOptions { network: true, ..Default::default() };
        assert!(
            mbv.qemu_args(image, &options).contains(&"user,model=xlnx.xps-ethernetlite".into())
        );
        let options = RunOptions { nic_model: app_nic_model("echo-net-axi"), ..options };
        assert!(mbv.qemu_args(image, &options).contains(&"user,model=xlnx.axi-ethernet".into()));
    }

    #[test]
    fn an_interleaving_puts_runs_in_real_time_under_a_fixed_shift() {
        let pbx = find("realview-pbx-a9").unwrap();
        let image = Path::new("/x/sd-parts");
        let args = pbx.qemu_args_under(image, &RunOptions::default(), Some(3));
        let at = args.iter().position(|arg| arg == "-icount").unwrap();
        assert_eq!(args[at + 1], "shift=3,align=off,sleep=off");
        // A run that counts instructions keeps its own shift, once.
        let counted = RunOptions { icount: true, ..Default::default() };
        let args = pbx.qemu_args_under(image, &counted, Some(3));
        assert_eq!(args.iter().filter(|arg| *arg == "-icount").count(), 1);
        assert!(args.contains(&"shift=0,align=off,sleep=off".to_string()));
        let args = pbx.qemu_args_under(image, &RunOptions::default(), None);
        assert!(!args.contains(&"-icount".to_string()));
        // A run that checks the host's clock stays in real time.
        let clocked = RunOptions { real_time: true, ..Default::default() };
        let args = pbx.qemu_args_under(image, &clocked, Some(3));
        assert!(!args.contains(&"-icount".to_string()));
    }

    #[test]
    fn shifts_are_read_as_one_a_list_or_a_range() {
        assert_eq!(parse_shifts("3"), Ok(vec![3]));
        assert_eq!(parse_shifts("7,3, 7"), Ok(vec![3, 7]));
        assert_eq!(parse_shifts("0-10"), Ok((0..=10).collect()));
        assert_eq!(parse_shifts("2-4,9"), Ok(vec![2, 3, 4, 9]));
        assert!(parse_shifts("11").unwrap_err().contains("0 to 10"));
        assert!(parse_shifts("5-2").unwrap_err().contains("backwards"));
        assert!(parse_shifts("").is_err());
        assert!(parse_shifts("x").is_err());
    }

    #[test]
    fn unknown_board_error_lists_valid_boards() {
        let error = find("nosuch").unwrap_err();
        assert!(error.contains("realview-pbx-a9"), "{error}");
        assert!(error.contains("microblaze-v"), "{error}");
        assert_eq!(find("microblaze-v").unwrap().target, "riscv32imac-unknown-none-elf");
    }

    #[test]
    fn qemu_args_load_the_image_the_board_way() {
        let pbx = find("realview-pbx-a9").unwrap();
        let args = pbx.qemu_args(Path::new("/x/hello"), &RunOptions::default());
        assert_eq!(args[args.len() - 2..], ["-kernel", "/x/hello"]);
        let mbv = find("microblaze-v").unwrap();
        let options = RunOptions {
            args: vec!["crash".into(), "a,b".into()],
            icount: true,
            ..Default::default()
        };
        let args = mbv.qemu_args(Path::new("/x/crash"), &options);
        assert_eq!(args.last().unwrap(), "loader,file=/x/crash,cpu-num=0");
        assert!(args.contains(&"enable=on,target=native,arg=crash,arg=a,,b".to_string()));
        assert!(args.contains(&"shift=0,align=off,sleep=off".to_string()));
        let sleeping = RunOptions { icount: true, icount_sleep: true, ..Default::default() };
        let args = mbv.qemu_args(Path::new("/x/echo-net"), &sleeping);
        assert!(args.contains(&"shift=0,align=off,sleep=on".to_string()));
        assert!(!args.contains(&"-S".to_string()));
        let halted = RunOptions { gdb: Some(4321), ..Default::default() };
        let args = mbv.qemu_args(Path::new("/x/crash"), &halted);
        let at = args.iter().position(|arg| arg == "-gdb").unwrap();
        assert_eq!(args[at + 1..at + 3], ["tcp:127.0.0.1:4321", "-S"]);
    }

    #[test]
    fn an_sd_card_image_goes_in_the_slot() {
        let pbx = find("realview-pbx-a9").unwrap();
        let options = RunOptions {
            sd_card: Some(std::path::PathBuf::from("/tmp/a,b.img")),
            ..Default::default()
        };
        let args = pbx.qemu_args(Path::new("/x/sd-card"), &options);
        let at = args.iter().position(|arg| arg == "-drive").unwrap();
        assert_eq!(args[at + 1], "if=sd,format=raw,file=/tmp/a,,b.img");
        assert!(
            !pbx.qemu_args(Path::new("/x/hello"), &RunOptions::default())
                .contains(&"-drive".to_string())
        );
    }

    #[test]
    fn port_forwards_go_on_the_boards_nic() {
        let pbx = find("realview-pbx-a9").unwrap();
        let options = RunOptions {
            tcp_forwards: vec![(5555, 7)],
            udp_forwards: vec![(5556, 7)],
            ..Default::default()
        };
        let args = pbx.qemu_args(Path::new("i"), &options);
        assert!(
            args.contains(
                &"user,model=lan9118,hostfwd=tcp:127.0.0.1:5555-:7,hostfwd=udp:127.0.0.1:5556-:7"
                    .to_string()
            )
        );
    }
}
