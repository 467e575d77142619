//! What a debugger needs to know of this CPU: a stopped thread's
//! registers from its switch frame, and making written code visible to
//! instruction fetch (for software breakpoints).

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
/// SVC mode, A32, interrupts masked, as every switch runs.
pub fn switch_frame_registers(sp: u32, frame: &[u32; SWITCH_FRAME_WORDS]) -> [u32; GDB_REGISTERS] {
    let mut registers = [0u32; GDB_REGISTERS];
    registers[4..12].copy_from_slice(&frame[..8]);
    registers[13] = sp + (SWITCH_FRAME_WORDS as u32) * 4;
    registers[15] = frame[8];
    registers[16] = 0x93;
    registers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_frame_maps_to_gdb_order() {
        let frame = [4, 5, 6, 7, 8, 9, 10, 11, 0x7010_0040];
        let registers = switch_frame_registers(0x7020_0000, &frame);
        assert_eq!(&registers[..4], &[0, 0, 0, 0]);
        assert_eq!(&registers[4..12], &[4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(registers[13], 0x7020_0024);
        assert_eq!(registers[15], 0x7010_0040);
        assert_eq!(registers[16] & 0x1f, 0x13, "SVC mode");
    }
}
