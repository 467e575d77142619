//! Components and sessions, in the spirit of Genode's parent/root model.
//!
//! A *service* (LOG, Timer, ...) is provided by a server component through
//! a [`Root`] object; a client obtains a *session* of it by asking its
//! parent with [`SessionArgs`] (a label and a quota). The parent (the
//! image's composer) routes the request by the image's routing table to
//! the server's root, which creates a session object and returns its
//! capability; `close` gives it back and `upgrade` raises its quota. A
//! request with no route is [`SessionError::Denied`].
//!
//! The routing table of an image is static: it is declared in the app
//! crate (the board crate's `compose!`) and checked at build time by the
//! `const fn`s here ([`check_routes`]): a route to a service nobody
//! provides, a route that would break the kernel's priority rule, or two
//! servers of one service without a label to tell them apart fail the
//! build with a message naming the mistake.
#![no_std]

use ferrode_ipc::{Capability, TransportError};

pub mod block;
pub mod i2c;
mod nic;
mod routes;

pub use block::{BLOCK, Block, BlockInfo};
pub use nic::{NIC, Nic, NicCounters};

pub use routes::{
    ComponentDecl, RouteDecl, check_after, check_counts, check_quota, check_routes,
    priority_in_range, priority_ok, provides, route_for, start_order_ok,
};

/// Sessions one component may hold: the composer records each session it
/// opens for a component in a table of this many, so a component's routes
/// are at most this many (checked at build time by [`check_quota`]).
pub const MAX_SESSIONS: usize = 10;

/// Longest session label, in bytes.
pub const LABEL_BYTES: usize = 32;

/// Longest LOG line, in bytes.
pub const LOG_LINE_BYTES: usize = 160;

ferrode_ipc::marshal! {
    /// What a client asks for when it requests a session.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SessionArgs {
        /// Who asks (the parent prefixes the client's name), and what for.
        pub label: heapless::String<LABEL_BYTES>,
        /// What the server may spend on this client, in the service's own
        /// unit (LOG: bytes per line).
        pub quota: u32,
    }
}

impl SessionArgs {
    /// What the session is for: the part of the label after the last
    /// `" -> "` (`"echo-net -> uart"` names `"uart"`), or `""` when the
    /// label names only the client.
    pub fn target(&self) -> &str {
        label_target(&self.label)
    }
}

/// The part of a session label after its last `" -> "`, or `""`.
///
/// A plain byte search: the separator is ASCII, so every index it finds
/// is a character boundary (and `str::get` keeps the panic path out).
pub fn label_target(label: &str) -> &str {
    const SEPARATOR: &[u8] = b" -> ";
    let bytes = label.as_bytes();
    let mut end = bytes.len();
    while end >= SEPARATOR.len() {
        if bytes.get(end - SEPARATOR.len()..end) == Some(SEPARATOR) {
            return label.get(end..).unwrap_or("");
        }
        end -= 1;
    }
    ""
}

/// The LOG line a client sends for `parts`, one after the other: cut at
/// [`LOG_LINE_BYTES`] bytes, at a character boundary, so a long line loses
/// its end and never fails.
pub fn log_line(parts: &[&str]) -> heapless::String<LOG_LINE_BYTES> {
    let mut line = heapless::String::new();
    for part in parts {
        let mut end = part.len().min(LOG_LINE_BYTES - line.len());
        while !part.is_char_boundary(end) {
            end -= 1;
        }
        let fits = part.get(..end).is_some_and(|head| line.push_str(head).is_ok());
        if !fits || end < part.len() {
            break;
        }
    }
    line
}

pub use ferrode_report::console::printable;

ferrode_ipc::marshal! {
    /// Why a session request or a session call failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SessionError {
        /// No route leads to a server of the service (or the label).
        Denied,
        /// The session's quota does not cover the request.
        QuotaExceeded,
        /// The server has no room for another session.
        OutOfSessions,
        /// The capability is no session of this server.
        UnknownSession,
        /// The session cannot close yet: its client still holds what the
        /// server lent it (a NIC session's packet-stream ends).
        InUse,
        /// The call itself failed.
        Transport(TransportError),
    }
}

