use super::*;

extern crate std;
use std::string::String;
use std::vec;
use std::vec::Vec;

fn lines<const N: usize>(buffer: &mut LineBuffer<N>, writes: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for data in writes {
        buffer.write(data, |line| out.push(String::from(line)));
    }
    out
}

#[test]
fn whole_lines_go_out_however_they_were_written() {
    let mut buffer = LineBuffer::<16>::new();
    let out = lines(&mut buffer, &[b"hel", b"lo\nwor", b"ld\n\nx"]);
    assert_eq!(out, ["hello", "world", ""]);
    assert_eq!(buffer.pending(), 1);
    let mut rest = Vec::new();
    buffer.flush(|line| rest.push(String::from(line)));
    assert_eq!(rest, ["x"]);
    assert_eq!(buffer.pending(), 0);
    buffer.flush(|_| panic!("nothing pending"));
}

#[test]
fn a_long_line_goes_out_in_pieces_and_nothing_is_lost() {
    let mut buffer = LineBuffer::<4>::new();
    let out = lines(&mut buffer, &[b"abcdefghij\n"]);
    assert_eq!(out, ["abcd", "efgh", "ij"]);
    let out = lines(&mut buffer, &[b"abcd", b"\n"]);
    assert_eq!(out, ["abcd"], "a line of exactly N bytes is one line");
}

#[test]
fn a_limit_below_the_buffer_cuts_lines_as_the_log_session_takes_them() {
    let mut buffer = LineBuffer::<8>::with_limit(3);
    let out = lines(&mut buffer, &[b"abcdefg\n", b"xyz\n"]);
    assert_eq!(out, ["abc", "def", "g", "xyz"]);
    // A character is not split to fit: "a" and then "é" (two bytes).
    let out = lines(&mut buffer, &["aaé\n".as_bytes()]);
    assert_eq!(out, ["aa", "é"]);
    // Limits out of range are taken as 1 and as the buffer's size.
    assert_eq!(lines(&mut LineBuffer::<8>::with_limit(0), &[b"ab\n"]), ["a", "b"]);
    assert_eq!(lines(&mut LineBuffer::<4>::with_limit(99), &[b"abcde\n"]), ["abcd", "e"]);
}

#[test]
fn a_piece_is_cut_before_a_character_that_is_not_all_there() {
    let mut buffer = LineBuffer::<4>::new();
    // "ab" then "é" (2 bytes) then "€" (3 bytes): the cut falls in "€".
    let out = lines(&mut buffer, &["abé€\n".as_bytes()]);
    assert_eq!(out, ["abé", "€"]);
    // The character's bytes come in two writes.
    let euro = "€".as_bytes();
    let out = lines(&mut buffer, &[b"xyz", &euro[..1], &euro[1..], b"\n"]);
    assert_eq!(out, ["xyz", "€"]);
}

#[test]
fn characters_of_every_length_are_cut_whole_or_not_at_all() {
    // A four-byte character that the cut falls in waits for the next
    // piece.
    assert_eq!(lines(&mut LineBuffer::<4>::new(), &["ab😀\n".as_bytes()]), ["ab", "😀"]);
    // A character that ends where the buffer does goes out with it, even
    // far from the buffer's start.
    assert_eq!(lines(&mut LineBuffer::<8>::new(), &["abcde€x\n".as_bytes()]), ["abcde€", "x"]);
    // A character longer than a piece can be goes out in marked pieces.
    assert_eq!(lines(&mut LineBuffer::<8>::with_limit(2), &["€\n".as_bytes()]), ["??", "?"]);
    // Continuation bytes alone, fewer than three, in a small piece.
    assert_eq!(lines(&mut LineBuffer::<4>::with_limit(2), &[b"\x80\x80\x80\n"]), ["??", "?"]);
}

#[test]
fn bytes_that_are_not_utf8_come_out_as_question_marks() {
    let mut buffer = LineBuffer::<16>::new();
    let out = lines(&mut buffer, &[b"a\xffb\xe2\x82c\n"]);
    assert_eq!(out, ["a?b??c"]);
    // A lone lead byte at the very end of a flushed line.
    let out = lines(&mut buffer, &[b"end\xe2"]);
    assert!(out.is_empty());
    let mut rest = Vec::new();
    buffer.flush(|line| rest.push(String::from(line)));
    assert_eq!(rest, ["end?"]);
    // A character cut short by a byte that is invalid itself: both are
    // marked, each after the text before it.
    let out = lines(&mut buffer, &[b"abc\xe2\x82\xffd\n"]);
    assert_eq!(out, ["abc???d"]);
}

