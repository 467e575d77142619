//! Whose line the board console shows: the line discipline that keeps
//! every component's console output under its own name.
//!
//! All components write to one console. A component's `println!` goes
//! out as lines that start with its name in brackets (`[client] ...`), as
//! its LOG session's lines start with the session's label; the image's
//! own writers (the composer, the board's reports, the LOG server, an app
//! without components) write unlabelled lines. [`Lines`] decides what
//! reaches the console so that no writer's text can pass for another's:
//!
//! - Every line of a component starts with its label, also after each
//!   line end inside one write.
//! - A component's control characters show as `?` ([`printable`]):
//!   a carriage return or an escape sequence could move the cursor back
//!   over a line and write another label there.
//! - A line one writer left open (text without a line end) is ended
//!   before another writer's text: two writers never share a line.

/// Who writes to the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// The image itself: the composer, the board's reports and LOG
    /// server, an app without components. Its text goes out as it is.
    Image,
    /// A component, by its name: its lines start with `[name] `.
    Component(&'static str),
}

/// The console's line state: whose line is open, if any. A `Copy` value,
/// so the board can keep it in a `Cell` under its critical section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// The writer whose line is open (text since the last line end).
    open: Option<Writer>,
}

impl Lines {
    /// No line open.
    pub const fn new() -> Self {
        Self { open: None }
    }

    /// Hands `out` what `text`, written by `writer`, puts on the console:
    /// line ends as `\n` (the board's console turns them into CR LF).
    #[inline]
    pub fn write(&mut self, writer: Writer, text: &str, out: impl FnMut(&str)) {
        match writer {
            Writer::Image => self.write_image(text, out),
            Writer::Component(_) => self.write_component(writer, text, out),
        }
    }

    /// The image's text: as it is, on a line of its own if another
    /// writer's is open.
    fn write_image(&mut self, text: &str, mut out: impl FnMut(&str)) {
        if text.is_empty() {
            return;
        }
        if self.open != Some(Writer::Image) {
            self.end_open(&mut out);
        }
        out(text);
        self.open = if text.ends_with('\n') { None } else { Some(Writer::Image) };
    }

    /// A component's text: each line under its label, control characters
    /// as `?`.
    fn write_component(&mut self, writer: Writer, text: &str, mut out: impl FnMut(&str)) {
        let mut rest = text;
        while !rest.is_empty() {
            let (body, ends) = match rest.find('\n') {
                Some(end) => (rest.get(..end).unwrap_or_default(), true),
                None => (rest, false),
            };
            rest = rest.get(body.len() + usize::from(ends)..).unwrap_or_default();
            self.open_for(writer, &mut out);
            printable(body, &mut out);
            if ends {
                out("\n");
                self.open = None;
            }
        }
    }

    /// Starts a whole line of the image's (a LOG line, a report): ends a
    /// line another writer left open first. The caller writes the line's
    /// text with [`write`](Self::write) as [`Writer::Image`], ending it
    /// with a line end.
    pub fn start_line(&mut self, out: impl FnMut(&str)) {
        self.end_open(out);
    }

    /// Makes the open line `writer`'s: ends another writer's, and starts a
    /// new line with the label of a component's.
    fn open_for(&mut self, writer: Writer, mut out: impl FnMut(&str)) {
        if self.open == Some(writer) {
            return;
        }
        self.end_open(&mut out);
        if let Writer::Component(name) = writer {
            for piece in ["[", name, "] "] {
                out(piece);
            }
        }
        self.open = Some(writer);
    }

    /// Ends the open line, if any.
    fn end_open(&mut self, mut out: impl FnMut(&str)) {
        if self.open.take().is_some() {
            out("\n");
        }
    }
}

/// Console bytes on their way to the UART. A writer queues its line here
/// at once, with interrupts masked so that no other writer's bytes come
/// between (a copy: quick), and the bytes go on to the UART afterwards,
/// in steps that each take only what the UART has room for: interrupts
/// stay masked only for a step, never while the line waits for the UART.
/// (A line of 100 bytes takes 8.7 ms at 115200 baud: with interrupts
/// masked that long, a UART's receive FIFO overruns, a NIC with two
/// receive buffers drops frames and timeouts come late.)
pub struct Outbox<const N: usize> {
    bytes: [u8; N],
    /// Where the oldest byte is.
    start: usize,
    /// How many bytes are queued.
    len: usize,
}