ferrode_ipc::rpc_error!(SessionError::Transport);

impl core::fmt::Display for SessionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Denied => f.write_str("session denied: no route"),
            Self::QuotaExceeded => f.write_str("session quota exceeded"),
            Self::OutOfSessions => f.write_str("the server has no room for another session"),
            Self::UnknownSession => f.write_str("no session of this server"),
            Self::InUse => f.write_str("the session's client still holds what it was lent"),
            Self::Transport(error) => write!(f, "{error}"),
        }
    }
}

ferrode_ipc::interface! {
    /// What every session interface inherits: a session capability as the
    /// root hands it out, before the client sees it as its service's type.
    pub trait Session {
        /// The session's quota as the server accounts it.
        fn quota(&mut self) -> Result<u32, SessionError>;
    }
}

ferrode_ipc::interface! {
    /// A service's root: creates, closes and upgrades sessions.
    pub trait Root {
        /// A new session for `args`.
        fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError>;
        /// Ends a session; its resources go back to the server.
        fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError>;
        /// Raises a session's quota by `amount`; returns the new quota.
        fn upgrade(&mut self, session: Capability<dyn Session>, amount: u32) -> Result<u32, SessionError>;
        /// Ends the session of a client its parent has destroyed: what
        /// the client held of the session (shared buffers, packets) is
        /// the server's again, in whatever state the client left it,
        /// because the client never runs again. Only a parent may say so;
        /// a live client closes through [`Parent::close`]. By default as
        /// [`Root::close`], for servers that lend a client nothing.
        fn reclaim(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
            self.close(session)
        }
    }
}

ferrode_ipc::interface! {
    /// The LOG service: lines a component prints, prefixed with its label.
    pub trait Log: Session {
        /// Writes one line (without its line end).
        fn write(&mut self, line: heapless::String<LOG_LINE_BYTES>) -> Result<(), SessionError>;
    }
}

ferrode_ipc::interface! {
    /// What a component asks its parent (the image's composer), which
    /// answers for the sessions its routes opened.
    pub trait Parent {
        /// Closes the session of `service` opened for `label` (the server
        /// gets its resources back, every copy of the capability dies).
        fn close(&mut self, service: heapless::String<16>, label: heapless::String<LABEL_BYTES>) -> Result<(), SessionError>;
        /// Raises that session's quota by `amount`; returns the new quota.
        /// The parent decides how far: Ferrode's composer allows what the
        /// session's route says (`upgrade M`, in all) and refuses more
        /// with `QuotaExceeded`.
        fn upgrade(&mut self, service: heapless::String<16>, label: heapless::String<LABEL_BYTES>, amount: u32) -> Result<u32, SessionError>;
        /// The component is done; `status` 0 for success.
        fn exit(&mut self, status: u32) -> Result<(), SessionError>;
    }
}

/// Bytes one ROM read returns at most.
pub const ROM_CHUNK: usize = 192;

ferrode_ipc::interface! {
    /// The ROM service: a named read-only module linked into the image
    /// (a component's configuration, a table), chosen by the session label.
    pub trait Rom: Session {
        /// The module's size in bytes.
        fn size(&mut self) -> Result<u32, SessionError>;
        /// Up to [`ROM_CHUNK`] bytes from `offset` (fewer at the end; none
        /// at or past it).
        fn read(&mut self, offset: u32) -> Result<ferrode_ipc::Bytes<ROM_CHUNK>, SessionError>;
    }
}

ferrode_ipc::interface! {
    /// A signal as an RPC argument: calls through it fail, but it travels
    /// in a message like any capability (a copy only submits).
    pub trait SignalSource {}
}

