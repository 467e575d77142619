//! Hello: the smallest Ferrode application, one source for every board.
#![no_std]
#![no_main]

use ferrode_board::{BOARD_NAME, arch, println};

ferrode_board::entry!(main);

fn main() -> u32 {
    println!("Hello from Ferrode on {} ({})!", BOARD_NAME, arch::ARCH_NAME);
    ferrode_board::exit_code::SUCCESS
}
