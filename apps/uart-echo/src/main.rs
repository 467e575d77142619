//! UART echo: sends back every byte that arrives on the console UART.
//!
//! Reception is interrupt-driven: the platform's serial port fills a ring
//! buffer from the UART interrupt and `read` sleeps (WFI) while it is
//! empty. A `0x04` (Ctrl-D) byte ends the program with status 0.
#![no_std]
#![no_main]

use embedded_io::{Read, Write};
use ferrode_board::platform::devices;
use ferrode_board::{exit_code, println};

ferrode_board::entry!(main);

/// End of transmission: stops the echo.
const END: u8 = 0x04;

fn main() -> u32 {
    let mut serial = devices::serial();
    println!("uart-echo: ready, Ctrl-D ends");
    let mut buffer = [0u8; 64];
    let mut total: u64 = 0;
    loop {
        let count = match serial.read(&mut buffer) {
            Ok(count) => count,
            Err(error) => {
                println!("uart-echo: line error: {error}");
                continue;
            }
        };
        let (data, done) = match buffer[..count].iter().position(|&byte| byte == END) {
            Some(end) => (&buffer[..end], true),
            None => (&buffer[..count], false),
        };
        // Writes to the console cannot fail.
        let _ = serial.write_all(data);
        total += data.len() as u64;
        if done {
            println!("\nuart-echo: {total} bytes echoed, {} lost", serial.lost_bytes());
            return exit_code::SUCCESS;
        }
    }
}
