//! Random writes of several writers, as components would try to pass
//! their text for another's: every console line is one writer's, each
//! component's text is all there under its own label, and the bytes
//! reach the UART in order whatever room it has.

extern crate std;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

/// The components of these tests.
const NAMES: [&str; 2] = ["a", "bb"];

/// What a component writes: text, line ends, control characters, labels
/// of others, bytes beyond ASCII.
fn component_text() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            "[a-z ]{1,6}",
            Just(String::from("\n")),
            Just(String::from("\r")),
            Just(String::from("\u{1b}[2K")),
            Just(String::from("\0")),
            Just(String::from("\u{85}")),
            Just(String::from("\u{9b}")),
            Just(String::from("\u{7f}")),
            Just(String::from("[a] ")),
            Just(String::from("\n[bb] forged")),
            Just(String::from("é€😀")),
        ],
        0..6,
    )
    .prop_map(|pieces| pieces.concat())
}

/// What the image writes (trusted, as it is): no `[` to start a line
/// with, so that every line's writer can be told from the console.
fn image_text() -> impl Strategy<Value = String> {
    vec(prop_oneof!["[a-z ]{1,6}", Just(String::from("\n"))], 0..4)
        .prop_map(|pieces| pieces.concat())
}

/// One write: the image's (`None`) or a component's, by index.
fn write() -> impl Strategy<Value = (Option<usize>, String)> {
    prop_oneof![
        image_text().prop_map(|text| (None, text)),
        (0..NAMES.len(), component_text()).prop_map(|(n, text)| (Some(n), text)),
    ]
}

/// `text` as the console shows a component's: control characters as `?`,
/// line ends left out (they end lines, which the test takes apart).
fn shown(text: &str) -> String {
    text.chars().filter(|&c| c != '\n').map(|c| if c.is_control() { '?' } else { c }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 1024 }))]

    /// A line's text is shown as it is but for its control characters,
    /// each one `?`.
    #[test]
    fn printable_marks_exactly_the_control_characters(
        text in prop_oneof![
            any::<String>(),
            vec(
                prop_oneof![
                    any::<char>(),
                    proptest::char::range('\0', '\u{20}'),
                    proptest::char::range('\u{7e}', '\u{a1}'),
                ],
                0..24,
            )
            .prop_map(|chars| chars.into_iter().collect()),
        ],
    ) {
        let mut out = String::new();
        printable(&text, |piece| out.push_str(piece));
        let expected: String = text.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        prop_assert_eq!(out, expected);
    }

    /// Whatever the writers write, in whatever order: each console line
    /// is one writer's (a component's starts with its label, and holds no
    /// control character); each component's lines hold all its text, in
    /// order, and nothing else; the image's lines hold its text.
    #[test]
    fn every_line_is_its_writers_and_holds_all_its_text(writes in vec(write(), 0..16)) {
        let mut lines = Lines::new();
        let mut console = String::new();
        for (writer, text) in &writes {
            let writer = writer.map_or(Writer::Image, |n| Writer::Component(NAMES[n]));
            lines.write(writer, text, |piece| console.push_str(piece));
        }
        lines.start_line(|piece| console.push_str(piece));
        prop_assert!(console.is_empty() || console.ends_with('\n'), "the last line ended");
        let mut seen = [String::new(), String::new()];
        let mut image = String::new();
        for line in console.split_terminator('\n') {
            let owner = NAMES.iter().position(|name| line.starts_with(&format!("[{name}] ")));
            match owner {
                Some(n) => {
                    let body = &line[NAMES[n].len() + 3..];
                    prop_assert!(!body.chars().any(char::is_control), "{:?}", line);
                    seen[n].push_str(body);
                }
                None => {
                    prop_assert!(!line.starts_with('['), "a line no writer wrote: {:?}", line);
                    image.push_str(line);
                }
            }
        }
        for (n, name) in NAMES.iter().enumerate() {
            let written: String = writes
                .iter()
                .filter(|(writer, _)| *writer == Some(n))
                .map(|(_, text)| shown(text))
                .collect();
            prop_assert_eq!(&seen[n], &written, "{}'s text", name);
        }
        let written: String = writes
            .iter()
            .filter(|(writer, _)| writer.is_none())
            .map(|(_, text)| text.replace('\n', ""))
            .collect();
        prop_assert_eq!(image, written, "the image's text");
    }

    /// The outbox hands the UART every byte queued, in order, whatever
    /// the UART takes at a time, and refuses what does not fit rather
    /// than overwrite what waits.
    #[test]
    fn the_outbox_loses_and_reorders_nothing(
        steps in vec((vec(any::<u8>(), 0..20), vec(0usize..6, 0..4)), 0..20),
    ) {
        let mut outbox = Outbox::<16>::new();
        let mut queued = Vec::new();
        let mut sent = Vec::new();
        for (bytes, room) in &steps {
            let held = queued.len() - sent.len();
            let taken = outbox.queue(bytes);
            prop_assert_eq!(taken, bytes.len().min(16 - held));
            queued.extend_from_slice(&bytes[..taken]);
            for &room in room {
                outbox.send(|offered| {
                    let count = room.min(offered.len());
                    sent.extend_from_slice(&offered[..count]);
                    count
                });
            }
        }
        let empty = outbox.send(|offered| {
            sent.extend_from_slice(offered);
            offered.len()
        });
        prop_assert!(empty && outbox.is_empty());
        prop_assert_eq!(sent, queued);
    }
}
