//! What a debugger needs to know of this CPU: a stopped thread's
//! registers from its switch frame or, for a thread stopped at a
//! breakpoint, from the trap frame the undefined-instruction vector saved
//! (making written code visible to instruction fetch is
//! `sync_instruction_memory`).

/// GDB's architecture name for the target description.
pub const GDB_ARCHITECTURE: &str = "arm";
/// Registers in GDB's `g` order: r0-r12, sp, lr, pc, cpsr.
pub const GDB_REGISTERS: usize = 17;
/// Words `ferrode_switch` pushes: r4-r11, then lr (where it returns).
pub const SWITCH_FRAME_WORDS: usize = 9;

/// The registers of a thread switched away at stack pointer `sp`, whose
/// switch frame (the [`SWITCH_FRAME_WORDS`] words at `sp`) is `frame`.
/// The caller-saved registers (r0-r3, r12) and lr are not kept by a
/// switch: they read 0. The pc is where the thread resumes (in the
/// kernel), sp is the stack pointer after the frame is popped; cpsr is
/// SVC mode with interrupts masked, as every switch runs, in the state the
/// return address names: T32 when its bit 0 is set (the pc then reads
/// without it, as GDB expects), A32 otherwise.
pub fn switch_frame_registers(sp: u32, frame: &[u32; SWITCH_FRAME_WORDS]) -> [u32; GDB_REGISTERS] {
    let mut registers = [0u32; GDB_REGISTERS];
    registers[4..12].copy_from_slice(&frame[..8]);
    registers[13] = sp + (SWITCH_FRAME_WORDS as u32) * 4;
    let state = if frame[8] & 1 == 1 { CPSR_T } else { 0 };
    registers[15] = frame[8] & !1;
    registers[16] = 0x93 | state;
    registers
}

/// Words the undefined-instruction vector saves for a breakpoint, on the
/// thread's own stack: r0-r12, lr, then the pc (the breakpoint's address)
/// and cpsr as `srsdb` stores them.
pub const TRAP_FRAME_WORDS: usize = 16;
/// CPSR.I: IRQs masked.
const CPSR_I: u32 = 1 << 7;
/// CPSR.T: T32 state.
const CPSR_T: u32 = 1 << 5;

/// The registers of a thread stopped at a breakpoint whose trap frame
/// (the [`TRAP_FRAME_WORDS`] words at `address`) is `frame`: all of them;
/// sp is the stack pointer before the trap pushed the frame.
pub fn trap_frame_registers(address: u32, frame: &[u32; TRAP_FRAME_WORDS]) -> [u32; GDB_REGISTERS] {
    let mut registers = [0u32; GDB_REGISTERS];
    registers[..13].copy_from_slice(&frame[..13]);
    registers[13] = address + (TRAP_FRAME_WORDS as u32) * 4;
    registers[14] = frame[13];
    registers[15] = frame[14];
    registers[16] = frame[15];
    registers
}

/// GDB's index of the pc among [`GDB_REGISTERS`].
pub const PC_REGISTER: usize = 15;
/// CPSR bits a debugger may change in a trap frame: the condition flags
/// N, Z, C and V, Q, and GE[3:0]. The mode, the interrupt masks, the
/// instruction set state and the rest stay as the trap found them.
const CPSR_FLAGS: u32 = 0xf800_0000 | 0x000f_0000;

/// Writes GDB's register `index` of a thread stopped with its trap frame
/// (at `address`) as `frame`, for it to resume with; `false` for what may
/// not change: sp (where the frame lies; writing the value it has is
/// allowed), a pc that is not an instruction boundary in the frame's
/// state (word-aligned in A32, halfword in T32), cpsr bits other than the
/// flags ([`trap_frame_registers`] reads back what was written).
pub fn write_trap_register(
    address: u32,
    frame: &mut [u32; TRAP_FRAME_WORDS],
    index: usize,
    value: u32,
) -> bool {
    match index {
        0..=12 => frame[index] = value,
        13 => return value == address + (TRAP_FRAME_WORDS as u32) * 4,
        14 => frame[13] = value,
        PC_REGISTER => {
            let boundary = if frame[15] & CPSR_T == 0 { 4 } else { 2 };
            if !value.is_multiple_of(boundary) {
                return false;
            }
            frame[14] = value;
        }
        16 => {
            if (value ^ frame[15]) & !CPSR_FLAGS != 0 {
                return false;
            }
            frame[15] = value;
        }
        _ => return false,
    }
    true
}

/// What a fault report needs of a trap frame at `address`: the pc, lr and
/// the stack pointer before the trap (without mapping every register).
pub fn trap_pc_lr_sp(address: u32, frame: &[u32; TRAP_FRAME_WORDS]) -> (u32, u32, u32) {
    (frame[14], frame[13], address + (TRAP_FRAME_WORDS as u32) * 4)
}

/// Whether the trapped code ran with IRQs enabled: thread code. Kernel
/// operations, interrupt handlers and critical sections mask them, and a
/// breakpoint there is never one a thread may be stopped at.
pub fn trap_interrupts_enabled(frame: &[u32; TRAP_FRAME_WORDS]) -> bool {
    frame[15] & CPSR_I == 0
}

/// GDB's SIGILL: an undefined instruction.
pub const SIGILL: u8 = 4;
/// GDB's SIGSEGV: an access the memory map refused.
pub const SIGSEGV: u8 = 11;