#[test]
fn a_full_buffer_of_invalid_bytes_still_moves() {
    let mut buffer = LineBuffer::<4>::new();
    let out = lines(&mut buffer, &[b"\x80\x80\x80\x80\x80\n"]);
    assert_eq!(out, ["????", "?"]);
    // A cut keeps what may be the start of a character (two bytes of a
    // three-byte one): it goes out with the next piece.
    let out = lines(&mut buffer, &[b"\xe2\x82\xe2\x82\xe2\n"]);
    assert_eq!(out, ["??", "???"]);
}

#[test]
fn time_in_microseconds_and_timespecs() {
    let time = timespec_of_us(3_000_004);
    assert_eq!((time.tv_sec, time.tv_nsec), (3, 4_000));
    assert_eq!(us_of_timespec(&time), Some(3_000_004));
    // Rounded up: a wait is never shorter than asked.
    let time = abi::timespec { tv_sec: 0, tv_nsec: 1 };
    assert_eq!(us_of_timespec(&time), Some(1));
    let time = abi::timespec { tv_sec: 1, tv_nsec: 999_999_999 };
    assert_eq!(us_of_timespec(&time), Some(2_000_000));
    for (tv_sec, tv_nsec) in [(-1, 0), (0, -1), (0, 1_000_000_000)] {
        assert_eq!(us_of_timespec(&abi::timespec { tv_sec, tv_nsec }), None, "{tv_sec} {tv_nsec}");
    }
    let huge = abi::timespec { tv_sec: i64::MAX, tv_nsec: 0 };
    assert_eq!(us_of_timespec(&huge), Some(u64::MAX), "saturates");
}

#[test]
fn tls_blocks_after_each_cpus_control_block() {
    let word = core::mem::size_of::<usize>();
    // Arm (a two-word control block): the segment at its alignment after it.
    let arm = TlsLayout::new(8, 12, 20, 4).unwrap();
    assert_eq!(arm, TlsLayout { size: 40, align: word.max(4), segment: 8 });
    let arm = TlsLayout::new(8, 12, 20, 16).unwrap();
    assert_eq!(arm, TlsLayout { size: 48, align: 16, segment: 16 });
    // RISC-V (none): the pointer is at the segment.
    let riscv = TlsLayout::new(0, 12, 20, 16).unwrap();
    assert_eq!(riscv, TlsLayout { size: 32, align: 16, segment: 0 });
    // No TLS at all still gets a block to point at.
    let empty = TlsLayout::new(0, 0, 0, 0).unwrap();
    assert_eq!(empty, TlsLayout { size: 1, align: 1, segment: 0 });
    assert_eq!(TlsLayout::new(8, 1, 1, 12), None);
    assert_eq!(TlsLayout::new(8, usize::MAX, 1, 4), None);
}

#[test]
fn the_seed_generator_fills_every_byte_and_moves_on() {
    let mut generator = SeedGenerator::new(1);
    let mut first = [0u8; 13];
    generator.fill(&mut first);
    let mut second = [0u8; 13];
    generator.fill(&mut second);
    assert_ne!(first, second);
    assert!(first[8..].iter().any(|byte| *byte != 0), "the tail is filled");
    // SplitMix64's published first output for seed 1.
    assert_eq!(SeedGenerator::new(1).next_u64(), 0x910a_2dec_8902_5cc1);
    let mut again = SeedGenerator::new(1);
    let mut replay = [0u8; 13];
    again.fill(&mut replay);
    assert_eq!(replay, first, "the same seed gives the same bytes");
}

#[test]
fn file_paths_name_rom_modules_under_rom() {
    assert_eq!(rom_module(b"/rom/config"), Some("config"));
    assert_eq!(rom_module(b"/rom/motd.txt"), Some("motd.txt"));
    for path in [&b"/rom/"[..], b"/rom", b"/rom/a/b", b"rom/config", b"/etc/config", b"/rom/\xff"] {
        assert_eq!(rom_module(path), None, "{path:?}");
    }
}

#[test]
fn the_rom_directory_is_rom_with_or_without_its_slash() {
    assert!(is_rom_dir(b"/rom") && is_rom_dir(b"/rom/"));
    for path in [&b"/rom/config"[..], b"/ro", b"/romx", b"rom", b"/", b"", b"/rom//"] {
        assert!(!is_rom_dir(path), "{path:?}");
    }
}

