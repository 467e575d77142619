//! Readable lines from the defmt frames on an image's console.
//!
//! An image that logs with defmt (`crates/defmt-logger`) writes each frame
//! as `0x00`, the rzcobs-encoded frame, `0x00`; plain text between frames
//! never holds a zero byte. [`Stream`] splits the console on those zeros,
//! passes the text through and decodes each frame with the image's
//! `.defmt` table into one line:
//!
//! ```text
//! 0.004417 INFO  [sensor] reading Reading { channel: 3, .. } (apps/defmt-demo/src/main.rs:46)
//! ```
//!
//! (timestamp in seconds, level, the component's label when the image tags
//! frames, the message, where it was logged). A frame that does not decode
//! is reported on a line of its own (`defmt: damaged frame ...`) and the
//! next one decodes as usual. An image without a `.defmt` section is
//! passed through untouched.

use std::fmt::Write as _;
use std::path::Path;

use defmt_decoder::{DecodeError, Locations, Table};

/// The byte that opens and closes a frame.
const DELIMITER: u8 = 0x00;

/// The longest frame kept; beyond it the bytes were not a frame (a zero
/// byte in plain text) and go out as text.
const MAX_FRAME: usize = 64 * 1024;

/// An image's table and the source locations of its log statements.
struct Decoder {
    table: Table,
    locations: Locations,
}

/// Decodes a console streamed in pieces.
pub struct Stream {
    decoder: Option<Decoder>,
    /// The frame being received (after its opening zero), if any.
    frame: Option<Vec<u8>>,
    /// Whether the last byte passed out ended a line.
    line_start: bool,
}

/// The defmt table of `image`: `Ok(None)` when it has no `.defmt` section.
fn load(image: &Path) -> Result<Option<Decoder>, String> {
    let elf = std::fs::read(image).map_err(|error| format!("{}: {error}", image.display()))?;
    let Some(table) = Table::parse(&elf).map_err(|error| format!("defmt table: {error}"))? else {
        return Ok(None);
    };
    let locations = table.get_locations(&elf).unwrap_or_default();
    Ok(Some(Decoder { table, locations }))
}

impl Stream {
    /// A stream for `image`: it decodes frames if the image has a `.defmt`
    /// table, and passes everything through otherwise (also when the image
    /// cannot be read: the console matters more than its frames).
    pub fn new(image: &Path) -> Self {
        let decoder = match load(image) {
            Ok(decoder) => decoder,
            Err(error) => {
                eprintln!("defmt: frames left undecoded: {error}");
                None
            }
        };
        Self { decoder, frame: None, line_start: true }
    }

    /// Whether frames are decoded (the image has a `.defmt` table).
    pub fn decodes(&self) -> bool {
        self.decoder.is_some()
    }