/// The signal GDB is told for a thread that faulted with `kind`, for the
/// faults whose vectors save the thread's registers (the feature
/// `debug`): an undefined instruction is SIGILL, an abort SIGSEGV.
/// `None` for the rest (a supervisor call, an IRQ nobody handles, an
/// FIQ): no thread is stopped at those.
pub const fn fault_signal(kind: crate::FaultKind) -> Option<u8> {
    use crate::FaultKind::*;
    match kind {
        UndefinedInstruction => Some(SIGILL),
        PrefetchAbort | DataAbort => Some(SIGSEGV),
        SupervisorCall | UnhandledIrq | Fiq => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_with_saved_registers_have_a_signal() {
        use crate::FaultKind;
        assert_eq!(fault_signal(FaultKind::UndefinedInstruction), Some(4));
        assert_eq!(fault_signal(FaultKind::PrefetchAbort), Some(11));
        assert_eq!(fault_signal(FaultKind::DataAbort), Some(11));
        for kind in [FaultKind::SupervisorCall, FaultKind::UnhandledIrq, FaultKind::Fiq] {
            assert_eq!(fault_signal(kind), None, "{kind:?} saves no registers");
        }
    }

    #[test]
    fn trap_frame_maps_every_register() {
        let mut frame = [0u32; TRAP_FRAME_WORDS];
        for (i, word) in frame.iter_mut().enumerate() {
            *word = 100 + i as u32;
        }
        frame[14] = 0x7010_2000;
        frame[15] = 0x6000_0013;
        let registers = trap_frame_registers(0x7020_0000, &frame);
        assert_eq!(&registers[..13], &frame[..13]);
        assert_eq!(registers[13], 0x7020_0040, "sp above the frame");
        assert_eq!(registers[14], 113, "lr");
        assert_eq!(registers[15], 0x7010_2000, "pc: the breakpoint");
        assert_eq!(registers[16], 0x6000_0013, "cpsr");
        let (pc, lr, sp) = trap_pc_lr_sp(0x7020_0000, &frame);
        assert_eq!((pc, lr, sp), (registers[15], registers[14], registers[13]));
        assert!(trap_interrupts_enabled(&frame));
        frame[15] |= CPSR_I;
        assert!(!trap_interrupts_enabled(&frame), "masked: kernel or handler code");
    }

    #[test]
    fn register_writes_land_where_the_frame_is_read_and_nowhere_else() {
        let base: [u32; TRAP_FRAME_WORDS] = core::array::from_fn(|i| 100 + i as u32);
        let mut frame = base;
        frame[14] = 0x7010_2000;
        frame[15] = 0x6000_0013;
        let base = frame;
        let address = 0x7020_0000;
        for index in (0..GDB_REGISTERS).filter(|&i| i != 13) {
            let mut frame = base;
            let before = trap_frame_registers(address, &frame);
            let value = match index {
                PC_REGISTER => 0x7010_3000,
                16 => 0x9000_0013,
                _ => 0xdead_0000 + index as u32,
            };
            assert!(write_trap_register(address, &mut frame, index, value), "register {index}");
            let after = trap_frame_registers(address, &frame);
            for other in 0..GDB_REGISTERS {
                let expected = if other == index { value } else { before[other] };
                assert_eq!(after[other], expected, "register {other} after writing {index}");
            }
        }
        let mut frame = base;
        // sp is where the frame lies: only its own value goes.
        assert!(write_trap_register(address, &mut frame, 13, address + 64));
        assert!(!write_trap_register(address, &mut frame, 13, address + 68));
        // An A32 pc is word-aligned, a T32 one halfword-aligned.
        assert!(!write_trap_register(address, &mut frame, PC_REGISTER, 0x7010_3002));
        frame[15] |= CPSR_T;
        assert!(write_trap_register(address, &mut frame, PC_REGISTER, 0x7010_3002));
        assert!(!write_trap_register(address, &mut frame, PC_REGISTER, 0x7010_3001));
        // Only the flags of the cpsr: not the mode, masks or state.
        let cpsr = frame[15];
        for bit in [0, 4, 5, 6, 7, 8, 9, 24] {
            assert!(!write_trap_register(address, &mut frame, 16, cpsr ^ (1 << bit)), "bit {bit}");
        }
        assert!(write_trap_register(address, &mut frame, 16, cpsr ^ 0xf80f_0000));
        assert!(!write_trap_register(address, &mut frame, 17, 0));
        assert_eq!(frame[..13], base[..13], "the refusals wrote nothing");
    }

    #[test]
    fn switch_frame_maps_to_gdb_order() {
        let frame = [4, 5, 6, 7, 8, 9, 10, 11, 0x7010_0040];
        let registers = switch_frame_registers(0x7020_0000, &frame);
        assert_eq!(&registers[..4], &[0, 0, 0, 0]);
        assert_eq!(&registers[4..12], &[4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(registers[13], 0x7020_0024);
        assert_eq!(registers[15], 0x7010_0040);
        assert_eq!(registers[16] & 0x1f, 0x13, "SVC mode");
        assert_eq!(registers[16] & CPSR_T, 0, "A32");
        let registers =
            switch_frame_registers(0x7020_0000, &[4, 5, 6, 7, 8, 9, 10, 11, 0x7010_0041]);
        assert_eq!(registers[15], 0x7010_0040, "the pc without the state bit");
        assert_eq!(registers[16], 0x93 | CPSR_T, "T32");
    }
}
