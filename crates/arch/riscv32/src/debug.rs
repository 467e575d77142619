//! What a debugger needs to know of this CPU: a stopped thread's
//! registers from its switch frame or, for a thread stopped at a
//! breakpoint, from the trap frame the trap vector saved (making written
//! code visible to instruction fetch is `sync_instruction_memory`).

/// GDB's architecture name for the target description.
pub const GDB_ARCHITECTURE: &str = "riscv:rv32";
/// Registers in GDB's `g` order: x0-x31, pc.
pub const GDB_REGISTERS: usize = 33;
/// Words of `ferrode_switch`'s frame: ra, s0-s11, padding to 64 bytes.
pub const SWITCH_FRAME_WORDS: usize = 16;

/// The registers of a thread switched away at stack pointer `sp`, whose
/// switch frame (the [`SWITCH_FRAME_WORDS`] words at `sp`) is `frame`.
/// A switch keeps only ra and s0-s11: the others read 0 (gp is the
/// image's, the same for every thread, but a switch does not save it
/// either). The pc is ra, where the thread resumes (in the kernel).
pub fn switch_frame_registers(sp: u32, frame: &[u32; SWITCH_FRAME_WORDS]) -> [u32; GDB_REGISTERS] {
    let mut registers = [0u32; GDB_REGISTERS];
    registers[1] = frame[0];
    registers[2] = sp + (SWITCH_FRAME_WORDS as u32) * 4;
    // s0 (x8), s1 (x9), s2-s11 (x18-x27).
    registers[8] = frame[1];
    registers[9] = frame[2];
    registers[18..28].copy_from_slice(&frame[3..13]);
    registers[32] = frame[0];
    registers
}

/// Words the trap vector saves for a breakpoint, on the thread's own
/// stack: s0-s11, gp, tp and two of padding, then the trap frame every
/// trap saves: ra, t0-t2, a0-a7, t3-t6, mepc (the breakpoint's address),
/// mstatus and two of padding.
pub const TRAP_FRAME_WORDS: usize = 36;
/// Where the frame every trap saves starts, in words.
const TRAP: usize = 16;
/// mstatus.MPIE: the interrupt enable before the trap.
const MSTATUS_MPIE: u32 = 1 << 7;

/// The registers of a thread stopped at a breakpoint whose trap frame
/// (the [`TRAP_FRAME_WORDS`] words at `address`) is `frame`: all of them;
/// sp is the stack pointer before the trap pushed the frame.
pub fn trap_frame_registers(address: u32, frame: &[u32; TRAP_FRAME_WORDS]) -> [u32; GDB_REGISTERS] {
    let mut registers = [0u32; GDB_REGISTERS];
    registers[1] = frame[TRAP];
    registers[2] = address + (TRAP_FRAME_WORDS as u32) * 4;
    registers[3] = frame[12];
    registers[4] = frame[13];
    // t0-t2 (x5-x7), s0-s1 (x8-x9), a0-a7 (x10-x17), s2-s11 (x18-x27),
    // t3-t6 (x28-x31).
    registers[5..8].copy_from_slice(&frame[TRAP + 1..TRAP + 4]);
    registers[8..10].copy_from_slice(&frame[..2]);
    registers[10..18].copy_from_slice(&frame[TRAP + 4..TRAP + 12]);
    registers[18..28].copy_from_slice(&frame[2..12]);
    registers[28..32].copy_from_slice(&frame[TRAP + 12..TRAP + 16]);
    registers[32] = frame[TRAP + 16];
    registers
}

/// GDB's index of the pc among [`GDB_REGISTERS`].
pub const PC_REGISTER: usize = 32;

/// Writes GDB's register `index` (x0-x31, pc) of a thread stopped with
/// its trap frame (at `address`) as `frame`, for it to resume with;
/// `false` for what may not change: x0, sp (where the frame lies; writing
/// the value they have is allowed), a pc off a halfword boundary
/// ([`trap_frame_registers`] reads back what was written).
pub fn write_trap_register(
    address: u32,
    frame: &mut [u32; TRAP_FRAME_WORDS],
    index: usize,
    value: u32,
) -> bool {
    let slot = match index {
        0 => return value == 0,
        1 => TRAP,
        2 => return value == address + (TRAP_FRAME_WORDS as u32) * 4,
        3 => 12,
        4 => 13,
        5..=7 => TRAP + 1 + (index - 5),
        8..=9 => index - 8,
        10..=17 => TRAP + 4 + (index - 10),
        18..=27 => 2 + (index - 18),
        28..=31 => TRAP + 12 + (index - 28),
        PC_REGISTER if value.is_multiple_of(2) => TRAP + 16,
        _ => return false,
    };
    frame[slot] = value;
    true
}

/// What a fault report needs of a trap frame at `address`: the pc, ra and
/// the stack pointer before the trap (without mapping every register).
pub fn trap_pc_ra_sp(address: u32, frame: &[u32; TRAP_FRAME_WORDS]) -> (u32, u32, u32) {
    (frame[TRAP + 16], frame[TRAP], address + (TRAP_FRAME_WORDS as u32) * 4)
}

/// Whether the trapped code ran with interrupts enabled: thread code.
/// Kernel operations, interrupt handlers and critical sections mask them,
/// and a breakpoint there is never one a thread may be stopped at.
pub fn trap_interrupts_enabled(frame: &[u32; TRAP_FRAME_WORDS]) -> bool {
    frame[TRAP + 17] & MSTATUS_MPIE != 0
}

