//! Hello: the smallest Ferrode application, one source for every board.
//!
//! Two components: the core LOG service and `hello`, whose one session is
//! a LOG session; its line reaches the console prefixed with its label, as
//! Genode prints it.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::{BOARD_NAME, arch};

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
    }
    clients {
        hello: { priority: 2, stack: 4096, main: hello },
    }
    routes {
        hello: "LOG" "" => log,
    }
    // The composer (the boot thread) peaks at about 1.4 KiB here
    // (`cargo xtask stacks`): half the default 8 KiB is plenty.
    parent_stack: 4096,
}

fn hello(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return ferrode_board::exit_code::FAILURE };
    // `log.write_fmt(format_args!(...))` would do as well, at the price of
    // linking core::fmt (about 3 KiB): hello formats nothing.
    match log.write_parts(&["Hello from Ferrode on ", BOARD_NAME, " (", arch::ARCH_NAME, ")!"]) {
        Ok(()) => ferrode_board::exit_code::SUCCESS,
        Err(_) => ferrode_board::exit_code::FAILURE,
    }
}