ferrode_ipc::interface! {
    /// The Timer service: the monotonic clock and timeouts delivered as
    /// signals, many sessions multiplexed onto the board's one alarm.
    pub trait Timer: Session {
        /// Microseconds since boot.
        fn now_us(&mut self) -> Result<u64, SessionError>;
        /// Where this session's timeouts are delivered (the client's own
        /// signal; the server gets a submit-only copy).
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// Arms the session's timeout `after_us` from now, once or every
        /// `after_us` (`periodic`); replaces an armed one. Shorter than the
        /// session's quota (the shortest timeout it may ask for, in µs) is
        /// refused with `QuotaExceeded`; so is a period below the server's
        /// floor when the session has no quota (the board's Timer:
        /// 1,000 µs), since one call would otherwise keep the server busy
        /// for good.
        fn trigger(&mut self, after_us: u64, periodic: bool) -> Result<(), SessionError>;
        /// Disarms the session's timeout.
        fn stop(&mut self) -> Result<(), SessionError>;
    }
}

/// The name of the Timer service in routing tables.
pub const TIMER: &str = "Timer";

ferrode_ipc::interface! {
    /// The Rtc service: the date, as the board's real-time clock keeps it.
    pub trait Rtc: Session {
        /// Seconds since 1970-01-01 00:00 UTC; `Denied` on a board without
        /// a real-time clock.
        fn seconds(&mut self) -> Result<u64, SessionError>;
    }
}

/// The name of the Rtc service in routing tables.
pub const RTC: &str = "Rtc";

/// The name of the ROM service in routing tables.
pub const ROM: &str = "ROM";

/// The name of the LOG service in routing tables.
pub const LOG: &str = "LOG";

ferrode_ipc::marshal! {
    /// A device's register window as an IO_MEM session grants it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct IoWindow {
        /// Physical base address.
        pub base: u32,
        /// Size in bytes.
        pub size: u32,
    }
}

ferrode_ipc::interface! {
    /// The IO_MEM service: the register window of the one device the
    /// session's label names (the route's label: `gpio: "IO_MEM" "gpio" =>
    /// io_mem`). The platform's device table is the only place that knows
    /// addresses; a label naming no device is denied, and each device is
    /// granted to one session at a time.
    pub trait IoMem: Session {
        /// The window.
        fn window(&mut self) -> Result<IoWindow, SessionError>;
    }
}

ferrode_ipc::interface! {
    /// The IRQ service: the interrupt of the device the session's label
    /// names, delivered as a signal. The interrupt stays masked at the
    /// controller from the moment it fires until the driver has served its
    /// device and calls `ack`, so a level-triggered device cannot storm.
    pub trait Irq: Session {
        /// Where the interrupt is delivered (the driver's own signal; the
        /// server keeps a submit-only copy). Unmasks the interrupt.
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// The driver has served the device: unmask the interrupt again.
        fn ack(&mut self) -> Result<(), SessionError>;
    }
}

ferrode_ipc::interface! {
    /// The GPIO service (a driver component's): the pins of one session
    /// are the bits of its quota, as its route grants them (`blinky:
    /// "Gpio" "leds" => gpio quota 0xff`); a pin outside them is refused
    /// with [`SessionError::QuotaExceeded`].
    pub trait Gpio: Session {
        /// Makes `pin` an output driving `level`, or an input.
        fn configure(&mut self, pin: u8, output: bool, level: bool) -> Result<(), SessionError>;
        /// Drives the session's output pins in `mask` to the bits of
        /// `value`, in one register write.
        fn write(&mut self, mask: u32, value: u32) -> Result<(), SessionError>;
        /// The levels of the session's pins (others read as 0).
        fn read(&mut self) -> Result<u32, SessionError>;
        /// Where the session's input changes are signalled (the client's
        /// own signal; the server keeps a submit-only copy).
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// Signals a change of the session's input `pins` as `trigger`
        /// says ([`GpioTrigger::Off`]: no more). A level is signalled once
        /// per `watch`. A trigger the block cannot detect is `Denied`.
        fn watch(&mut self, pins: u32, trigger: GpioTrigger) -> Result<(), SessionError>;
        /// The session's pins whose change was signalled since the last
        /// call, cleared.
        fn take_changes(&mut self) -> Result<u32, SessionError>;
    }
}

