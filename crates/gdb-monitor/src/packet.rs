//! Packet framing: `$data#cs`, the modulo-256 checksum, `}` escapes, acks.
//!
//! The [`Decoder`] takes bytes as they come off the connection (a packet
//! may arrive in pieces) and yields whole, checked packets with escapes
//! removed. Everything it cannot use is dropped without harm: bytes
//! between packets (garbage), a packet whose checksum is wrong or whose
//! data does not fit [`MAX_PACKET`] (both answered with `-`, so a real
//! debugger would resend).

/// The most data bytes (after unescaping) of one packet; advertised as
/// `PacketSize` (which counts the raw data, at least as long).
pub const MAX_PACKET: usize = 1024;

/// What one input byte completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A packet whose checksum matched (answer `+`, then reply).
    Packet(&'a [u8]),
    /// The interrupt byte (0x03) outside a packet: the debugger asks the
    /// running target to stop.
    Interrupt,
    /// A packet whose checksum did not match (answer `-`).
    BadChecksum,
    /// A packet with more than [`MAX_PACKET`] data bytes (answer `-`).
    Oversized,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between packets: waiting for `$`.
    Idle,
    /// Inside a packet's data.
    Data,
    /// After `}`: the next byte is escaped (XOR 0x20).
    Escape,
    /// After `#`: the checksum's first digit.
    Checksum1,
    /// The checksum's second digit; holds the first.
    Checksum2(u8),
}

/// Turns a byte stream into packets.
pub struct Decoder {
    state: State,
    buffer: [u8; MAX_PACKET],
    length: usize,
    /// The sum of the raw data bytes (escapes included), modulo 256.
    sum: u8,
    /// More data than the buffer holds arrived for this packet.
    overflow: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder waiting for a packet.
    pub const fn new() -> Self {
        Self { state: State::Idle, buffer: [0; MAX_PACKET], length: 0, sum: 0, overflow: false }
    }

    /// Forgets any partial packet (a new connection).
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.length = 0;
    }

    /// Takes one byte; returns what it completed, if anything. A returned
    /// packet borrows the decoder until the next byte.
    pub fn push(&mut self, byte: u8) -> Option<Event<'_>> {
        match self.state {
            State::Idle => match byte {
                b'$' => self.start(),
                0x03 => return Some(Event::Interrupt),
                // Acks ('+', '-') and garbage: the connection is reliable
                // (TCP), so a '-' needs no resend, and garbage is dropped.
                _ => {}
            },
            State::Data | State::Escape => match byte {
                // A '$' never appears unescaped inside a packet: the
                // debugger started over.
                b'$' => self.start(),
                b'#' if self.state == State::Data => self.state = State::Checksum1,
                _ => {
                    self.sum = self.sum.wrapping_add(byte);
                    let value = if self.state == State::Escape {
                        self.state = State::Data;
                        byte ^ 0x20
                    } else if byte == b'}' {
                        self.state = State::Escape;
                        return None;
                    } else {
                        byte
                    };
                    match self.buffer.get_mut(self.length) {
                        Some(slot) => {
                            *slot = value;
                            self.length += 1;
                        }
                        None => self.overflow = true,
                    }
                }
            },
            State::Checksum1 => match crate::hex::digit(byte) {
                Some(high) => self.state = State::Checksum2(high),
                None => return self.bad(),
            },
            State::Checksum2(high) => {
                self.state = State::Idle;
                let Some(low) = crate::hex::digit(byte) else { return Some(Event::BadChecksum) };
                if high << 4 | low != self.sum {
                    return Some(Event::BadChecksum);
                }
                if self.overflow {
                    return Some(Event::Oversized);
                }
                return Some(Event::Packet(&self.buffer[..self.length]));
            }
        }
        None
    }

    fn start(&mut self) {
        self.state = State::Data;
        self.length = 0;
        self.sum = 0;
        self.overflow = false;
    }

    fn bad(&mut self) -> Option<Event<'_>> {
        self.state = State::Idle;
        Some(Event::BadChecksum)
    }
}

/// The modulo-256 sum of `data`.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte))
}

/// Builds one reply packet in a fixed buffer: `$`, the data (escaping the
/// bytes the protocol reserves), `#` and the checksum. Data that would not
/// fit is cut off at a whole byte and [`Reply::overflowed`] says so; the
/// callers bound what they ask for so that it never happens.
pub struct Reply<'b> {
    buffer: &'b mut [u8],
    length: usize,
    sum: u8,
    overflowed: bool,
}

/// Room a reply keeps for `#` and the two checksum digits.
const TRAILER: usize = 3;

impl<'b> Reply<'b> {
    /// Starts a reply in `buffer` (at least 4 bytes).
    pub fn new(buffer: &'b mut [u8]) -> Self {
        assert!(buffer.len() > TRAILER, "a reply buffer holds at least $#cs");
        buffer[0] = b'$';
        Self { buffer, length: 1, sum: 0, overflowed: false }
    }

    /// Appends one data byte, escaped if it is `$`, `#`, `}` or `*`.
    pub fn byte(&mut self, byte: u8) {
        let escaped = matches!(byte, b'$' | b'#' | b'}' | b'*');
        let needed = if escaped { 2 } else { 1 };
        if self.length + needed + TRAILER > self.buffer.len() {
            self.overflowed = true;
            return;
        }
        if escaped {
            self.raw(b'}');
            self.raw(byte ^ 0x20);
        } else {
            self.raw(byte);
        }
    }

