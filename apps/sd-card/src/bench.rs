//! The block benchmark, shared by sd-card (through its Block session) and
//! sd-direct (calling the driver, without components): instructions
//! retired for reading, then writing, [`BLOCKS`] blocks in requests of
//! [`PER_REQUEST`] (what one Block packet carries). Under QEMU's
//! `-icount` the counts are exact; `cargo xtask bench block` takes them
//! from the JSON line [`run`] prints.

use ferrode_board::{BOARD_NAME, arch};

/// Blocks read, and written, per figure.
pub const BLOCKS: u32 = 256;
/// Blocks per request.
pub const PER_REQUEST: usize = 8;
/// Where the writes go (blocks the other checks do not look at).
pub const WRITE_AT: u32 = 1024;

/// Runs the benchmark through `read` and `write` (each moving the blocks
/// of one request, `false` on failure), and `report`s one JSON line with
/// `path` naming the way the blocks went. `false` if a request failed or
/// the instruction counter does not count (QEMU without `-icount`).
pub fn run(
    path: &str,
    mut read: impl FnMut(u32, &mut [[u8; 512]]) -> bool,
    mut write: impl FnMut(u32, &[[u8; 512]]) -> bool,
    report: impl FnOnce(core::fmt::Arguments<'_>),
) -> bool {
    arch::start_instruction_counter();
    let mut buffer = [[0u8; 512]; PER_REQUEST];
    // Warm-up: first-touch effects stay out of the figures.
    let mut ok = read(0, &mut buffer) && write(WRITE_AT, &buffer);
    let start = arch::instructions_retired();
    for request in 0..BLOCKS / PER_REQUEST as u32 {
        ok &= read(request * PER_REQUEST as u32, &mut buffer);
    }
    let middle = arch::instructions_retired();
    for request in 0..BLOCKS / PER_REQUEST as u32 {
        ok &= write(WRITE_AT + request * PER_REQUEST as u32, &buffer);
    }
    let end = arch::instructions_retired();
    let (reads, writes) = (middle.wrapping_sub(start), end.wrapping_sub(middle));
    report(format_args!(
        "{{\"board\":\"{BOARD_NAME}\",\"bench\":\"block\",\"path\":\"{path}\",\"blocks\":{BLOCKS},\
         \"read_instructions\":{reads},\"write_instructions\":{writes},\"ok\":{ok}}}"
    ));
    ok && reads > 0 && writes > 0
}
