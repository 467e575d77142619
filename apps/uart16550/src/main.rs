//! The MicroBlaze V design's AXI UART 16550, the second serial port: set
//! up at 115200 8N1 from its 100 MHz AXI clock, then put in the 16550's
//! loopback mode, where what it transmits comes back as received
//! characters without reaching the line. A message longer than the FIFOs
//! goes out and must come back byte for byte; `uart16550: ok` ends it.
#![no_std]
#![no_main]

use embedded_io::{Read, Write};
use ferrode_board::platform::devices;
use ferrode_board::{exit_code, println};

ferrode_board::entry!(main);

const MESSAGE: &[u8] = b"Ferrode on the AXI UART 16550, looped back";

fn fail(message: &str) -> u32 {
    println!("uart16550: FAILED: {message}");
    exit_code::FAILURE
}

fn main() -> u32 {
    // SAFETY: uart16550 runs without components, so it is the UART's one
    // driver.
    let Ok(mut uart) = (unsafe { devices::uart16550(115_200) }) else {
        return fail("115200 baud not reachable from the UART clock");
    };
    uart.set_loopback(true);
    let mut received = [0u8; MESSAGE.len()];
    let mut got = 0;
    // The loopback path holds one FIFO's worth: send a chunk, take it back.
    for chunk in MESSAGE.chunks(16) {
        if uart.write_all(chunk).is_err() || uart.flush().is_err() {
            return fail("write");
        }
        let end = got + chunk.len();
        while got < end {
            match uart.read(&mut received[got..end]) {
                Ok(count) => got += count,
                Err(error) => {
                    println!("uart16550: receive error: {error}");
                    return exit_code::FAILURE;
                }
            }
        }
    }
    uart.set_loopback(false);
    println!(
        "uart16550: looped back {got} bytes: {}",
        core::str::from_utf8(&received).unwrap_or("?")
    );
    if received != MESSAGE {
        return fail("the looped-back bytes differ");
    }
    println!("uart16550: ok");
    exit_code::SUCCESS
}