impl<const N: usize> Outbox<N> {
    /// Empty.
    pub const fn new() -> Self {
        Self { bytes: [0; N], start: 0, len: 0 }
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues as many of `bytes` as there is room for, after those
    /// queued before; returns how many.
    pub fn queue(&mut self, bytes: &[u8]) -> usize {
        let mut taken = 0;
        for &byte in bytes {
            if self.len == N {
                break;
            }
            let at = (self.start + self.len) % N;
            if let Some(slot) = self.bytes.get_mut(at) {
                *slot = byte;
            }
            self.len += 1;
            taken += 1;
        }
        taken
    }

    /// Offers the oldest queued bytes to `write` (the UART, which takes
    /// what its FIFO has room for and says how many it took), in order,
    /// until it takes fewer than offered or none are left, and drops those
    /// it took. Returns whether the outbox is empty.
    pub fn send(&mut self, mut write: impl FnMut(&[u8]) -> usize) -> bool {
        while self.len > 0 {
            // The oldest bytes up to the end of the array, or to the last.
            let end = (self.start + self.len).min(N);
            let offered = self.bytes.get(self.start..end).unwrap_or_default();
            let taken = write(offered).min(offered.len());
            self.start = (self.start + taken) % N;
            self.len -= taken;
            if taken < offered.len() {
                break;
            }
        }
        self.len == 0
    }
}

impl<const N: usize> Default for Outbox<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Hands `out` the pieces of a LOG line `text` as the console shows it:
/// the text with each control character (`char::is_control`: a line end,
/// a carriage return, a zero byte, an escape, C1 controls) given as `?`.
/// A line a client sends is one line under its label: with a line end in
/// it, the rest would start a console line of its own and could pass for
/// another component's (`[other] ...`), a zero byte would open a defmt
/// frame that swallows the lines after it, and an escape sequence could
/// move the cursor over earlier lines.
///
/// A byte loop, no UTF-8 decoding: a control character is one byte below
/// 0x20 or 0x7f, or the two bytes 0xc2 0x80..=0x9f (U+0080..=U+009F), so
/// every cut is at a character boundary.
pub fn printable(text: &str, mut out: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let (mut start, mut at) = (0, 0);
    while let Some(&byte) = bytes.get(at) {
        let width = match byte {
            0..=0x1f | 0x7f => 1,
            0xc2 if matches!(bytes.get(at + 1), Some(0x80..=0x9f)) => 2,
            _ => 0,
        };
        if width == 0 {
            at += 1;
            continue;
        }
        out(text.get(start..at).unwrap_or_default());
        out("?");
        at += width;
        start = at;
    }
    out(text.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    const A: Writer = Writer::Component("a");
    const B: Writer = Writer::Component("b");

    /// The console after `writes`, each a writer and its text (`None`:
    /// a whole line of the image's, started with `start_line`).
    fn console(writes: &[(Option<Writer>, &str)]) -> String {
        let mut lines = Lines::new();
        let mut shown = String::new();
        for &(writer, text) in writes {
            let out = |piece: &str| shown.push_str(piece);
            match writer {
                Some(writer) => lines.write(writer, text, out),
                None => {
                    lines.start_line(out);
                    lines.write(Writer::Image, text, |piece| shown.push_str(piece));
                    lines.write(Writer::Image, "\n", |piece| shown.push_str(piece));
                }
            }
        }
        shown
    }

    #[test]
    fn every_line_of_a_component_starts_with_its_label() {
        assert_eq!(console(&[(Some(A), "one\ntwo\n")]), "[a] one\n[a] two\n");
        assert_eq!(console(&[(Some(A), "\n\n")]), "[a] \n[a] \n");
        // A line written in pieces gets one label.
        assert_eq!(console(&[(Some(A), "x = "), (Some(A), "1\n")]), "[a] x = 1\n");
    }

    #[test]
    fn a_component_cannot_write_a_line_that_passes_for_another() {
        assert_eq!(
            console(&[(Some(A), "ok\n[b] 0 checks failed\n")]),
            "[a] ok\n[a] [b] 0 checks failed\n"
        );
        // Back to the line start, or an escape sequence: shown as `?`.
        assert_eq!(console(&[(Some(A), "\r[b] x\x1b[2K\n")]), "[a] ?[b] x?[2K\n");
        assert_eq!(console(&[(Some(A), "\u{85}[b]\n")]), "[a] ?[b]\n");
    }

    #[test]
    fn writers_never_share_a_line() {
        // b writes while a's line is open: a's is ended first, and a's
        // next text starts a labelled line again.
        assert_eq!(
            console(&[(Some(A), "half"), (Some(B), "b's\n"), (Some(A), " more\n")]),
            "[a] half\n[b] b's\n[a]  more\n"
        );
        // A line of the image's (a LOG line) starts on a line of its own.
        assert_eq!(
            console(&[(Some(A), "half"), (None, "[log] line"), (Some(A), "rest\n")]),
            "[a] half\n[log] line\n[a] rest\n"
        );
        // A whole line of the image's does not continue its open one either.
        assert_eq!(console(&[(Some(Writer::Image), "image "), (None, "whole")]), "image \nwhole\n");
        // And a component's text does not continue the image's open line.
        assert_eq!(
            console(&[(Some(Writer::Image), "image "), (Some(A), "a\n")]),
            "image \n[a] a\n"
        );
    }

    #[test]
    fn the_images_text_goes_out_as_it_is() {
        assert_eq!(
            console(&[(Some(Writer::Image), "x\ty\r\n"), (Some(Writer::Image), "z")]),
            "x\ty\r\nz"
        );
        assert_eq!(console(&[(None, "whole")]), "whole\n");
    }

    #[test]
    fn nothing_is_written_for_nothing() {
        assert_eq!(console(&[(Some(A), ""), (Some(B), "")]), "");
        let mut lines = Lines::new();
        lines.start_line(|_| panic!("no line is open"));
    }

    /// A UART whose FIFO takes `room` bytes per step.
    fn uart(sent: &mut std::vec::Vec<u8>, room: usize) -> impl FnMut(&[u8]) -> usize + '_ {
        move |bytes: &[u8]| {
            let taken = bytes.len().min(room);
            sent.extend_from_slice(&bytes[..taken]);
            taken
        }
    }

    #[test]
    fn the_outbox_sends_in_order_what_the_uart_has_room_for() {
        let mut outbox = Outbox::<8>::new();
        assert!(outbox.is_empty());
        assert_eq!(outbox.queue(b"hello"), 5);
        assert!(!outbox.is_empty());
        let mut sent = std::vec::Vec::new();
        // Three bytes of room: the step sends those and stops.
        assert!(!outbox.send(uart(&mut sent, 3)));
        assert_eq!(sent, b"hel");
        // Queued after what is left, across the array's end.
        assert_eq!(outbox.queue(b" world"), 6);
        assert!(!outbox.send(uart(&mut sent, 0)), "a full FIFO takes nothing");
        assert!(outbox.send(uart(&mut sent, 100)));
        assert_eq!(sent, b"hello world");
        assert!(outbox.is_empty());
    }

    #[test]
    fn a_full_outbox_takes_what_fits_and_loses_nothing() {
        let mut outbox = Outbox::<4>::new();
        assert_eq!(outbox.queue(b"abcdef"), 4);
        assert_eq!(outbox.queue(b"x"), 0);
        let mut sent = std::vec::Vec::new();
        assert!(!outbox.send(uart(&mut sent, 1)));
        assert_eq!(outbox.queue(b"ef"), 1);
        // One byte at a time, wrapping round twice.
        for _ in 0..3 {
            assert!(!outbox.send(uart(&mut sent, 1)));
            assert_eq!(outbox.queue(b"e"), 1);
        }
        assert!(outbox.send(uart(&mut sent, 1000)));
        assert_eq!(sent, b"abcdeeee");
        // A UART that claims more than it was offered takes what it was.
        assert_eq!(outbox.queue(b"yz"), 2);
        let mut sent = std::vec::Vec::new();
        assert!(outbox.send(|bytes: &[u8]| {
            sent.extend_from_slice(bytes);
            bytes.len() + 5
        }));
        assert_eq!(sent, b"yz");
        assert!(outbox.is_empty());
    }

    fn shown(text: &str) -> std::string::String {
        let mut shown = std::string::String::new();
        printable(text, |piece| shown.push_str(piece));
        shown
    }

    #[test]
    fn a_log_line_cannot_start_another_line() {
        assert_eq!(shown("plain text, ünïcode 🦀"), "plain text, ünïcode 🦀");
        assert_eq!(shown(""), "");
        assert_eq!(shown("a\n[log] forged"), "a?[log] forged");
        assert_eq!(shown("\r\n"), "??");
        assert_eq!(shown("\0frame\0"), "?frame?");
        assert_eq!(shown("\u{1b}[2J\t\u{7f}"), "?[2J??");
        // C1 controls (two bytes in UTF-8) too: NEL is a line end to some
        // terminals, CSI an escape.
        assert_eq!(shown("x\u{85}y\u{9b}2J"), "x?y?2J");
        // Nothing else is touched: U+00A0 follows the C1 block.
        assert_eq!(shown("\u{a0}\u{2028}"), "\u{a0}\u{2028}");
    }

    #[test]
    fn only_control_characters_are_replaced() {
        // Every character of the first 0x800 and a few beyond, alone and
        // between others: what `char::is_control` says, as one `?`.
        let characters = (0..0x800u32).chain([0xfeff, 0x1_f980]).filter_map(char::from_u32);
        for character in characters {
            let text = std::format!("a{character}b");
            let expected = if character.is_control() {
                std::string::String::from("a?b")
            } else {
                text.clone()
            };
            assert_eq!(shown(&text), expected, "U+{:04X}", character as u32);
        }
    }
}
