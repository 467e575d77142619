//! Semihosting: how a Ferrode image reports its exit status and reads its
//! command line when it runs under QEMU (`-semihosting`) or a debugger.
//!
//! The operation numbers and the `ADP_Stopped_ApplicationExit` reason come
//! from ARM's "Semihosting for AArch32 and AArch64" specification, which the
//! RISC-V semihosting specification reuses. Only the trap differs per CPU:
//! each arch crate passes its own `call(operation, parameter) -> result`.
#![cfg_attr(not(test), no_std)]

/// `SYS_GET_CMDLINE`: copy the command line into a buffer.
pub const SYS_GET_CMDLINE: u32 = 0x15;
/// `SYS_EXIT_EXTENDED`: exit with a reason and a status code.
pub const SYS_EXIT_EXTENDED: u32 = 0x20;
/// `ADP_Stopped_ApplicationExit`: the application finished normally.
pub const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;

/// The parameter block of `SYS_EXIT_EXTENDED`.
pub const fn exit_block(code: u32) -> [usize; 2] {
    [ADP_STOPPED_APPLICATION_EXIT, code as usize]
}

/// Trims the NUL terminator (if any) the host left in a command line buffer
/// and returns the text, or `None` if it is not UTF-8.
pub fn cmdline_text(buffer: &[u8], reported_len: usize) -> Option<&str> {
    let len = reported_len.min(buffer.len());
    let text = &buffer[..len];
    let text = match text.iter().position(|&b| b == 0) {
        Some(end) => &text[..end],
        None => text,
    };
    core::str::from_utf8(text).ok()
}

/// Asks the host to end the program with `code` (`SYS_EXIT_EXTENDED`).
/// Returns only if no semihosting host answered.
pub fn exit(call: impl FnOnce(u32, usize) -> usize, code: u32) {
    let block = exit_block(code);
    call(SYS_EXIT_EXTENDED, block.as_ptr() as usize);
}

/// Reads the command line into `buffer` (`SYS_GET_CMDLINE`).
pub fn cmdline(call: impl FnOnce(u32, usize) -> usize, buffer: &mut [u8]) -> Option<&str> {
    let mut block = [buffer.as_mut_ptr() as usize, buffer.len()];
    let status = call(SYS_GET_CMDLINE, block.as_mut_ptr() as usize);
    if status != 0 {
        return None;
    }
    cmdline_text(buffer, block[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_block_carries_reason_then_code() {
        assert_eq!(exit_block(3), [0x20026, 3]);
    }

    #[test]
    fn cmdline_reads_what_the_host_wrote() {
        let mut buffer = [0u8; 32];
        let text = cmdline(
            |operation, parameter| {
                assert_eq!(operation, SYS_GET_CMDLINE);
                // SAFETY: the block `cmdline` passes: [buffer pointer, length].
                let block = unsafe { &mut *(parameter as *mut [usize; 2]) };
                // SAFETY: the buffer the block points at, 32 bytes long.
                let target =
                    unsafe { core::slice::from_raw_parts_mut(block[0] as *mut u8, block[1]) };
                target[..9].copy_from_slice(b"crash pan");
                block[1] = 9;
                0
            },
            &mut buffer,
        );
        assert_eq!(text, Some("crash pan"));
        assert_eq!(
            cmdline(|_, _| usize::MAX, &mut buffer),
            None,
            "a host error gives no command line"
        );
    }

    #[test]
    fn exit_passes_the_reason_and_code_block() {
        exit(
            |operation, parameter| {
                assert_eq!(operation, SYS_EXIT_EXTENDED);
                // SAFETY: the block `exit` passes lives across the call.
                let block = unsafe { *(parameter as *const [usize; 2]) };
                assert_eq!(block, [ADP_STOPPED_APPLICATION_EXIT, 7]);
                0
            },
            7,
        );
    }

    #[test]
    fn cmdline_is_trimmed_at_nul_and_length() {
        assert_eq!(cmdline_text(b"crash panic\0junk", 16), Some("crash panic"));
        assert_eq!(cmdline_text(b"hello", 3), Some("hel"));
        assert_eq!(cmdline_text(b"hi", 99), Some("hi"));
        assert_eq!(cmdline_text(&[0xff, 0xfe], 2), None);
    }
}
