//! UART echo: sends back every byte that arrives on the console UART.
//!
//! Five components at boot: core's LOG, IO_MEM and IRQ services, the Terminal
//! driver component (which reaches the console UART only through the
//! IO_MEM window and the IRQ session its routes grant), and `uart_echo`, a
//! client of its Terminal session. The echo reads what the driver has
//! received, writes it back, and when nothing is there sleeps on its own
//! signal, which the driver submits when input arrives (its interrupt
//! thread, woken by the IRQ session when the UART interrupts). A
//! `0x04` (Ctrl-D) byte ends the echo with status 0, after a count of
//! the bytes echoed and lost through LOG and once [`LEFT_UNREAD`] more
//! bytes have arrived, which it leaves unread. Then `next` starts, a
//! sixth component with a Terminal session of its own: the driver serves
//! one session at a time, so it gets one only because the composer closed
//! the echo's when the echo exited. The input the echo left was the
//! echo's, so `next` must find none; it writes a line through its session
//! and ends the image.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::{exit_code, kernel};
use ferrode_component::{TERMINAL_CHUNK, Terminal};
use ferrode_ipc::Bytes;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        terminal: { priority: 4, stack: 4096, provides: "Terminal", root: ferrode_board::component::terminal_root },
    }
    clients {
        uart_echo: { priority: 3, stack: 4096, main: uart_echo },
        // Started when uart_echo exits: the Terminal's one session is
        // free again only if the composer closed uart_echo's.
        next: { priority: 3, stack: 4096, main: next, after: uart_echo },
    }
    routes {
        terminal: "IO_MEM" "console-uart" => io_mem,
        terminal: "IRQ" "console-uart" => irq,
        uart_echo: "LOG" "" => log,
        uart_echo: "Terminal" "" => terminal,
        next: "LOG" "" => log,
        next: "Terminal" "" => terminal,
    }
}

/// End of transmission: stops the echo.
const END: u8 = 0x04;

/// Bytes the echo waits for after its count and leaves unread (the test
/// sends them once it saw the count).
const LEFT_UNREAD: u32 = 6;

fn uart_echo(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let (mut terminal, input) = match env.terminal("") {
        Ok(session) => session,
        Err(error) => {
            let _ = log.write_fmt(format_args!("no Terminal session: {}", error));
            return exit_code::FAILURE;
        }
    };
    let _ = log.write("ready, Ctrl-D ends");
    let mut total: u64 = 0;
    loop {
        let received = match terminal.read() {
            Ok(received) => received,
            Err(error) => {
                let _ = log.write_fmt(format_args!("read: {}", error));
                return exit_code::FAILURE;
            }
        };
        if received.is_empty() {
            // Nothing there: sleep until the driver says input arrived
            // (a submission since the last wait wakes at once).
            if kernel::kernel().wait_signal(input).is_err() {
                return exit_code::FAILURE;
            }
            continue;
        }
        let (data, done) = match received.iter().position(|&byte| byte == END) {
            Some(end) => (&received[..end], true),
            None => (&received[..], false),
        };
        // `data` came in one chunk, so it fits one write.
        let echoed = Bytes::<TERMINAL_CHUNK>::from_slice(data)
            .map_err(|_| ())
            .and_then(|bytes| terminal.write(bytes).map_err(|_| ()));
        match echoed {
            Ok(count) => total += u64::from(count),
            Err(()) => {
                let _ = log.write("write failed");
                return exit_code::FAILURE;
            }
        }
        if done {
            // The echo has no line end of its own: end it before the count.
            let line_end = Bytes::<TERMINAL_CHUNK>::from_slice(b"\n");
            if let Ok(line_end) = line_end {
                let _ = terminal.write(line_end);
            }
            let lost = terminal.lost().unwrap_or(u32::MAX);
            let _ = log.write_fmt(format_args!("{} bytes echoed, {} lost", total, lost));
            // Input for this session that it never reads: no other
            // client's to read.
            while terminal.avail().is_ok_and(|waiting| waiting < LEFT_UNREAD) {
                if kernel::kernel().wait_signal(input).is_err() {
                    return exit_code::FAILURE;
                }
            }
            return exit_code::SUCCESS;
        }
    }
}

/// The Terminal's next client: its session exists only because uart_echo's
/// was closed when uart_echo exited (the driver serves one at a time).
fn next(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok((mut terminal, _)) = env.terminal("") else {
        let _ = log.write("no Terminal session");
        return exit_code::FAILURE;
    };
    // What uart_echo's session received and left unread is not this one's.
    let waiting = terminal.avail().unwrap_or(u32::MAX);
    let read = terminal.read().map_or(usize::MAX, |read| read.len());
    if waiting != 0 || read != 0 {
        let _ = log.write_fmt(format_args!("read {} bytes uart_echo left unread", read));
        return exit_code::FAILURE;
    }
    let _ = log.write("no input uart_echo left unread");
    let line = Bytes::<TERMINAL_CHUNK>::from_slice(b"the Terminal serves its next client\n");
    match line.map_err(|_| ()).and_then(|line| terminal.write(line).map_err(|_| ())) {
        Ok(_) => {
            let _ = log.write("the session uart_echo left is mine");
            exit_code::SUCCESS
        }
        Err(()) => exit_code::FAILURE,
    }
}
