//! Text reports without `core::fmt`.
//!
//! A fault report, a panic's location or a composer message is a few
//! pieces of text and a few numbers. Writing them through `core::fmt`
//! links its machinery (`fmt::write`, `Formatter::pad`, the integer
//! formatters): about 7 KiB of a PBX-A9 image whose application formats
//! nothing. The board's reports write through [`Out`] instead, and types
//! that describe themselves implement [`Report`]; [`display`] turns a
//! report into a `Display` body for host tests and for applications that
//! format anyway.
#![no_std]

use core::fmt;

pub mod console;

/// Where a report's text goes (the board console, a test's string).
pub trait Out {
    /// Appends `text`.
    fn text(&mut self, text: &str);
}

/// A value that can describe itself as text without `core::fmt`.
pub trait Report {
    /// Writes the description to `out`.
    fn report(&self, out: &mut dyn Out);
}

/// Writes `0x` and `value` in lower-case hexadecimal, with leading zeros
/// up to `digits` digits (at least one digit): `hex(out, 0x1f, 8)` is
/// `0x0000001f`, as `{:#010x}` would print it, and `hex(out, 0x1f, 1)` is
/// `0x1f`, as `{:#x}` would.
// Never inlined: its digits go out through `out` one call each, and a
// copy per caller of a known `Out` would only grow the image.
#[inline(never)]
pub fn hex(out: &mut dyn Out, value: usize, digits: usize) {
    const MAX: usize = 2 * core::mem::size_of::<usize>();
    let significant = MAX - (value.leading_zeros() as usize / 4);
    let shown = significant.max(digits).clamp(1, MAX);
    out.text("0x");
    for index in (0..shown).rev() {
        digit(out, (value >> (4 * index)) & 0xf);
    }
}

/// Writes `value` in decimal, as `{}` would print it.
// Never inlined, as `hex`.
#[inline(never)]
pub fn dec(out: &mut dyn Out, value: usize) {
    let mut power = 1;
    while value / power >= 10 {
        power *= 10;
    }
    while power > 0 {
        digit(out, (value / power) % 10);
        power /= 10;
    }
}

/// Writes one digit (below 16). A slice of a string, not a byte buffer
/// made into one: that would take UTF-8 validation, which `core` brings
/// as A32 code on PBX-A9.
fn digit(out: &mut dyn Out, value: usize) {
    const DIGITS: &str = "0123456789abcdef";
    out.text(DIGITS.get(value..=value).unwrap_or("?"));
}

/// Writes `report` through a formatter: the body of a `Display` impl.
pub fn display(report: &dyn Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    struct Through<'a, 'b> {
        f: &'a mut fmt::Formatter<'b>,
        result: fmt::Result,
    }
    impl Out for Through<'_, '_> {
        fn text(&mut self, text: &str) {
            if self.result.is_ok() {
                self.result = self.f.write_str(text);
            }
        }
    }
    let mut through = Through { f, result: Ok(()) };
    report.report(&mut through);
    through.result
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::format;
    use std::string::{String, ToString};

    impl Out for String {
        fn text(&mut self, text: &str) {
            self.push_str(text);
        }
    }

    fn written(write: impl FnOnce(&mut dyn Out)) -> String {
        let mut text = String::new();
        write(&mut text);
        text
    }

    #[test]
    fn hex_matches_core_fmt_for_every_width() {
        for value in [0, 1, 0xf, 0x10, 0x1f, 0x7010_0bc0, u32::MAX as usize, usize::MAX] {
            assert_eq!(written(|out| hex(out, value, 1)), format!("{value:#x}"));
            assert_eq!(written(|out| hex(out, value, 8)), format!("{value:#010x}"));
            assert_eq!(written(|out| hex(out, value, 0)), format!("{value:#x}"));
        }
    }

    #[test]
    fn hex_never_writes_more_digits_than_a_word_has() {
        assert_eq!(written(|out| hex(out, 0xab, 99)).len(), 2 + 2 * core::mem::size_of::<usize>());
    }

    #[test]
    fn dec_matches_core_fmt() {
        for value in [0, 7, 9, 10, 99, 100, 1234, 4_294_967_295, usize::MAX] {
            assert_eq!(written(|out| dec(out, value)), value.to_string());
        }
    }

    struct Sample;

    impl Report for Sample {
        fn report(&self, out: &mut dyn Out) {
            out.text("fault at pc=");
            hex(out, 0x40, 8);
            out.text(" line ");
            dec(out, 12);
        }
    }

    impl fmt::Display for Sample {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            display(self, f)
        }
    }

    #[test]
    fn display_writes_the_report() {
        assert_eq!(Sample.to_string(), "fault at pc=0x00000040 line 12");
    }

    #[test]
    fn display_stops_at_the_first_error() {
        struct Failing(usize);
        impl fmt::Write for Failing {
            fn write_str(&mut self, _: &str) -> fmt::Result {
                self.0 += 1;
                Err(fmt::Error)
            }
        }
        let mut failing = Failing(0);
        assert!(fmt::write(&mut failing, format_args!("{Sample}")).is_err());
        assert_eq!(failing.0, 1);
    }
}
