//! What the monitor needs from the image it debugs, and the two CPUs'
//! register sets and breakpoint instructions.

/// Why the target refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// No debuggable thread has that id.
    NoSuchThread,
    /// The thread runs (registers are read from stopped threads only).
    NotStopped,
    /// The address range is not the image's memory, or is the kernel's
    /// own (reads and writes there are refused).
    BadAddress,
    /// The register may not be written: every register of a thread
    /// stopped in the kernel, the stack pointer, a CPU state bit, a pc
    /// outside the code.
    ReadOnlyRegister,
}

impl TargetError {
    /// The `Exx` code sent for it.
    pub const fn code(self) -> u8 {
        match self {
            Self::NoSuchThread => 0x02,
            Self::NotStopped => 0x03,
            Self::BadAddress => 0x0e,
            Self::ReadOnlyRegister => 0x0f,
        }
    }
}

/// The image being debugged: its debuggable threads (gdb thread ids,
/// which are never 0), their registers while stopped, and its memory.
pub trait Target {
    /// The CPU (register set, breakpoint instructions).
    fn architecture(&self) -> Architecture;
    /// Writes the ids of the debuggable threads (in a stable order) to
    /// `out`; returns how many it wrote.
    fn threads(&mut self, out: &mut [u32]) -> usize;
    /// Writes `component:thread` (and anything worth showing) for `thread`.
    fn describe(&mut self, thread: u32, out: &mut dyn core::fmt::Write) -> Result<(), TargetError>;
    /// Stops every debuggable thread (all-stop mode).
    fn stop(&mut self);
    /// Resumes `thread`, or every debuggable thread (`None`).
    fn resume(&mut self, thread: Option<u32>);
    /// The registers of a stopped thread, in the order
    /// [`Architecture::target_xml`] declares; registers the target cannot
    /// know (caller-saved ones of a thread stopped in the kernel) are 0.
    fn registers(&mut self, thread: u32, out: &mut [u32]) -> Result<(), TargetError>;
    /// Writes `value` to register `index` (in the order of
    /// [`Target::registers`]) of the stopped `thread`, for it to resume
    /// with. The default refuses ([`TargetError::ReadOnlyRegister`]).
    fn write_register(&mut self, thread: u32, index: usize, value: u32) -> Result<(), TargetError> {
        let _ = (thread, index, value);
        Err(TargetError::ReadOnlyRegister)
    }
    /// Reads memory; the whole range must be readable.
    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError>;
    /// Writes memory (and makes written code visible to instruction
    /// fetch); the whole range must be writable.
    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError>;
    /// Writes `instruction`, the CPU's breakpoint instruction for a `Z0`,
    /// over the code at `address` (and makes it visible to instruction
    /// fetch). The default is a plain [`Target::write_memory`]; a target
    /// that refuses writes to code allows this one.
    fn insert_breakpoint(&mut self, address: u32, instruction: &[u8]) -> Result<(), TargetError> {
        self.write_memory(address, instruction)
    }
    /// Puts back `original`, the code [`Target::insert_breakpoint`]
    /// replaced at `address`. The default is a plain
    /// [`Target::write_memory`].
    fn remove_breakpoint(&mut self, address: u32, original: &[u8]) -> Result<(), TargetError> {
        self.write_memory(address, original)
    }
    /// A thread that stopped by itself since the last resume, if any, and
    /// the signal GDB is told: SIGTRAP (5) for a breakpoint, the fault's
    /// (SIGILL, SIGSEGV, ...) for a thread stopped where it faulted.
    fn stopped_thread(&mut self) -> Option<(u32, u8)> {
        None
    }
}

/// The CPU a target runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// ARMv7-A (A32 and T32 state): r0-r12, sp, lr, pc, cpsr.
    Arm,
    /// RV32I: x0-x31, pc.
    Riscv32,
}

/// A32 `udf #0xfdee`: permanently undefined, the instruction GDB itself
/// uses for ARM breakpoints.
pub const ARM_BREAKPOINT: u32 = 0xe7ff_defe;
/// T32 `udf #0xfe`.
pub const THUMB_BREAKPOINT: u16 = 0xdefe;
/// RV32 `ebreak`.
pub const RISCV_BREAKPOINT: u32 = 0x0010_0073;
/// RVC `c.ebreak`.
pub const RISCV_COMPRESSED_BREAKPOINT: u16 = 0x9002;

