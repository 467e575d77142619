//! The block benchmark without components, the baseline of `cargo xtask
//! bench block`: sd-card's reads and writes (`bench.rs`, shared) calling
//! the board's SD card driver directly, as an app without components may
//! (`devices::sd_card`). It prints one JSON line and exits 0 if every
//! request succeeded and the instruction counter counts.
#![no_std]
#![no_main]

#[path = "../../sd-card/src/bench.rs"]
mod bench;

use ferrode_board::platform::{devices, memory_map};
use ferrode_board::{exit_code, println};

ferrode_board::entry!(main);

fn main() -> u32 {
    let Some(window) = memory_map::DEVICES.iter().find(|window| window.name == "sd") else {
        println!("sd-direct: this board has no SD card slot");
        return exit_code::FAILURE;
    };
    // SAFETY: sd-direct runs without components, so it is the card's one
    // driver.
    let mut card = match unsafe { devices::sd_card(window) } {
        Some(Ok(card)) => card,
        Some(Err(error)) => {
            println!("sd-direct: the SD card: {:?}", error);
            return exit_code::FAILURE;
        }
        None => {
            println!("sd-direct: the platform has no SD card driver for {:#x}", window.base);
            return exit_code::FAILURE;
        }
    };
    let card = core::cell::RefCell::new(&mut card);
    let ok = bench::run(
        "direct",
        |block, blocks| card.borrow_mut().read(block, blocks).is_ok(),
        |block, blocks| card.borrow_mut().write(block, blocks).is_ok(),
        |line| println!("{}", line),
    );
    if ok { exit_code::SUCCESS } else { exit_code::FAILURE }
}
