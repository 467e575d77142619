//! mem-check: the arch crates' hand-written copy routines against the
//! bytes they must produce, on the board itself.
//!
//! Copies go through `memcpy` on MicroBlaze V and `__aeabi_memcpy` /
//! `__aeabi_memcpy4` on PBX-A9 (`crates/arch/*/src/asm.rs`): the routines
//! every UTCB message, packet and socket buffer copy uses. Each has a word
//! path, a path for ends the same distance past a word (a frame's payload
//! and a socket buffer, 2 bytes past one) and a path for everything else.
//! This copies between every pair of start offsets 0 to 3, at every length
//! from 0 to 80 and at frame lengths, and checks each destination byte and
//! the bytes around it. Lengths and offsets go through `black_box`, so the
//! compiler calls the routine instead of copying inline.
//!
//! Prints `mem-check: N copies, 0 wrong` and exits 0, or prints the first
//! wrong copy and exits 1.
#![no_std]
#![no_main]

use core::hint::black_box;

use ferrode_board::{exit_code, println};

ferrode_board::entry!(main);

/// Room for the longest copy at any offset, with guard bytes after it.
const ROOM: usize = 1536 + 16;
/// What the destination holds before a copy.
const GUARD: u8 = 0xee;

/// A buffer that starts on a word boundary.
#[repr(C, align(4))]
struct Buffer([u8; ROOM]);

/// The byte at `index` of a source buffer: a pattern no shift or
/// mis-ordered word reproduces, and never [`GUARD`].
fn pattern(index: usize) -> u8 {
    let byte = (index.wrapping_mul(7) ^ (index >> 3)) as u8;
    if byte == GUARD { 0x11 } else { byte }
}

/// A copy that came out wrong.
struct Wrong {
    from: usize,
    to: usize,
    length: usize,
    at: usize,
    found: u8,
    expected: u8,
}

/// Copies `length` bytes from offset `from` of a patterned buffer to offset
/// `to` of a guarded one and checks the whole destination buffer.
fn check_bytes(from: usize, to: usize, length: usize) -> Result<(), Wrong> {
    let mut source = Buffer([0; ROOM]);
    for (index, byte) in source.0.iter_mut().enumerate() {
        *byte = pattern(index);
    }
    let mut destination = Buffer([GUARD; ROOM]);
    let (from, to, length) = (black_box(from), black_box(to), black_box(length));
    destination.0[to..to + length].copy_from_slice(&source.0[from..from + length]);
    let destination = black_box(&destination);
    for (at, &found) in destination.0.iter().enumerate() {
        let expected =
            if (to..to + length).contains(&at) { pattern(at - to + from) } else { GUARD };
        if found != expected {
            return Err(Wrong { from, to, length, at, found, expected });
        }
    }
    Ok(())
}

/// Copies `words` whole words between word arrays (`__aeabi_memcpy4` on
/// PBX-A9, the word path of `memcpy` on MicroBlaze V) and checks them.
fn check_words(words: usize) -> Result<(), Wrong> {
    let mut source = [0u32; ROOM / 4];
    for (index, word) in source.iter_mut().enumerate() {
        *word = u32::from_ne_bytes(core::array::from_fn(|byte| pattern(index * 4 + byte)));
    }
    let mut destination = [u32::from_ne_bytes([GUARD; 4]); ROOM / 4];
    let words = black_box(words);
    destination[..words].copy_from_slice(&source[..words]);
    let destination = black_box(&destination);
    for (index, &found) in destination.iter().enumerate() {
        let expected = if index < words { source[index] } else { u32::from_ne_bytes([GUARD; 4]) };
        if found != expected {
            let at = index * 4;
            return Err(Wrong {
                from: 0,
                to: 0,
                length: words * 4,
                at,
                found: found.to_ne_bytes()[0],
                expected: expected.to_ne_bytes()[0],
            });
        }
    }
    Ok(())
}

fn run() -> Result<u32, Wrong> {
    let lengths = (0..=80).chain([1459, 1460, 1461, 1513, 1514, 1536]);
    let mut copies = 0;
    for length in lengths {
        for from in 0..4 {
            for to in 0..4 {
                check_bytes(from, to, length)?;
                copies += 1;
            }
        }
    }
    for words in (0..=40).chain([365, 378, 384]) {
        check_words(words)?;
        copies += 1;
    }
    Ok(copies)
}

fn main() -> u32 {
    match run() {
        Ok(copies) => {
            println!("mem-check: {copies} copies, 0 wrong");
            exit_code::SUCCESS
        }
        Err(wrong) => {
            println!(
                "mem-check: copy of {} bytes from offset {} to offset {}: byte {} is {:#04x}, not {:#04x}",
                wrong.length, wrong.from, wrong.to, wrong.at, wrong.found, wrong.expected
            );
            exit_code::FAILURE
        }
    }
}
