//! Crash: fails on purpose, as its command line says, to prove that Ferrode
//! reports panics and CPU exceptions with their location and exits non-zero.
//!
//! `crash panic` panics; `crash bad-access [hex address]` loads from an address the
//! hardware refuses (a data abort on PBX-A9, a load access fault on
//! MicroBlaze V); `crash illegal` executes an undefined instruction.
#![no_std]
#![no_main]

use ferrode_board::{BOARD_NAME, cmdline, println};

ferrode_board::entry!(main);

/// The board's address whose load the hardware refuses.
const UNMAPPED_ADDRESS: usize = ferrode_board::platform::memory_map::FAULTING_LOAD_ADDRESS;

fn main() -> u32 {
    let mut buffer = [0u8; 128];
    let args = cmdline(&mut buffer).unwrap_or("");
    let mut words = args.split_whitespace().skip(1);
    let what = words.next().unwrap_or("");
    let address = words
        .next()
        .and_then(|text| usize::from_str_radix(text.trim_start_matches("0x"), 16).ok())
        .unwrap_or(UNMAPPED_ADDRESS);
    println!("crash on {}: {}", BOARD_NAME, what);
    match what {
        "panic" => panic!("crash test asked to panic"),
        "bad-access" => {
            let value = ferrode_board::arch::load_word(address);
            println!("read {:#x} without a fault", value);
            ferrode_board::exit_code::FAILURE
        }
        "illegal" => {
            ferrode_board::arch::undefined_instruction();
        }
        _ => {
            println!("usage: crash panic | bad-access [hex address] | illegal");
            ferrode_board::exit_code::FAILURE
        }
    }
}
