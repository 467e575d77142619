//! defmt-demo: defmt frames from two components, decoded on the host.
//!
//! `sensor` logs at every level with structured values (a derived `Format`
//! struct, slices, hex), then writes a damaged frame between two good ones;
//! `reporter` logs after it, and writes one plain-text line through its LOG
//! session, which shares the console with the frames. The QEMU case
//! compares the decoded lines, and the `// defmt-line:` markers give the
//! lines it expects.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::{arch, exit_code, platform};
use ferrode_defmt as _;

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
    }
    clients {
        sensor: { priority: 3, stack: 8192, main: sensor },
        reporter: { priority: 2, stack: 8192, main: reporter },
    }
    routes {
        reporter: "LOG" "" => log,
    }
}

/// A structured value, formatted on the host.
#[derive(defmt::Format)]
struct Reading {
    channel: u8,
    millivolts: u16,
    valid: bool,
}

fn sensor(_env: Env) -> u32 {
    let reading = Reading { channel: 3, millivolts: 1250, valid: true };
    defmt::trace!("sensor starts, {=u8} channels", 4); // defmt-line: trace
    defmt::debug!("raw samples {=[u8]}", &[1u8, 2, 3][..]); // defmt-line: debug
    defmt::info!("reading {}", reading); // defmt-line: info
    defmt::warn!("status register {=u32:#x}", 0xdead_beef_u32); // defmt-line: warn
    defmt::error!("offsets {}", &[10i16, -20, 30][..]); // defmt-line: error
    defmt::info!("before the damaged frame"); // defmt-line: before
    // A frame whose rzcobs encoding is cut short, delimited like a real one:
    // the host reports it and decodes the next frame.
    // SAFETY: a frame as the defmt logger writes them (between zero
    // bytes), on the console the logger owns: the host decodes it as one.
    arch::without_interrupts(|| unsafe {
        platform::console_write(&[ferrode_defmt::FRAME_DELIMITER, 0x12, 0x34, 0x56]);
        platform::console_write(&[ferrode_defmt::FRAME_DELIMITER]);
    });
    defmt::info!("after the damaged frame"); // defmt-line: after
    exit_code::SUCCESS
}

fn reporter(env: Env) -> u32 {
    defmt::info!("reporter runs after sensor: {=bool}", true); // defmt-line: reporter
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    if log.write_fmt(format_args!("plain text between frames")).is_err() {
        return exit_code::FAILURE;
    }
    defmt::info!("done"); // defmt-line: done
    exit_code::SUCCESS
}
