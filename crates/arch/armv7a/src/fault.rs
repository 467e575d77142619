//! Decoding of ARMv7-A exceptions into reports a person can act on.

use core::fmt;

use ferrode_report::{Out, Report, hex};

/// Which exception vector was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FaultKind {
    /// Undefined instruction.
    UndefinedInstruction = 1,
    /// Supervisor call (Ferrode enters its kernel by function call, so an SVC
    /// other than semihosting is unexpected).
    SupervisorCall = 2,
    /// Prefetch abort: an instruction fetch faulted.
    PrefetchAbort = 3,
    /// Data abort: a load or store faulted.
    DataAbort = 4,
    /// An IRQ arrived with no handler installed.
    UnhandledIrq = 6,
    /// A fast interrupt (FIQ); Ferrode does not use FIQs.
    Fiq = 7,
}

impl FaultKind {
    /// Decodes the vector number the assembly passes in.
    pub const fn from_vector(vector: u32) -> Option<Self> {
        Some(match vector {
            1 => Self::UndefinedInstruction,
            2 => Self::SupervisorCall,
            3 => Self::PrefetchAbort,
            4 => Self::DataAbort,
            6 => Self::UnhandledIrq,
            7 => Self::Fiq,
            _ => return None,
        })
    }

    /// The exception's name as the ARM ARM spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::UndefinedInstruction => "undefined instruction",
            Self::SupervisorCall => "supervisor call",
            Self::PrefetchAbort => "prefetch abort",
            Self::DataAbort => "data abort",
            Self::UnhandledIrq => "unhandled IRQ",
            Self::Fiq => "FIQ",
        }
    }

    /// Whether the fault address / status registers (DFAR/DFSR, IFAR/IFSR)
    /// mean something for this exception.
    pub const fn has_fault_address(self) -> bool {
        matches!(self, Self::PrefetchAbort | Self::DataAbort)
    }
}

/// An exception Ferrode could not handle, as captured by the vector code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The exception taken.
    pub kind: FaultKind,
    /// Address of the faulting instruction.
    pub pc: u32,
    /// DFAR or IFAR: the address that was accessed (aborts only).
    pub address: u32,
    /// DFSR or IFSR: the fault status (aborts only).
    pub status: u32,
    /// SVC mode's stack pointer at the fault (every thread runs in SVC
    /// mode): where the board looks for return addresses.
    pub sp: u32,
    /// SVC mode's link register at the fault: the return address of the
    /// faulting function when it is a leaf (stale otherwise).
    pub lr: u32,
}

/// Whether an exception with this SPSR (the CPSR of the code it
/// interrupted) interrupted thread code: SVC mode, where every thread
/// runs, with IRQs enabled. The kernel's operations, interrupt handlers
/// and critical sections mask IRQs, and the boot code runs before they are
/// enabled: a fault there leaves shared state half changed.
pub const fn interrupted_thread(spsr: u32) -> bool {
    const MODE_MASK: u32 = 0x1f;
    const MODE_SVC: u32 = 0x13;
    const CPSR_I: u32 = 1 << 7;
    spsr & MODE_MASK == MODE_SVC && spsr & CPSR_I == 0
}

/// Decodes the fault status field FS\[4,3:0\] of a short-descriptor DFSR/IFSR
/// (ARM ARM B4.1.52, table B3-23).
pub const fn fault_status_name(status: u32) -> &'static str {
    let fs = ((status >> 6) & 0x10) | (status & 0xf);
    match fs {
        0x01 => "alignment fault",
        0x02 => "debug event",
        0x03 | 0x06 => "access flag fault",
        0x04 => "instruction cache maintenance fault",
        0x05 | 0x07 => "translation fault",
        0x08 => "synchronous external abort",
        0x09 | 0x0b => "domain fault",
        0x0c | 0x0e => "external abort on translation table walk",
        0x0d | 0x0f => "permission fault",
        0x16 => "asynchronous external abort",
        0x18 => "asynchronous parity error",
        0x19 => "synchronous parity error",
        _ => "unknown fault status",
    }
}