const ARM_XML: &str = concat!(
    r#"<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">"#,
    r#"<target version="1.0"><architecture>arm</architecture>"#,
    r#"<feature name="org.gnu.gdb.arm.core">"#,
    r#"<reg name="r0" bitsize="32"/><reg name="r1" bitsize="32"/>"#,
    r#"<reg name="r2" bitsize="32"/><reg name="r3" bitsize="32"/>"#,
    r#"<reg name="r4" bitsize="32"/><reg name="r5" bitsize="32"/>"#,
    r#"<reg name="r6" bitsize="32"/><reg name="r7" bitsize="32"/>"#,
    r#"<reg name="r8" bitsize="32"/><reg name="r9" bitsize="32"/>"#,
    r#"<reg name="r10" bitsize="32"/><reg name="r11" bitsize="32"/>"#,
    r#"<reg name="r12" bitsize="32"/>"#,
    r#"<reg name="sp" bitsize="32" type="data_ptr"/>"#,
    r#"<reg name="lr" bitsize="32"/>"#,
    r#"<reg name="pc" bitsize="32" type="code_ptr"/>"#,
    r#"<reg name="cpsr" bitsize="32" regnum="25"/>"#,
    r#"</feature></target>"#
);

const RISCV_XML: &str = concat!(
    r#"<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">"#,
    r#"<target version="1.0"><architecture>riscv:rv32</architecture>"#,
    r#"<feature name="org.gnu.gdb.riscv.cpu">"#,
    r#"<reg name="zero" bitsize="32" type="int"/><reg name="ra" bitsize="32" type="code_ptr"/>"#,
    r#"<reg name="sp" bitsize="32" type="data_ptr"/><reg name="gp" bitsize="32" type="data_ptr"/>"#,
    r#"<reg name="tp" bitsize="32" type="data_ptr"/><reg name="t0" bitsize="32" type="int"/>"#,
    r#"<reg name="t1" bitsize="32" type="int"/><reg name="t2" bitsize="32" type="int"/>"#,
    r#"<reg name="fp" bitsize="32" type="data_ptr"/><reg name="s1" bitsize="32" type="int"/>"#,
    r#"<reg name="a0" bitsize="32" type="int"/><reg name="a1" bitsize="32" type="int"/>"#,
    r#"<reg name="a2" bitsize="32" type="int"/><reg name="a3" bitsize="32" type="int"/>"#,
    r#"<reg name="a4" bitsize="32" type="int"/><reg name="a5" bitsize="32" type="int"/>"#,
    r#"<reg name="a6" bitsize="32" type="int"/><reg name="a7" bitsize="32" type="int"/>"#,
    r#"<reg name="s2" bitsize="32" type="int"/><reg name="s3" bitsize="32" type="int"/>"#,
    r#"<reg name="s4" bitsize="32" type="int"/><reg name="s5" bitsize="32" type="int"/>"#,
    r#"<reg name="s6" bitsize="32" type="int"/><reg name="s7" bitsize="32" type="int"/>"#,
    r#"<reg name="s8" bitsize="32" type="int"/><reg name="s9" bitsize="32" type="int"/>"#,
    r#"<reg name="s10" bitsize="32" type="int"/><reg name="s11" bitsize="32" type="int"/>"#,
    r#"<reg name="t3" bitsize="32" type="int"/><reg name="t4" bitsize="32" type="int"/>"#,
    r#"<reg name="t5" bitsize="32" type="int"/><reg name="t6" bitsize="32" type="int"/>"#,
    r#"<reg name="pc" bitsize="32" type="code_ptr"/>"#,
    r#"</feature></target>"#
);

impl Architecture {
    /// Registers in a `g` reply (each 32 bits, target byte order).
    pub const fn register_count(self) -> usize {
        match self {
            Self::Arm => 17,
            Self::Riscv32 => 33,
        }
    }

    /// The index into the `g` registers of GDB's register number
    /// `number` (the ARM cpsr is register 25 to GDB, the 17th in `g`).
    pub const fn register_index(self, number: u32) -> Option<usize> {
        match (self, number) {
            (Self::Arm, 0..=15) | (Self::Riscv32, 0..=32) => Some(number as usize),
            (Self::Arm, 25) => Some(16),
            _ => None,
        }
    }

    /// The target description (`qXfer:features:read:target.xml`).
    pub const fn target_xml(self) -> &'static str {
        match self {
            Self::Arm => ARM_XML,
            Self::Riscv32 => RISCV_XML,
        }
    }

    /// The breakpoint instruction for a `Z0` of `kind` (its length in
    /// bytes), little-endian: `None` for a kind the CPU has not.
    pub const fn breakpoint(self, kind: u32) -> Option<[u8; 4]> {
        match (self, kind) {
            (Self::Arm, 4) => Some(ARM_BREAKPOINT.to_le_bytes()),
            (Self::Riscv32, 4) => Some(RISCV_BREAKPOINT.to_le_bytes()),
            (Self::Arm, 2) => {
                let [a, b] = THUMB_BREAKPOINT.to_le_bytes();
                Some([a, b, 0, 0])
            }
            (Self::Riscv32, 2) => {
                let [a, b] = RISCV_COMPRESSED_BREAKPOINT.to_le_bytes();
                Some([a, b, 0, 0])
            }
            _ => None,
        }
    }
}