/// The entries of a `getdents64` answer, read as std's `read_dir` reads
/// them: a `dirent64` at each offset, the next one `d_reclen` further.
fn read_entries(buffer: &[u8]) -> Vec<(u64, i64, u8, String)> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < buffer.len() {
        assert_eq!((buffer.as_ptr() as usize + at) % 8, 0, "entry at {at} misaligned");
        let word =
            |offset: usize| u64::from_ne_bytes(buffer[at + offset..][..8].try_into().unwrap());
        let reclen = u16::from_ne_bytes(
            buffer[at + core::mem::offset_of!(abi::dirent64, d_reclen)..][..2].try_into().unwrap(),
        ) as usize;
        let name = &buffer[at + core::mem::offset_of!(abi::dirent64, d_name)..at + reclen];
        let name = core::ffi::CStr::from_bytes_until_nul(name).expect("a null byte in the entry");
        entries.push((
            word(core::mem::offset_of!(abi::dirent64, d_ino)),
            word(core::mem::offset_of!(abi::dirent64, d_off)) as i64,
            buffer[at + core::mem::offset_of!(abi::dirent64, d_type)],
            String::from(name.to_str().unwrap()),
        ));
        at += reclen;
    }
    entries
}

#[test]
fn directory_entries_read_back_as_std_reads_them() {
    let names = ["motd", "zeds", "env", "a-name-of-exactly-twenty"];
    let mut aligned = Aligned([0xff; 512]);
    let buffer = &mut aligned.0[..];
    let written = write_dirents(names.iter().copied(), buffer).unwrap();
    // 19 bytes of header, the name, its null byte, rounded up to 8.
    assert_eq!(written, 24 + 24 + 24 + 48);
    let entries = read_entries(&buffer[..written]);
    let expected: Vec<(u64, i64, u8, String)> = vec![
        (1, 24, 8, String::from("motd")),
        (2, 48, 8, String::from("zeds")),
        (3, 72, 8, String::from("env")),
        (4, 120, 8, String::from("a-name-of-exactly-twenty")),
    ];
    assert_eq!(entries, expected);
    assert!(buffer[written..].iter().all(|&b| b == 0xff), "nothing written past the entries");

    // Exactly the room needed is enough; a byte less is too little, and
    // then nothing counts as written.
    assert_eq!(write_dirents(names.iter().copied(), &mut buffer[..written]), Some(written));
    for short in [0, 1, 23, 24, 71, written - 1] {
        assert_eq!(
            write_dirents(names.iter().copied(), &mut buffer[..short]),
            None,
            "{short} bytes"
        );
    }
    assert_eq!(write_dirents(core::iter::empty(), &mut buffer[..0]), Some(0));
    // A 255-byte name is the longest a `d_name` carries.
    let longest = "n".repeat(255);
    let written = write_dirents([longest.as_str()].into_iter(), buffer).unwrap();
    assert_eq!(written, 280);
    assert_eq!(read_entries(&buffer[..written])[0].3, longest);
}

#[test]
fn names_no_path_reaches_are_left_out() {
    let mut aligned = Aligned([0; 512]);
    let buffer = &mut aligned.0[..];
    let long = "n".repeat(256);
    let names = ["", "first", "a/b", "nul\0", long.as_str(), "last", "/"];
    let written = write_dirents(names.into_iter(), buffer).unwrap();
    let entries = read_entries(&buffer[..written]);
    let listed: Vec<(u64, &str)> =
        entries.iter().map(|(ino, _, _, name)| (*ino, name.as_str())).collect();
    assert_eq!(listed, [(1, "first"), (2, "last")]);
}

/// A buffer that starts 8-byte aligned, as the heap's allocations std
/// reads directory entries into do.
#[repr(C, align(8))]
struct Aligned([u8; 512]);

#[test]
fn seeking_from_the_start_the_position_and_the_end() {
    assert_eq!(seek(5, 10, 3, 0), Some(3));
    assert_eq!(seek(5, 10, -2, 1), Some(3));
    assert_eq!(seek(5, 10, -10, 2), Some(0));
    assert_eq!(seek(5, 10, 4, 2), Some(14), "past the end is allowed");
    assert_eq!(seek(5, 10, -6, 1), None, "before the start");
    assert_eq!(seek(5, 10, -1, 0), None);
    assert_eq!(seek(5, 10, 0, 3), None, "no such whence");
    assert_eq!(seek(u64::MAX, 10, 1, 1), None, "overflow");
}

