//! RISC-V semihosting: how a Ferrode image reports its exit status and reads its
//! command line when it runs under QEMU (`-semihosting`) or a debugger.
//!
//! The operation numbers and the `ADP_Stopped_ApplicationExit` reason come
//! from ARM's "Semihosting for AArch32 and AArch64" specification, which the
//! RISC-V semihosting specification reuses.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_block_carries_reason_then_code() {
        assert_eq!(exit_block(3), [0x20026, 3]);
    }

    #[test]
    fn cmdline_is_trimmed_at_nul_and_length() {
        assert_eq!(cmdline_text(b"crash panic\0junk", 16), Some("crash panic"));
        assert_eq!(cmdline_text(b"hello", 3), Some("hel"));
        assert_eq!(cmdline_text(b"hi", 99), Some("hi"));
        assert_eq!(cmdline_text(&[0xff, 0xfe], 2), None);
    }
}