    /// Takes the next piece of console output; returns the text to show
    /// for it: plain text as it came, a line for each frame it completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.decoder.is_none() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len());
        for &byte in bytes {
            match (&mut self.frame, byte) {
                (None, DELIMITER) => self.frame = Some(Vec::new()),
                (None, _) => self.text(&mut out, &[byte]),
                // Two zeros in a row: the closing one of the frame before
                // (or a stray one), then this frame's opening one.
                (Some(frame), DELIMITER) if frame.is_empty() => {}
                (Some(frame), DELIMITER) => {
                    let frame = std::mem::take(frame);
                    self.frame = None;
                    let line = self.decode(&frame);
                    self.line(&mut out, &line);
                }
                (Some(frame), _) if frame.len() >= MAX_FRAME => {
                    let mut text = std::mem::take(frame);
                    text.push(byte);
                    self.frame = None;
                    self.text(&mut out, &text);
                }
                (Some(frame), _) => frame.push(byte),
            }
        }
        out
    }

    /// The end of the console: a frame cut off by it is reported.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(frame) = self.frame.take().filter(|frame| !frame.is_empty()) {
            let line =
                format!("defmt: frame cut off by the end of the console ({} bytes)", frame.len());
            self.line(&mut out, &line);
        }
        out
    }

    fn text(&mut self, out: &mut Vec<u8>, text: &[u8]) {
        out.extend_from_slice(text);
        if let Some(&last) = text.last() {
            self.line_start = last == b'\n';
        }
    }

    /// `line` on a line of its own.
    fn line(&mut self, out: &mut Vec<u8>, line: &str) {
        if !self.line_start {
            out.push(b'\n');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        self.line_start = true;
    }

    /// The line for one frame (without its delimiters).
    fn decode(&self, bytes: &[u8]) -> String {
        let Some(Decoder { table, locations }) = &self.decoder else { return String::new() };
        let mut stream = table.new_stream_decoder();
        stream.received(bytes);
        stream.received(&[DELIMITER]);
        let frame = match stream.decode() {
            Ok(frame) => frame,
            Err(DecodeError::Malformed | DecodeError::UnexpectedEof) => {
                return format!(
                    "defmt: damaged frame skipped ({} bytes: {})",
                    bytes.len(),
                    hex_bytes(bytes)
                );
            }
        };
        let timestamp = frame.display_timestamp().map(|t| t.to_string()).unwrap_or_default();
        // The logger's timestamp is `seconds label` when it tags frames.
        let (seconds, label) = match timestamp.split_once(' ') {
            Some((seconds, label)) => (seconds.to_string(), label.to_string()),
            None => (timestamp, String::new()),
        };
        let level = frame.level().map(|level| level.as_str().to_uppercase()).unwrap_or_default();
        let mut line = format!("{seconds} {level:<5} ");
        if !label.is_empty() {
            let _ = write!(line, "[{label}] ");
        }
        let _ = write!(line, "{}", frame.display_message());
        if let Some(location) = locations.get(&frame.index()) {
            let file = super::symbolize::relative(&location.file.display().to_string());
            let _ = write!(line, " ({file}:{})", location.line);
        }
        line
    }
}

/// At most the first 16 bytes, in hex.
fn hex_bytes(bytes: &[u8]) -> String {
    let mut text: Vec<String> = bytes.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    if bytes.len() > 16 {
        text.push("..".into());
    }
    text.join(" ")
}

/// The whole console `raw` of `image` as text: frames decoded, CR LF
/// turned into LF (as the harness keeps consoles).
pub fn decode(image: &Path, raw: &[u8]) -> String {
    let mut stream = Stream::new(image);
    let mut out = stream.feed(raw);
    out.extend(stream.finish());
    String::from_utf8_lossy(&out).replace('\r', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that splits as a decoding one does but has no table: each
    /// frame becomes the `damaged` line.
    fn splitting() -> Stream {
        Stream {
            decoder: Some(Decoder { table: empty_table(), locations: Locations::new() }),
            frame: None,
            line_start: true,
        }
    }

    fn empty_table() -> Table {
        // An ELF without a .defmt section has no table; a table needs one,
        // so take it from a minimal description.
        serde_json::from_str(r#"{"timestamp":null,"entries":{},"bitflags":{},"encoding":"Rzcobs"}"#)
            .expect("an empty table")
    }

    #[test]
    fn text_passes_and_frames_are_split_on_zeros() {
        let mut stream = splitting();
        let mut out = stream.feed(b"boot\nhalf");
        out.extend(stream.feed(&[0, 0x12, 0x34]));
        out.extend(stream.feed(&[0x56, 0, 0, 0x01, 0x7e, 0, b'o', b'k', b'\n']));
        out.extend(stream.finish());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "boot\nhalf\ndefmt: damaged frame skipped (3 bytes: 12 34 56)\n\
             defmt: damaged frame skipped (2 bytes: 01 7e)\nok\n"
        );
    }

    #[test]
    fn a_cut_off_frame_is_reported() {
        let mut stream = splitting();
        let mut out = stream.feed(&[b'a', b'\n', 0, 0x41]);
        out.extend(stream.finish());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\ndefmt: frame cut off by the end of the console (1 bytes)\n"
        );
    }

    #[test]
    fn images_without_a_table_pass_through() {
        let mut stream = Stream::new(Path::new("/nonexistent"));
        assert!(!stream.decodes());
        assert_eq!(stream.feed(&[b'x', 0, b'y']), [b'x', 0, b'y']);
    }
}