#[test]
fn terminal_input_reads_as_a_line_discipline_hands_it_over() {
    let mut input = TtyInput::<8>::new();
    let mut out = [0u8; 16];
    assert_eq!(input.read(&mut out), None, "nothing received");
    assert_eq!(input.receive(b"ab\rc\x04de"), 7);
    // Up to the Ctrl-D, the carriage return a line end.
    assert_eq!(input.read(&mut out), Some(4));
    assert_eq!(&out[..4], b"ab\nc");
    // The Ctrl-D is an end of file, once; the input goes on after it.
    assert_eq!(input.read(&mut out), Some(0));
    assert_eq!(input.read(&mut out[..1]), Some(1));
    assert_eq!(out[0], b'd');
    assert_eq!(input.read(&mut out), Some(1));
    assert_eq!(out[0], b'e');
    assert!(input.is_empty());
    assert_eq!(input.read(&mut out), None);
}

#[test]
fn terminal_input_keeps_what_fits_and_loses_nothing_it_took() {
    let mut input = TtyInput::<4>::new();
    assert_eq!(input.receive(b"abcdef"), 4, "only what fits");
    let mut out = [0u8; 3];
    assert_eq!(input.read(&mut out), Some(3));
    assert_eq!(&out, b"abc");
    // Room again: what was read is gone, the rest moves up.
    assert_eq!(input.receive(b"ef"), 2);
    let mut all = [0u8; 8];
    assert_eq!(input.read(&mut all), Some(3));
    assert_eq!(&all[..3], b"def");
    assert_eq!(input.read(&mut []), None, "empty again");
    assert_eq!(input.receive(b"x"), 1);
    assert_eq!(input.read(&mut []), Some(0), "an empty read takes nothing");
    assert!(!input.is_empty());
}

#[test]
fn terminal_input_partly_full_takes_only_the_room_left() {
    let mut input = TtyInput::<4>::new();
    assert_eq!(input.receive(b"ab"), 2);
    assert_eq!(input.receive(b"cdef"), 2, "two bytes of room");
    let mut out = [0u8; 8];
    assert_eq!(input.read(&mut out), Some(4));
    assert_eq!(&out[..4], b"abcd");
}

#[test]
fn environment_entries_are_the_env_modules_key_value_lines() {
    let text = b"GREETING=hello there\r\n# a comment\n\nLIMIT=3\nno equals sign\n=x\nEMPTY=\nNUL=a\0b\nLAST=1";
    let entries: Vec<&[u8]> = environment_entries(text).collect();
    assert_eq!(entries, [&b"GREETING=hello there"[..], b"LIMIT=3", b"EMPTY=", b"LAST=1"]);
    assert_eq!(environment_entries(b"").count(), 0);
}

#[test]
fn socket_timeouts_round_trip_and_zero_means_none() {
    let tv = |tv_sec, tv_usec| abi::timeval { tv_sec, tv_usec };
    assert_eq!(us_of_timeval(&tv(2, 500_000)), Ok(Some(2_500_000)));
    assert_eq!(us_of_timeval(&tv(0, 1)), Ok(Some(1)));
    assert_eq!(us_of_timeval(&tv(0, 0)), Ok(None));
    assert_eq!(us_of_timeval(&tv(-1, 0)), Err(errno::EINVAL));
    assert_eq!(us_of_timeval(&tv(0, 1_000_000)), Err(errno::EINVAL));
    assert_eq!(us_of_timeval(&tv(0, -1)), Err(errno::EINVAL));
    let back = timeval_of_us(Some(2_500_000));
    assert_eq!((back.tv_sec, back.tv_usec), (2, 500_000));
    let none = timeval_of_us(None);
    assert_eq!((none.tv_sec, none.tv_usec), (0, 0));
}

/// The bytes std builds for 10.0.2.2:5000 (its `socket_addr_to_c`: the
/// port and address in network order, the rest zero).
fn std_sockaddr(address: [u8; 4], port: u16) -> [u8; 16] {
    let addr = abi::sockaddr_in {
        sin_len: 0,
        sin_family: abi::AF_INET as abi::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: abi::in_addr { s_addr: u32::from_ne_bytes(address) },
        sin_zero: [0; 8],
    };
    // SAFETY: `sockaddr_in` is 16 bytes of plain integers, no padding.
    unsafe { core::mem::transmute(addr) }
}

