//! Echo over the network: TCP and UDP echo (RFC 862) on port 7 with
//! smoltcp, the same source on every board.
//!
//! Six components: core's LOG, Timer, IO_MEM and IRQ, the NIC driver
//! component (which reaches the Ethernet controller only through its IO_MEM
//! window and its interrupt only through its IRQ session),
//! and `echo_net`, which links smoltcp as a library and reaches the network
//! through its NIC session: frames travel through the session's two packet
//! streams, control calls through UTCBs. The main loop polls the stack,
//! echoes, and then sleeps on its one signal, which the NIC driver raises
//! when frames arrive and the Timer session when smoltcp's next timer is
//! due; the time (and the instructions) spent asleep are summed for the
//! benchmark. A control socket on UDP port 8 answers `stats` with one line
//! of `key=value` figures (instructions retired, virtual time and the part
//! of it spent asleep, bytes, the NIC's counters) for tests and `cargo
//! xtask bench net`, and `quit` ends the image with status 0. Whenever the
//! driver's drop counters change (at most once a second) they are logged.
#![no_std]
#![no_main]

mod control;
mod wakeup;

include!("app.rs");