ferrode_ipc::marshal! {
    /// Which change of a GPIO input is signalled ([`Gpio::watch`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum GpioTrigger {
        /// None: stop watching.
        Off,
        /// Low to high.
        RisingEdge,
        /// High to low.
        FallingEdge,
        /// Either edge.
        BothEdges,
        /// While high.
        HighLevel,
        /// While low.
        LowLevel,
    }
}

/// The name of the IO_MEM service in routing tables.
pub const IO_MEM: &str = "IO_MEM";

/// The name of the IRQ service in routing tables.
pub const IRQ: &str = "IRQ";

/// The name of the GPIO service in routing tables.
pub const GPIO: &str = "Gpio";

/// Bytes one I2c transfer writes, or reads, at most: a DS1338's register
/// pointer and all 56 bytes of its RAM fit one write.
pub const I2C_CHUNK: usize = 64;

ferrode_ipc::marshal! {
    /// How an I2c transfer failed on the bus: embedded-hal's error kinds,
    /// as the bus's driver component saw them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum I2cFault {
        /// Nobody acknowledged the session's device address: no device
        /// there, or it is busy.
        NoAcknowledgeAddress,
        /// The device did not acknowledge a byte written to it.
        NoAcknowledgeData,
        /// Another master won the bus.
        ArbitrationLoss,
        /// A device holds a line low: the bus is stuck or timed out (the
        /// driver then clears it, nine clocks and a STOP, for the next
        /// transfer).
        Bus,
        /// Not a transfer the service makes: a read of more than
        /// [`I2C_CHUNK`] bytes.
        TooLong,
    }
}

impl core::fmt::Display for I2cFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoAcknowledgeAddress => "the device did not acknowledge its address",
            Self::NoAcknowledgeData => "the device did not acknowledge a byte written to it",
            Self::ArbitrationLoss => "another master won the bus",
            Self::Bus => "the bus is stuck (a device holds a line low)",
            Self::TooLong => "a transfer longer than the service carries",
        })
    }
}

ferrode_ipc::interface! {
    /// The I2c service (the bus's driver component): transfers with the
    /// one device a session's route grants, whose 7-bit address is the
    /// session's quota (`clock: "I2c" "rtc" => i2c quota 0x68`). The
    /// client never names an address, so it reaches no other device; two
    /// sessions never share one.
    pub trait I2c: Session {
        /// One bus transaction with the session's device: `write` (if any
        /// bytes), then, after a repeated START, `read` bytes (if any),
        /// which come back; nothing of another session's transfers runs
        /// between. An empty transfer only addresses the device (a probe).
        fn transfer(
            &mut self,
            write: ferrode_ipc::Bytes<I2C_CHUNK>,
            read: u32,
        ) -> Result<Result<ferrode_ipc::Bytes<I2C_CHUNK>, I2cFault>, SessionError>;
    }
}

/// The name of the I2c service in routing tables.
pub const I2C: &str = "I2c";

/// Bytes one Terminal read returns, or one write takes, at most.
pub const TERMINAL_CHUNK: usize = 192;

ferrode_ipc::interface! {
    /// The Terminal service (a driver component's): a byte stream over a
    /// UART, in both directions. Reads never wait: a client reads until a
    /// read returns nothing, then sleeps on its own signal, which the
    /// driver submits when input arrives after that read, and reads
    /// again.
    pub trait Terminal: Session {
        /// Queues `bytes` for output, in order; returns how many were taken
        /// (all of them: the driver waits for room in the UART).
        fn write(&mut self, bytes: ferrode_ipc::Bytes<TERMINAL_CHUNK>) -> Result<u32, SessionError>;
        /// Up to [`TERMINAL_CHUNK`] received bytes, in order; none if
        /// nothing is waiting. A byte lost to a receive overrun is counted
        /// ([`Terminal::lost`]), never returned.
        fn read(&mut self) -> Result<ferrode_ipc::Bytes<TERMINAL_CHUNK>, SessionError>;
        /// Where "input arrived" is delivered (the client's own signal; the
        /// server keeps a submit-only copy). Submitted once at once if input
        /// is already waiting.
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// Received bytes waiting to be read (what the next reads return at
        /// least).
        fn avail(&mut self) -> Result<u32, SessionError>;
        /// Received bytes the UART lost since this session opened
        /// (receive overruns: input faster than the driver drained it).
        fn lost(&mut self) -> Result<u32, SessionError>;
    }
}