#[test]
fn socket_addresses_read_as_std_writes_them_and_back() {
    let bytes = std_sockaddr([10, 0, 2, 2], 5000);
    assert_eq!(ipv4_of_sockaddr(&bytes), Ok(([10, 0, 2, 2], 5000)));
    let written = sockaddr_of_ipv4([10, 0, 2, 15], 7);
    assert_eq!(ipv4_of_sockaddr(&written), Ok(([10, 0, 2, 15], 7)));
    assert_eq!(written[1], abi::AF_INET as u8);
    assert_eq!(written[0], 16, "sin_len");
    let mut six = bytes;
    six[1] = abi::AF_INET6 as u8;
    assert_eq!(ipv4_of_sockaddr(&six), Err(errno::EAFNOSUPPORT));
    assert_eq!(ipv4_of_sockaddr(&bytes[..15]), Err(errno::EINVAL));
    assert_eq!(ipv4_of_sockaddr(&bytes[..1]), Err(errno::EINVAL));
    // The family is read from the first two bytes alone.
    assert_eq!(ipv4_of_sockaddr(&six[..2]), Err(errno::EAFNOSUPPORT));
}

#[test]
fn the_interface_address_comes_from_the_environment_or_the_mistake_is_named() {
    use Ipv4Setting as S;
    assert_eq!(S::parse(None, None), Ok(S::Default));
    assert_eq!(S::parse(Some("dhcp"), None), Ok(S::Dhcp));
    assert_eq!(
        S::parse(Some("192.168.1.20/24"), Some("192.168.1.1")),
        Ok(S::Static { address: [192, 168, 1, 20], prefix: 24, gateway: Some([192, 168, 1, 1]) })
    );
    assert_eq!(
        S::parse(Some("10.0.0.2/8"), None),
        Ok(S::Static { address: [10, 0, 0, 2], prefix: 8, gateway: None })
    );
    for bad in ["10.0.2.15", "10.0.2.15/33", "10.0.2/24", "dhcp/24", "10.0.2.15/x", ""] {
        let error = S::parse(Some(bad), None).unwrap_err();
        assert!(error.starts_with("FERRODE_IPV4 is neither"), "{bad:?}: {error}");
    }
    assert!(S::parse(Some("10.0.0.2/8"), Some("10.0.0")).unwrap_err().contains("GATEWAY is not"));
    assert!(S::parse(None, Some("10.0.0.1")).unwrap_err().contains("needs FERRODE_IPV4"));
    assert!(S::parse(Some("dhcp"), Some("10.0.0.1")).unwrap_err().contains("DHCP server"));
}