impl Report for Fault {
    fn report(&self, out: &mut dyn Out) {
        out.text(self.kind.name());
        out.text(" at pc=");
        hex(out, self.pc as usize, 8);
        if self.kind.has_fault_address() {
            out.text(" address=");
            hex(out, self.address as usize, 8);
            out.text(" status=");
            hex(out, self.status as usize, 1);
            out.text(" (");
            out.text(fault_status_name(self.status));
            out.text(")");
        }
        // Last, so the host's symbolizer and a reader find the cause first.
        out.text(" lr=");
        hex(out, self.lr as usize, 8);
        out.text(" sp=");
        hex(out, self.sp as usize, 8);
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ferrode_report::display(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn data_abort_report_names_address_and_cause() {
        let fault = Fault {
            kind: FaultKind::DataAbort,
            pc: 0x7010_0040,
            address: 0xdead_0000,
            status: 0x8,
            sp: 0x7020_0000,
            lr: 0x7010_0100,
        };
        assert_eq!(
            fault.to_string(),
            "data abort at pc=0x70100040 address=0xdead0000 status=0x8 (synchronous external abort) \
             lr=0x70100100 sp=0x70200000"
        );
    }

    #[test]
    fn only_svc_mode_with_irqs_enabled_is_a_thread() {
        // A thread in T32 state with IRQs enabled (A and F masked).
        assert!(interrupted_thread(0x6000_0173));
        assert!(interrupted_thread(0x13));
        // IRQs masked: the kernel, a handler, a critical section.
        assert!(!interrupted_thread(0x6000_01f3));
        // Other modes: an exception handler's own code.
        for mode in [0x10, 0x11, 0x12, 0x17, 0x1b, 0x1f] {
            assert!(!interrupted_thread(0x6000_0160 | mode), "mode {mode:#x}");
        }
    }

    #[test]
    fn undefined_instruction_has_no_address() {
        let fault = Fault {
            kind: FaultKind::UndefinedInstruction,
            pc: 0x10,
            address: 0,
            status: 0,
            sp: 0x20,
            lr: 0x4,
        };
        assert_eq!(
            fault.to_string(),
            "undefined instruction at pc=0x00000010 lr=0x00000004 sp=0x00000020"
        );
    }

    #[test]
    fn vectors_decode_and_unknown_is_rejected() {
        assert_eq!(FaultKind::from_vector(4), Some(FaultKind::DataAbort));
        assert_eq!(FaultKind::from_vector(5), None);
        assert_eq!(fault_status_name(0x1), "alignment fault");
        // FS[4] lives in bit 10.
        assert_eq!(fault_status_name(0x406), "asynchronous external abort");
    }

    #[test]
    fn every_exception_decodes_from_its_vector() {
        use FaultKind::*;
        for kind in
            [UndefinedInstruction, SupervisorCall, PrefetchAbort, DataAbort, UnhandledIrq, Fiq]
        {
            assert_eq!(FaultKind::from_vector(kind as u32), Some(kind));
        }
        assert_eq!(FaultKind::from_vector(0), None, "reset is no fault");
    }

    #[test]
    fn every_fault_status_of_table_b3_23_has_its_name() {
        // Status words as the DFSR holds them: FS[3:0] in bits 3:0, FS[4]
        // in bit 10 (and the domain in 7:4, which the name ignores).
        let table = [
            (0x001, "alignment fault"),
            (0x002, "debug event"),
            (0x003, "access flag fault"),
            (0x0f6, "access flag fault"),
            (0x004, "instruction cache maintenance fault"),
            (0x005, "translation fault"),
            (0x007, "translation fault"),
            (0x008, "synchronous external abort"),
            (0x009, "domain fault"),
            (0x00b, "domain fault"),
            (0x00c, "external abort on translation table walk"),
            (0x00e, "external abort on translation table walk"),
            (0x00d, "permission fault"),
            (0x00f, "permission fault"),
            (0x406, "asynchronous external abort"),
            (0x408, "asynchronous parity error"),
            (0x409, "synchronous parity error"),
            (0x000, "unknown fault status"),
            (0x401, "unknown fault status"),
        ];
        for (status, name) in table {
            assert_eq!(fault_status_name(status), name, "{status:#x}");
        }
    }
}