/// The name of the Terminal service in routing tables.
pub const TERMINAL: &str = "Terminal";

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{LOG_LINE_BYTES, SessionArgs, SessionError, log_line};
    use ferrode_ipc::TransportError;

    #[test]
    fn i2c_faults_say_what_happened_on_the_bus() {
        use super::I2cFault;
        let said = |fault: I2cFault| std::format!("{fault}");
        assert_eq!(
            said(I2cFault::NoAcknowledgeAddress),
            "the device did not acknowledge its address"
        );
        assert_eq!(said(I2cFault::Bus), "the bus is stuck (a device holds a line low)");
        assert_eq!(said(I2cFault::TooLong), "a transfer longer than the service carries");
    }

    #[test]
    fn a_session_is_for_what_its_label_names_after_the_last_arrow() {
        let args = |label: &str| SessionArgs { label: label.try_into().unwrap(), quota: 0 };
        assert_eq!(args("blinky -> leds").target(), "leds");
        assert_eq!(args("echo-net").target(), "");
    }

    #[test]
    fn every_session_error_reads_as_a_message_of_its_own() {
        use std::string::ToString;
        let errors = [
            SessionError::Denied,
            SessionError::QuotaExceeded,
            SessionError::OutOfSessions,
            SessionError::UnknownSession,
            SessionError::InUse,
            SessionError::Transport(TransportError::ServerDead),
        ];
        let texts: std::vec::Vec<_> = errors.iter().map(ToString::to_string).collect();
        for (index, text) in texts.iter().enumerate() {
            assert!(!text.is_empty());
            assert!(!texts[..index].contains(text), "{text:?} twice");
        }
        // A transport failure reads as the transport error.
        assert_eq!(texts[5], TransportError::ServerDead.to_string());
    }

    #[test]
    fn a_log_line_joins_its_parts() {
        assert_eq!(
            log_line(&["Hello from ", "Ferrode", " (", "armv7a", ")!"]),
            "Hello from Ferrode (armv7a)!"
        );
        assert_eq!(log_line(&[]), "");
        assert_eq!(log_line(&["", "a", ""]), "a");
    }

    #[test]
    fn a_long_log_line_is_cut_at_a_character_boundary() {
        let exact = "x".repeat(LOG_LINE_BYTES);
        assert_eq!(log_line(&[&exact]), exact.as_str());
        assert_eq!(log_line(&[&exact, "more"]), exact.as_str());
        // A two-byte character across the limit goes as a whole, not half.
        let head = "y".repeat(LOG_LINE_BYTES - 1);
        let line = log_line(&[&head, "é", "z"]);
        assert_eq!(line, head.as_str());
        // Parts after a cut one are not appended.
        let half = "w".repeat(LOG_LINE_BYTES / 2);
        let line = log_line(&[&half, &"ü".repeat(LOG_LINE_BYTES), "tail"]);
        assert_eq!(line.len(), LOG_LINE_BYTES);
        assert!(line.starts_with(&half) && line.ends_with('ü') && !line.contains("tail"));
    }

    #[test]
    fn every_cut_keeps_whole_characters() {
        let text = "grüße 世界 🦀 ".repeat(20);
        // Every start whose rest is longer than a line.
        let starts = (0..text.len() - LOG_LINE_BYTES).filter(|&at| text.is_char_boundary(at));
        for start in starts {
            let line = log_line(&["ab", &text[start..]]);
            assert!(line.len() <= LOG_LINE_BYTES);
            assert!(LOG_LINE_BYTES - line.len() < 4, "cut more than a character short");
            assert!(text[start..].starts_with(&line[2..]));
        }
    }
}