#[test]
fn name_servers_from_the_environment() {
    let servers = |value| NameServers::parse(value).map(|s| s.iter().collect::<Vec<_>>());
    assert_eq!(servers("10.0.2.3"), Ok(vec![([10, 0, 2, 3], 53)]));
    assert_eq!(
        servers("10.0.2.2:5353, 192.168.1.1 ,8.8.8.8:53"),
        Ok(vec![([10, 0, 2, 2], 5353), ([192, 168, 1, 1], 53), ([8, 8, 8, 8], 53)])
    );
    for bad in ["", "10.0.2", "10.0.2.3:", "10.0.2.3:0", "10.0.2.3:65536", "a.b.c.d", "10.0.2.3,"] {
        assert!(NameServers::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        NameServers::parse("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4"),
        Err("FERRODE_DNS lists more than 3 servers")
    );
    assert!(NameServers::default().is_empty());
    assert!(!NameServers::parse("10.0.2.3").unwrap().is_empty());
    // DHCP's list: port 53, the first three.
    let dhcp = NameServers::of_addresses([[10, 0, 2, 3], [1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]);
    assert_eq!(
        dhcp.iter().collect::<Vec<_>>(),
        vec![([10, 0, 2, 3], 53), ([1, 1, 1, 1], 53), ([2, 2, 2, 2], 53)]
    );
    assert!(NameServers::of_addresses([]).is_empty());
    let one = NameServers::single([10, 0, 2, 2], 5353);
    assert_eq!(one.iter().collect::<Vec<_>>(), vec![([10, 0, 2, 2], 5353)]);
}

#[test]
fn addresses_and_special_names_need_no_lookup() {
    let address = |a: [u8; 4]| Some(LocalAnswer::Address(a));
    assert_eq!(answer_without_lookup("10.0.2.2"), address([10, 0, 2, 2]));
    for name in ["localhost", "LocalHost.", "app.localhost", "a.b.LOCALHOST."] {
        assert_eq!(answer_without_lookup(name), address([127, 0, 0, 1]), "{name:?}");
    }
    for name in ["invalid", "ferrode.invalid", "x.Invalid."] {
        assert_eq!(answer_without_lookup(name), Some(LocalAnswer::NoSuchName), "{name:?}");
    }
    for name in [
        "ferrode.test",
        "localhost.ferrode.test",
        "notlocalhost",
        "myinvalid",
        "10.0.2",
        "10.0.2.256",
        "::1",
        "",
    ] {
        assert_eq!(answer_without_lookup(name), None, "{name:?}");
    }
}

#[test]
fn lookup_requests_from_hints_and_services() {
    let hints = |family, socktype| abi::addrinfo {
        ai_flags: 0,
        ai_family: family,
        ai_socktype: socktype,
        ai_protocol: 0,
        ai_addrlen: 0,
        ai_canonname: core::ptr::null_mut(),
        ai_addr: core::ptr::null_mut(),
        ai_next: core::ptr::null_mut(),
    };
    let stream = LookupRequest { socktype: abi::SOCK_STREAM, protocol: abi::IPPROTO_TCP, port: 0 };
    // std's own: any family, SOCK_STREAM, no service.
    assert_eq!(
        LookupRequest::new(Some(&hints(abi::AF_UNSPEC, abi::SOCK_STREAM)), None),
        Ok(stream)
    );
    assert_eq!(LookupRequest::new(None, None), Ok(stream));
    assert_eq!(
        LookupRequest::new(Some(&hints(abi::AF_INET, abi::SOCK_DGRAM)), Some(b"5353")),
        Ok(LookupRequest { socktype: abi::SOCK_DGRAM, protocol: abi::IPPROTO_UDP, port: 5353 })
    );
    assert_eq!(LookupRequest::new(Some(&hints(abi::AF_INET6, 0)), None), Err(abi::EAI_FAMILY));
    assert_eq!(LookupRequest::new(Some(&hints(0, 3)), None), Err(abi::EAI_SOCKTYPE));
    for service in [&b"http"[..], b"65536", b"", b"-1"] {
        assert_eq!(LookupRequest::new(None, Some(service)), Err(abi::EAI_SERVICE));
    }
}

mod threads {
    use super::Vec;
    use crate::threads::{Join, Next, Run, Schedule, Waiting};

    const TIMER: u32 = 7;
    const TERMINAL: u32 = 9;

    fn on_signal(signal: u32) -> Waiting {
        Waiting { signal: Some(signal), ..Waiting::default() }
    }

    fn on_futex(address: usize) -> Waiting {
        Waiting { futex: Some(address), ..Waiting::default() }
    }

    #[test]
    fn main_holds_the_turn_alone_at_first() {
        let schedule = Schedule::<4>::new();
        assert_eq!(schedule.thread(0), Some((1, Run::Running)));
        assert!(!schedule.others_alive(0));
        assert_eq!(schedule.next(Some(TIMER)), Next::Deadlock);
        assert_eq!(schedule.join(1), Join::Alive);
        assert_eq!(schedule.join(2), Join::Unknown);
    }

    #[test]
    fn the_turn_goes_to_the_thread_made_ready_first() {
        let mut schedule = Schedule::<4>::new();
        let a = schedule.add(2).unwrap();
        let b = schedule.add(3).unwrap();
        assert!(schedule.others_alive(0));
        // Main yields: the threads ready before it come first.
        schedule.ready(0);
        assert_eq!(schedule.next(None), Next::Run(a));
        schedule.running(a);
        schedule.ready(a);
        assert_eq!(schedule.next(None), Next::Run(b));
        schedule.running(b);
        schedule.ready(b);
        assert_eq!(schedule.next(None), Next::Run(0), "main, then a, then b: round robin");
        schedule.running(0);
        assert_eq!(schedule.next(None), Next::Run(a));
        // Full: no index for a fifth.
        assert_eq!(schedule.add(4), Some(3));
        assert_eq!(schedule.add(5), None);
    }

    #[test]
    fn with_no_thread_ready_the_holder_waits_on_a_signal_preferring_the_timer() {
        let mut schedule = Schedule::<4>::new();
        let a = schedule.add(2).unwrap();
        schedule.running(a);
        schedule.wait(0, on_signal(TERMINAL));
        schedule.wait(a, on_signal(TIMER));
        assert_eq!(schedule.next(Some(TIMER)), Next::Poll { signal: TIMER, others: true });
        assert_eq!(schedule.next(None), Next::Poll { signal: TERMINAL, others: true });
        schedule.wait(0, on_signal(TIMER));
        assert_eq!(schedule.next(Some(TIMER)), Next::Poll { signal: TIMER, others: false });
        // The timer is preferred only when someone waits for it.
        schedule.wait(0, on_signal(TERMINAL));
        schedule.wait(a, on_futex(0x100));
        assert_eq!(schedule.next(Some(TIMER)), Next::Poll { signal: TERMINAL, others: false });
        // After the wait, every signal waiter looks again; futex waiters
        // do not.
        schedule.signalled();
        assert_eq!(schedule.thread(0), Some((1, Run::Ready(schedule_order(&schedule, 0)))));
        assert!(matches!(schedule.thread(a), Some((2, Run::Waiting(..)))));
        assert_eq!(schedule.next(Some(TIMER)), Next::Run(0));
    }

    #[test]
    fn an_ending_thread_with_none_ready_hands_the_turn_to_a_signal_waiter() {
        let mut schedule = Schedule::<4>::new();
        let a = schedule.add(2).unwrap();
        let b = schedule.add(3).unwrap();
        schedule.wait(0, Waiting { join: Some(3), ..Waiting::default() });
        schedule.running(a);
        assert_eq!(schedule.poller(), None, "b is ready, not waiting");
        schedule.wait(b, on_signal(TIMER));
        assert_eq!(schedule.poller(), Some(b));
        schedule.wait(a, on_signal(TERMINAL));
        assert_eq!(schedule.poller(), Some(a), "the first index that waits on a signal");
        schedule.finish(a);
        assert_eq!(schedule.poller(), Some(b));
    }

    fn schedule_order(schedule: &Schedule<4>, index: usize) -> u32 {
        match schedule.thread(index) {
            Some((_, Run::Ready(order))) => order,
            other => panic!("not ready: {other:?}"),
        }
    }

    #[test]
    fn futex_wakes_ready_the_first_waiters_of_that_word_only() {
        let mut schedule = Schedule::<4>::new();
        let a = schedule.add(2).unwrap();
        let b = schedule.add(3).unwrap();
        let c = schedule.add(4).unwrap();
        schedule.wait(b, on_futex(0x200));
        schedule.wait(a, on_futex(0x200));
        schedule.wait(c, Waiting { futex: Some(0x300), signal: Some(TIMER), join: None });
        assert_eq!(schedule.futex_wake(0x400, 5), 0);
        assert_eq!(schedule.futex_wake(0x200, 1), 1);
        assert!(matches!(schedule.thread(b), Some((3, Run::Ready(_)))), "b waited first");
        assert!(matches!(schedule.thread(a), Some((2, Run::Waiting(..)))));
        assert!(schedule.take_woken(b));
        assert!(!schedule.take_woken(b), "taken");
        assert_eq!(schedule.futex_wake(0x200, 5), 1);
        assert_eq!(schedule.futex_wake(0x200, 5), 0);
        // A timed futex waiter the timer readies was not woken.
        schedule.signalled();
        assert!(matches!(schedule.thread(c), Some((4, Run::Ready(_)))));
        assert!(!schedule.take_woken(c));
        // A new wait forgets an old wake.
        assert_eq!(schedule.futex_wake(0x300, 1), 0);
        schedule.wait(a, on_futex(0x300));
        assert_eq!(schedule.futex_wake(0x300, 1), 1);
        schedule.wait(a, on_futex(0x300));
        assert!(!schedule.take_woken(a));
    }

    #[test]
    fn an_end_readies_its_joiners_and_a_wait_on_nothing_is_a_deadlock() {
        let mut schedule = Schedule::<4>::new();
        let a = schedule.add(2).unwrap();
        schedule.wait(0, Waiting { join: Some(2), ..Waiting::default() });
        assert_eq!(schedule.join(2), Join::Alive);
        schedule.running(a);
        schedule.wait(a, on_futex(0x10));
        assert_eq!(schedule.next(Some(TIMER)), Next::Deadlock);
        schedule.running(a);
        schedule.finish(a);
        assert_eq!(schedule.join(2), Join::Finished(a));
        assert_eq!(schedule.next(Some(TIMER)), Next::Run(0));
        assert!(!schedule.others_alive(0), "a finished thread is not alive");
        assert_eq!(schedule.finished().collect::<Vec<_>>(), [a]);
        schedule.remove(a);
        assert_eq!(schedule.join(2), Join::Unknown);
        assert_eq!(schedule.finished().count(), 0);
        assert_eq!(schedule.add(3), Some(a), "its index is free again");
    }
}

#[test]
fn typed_directory_entries_carry_their_kind() {
    let mut aligned = Aligned([0xff; 512]);
    let entries = [("LOGS", abi::DT_DIR), ("README.TXT", abi::DT_REG)];
    let written = write_typed_dirents(entries.into_iter(), &mut aligned.0).unwrap();
    let read = read_entries(&aligned.0[..written]);
    assert_eq!(read[0].2, abi::DT_DIR);
    assert_eq!(read[0].3, "LOGS");
    assert_eq!(read[1].2, abi::DT_REG);
    assert_eq!(read[1].3, "README.TXT");
    // Owned names do as well as borrowed ones.
    let owned = [(String::from("A.TXT"), abi::DT_REG)];
    assert_eq!(write_typed_dirents(owned.into_iter(), &mut aligned.0), Some(32));
}

#[test]
fn file_paths_name_the_sd_cards_files_under_sd() {
    let names = |path: &[u8]| -> Option<Vec<String>> {
        sd_path(path).map(|path| path.components().map(String::from).collect())
    };
    assert_eq!(names(b"/sd"), Some(vec![]));
    assert_eq!(names(b"/sd/"), Some(vec![]));
    assert_eq!(names(b"/sd/./"), Some(vec![]));
    assert_eq!(names(b"/sd/README.TXT"), Some(vec!["README.TXT".into()]));
    assert_eq!(names(b"/sd//LOGS/./DAY1.TXT/"), Some(vec!["LOGS".into(), "DAY1.TXT".into()]));
    for outside in
        [&b"/sdx"[..], b"sd/A", b"/rom/sd", b"/", b"", b"/sd/../rom", b"/sd/A/..", b"/sd/\xff"]
    {
        assert_eq!(sd_path(outside), None, "{outside:?}");
    }
    assert!(sd_path(b"/sd/.").unwrap().is_root());
    assert!(!sd_path(b"/sd/A").unwrap().is_root());
    let path = sd_path(b"/sd/LOGS/2026/DAY1.TXT").unwrap();
    let (parents, last) = path.split_last().unwrap();
    assert_eq!(parents.collect::<Vec<_>>(), ["LOGS", "2026"]);
    assert_eq!(last, "DAY1.TXT");
    let (parents, last) = sd_path(b"/sd/A.TXT").unwrap().split_last().unwrap();
    assert_eq!((parents.count(), last), (0, "A.TXT"));
    assert!(sd_path(b"/sd").unwrap().split_last().is_none());
}

#[test]
fn open_flags_read_as_what_they_ask() {
    use abi::{O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
    let read_only = OpenMode {
        read: true,
        write: false,
        append: false,
        truncate: false,
        create: Create::No,
        directory: false,
    };
    assert_eq!(open_mode(O_RDONLY), Ok(read_only));
    assert_eq!(open_mode(O_RDONLY | O_DIRECTORY), Ok(OpenMode { directory: true, ..read_only }));
    // std's File::create.
    assert_eq!(
        open_mode(O_WRONLY | O_CREAT | O_TRUNC),
        Ok(OpenMode {
            read: false,
            write: true,
            truncate: true,
            create: Create::IfMissing,
            ..read_only
        })
    );
    // std's OpenOptions::new().append(true).create(true).
    assert_eq!(
        open_mode(O_WRONLY | O_APPEND | O_CREAT),
        Ok(OpenMode {
            read: false,
            write: true,
            append: true,
            create: Create::IfMissing,
            ..read_only
        })
    );
    // std's create_new.
    assert_eq!(
        open_mode(O_RDWR | O_CREAT | O_EXCL).map(|mode| (mode.read, mode.write, mode.create)),
        Ok((true, true, Create::New))
    );
    // O_EXCL without O_CREAT means nothing.
    assert_eq!(open_mode(O_RDONLY | O_EXCL).map(|mode| mode.create), Ok(Create::No));
    for bad in [0o3, O_RDONLY | O_TRUNC, O_RDONLY | O_APPEND] {
        assert_eq!(open_mode(bad), Err(errno::EINVAL), "{bad:#o}");
    }
}
