//! Random arguments, as a std program may pass them to the `sys_*` calls
//! and as a terminal may send bytes: nothing panics, nothing is lost, and
//! every conversion gives back what went in.

extern crate std;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

/// Bytes a program writes to its standard output: text, lines, bytes
/// beyond ASCII, and bytes that are no UTF-8 at all.
fn output() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z \\n]{0,40}".prop_map(String::into_bytes),
        "[a-zé€😀\\n]{0,30}".prop_map(String::into_bytes),
        vec(prop_oneof![any::<u8>(), Just(b'\n')], 0..30),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 1024 }))]

    /// Console lines: whatever a program writes, in whatever pieces,
    /// comes out in lines of at most the limit, every byte of it (a byte
    /// that is no UTF-8 as `?`), and text that is UTF-8 exactly as it
    /// was written, cut only between characters.
    #[test]
    fn console_lines_lose_nothing_and_keep_to_the_limit(
        writes in vec(output(), 0..8),
        limit in 1usize..=24,
    ) {
        let mut buffer = LineBuffer::<24>::with_limit(limit);
        let mut lines: Vec<String> = Vec::new();
        for data in &writes {
            buffer.write(data, |line| lines.push(String::from(line)));
        }
        buffer.flush(|line| lines.push(String::from(line)));
        prop_assert_eq!(buffer.pending(), 0);
        for line in &lines {
            prop_assert!(line.len() <= limit, "{:?} over {}", line, limit);
        }
        let written: Vec<u8> = writes.concat();
        let without_newlines: Vec<u8> = written.iter().copied().filter(|&b| b != b'\n').collect();
        let out: String = lines.concat();
        prop_assert_eq!(out.len(), without_newlines.len());
        if limit >= 4 && core::str::from_utf8(&written).is_ok() {
            prop_assert_eq!(out.as_bytes(), &without_newlines[..]);
        }
    }

    /// Terminal input: everything taken is read, in order, a carriage
    /// return as a newline, and each Ctrl-D as one end of file where a
    /// read meets it first; what did not fit is refused, not dropped.
    #[test]
    fn terminal_input_reads_all_it_took(
        chunks in vec(vec(prop_oneof![any::<u8>(), Just(b'\r'), Just(END_OF_FILE)], 0..20), 0..8),
        reads in vec(1usize..12, 1..8),
    ) {
        let mut input = TtyInput::<16>::new();
        let mut taken = Vec::new();
        let mut read = Vec::new();
        let mut ends = 0;
        let mut sizes = reads.iter().cycle();
        let mut drain = |input: &mut TtyInput<16>, read: &mut Vec<u8>, ends: &mut usize, all: bool| {
            loop {
                let mut out = vec![0u8; *sizes.next().unwrap()];
                match input.read(&mut out) {
                    None => break,
                    Some(0) => *ends += 1,
                    Some(count) => read.extend_from_slice(&out[..count]),
                }
                if !all {
                    break;
                }
            }
        };
        for chunk in &chunks {
            // Bytes held: taken and neither read nor an end of file yet.
            let held = taken.len() - read.len() - ends;
            let count = input.receive(chunk);
            prop_assert_eq!(count, chunk.len().min(16 - held), "all that fits is taken");
            taken.extend_from_slice(&chunk[..count]);
            drain(&mut input, &mut read, &mut ends, false);
        }
        drain(&mut input, &mut read, &mut ends, true);
        prop_assert!(input.is_empty());
        let expected: Vec<u8> = taken
            .iter()
            .filter(|&&b| b != END_OF_FILE)
            .map(|&b| if b == b'\r' { b'\n' } else { b })
            .collect();
        prop_assert_eq!(read, expected);
        prop_assert_eq!(ends, taken.iter().filter(|&&b| b == END_OF_FILE).count());
    }

    /// `lseek`: the new offset is the base plus the offset when that is
    /// a file offset, else EINVAL; never a wrapped one.
    #[test]
    fn seeks_land_where_the_arithmetic_says(
        at in any::<u64>(),
        size in any::<u64>(),
        offset in prop_oneof![any::<i64>(), -10i64..10],
        whence in prop_oneof![0i32..3, any::<i32>()],
    ) {
        let base = match whence {
            0 => Some(0),
            1 => Some(at),
            2 => Some(size),
            _ => None,
        };
        let expected = base
            .map(|base| i128::from(base) + i128::from(offset))
            .and_then(|end| u64::try_from(end).ok());
        prop_assert_eq!(seek(at, size, offset, whence), expected);
    }

    /// Times: microseconds round-trip through a `timespec` and a socket
    /// timeout's `timeval`; any `timespec` or `timeval` a program passes
    /// is read (rounded up, saturated) or refused, never wrapped.
    #[test]
    fn times_round_trip_and_any_time_is_read_or_refused(
        us in prop_oneof![0u64..10_000_000, any::<u64>()],
        seconds in prop_oneof![-2i64..5, any::<i64>()],
        fraction in prop_oneof![-2i32..2, 999_999i32..1_000_001, 999_999_999i32..=i32::MAX, any::<i32>()],
    ) {
        prop_assert_eq!(us_of_timespec(&timespec_of_us(us)), Some(us));
        if let Ok(small) = i32::try_from(us / 1_000_000)
            && small >= 0
        {
            prop_assert_eq!(us_of_timeval(&timeval_of_us(Some(us))), Ok((us > 0).then_some(us)));
        }
        let timespec = abi::timespec { tv_sec: seconds, tv_nsec: fraction };
        let expected = (seconds >= 0 && (0..1_000_000_000).contains(&fraction)).then(|| {
            let wide = i128::from(seconds) * 1_000_000 + (i128::from(fraction) + 999) / 1_000;
            u64::try_from(wide).unwrap_or(u64::MAX)
        });
        prop_assert_eq!(us_of_timespec(&timespec), expected);
        let timeval = abi::timeval { tv_sec: seconds, tv_usec: fraction };
        let expected = if seconds >= 0 && (0..1_000_000).contains(&fraction) {
            let wide = i128::from(seconds) * 1_000_000 + i128::from(fraction);
            let us = u64::try_from(wide).unwrap_or(u64::MAX);
            Ok((us > 0).then_some(us))
        } else {
            Err(errno::EINVAL)
        };
        prop_assert_eq!(us_of_timeval(&timeval), expected);
    }

    /// Socket addresses round-trip; any bytes a program passes as one
    /// are read or refused.
    #[test]
    fn socket_addresses_round_trip_and_any_bytes_are_read_or_refused(
        address in any::<[u8; 4]>(),
        port in any::<u16>(),
        bytes in vec(any::<u8>(), 0..24),
    ) {
        prop_assert_eq!(ipv4_of_sockaddr(&sockaddr_of_ipv4(address, port)), Ok((address, port)));
        match ipv4_of_sockaddr(&bytes) {
            Ok((read, read_port)) => {
                prop_assert!(bytes.len() >= 16 && i32::from(bytes[1]) == abi::AF_INET);
                prop_assert_eq!(read, [bytes[4], bytes[5], bytes[6], bytes[7]]);
                prop_assert_eq!(read_port, u16::from_be_bytes([bytes[2], bytes[3]]));
            }
            Err(error) => prop_assert!(error == errno::EINVAL || error == errno::EAFNOSUPPORT),
        }
    }

    /// Paths on the card: any path is read or refused; one that is read
    /// stays below the card's root (no `..`, no empty or `.` name), and
    /// its names are the path's own.
    #[test]
    fn card_paths_stay_below_the_root(
        names in vec(prop_oneof![Just(""), Just("."), Just(".."), Just("a"), Just("LOGS"), Just("x.txt")], 0..6),
        prefix in prop_oneof![Just("/sd"), Just("/sd/"), Just("/sdx"), Just("/rom"), Just("")],
        noise in vec(any::<u8>(), 0..4),
    ) {
        let mut path = format!("{prefix}/{}", names.join("/")).into_bytes();
        path.extend_from_slice(&noise);
        let Some(found) = sd_path(&path) else {
            return Ok(());
        };
        prop_assert!(path.starts_with(b"/sd"));
        let components: Vec<&str> = found.components().collect();
        for name in &components {
            prop_assert!(!name.is_empty() && *name != "." && *name != "..");
        }
        prop_assert_eq!(found.is_root(), components.is_empty());
        match found.split_last() {
            None => prop_assert!(components.is_empty()),
            Some((parents, last)) => {
                let mut all: Vec<&str> = parents.collect();
                all.push(last);
                prop_assert_eq!(all, components);
            }
        }
    }

    /// `open`'s flags: any are read or refused with EINVAL, and what is
    /// read never truncates or appends without writing.
    #[test]
    fn any_open_flags_are_read_or_refused(flags in any::<i32>()) {
        match open_mode(flags) {
            Ok(mode) => {
                prop_assert!(mode.read || mode.write);
                prop_assert!(!(mode.truncate || mode.append) || mode.write);
            }
            Err(error) => prop_assert_eq!(error, errno::EINVAL),
        }
    }
}