/// GDB's SIGILL: an illegal instruction.
pub const SIGILL: u8 = 4;
/// GDB's SIGBUS: a misaligned access.
pub const SIGBUS: u8 = 7;
/// GDB's SIGSEGV: an access the memory protection refused.
pub const SIGSEGV: u8 = 11;

/// The signal GDB is told for a thread that faulted with `mcause` `cause`
/// (the fault path saves its registers with the feature `debug`): an
/// illegal instruction is SIGILL, a misaligned access SIGBUS, an access or
/// page fault SIGSEGV. `None` for the rest (an environment call, a cause
/// the specification leaves unnamed): no thread is stopped at those.
pub const fn fault_signal(cause: u32) -> Option<u8> {
    match cause {
        2 => Some(SIGILL),
        0 | 4 | 6 => Some(SIGBUS),
        1 | 5 | 7 | 12 | 13 | 15 => Some(SIGSEGV),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_a_thread_stops_at_have_a_signal() {
        assert_eq!(fault_signal(2), Some(4), "illegal instruction");
        for cause in [0, 4, 6] {
            assert_eq!(fault_signal(cause), Some(7), "misaligned: cause {cause}");
        }
        for cause in [1, 5, 7, 12, 13, 15] {
            assert_eq!(fault_signal(cause), Some(11), "access: cause {cause}");
        }
        for cause in [3, 8, 9, 10, 11, 14, 16, 31] {
            assert_eq!(fault_signal(cause), None, "cause {cause}");
        }
    }

    #[test]
    fn trap_frame_maps_every_register() {
        // The frame the vector writes, register by register.
        let mut frame = [0u32; TRAP_FRAME_WORDS];
        let s = [8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
        for (slot, x) in s.iter().enumerate() {
            frame[slot] = 1000 + x;
        }
        frame[12] = 1003; // gp
        frame[13] = 1004; // tp
        let trap = [1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31];
        for (slot, x) in trap.iter().enumerate() {
            frame[TRAP + slot] = 1000 + x;
        }
        frame[TRAP + 16] = 0x8000_2000;
        frame[TRAP + 17] = 0x1880;
        let registers = trap_frame_registers(0x8100_0000, &frame);
        for x in (1..32).filter(|&x| x != 2) {
            assert_eq!(registers[x], 1000 + x as u32, "x{x}");
        }
        assert_eq!(registers[0], 0);
        assert_eq!(registers[2], 0x8100_0090, "sp above the frame");
        assert_eq!(registers[32], 0x8000_2000, "pc: the breakpoint");
        let (pc, ra, sp) = trap_pc_ra_sp(0x8100_0000, &frame);
        assert_eq!((pc, ra, sp), (registers[32], registers[1], registers[2]));
        assert!(trap_interrupts_enabled(&frame));
        frame[TRAP + 17] = 0x1800;
        assert!(!trap_interrupts_enabled(&frame), "masked: kernel or handler code");
    }

    #[test]
    fn register_writes_land_where_the_frame_is_read_and_nowhere_else() {
        let mut base: [u32; TRAP_FRAME_WORDS] = core::array::from_fn(|i| 1000 + i as u32);
        base[TRAP + 16] = 0x8000_2000;
        let address = 0x8100_0000;
        for index in (1..GDB_REGISTERS).filter(|&i| i != 2) {
            let mut frame = base;
            let before = trap_frame_registers(address, &frame);
            let value = if index == PC_REGISTER { 0x8000_3002 } else { 0xdead_0000 + index as u32 };
            assert!(write_trap_register(address, &mut frame, index, value), "x{index}");
            let after = trap_frame_registers(address, &frame);
            for other in 0..GDB_REGISTERS {
                let expected = if other == index { value } else { before[other] };
                assert_eq!(after[other], expected, "register {other} after writing {index}");
            }
            assert_eq!(frame[TRAP + 17], base[TRAP + 17], "mstatus is not GDB's to write");
        }
        let mut frame = base;
        assert!(write_trap_register(address, &mut frame, 0, 0));
        assert!(!write_trap_register(address, &mut frame, 0, 1), "x0");
        assert!(write_trap_register(address, &mut frame, 2, address + 144));
        assert!(!write_trap_register(address, &mut frame, 2, address + 148), "sp");
        assert!(!write_trap_register(address, &mut frame, PC_REGISTER, 0x8000_3001));
        assert!(!write_trap_register(address, &mut frame, 33, 0));
        assert_eq!(frame, base, "the refusals wrote nothing");
    }

    #[test]
    fn switch_frame_maps_to_gdb_order() {
        let mut frame = [0u32; SWITCH_FRAME_WORDS];
        frame[0] = 0x8000_1000;
        for (i, word) in frame[1..13].iter_mut().enumerate() {
            *word = 100 + i as u32;
        }
        let registers = switch_frame_registers(0x8100_0000, &frame);
        assert_eq!(registers[1], 0x8000_1000);
        assert_eq!(registers[2], 0x8100_0040);
        assert_eq!((registers[8], registers[9]), (100, 101));
        assert_eq!(registers[18], 102);
        assert_eq!(registers[27], 111);
        assert_eq!(registers[32], 0x8000_1000);
        assert_eq!(registers[10], 0, "a0 is not kept by a switch");
    }
}
