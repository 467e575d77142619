//! What a debugger needs to know of this CPU: a stopped thread's
//! registers from its switch frame, and making written code visible to
//! instruction fetch (for software breakpoints).

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

#[cfg(test)]
mod tests {
    use super::*;

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
