//! defmt logging: the frames of `apps/defmt-demo` decode on the host to
//! exactly the lines expected, on both boards, and a damaged frame among
//! them is reported without losing the next one.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, symbolize};

/// The demo's source, as its debug info names it.
const SOURCE: &str = "apps/defmt-demo/src/main.rs";

/// The line of the demo's source marked `// defmt-line: WHAT`, read now,
/// so a moved statement moves what the case expects.
fn line(what: &str) -> u32 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(SOURCE);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let marker = format!("// defmt-line: {what}");
    symbolize::line_of(&source, &marker)
        .unwrap_or_else(|| panic!("{} has no line marked {marker:?}", path.display()))
}

/// The console the demo must show, decoded, with each frame's timestamp
/// written as `T`.
fn expected() -> Vec<String> {
    let frame = |level: &str, label: &str, message: &str, what: &str| {
        format!("T {level:<5} [{label}] {message} ({SOURCE}:{})", line(what))
    };
    vec![
        frame("TRACE", "sensor", "sensor starts, 4 channels", "trace"),
        frame("DEBUG", "sensor", "raw samples [1, 2, 3]", "debug"),
        frame(
            "INFO",
            "sensor",
            "reading Reading { channel: 3, millivolts: 1250, valid: true }",
            "info",
        ),
        frame("WARN", "sensor", "status register 0xdeadbeef", "warn"),
        frame("ERROR", "sensor", "offsets [10, -20, 30]", "error"),
        frame("INFO", "sensor", "before the damaged frame", "before"),
        "defmt: damaged frame skipped (3 bytes: 12 34 56)".into(),
        frame("INFO", "sensor", "after the damaged frame", "after"),
        frame("INFO", "reporter", "reporter runs after sensor: true", "reporter"),
        "[reporter] plain text between frames".into(),
        frame("INFO", "reporter", "done", "done"),
    ]
}

/// A decoded line's timestamp (seconds with six decimals) and the rest;
/// `None` for a line that does not start with one.
fn split_timestamp(line: &str) -> Option<(f64, &str)> {
    let (seconds, rest) = line.split_once(' ')?;
    let (whole, fraction) = seconds.split_once('.')?;
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() != 6 || !digits(fraction) {
        return None;
    }
    Some((seconds.parse().ok()?, rest))
}

/// Boots the demo, decodes its console and compares it line by line;
/// timestamps must be there and never go backwards.
fn script(script: &Scripted<'_>) -> Result<(), Failure> {
    let args = script.board.qemu_args(script.image, script.options);
    let outcome = harness::run(script.board.qemu, &args, script.timeout)
        .map_err(|error| Failure { message: error.to_string(), console: String::new() })?;
    let console = harness::defmt::decode(script.image, &outcome.raw);
    let fail = |message: String| Failure { message, console: console.clone() };
    if outcome.timed_out || outcome.status != Some(0) {
        return Err(fail(format!(
            "exit status {:?} (timed out: {}), expected 0",
            outcome.status, outcome.timed_out
        )));
    }
    let mut last = 0.0;
    let mut got = Vec::new();
    for line in console.lines() {
        match split_timestamp(line) {
            Some((seconds, rest)) => {
                if seconds < last {
                    return Err(fail(format!("timestamp goes backwards at {line:?}")));
                }
                last = seconds;
                got.push(format!("T {rest}"));
            }
            None => got.push(line.to_string()),
        }
    }
    let wanted = expected();
    if got != wanted {
        let at = got
            .iter()
            .zip(&wanted)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(wanted.len()));
        return Err(fail(format!(
            "decoded line {} is {:?}, expected {:?}",
            at + 1,
            got.get(at),
            wanted.get(at)
        )));
    }
    Ok(())
}

/// The demo on both boards.
pub fn cases() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| {
            let board = board(name);
            Case {
                name: format!("defmt-demo on {name}"),
                board,
                app: "defmt-demo",
                options: RunOptions { args: vec!["defmt-demo".into()], ..Default::default() },
                timeout: Duration::from_secs(60),
                check: Check::Scripted(script),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_told_from_text() {
        assert_eq!(split_timestamp("0.004417 INFO  x"), Some((0.004417, "INFO  x")));
        assert_eq!(split_timestamp("[reporter] plain"), None);
        assert_eq!(split_timestamp("1.5 x"), None);
    }

    #[test]
    fn every_expected_line_has_its_marker() {
        assert_eq!(expected().len(), 11);
    }
}
