//! Decoding of RV32 machine-mode traps into reports a person can act on.

use core::fmt;

use ferrode_report::{Out, Report, dec, hex};

/// A synchronous exception Ferrode could not handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// `mcause` (interrupt bit clear).
    pub cause: u32,
    /// `mepc`: the faulting instruction's address.
    pub pc: u32,
    /// `mtval`: the faulting address, or the instruction bits for an illegal
    /// instruction (0 where the hardware does not report it).
    pub value: u32,
    /// `ra` at the trap: the return address of the faulting function when
    /// it is a leaf (stale otherwise).
    pub ra: u32,
    /// `sp` at the trap: where the board looks for return addresses.
    pub sp: u32,
}

/// Whether a trap with this `mstatus` (as the trap left it) interrupted
/// thread code: code that ran with interrupts enabled, which the trap
/// saved in `mstatus.MPIE`. The kernel's operations, interrupt handlers,
/// critical sections and the trap vector itself (a fault while it saves a
/// frame, as on a stack pointer in a guard region) run with them masked,
/// and a fault there leaves shared state half changed.
pub const fn interrupted_thread(mstatus: u32) -> bool {
    const MSTATUS_MPIE: u32 = 1 << 7;
    mstatus & MSTATUS_MPIE != 0
}

/// The privileged specification's name for an exception code.
pub const fn cause_name(cause: u32) -> &'static str {
    match cause {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store/AMO address misaligned",
        7 => "store/AMO access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        11 => "environment call from M-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store/AMO page fault",
        _ => "unknown exception",
    }
}

/// Whether `mtval` holds an address for this cause.
pub const fn cause_has_address(cause: u32) -> bool {
    matches!(cause, 0 | 1 | 4 | 5 | 6 | 7 | 12 | 13 | 15)
}

impl Report for Fault {
    fn report(&self, out: &mut dyn Out) {
        out.text(cause_name(self.cause));
        out.text(" at pc=");
        hex(out, self.pc as usize, 8);
        out.text(" (mcause=");
        dec(out, self.cause as usize);
        out.text(")");
        if cause_has_address(self.cause) {
            out.text(" address=");
            hex(out, self.value as usize, 8);
        } else if self.cause == 2 {
            out.text(" instruction=");
            hex(out, self.value as usize, 8);
        }
        // Last, so the host's symbolizer and a reader find the cause first.
        out.text(" ra=");
        hex(out, self.ra as usize, 8);
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
    fn only_code_with_interrupts_enabled_is_a_thread() {
        // Machine mode before the trap (MPP = 3), MPIE set.
        assert!(interrupted_thread(0x1880));
        assert!(interrupted_thread(0x80));
        // MPIE clear: interrupts were masked; MIE, which the trap clears,
        // says nothing.
        assert!(!interrupted_thread(0x1800));
        assert!(!interrupted_thread(0x1808));
    }

    #[test]
    fn illegal_instruction_shows_pc_and_bits() {
        let fault = Fault { cause: 2, pc: 0x8000_0100, value: 0, ra: 0x8000_0010, sp: 0x8100_0000 };
        assert_eq!(
            fault.to_string(),
            "illegal instruction at pc=0x80000100 (mcause=2) instruction=0x00000000 \
             ra=0x80000010 sp=0x81000000"
        );
    }

    #[test]
    fn load_fault_shows_address() {
        let fault = Fault { cause: 5, pc: 0x8000_0004, value: 0x1234, ra: 0, sp: 0 };
        assert_eq!(
            fault.to_string(),
            "load access fault at pc=0x80000004 (mcause=5) address=0x00001234 \
             ra=0x00000000 sp=0x00000000"
        );
        assert_eq!(cause_name(42), "unknown exception");
    }

    #[test]
    fn every_exception_code_of_the_privileged_spec_has_its_name() {
        let table = [
            (0, "instruction address misaligned"),
            (1, "instruction access fault"),
            (2, "illegal instruction"),
            (3, "breakpoint"),
            (4, "load address misaligned"),
            (5, "load access fault"),
            (6, "store/AMO address misaligned"),
            (7, "store/AMO access fault"),
            (8, "environment call from U-mode"),
            (9, "environment call from S-mode"),
            (10, "unknown exception"),
            (11, "environment call from M-mode"),
            (12, "instruction page fault"),
            (13, "load page fault"),
            (14, "unknown exception"),
            (15, "store/AMO page fault"),
        ];
        for (cause, name) in table {
            assert_eq!(cause_name(cause), name, "mcause {cause}");
        }
    }
}