    fn raw(&mut self, byte: u8) {
        self.buffer[self.length] = byte;
        self.length += 1;
        self.sum = self.sum.wrapping_add(byte);
    }

    /// Appends bytes as they are (escaped where needed).
    pub fn bytes(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.byte(b));
    }

    /// Appends each byte as two lower-case hex digits.
    pub fn hex(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.byte(crate::hex::to_digit(byte >> 4));
            self.byte(crate::hex::to_digit(byte));
        }
    }

    /// Appends a number in hex without leading zeros.
    pub fn number(&mut self, value: u32) {
        let digits = (32 - value.leading_zeros()).div_ceil(4).max(1);
        for shift in (0..digits).rev() {
            self.byte(crate::hex::to_digit((value >> (shift * 4)) as u8));
        }
    }

    /// Whether some data did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Data bytes written so far (escapes included, `$` not).
    pub fn data_len(&self) -> usize {
        self.length - 1
    }

    /// Ends the packet; returns its length in the buffer.
    pub fn finish(self) -> usize {
        let sum = self.sum;
        let mut at = self.length;
        for byte in [b'#', crate::hex::to_digit(sum >> 4), crate::hex::to_digit(sum)] {
            self.buffer[at] = byte;
            at += 1;
        }
        at
    }
}

impl core::fmt::Write for Reply<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.bytes(text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Feeds `input` and collects what it completed, packets as text.
    fn events(decoder: &mut Decoder, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &byte in input {
            match decoder.push(byte) {
                Some(Event::Packet(data)) => {
                    out.push(format!("packet {}", String::from_utf8_lossy(data)))
                }
                Some(other) => out.push(format!("{other:?}")),
                None => {}
            }
        }
        out
    }

    fn framed(data: &str) -> Vec<u8> {
        format!("${data}#{:02x}", checksum(data.as_bytes())).into_bytes()
    }

    #[test]
    fn a_packet_in_pieces_with_acks_and_garbage_around_it() {
        let mut decoder = Decoder::new();
        assert!(events(&mut decoder, b"+junk\r\n-$qSupp").is_empty());
        assert_eq!(events(&mut decoder, b"orted#37"), ["packet qSupported"]);
        assert_eq!(checksum(b"qSupported"), 0x37);
    }

    #[test]
    fn bad_checksum_is_reported_and_the_next_packet_still_decodes() {
        let mut decoder = Decoder::new();
        assert_eq!(events(&mut decoder, b"$g#00"), ["BadChecksum"]);
        assert_eq!(events(&mut decoder, b"$g#zz"), ["BadChecksum"]);
        assert_eq!(events(&mut decoder, b"$g#6"), Vec::<String>::new());
        assert_eq!(events(&mut decoder, b"7"), ["packet g"]);
    }

    #[test]
    fn oversized_packet_is_refused_then_decoding_resumes() {
        let mut decoder = Decoder::new();
        let big = "m".repeat(MAX_PACKET + 1);
        assert_eq!(events(&mut decoder, &framed(&big)), ["Oversized"]);
        let exact = "x".repeat(MAX_PACKET);
        let got = events(&mut decoder, &framed(&exact));
        assert_eq!(got, [format!("packet {exact}")]);
        assert_eq!(events(&mut decoder, &framed("?")), ["packet ?"]);
    }

    #[test]
    fn escapes_are_removed_and_counted_in_the_checksum() {
        let mut decoder = Decoder::new();
        // "X0,1:" then an escaped '#' (}\x03).
        assert_eq!(events(&mut decoder, &framed("X0,1:}\x03")), ["packet X0,1:#"]);
    }

    /// After `}` the next byte is data XORed with 0x20 whatever it is:
    /// `}#` is an escaped 0x03, not the packet's end, and a byte with the
    /// 0x20 bit set loses it.
    #[test]
    fn a_brace_escapes_any_byte_even_a_hash() {
        let mut decoder = Decoder::new();
        assert_eq!(events(&mut decoder, &framed("a}#b")), ["packet a\u{3}b"]);
    }

    #[test]
    fn interrupt_byte_between_packets_and_restart_on_dollar() {
        let mut decoder = Decoder::new();
        assert_eq!(events(&mut decoder, b"\x03"), ["Interrupt"]);
        // A '$' inside a packet starts a new one; 0x03 inside is data.
        let mut input = b"$mgarb$".to_vec();
        input.extend_from_slice(&framed("c")[1..]);
        assert_eq!(events(&mut decoder, &input), ["packet c"]);
    }

    #[test]
    fn replies_escape_and_sum() {
        let mut buffer = [0u8; 32];
        let mut reply = Reply::new(&mut buffer);
        reply.bytes(b"a#b");
        reply.number(0x1f);
        assert!(!reply.overflowed(), "it all fit");
        let n = reply.finish();
        let expected_data = b"a}\x03b1f";
        let expected = format!("#{:02x}", checksum(expected_data));
        assert_eq!(&buffer[..1], b"$");
        assert_eq!(&buffer[1..n - 3], expected_data);
        assert_eq!(&buffer[n - 3..n], expected.as_bytes());
    }

    #[test]
    fn reply_cuts_off_instead_of_overrunning() {
        let mut buffer = [0u8; 8];
        let mut reply = Reply::new(&mut buffer);
        reply.hex(&[1, 2, 3, 4]);
        assert!(reply.overflowed());
        assert_eq!(reply.data_len(), 4);
        assert_eq!(reply.finish(), 8);
    }
}
