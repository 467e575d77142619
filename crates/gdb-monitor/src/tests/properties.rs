//! Random sessions, honest and hostile, against the model targets. The
//! monitor listens on a TCP port of a running image: whatever arrives
//! there, it must not panic, must answer only in well-formed packets,
//! must not depend on how the bytes were cut into segments, and must
//! leave the code as it found it once the debugger is gone.

use std::vec::Vec;

use proptest::collection::vec;
use proptest::prelude::*;

use super::{CODE, Large, Model, ProtectedCode};
use crate::packet::{Decoder, Event, Reply, checksum};
use crate::{Architecture, MAX_PACKET, Monitor, Target};

/// One thing that happens on the connection or in the target.
#[derive(Clone, Debug)]
enum Step {
    /// A packet with the right checksum; `escape_all` escapes every byte
    /// (allowed: the monitor takes any escaped byte).
    Packet { data: Vec<u8>, escape_all: bool },
    /// A packet whose checksum is off by `error` (never 0).
    Corrupt { data: Vec<u8>, error: u8 },
    /// Bytes as they come: half-packets, acks, stray `$`, `#` and `}`.
    Junk(Vec<u8>),
    /// The interrupt byte.
    Interrupt,
    /// A thread stops by itself (breakpoint or fault), then the image
    /// polls the monitor.
    Hit { thread: u32, signal: u8 },
}

fn address() -> impl Strategy<Value = u32> {
    prop_oneof![
        // The model's memory, its code, the kernel's part past it, and
        // the words around the ends of the address space.
        0x0ff0u32..0x1050,
        0x100cu32..0x1024,
        any::<u32>(),
        (0u32..8).prop_map(|back| u32::MAX - back),
    ]
}

fn length() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..8, 0u32..0x240, any::<u32>()]
}

fn thread() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("3".to_string()),
        Just("5".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("p1.5".to_string()),
        "[0-9a-fA-F]{0,10}",
        "p[0-9a-f]{0,2}\\.?[0-9a-f-]{0,3}",
    ]
}

/// Packet data: GDB's commands with arguments in and out of range, and
/// bytes nobody would send.
fn command() -> impl Strategy<Value = Vec<u8>> {
    let fixed = prop_oneof![
        Just("?"),
        Just("g"),
        Just("c"),
        Just("s"),
        Just("D"),
        Just("k"),
        Just(""),
        Just("vCont?"),
        Just("vCont;c"),
        Just("vCont;t"),
        Just("vCont;"),
        Just("qC"),
        Just("qAttached"),
        Just("qfThreadInfo"),
        Just("qsThreadInfo"),
        Just("qSupported:multiprocess+;swbreak+"),
    ]
    .prop_map(|text| text.as_bytes().to_vec());
    let text =
        prop_oneof![
            (prop_oneof![Just('g'), Just('c'), Just('x')], thread())
                .prop_map(|(which, t)| format!("H{which}{t}")),
            thread().prop_map(|t| format!("T{t}")),
            thread().prop_map(|t| format!("qThreadExtraInfo,{t}")),
            (0u32..0x30).prop_map(|n| format!("p{n:x}")),
            (0u32..0x30, "[0-9a-fA-F]{0,10}").prop_map(|(n, v)| format!("P{n:x}={v}")),
            (address(), length()).prop_map(|(a, l)| format!("m{a:x},{l:x}")),
            (address(), vec(any::<u8>(), 0..24), 0u32..3).prop_map(|(a, bytes, skew)| {
                // The length field usually says how many bytes follow.
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("M{a:x},{:x}:{hex}", bytes.len() as u32 + skew / 2)
            }),
            (address(), length())
                .prop_map(|(o, l)| format!("qXfer:features:read:target.xml:{o:x},{l:x}")),
            (prop_oneof![Just('Z'), Just('z')], 0u32..3, address(), 0u32..6, any::<bool>())
                .prop_map(|(verb, kind, at, size, condition)| {
                    let condition = if condition { ";X2,0a" } else { "" };
                    format!("{verb}{kind},{at:x},{size:x}{condition}")
                }),
            vec((prop_oneof![Just("c"), Just("C05"), Just("t"), Just("s")], thread()), 0..5)
                .prop_map(|actions| {
                    let actions: Vec<String> =
                        actions.iter().map(|(verb, t)| format!(";{verb}:{t}")).collect();
                    format!("vCont{}", actions.concat())
                }),
        ]
        .prop_map(String::into_bytes);
    // `X`: binary data, which the framing escapes where it must.
    let binary = (address(), vec(any::<u8>(), 0..24), 0u32..3).prop_map(|(a, bytes, skew)| {
        let mut data = format!("X{a:x},{:x}:", bytes.len() as u32 + skew / 2).into_bytes();
        data.extend_from_slice(&bytes);
        data
    });
    prop_oneof![
        3 => fixed,
        8 => text,
        2 => binary,
        1 => vec(any::<u8>(), 0..40),
        // Longer than a packet may be.
        1 => (MAX_PACKET - 2..MAX_PACKET + 3).prop_map(|n| vec![b'm'; n]),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (command(), any::<bool>())
            .prop_map(|(data, escape_all)| Step::Packet { data, escape_all }),
        1 => (command(), 1u8..=255).prop_map(|(data, error)| Step::Corrupt { data, error }),
        1 => vec(prop_oneof![any::<u8>(), Just(b'$'), Just(b'#'), Just(b'}'), Just(3)], 0..12)
            .prop_map(Step::Junk),
        1 => Just(Step::Interrupt),
        1 => (prop_oneof![Just(3u32), Just(5), Just(9)], prop_oneof![Just(5u8), Just(4), Just(11)])
            .prop_map(|(thread, signal)| Step::Hit { thread, signal }),
    ]
}

/// `data` framed as GDB frames it: `$`, the data with `$`, `#`, `}` and
/// `*` escaped (or every byte), `#` and the checksum of what was sent.
fn framed(data: &[u8], escape_all: bool, error: u8) -> Vec<u8> {
    let mut body = Vec::new();
    for &byte in data {
        if escape_all || matches!(byte, b'$' | b'#' | b'}' | b'*') {
            body.extend_from_slice(&[b'}', byte ^ 0x20]);
        } else {
            body.push(byte);
        }
    }
    let sum = checksum(&body).wrapping_add(error);
    let mut packet = vec![b'$'];
    packet.extend_from_slice(&body);
    packet.extend_from_slice(format!("#{sum:02x}").as_bytes());
    packet
}

/// The bytes `step` puts on the connection (none for a target event).
fn wire(step: &Step) -> Vec<u8> {
    match step {
        Step::Packet { data, escape_all } => framed(data, *escape_all, 0),
        Step::Corrupt { data, error } => framed(data, false, *error),
        Step::Junk(bytes) => bytes.clone(),
        Step::Interrupt => vec![3],
        Step::Hit { .. } => Vec::new(),
    }
}

/// What the model targets have in common for these tests.
trait Inspect: Target {
    fn model(&mut self) -> &mut Model;
}

impl Inspect for Model {
    fn model(&mut self) -> &mut Model {
        self
    }
}

impl Inspect for ProtectedCode {
    fn model(&mut self) -> &mut Model {
        &mut self.0
    }
}

impl Inspect for Large {
    fn model(&mut self) -> &mut Model {
        &mut self.0
    }
}

/// Feeds `bytes` in pieces of the sizes `cuts` gives in turn (a TCP
/// connection's segments), sending all output after each call as the
/// image's glue does; returns what was sent.
fn feed(monitor: &mut Monitor, target: &mut dyn Target, bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut sent = Vec::new();
    let mut rest = bytes;
    let mut cut = cuts.iter().cycle();
    let mut calls = 0;
    while !rest.is_empty() && !monitor.closing() {
        calls += 1;
        assert!(calls <= 2 * bytes.len() + 2, "the monitor stopped taking bytes");
        let piece = rest.len().min(*cut.next().unwrap_or(&usize::MAX)).max(1);
        let mut segment = &rest[..piece];
        while !segment.is_empty() && !monitor.closing() {
            let taken = monitor.receive(segment, target);
            let out = monitor.output().to_vec();
            assert!(taken > 0 || !out.is_empty(), "nothing taken and nothing to send");
            monitor.sent(out.len());
            sent.extend_from_slice(&out);
            segment = &segment[taken..];
        }
        rest = &rest[piece - segment.len()..];
    }
    sent
}

/// Plays a session: the bytes of the steps up to each target event as
/// one stream, cut by `cuts`, then the event. Returns everything the
/// monitor sent.
fn play(
    monitor: &mut Monitor,
    target: &mut dyn Inspect,
    steps: &[Step],
    cuts: &[usize],
) -> Vec<u8> {
    let mut sent = Vec::new();
    let mut stream = Vec::new();
    for step in steps {
        match step {
            Step::Hit { thread, signal } => {
                sent.extend(feed(monitor, target, &stream, cuts));
                stream.clear();
                if monitor.closing() {
                    break;
                }
                target.model().hit = Some((*thread, *signal));
                monitor.poll(target);
                let out = monitor.output().to_vec();
                monitor.sent(out.len());
                sent.extend_from_slice(&out);
            }
            other => stream.extend(wire(other)),
        }
    }
    sent.extend(feed(monitor, target, &stream, cuts));
    sent
}

/// Splits what the monitor sent into acks (`+`, `-`) and reply packets,
/// checking each packet's checksum and that no reserved byte appears
/// unescaped; returns the packets' data, unescaped.
fn replies(sent: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut packets = Vec::new();
    let mut decoder = Decoder::new();
    let mut inside = false;
    for (at, &byte) in sent.iter().enumerate() {
        if !inside {
            match byte {
                b'+' | b'-' => continue,
                b'$' => inside = true,
                other => return Err(format!("byte {other:#04x} outside a packet at {at}")),
            }
        } else if byte == b'$' {
            return Err(format!("an unescaped '$' inside a reply at {at}"));
        }
        match decoder.push(byte) {
            None => {}
            Some(Event::Packet(data)) => {
                packets.push(data.to_vec());
                inside = false;
            }
            Some(other) => return Err(format!("{other:?} at {at}")),
        }
    }
    if inside {
        return Err("a reply cut off".into());
    }
    Ok(packets)
}

fn architecture() -> impl Strategy<Value = Architecture> {
    prop_oneof![Just(Architecture::Arm), Just(Architecture::Riscv32)]
}

fn connected<T: Inspect>(target: &mut T) -> Monitor {
    let mut monitor = Monitor::new();
    monitor.connect(target);
    monitor
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 512 }))]

    /// Whatever arrives, every reply is a whole packet with its checksum,
    /// no longer than a packet may be, and the monitor does not care how
    /// TCP cut the bytes: the replies and what the target was asked to do
    /// are the same for any cut.
    #[test]
    fn any_session_is_answered_in_packets_however_it_is_cut(
        architecture in architecture(),
        scribbles in any::<bool>(),
        steps in vec(step(), 0..40),
        cuts in vec(1usize..9, 1..6),
    ) {
        let mut whole_target = Model::new(architecture);
        whole_target.scribbles = scribbles;
        let mut whole = connected(&mut whole_target);
        let sent = play(&mut whole, &mut whole_target, &steps, &[usize::MAX]);
        let packets = replies(&sent).map_err(|e| TestCaseError::fail(format!("{e}: {sent:?}")))?;
        for packet in &packets {
            // The monitor's replies are text: hex, names, the target's
            // XML; none is longer than a packet may be.
            prop_assert!(packet.len() <= MAX_PACKET + 16, "a reply of {} bytes", packet.len());
        }

        let mut cut_target = Model::new(architecture);
        cut_target.scribbles = scribbles;
        let mut cut = connected(&mut cut_target);
        let cut_sent = play(&mut cut, &mut cut_target, &steps, &cuts);
        prop_assert_eq!(&cut_sent, &sent);
        prop_assert_eq!(cut_target.memory, whole_target.memory);
        prop_assert_eq!(&cut_target.resumed, &whole_target.resumed);
        prop_assert_eq!(&cut_target.written, &whole_target.written);
        prop_assert_eq!(cut_target.stopped, whole_target.stopped);
        prop_assert_eq!(cut.running(), whole.running());
        prop_assert_eq!(cut.closing(), whole.closing());
    }

    /// Packets with the right checksum get `+`, those with a wrong one
    /// `-`, and nothing else is acknowledged: a packet cut off before its
    /// `#` (the debugger started over) is dropped without an answer, and
    /// the whole one after it is answered.
    #[test]
    fn every_packet_is_acknowledged_as_its_checksum_says(
        architecture in architecture(),
        packets in vec(
            (
                command(),
                prop_oneof![3 => Just(0u8), 1 => 1u8..=255],
                proptest::option::of(vec(any::<u8>().prop_filter("inside", |b| !b"$#".contains(b)), 0..8)),
            ),
            0..30,
        ),
    ) {
        let mut target = Model::new(architecture);
        let mut monitor = connected(&mut target);
        let mut expected = Vec::new();
        let mut sent = Vec::new();
        for (data, error, cut_off) in &packets {
            if monitor.closing() {
                break;
            }
            let before = sent.len();
            let mut bytes = Vec::new();
            if let Some(start) = cut_off {
                bytes.push(b'$');
                bytes.extend_from_slice(start);
            }
            bytes.extend(framed(data, false, *error));
            sent.extend(feed(&mut monitor, &mut target, &bytes, &[usize::MAX]));
            let oversized = data.len() > MAX_PACKET;
            expected.push(if *error == 0 && !oversized { b'+' } else { b'-' });
            // The ack comes first, before any reply.
            prop_assert_eq!(sent.get(before), expected.last(), "{:?}", String::from_utf8_lossy(data));
        }
        // The acks are the bytes outside reply packets; a checksum's two
        // digits, which follow each `#`, are never '+' or '-'.
        let mut acks = Vec::new();
        let mut inside = false;
        for &byte in &sent {
            match (inside, byte) {
                (false, b'$') => inside = true,
                (false, b'+' | b'-') => acks.push(byte),
                (true, b'#') => inside = false,
                _ => {}
            }
        }
        prop_assert_eq!(acks, expected);
    }

    /// Breakpoints go into the code and nothing else does; once the
    /// debugger is gone (detached, killed, or the connection dropped),
    /// the code is byte for byte what it was, whatever was set, set
    /// twice, overlapped, removed or refused in between.
    #[test]
    fn the_code_is_whole_again_once_the_debugger_is_gone(
        architecture in architecture(),
        steps in vec(step(), 0..60),
        breakpoints in vec((0x100cu32..0x1024, prop_oneof![Just(2u32), Just(3), Just(4)]), 0..20),
        cuts in vec(1usize..9, 1..4),
    ) {
        let mut target = ProtectedCode(Model::new(architecture));
        let code = |t: &ProtectedCode| t.0.memory[(CODE.start - 0x1000) as usize..(CODE.end - 0x1000) as usize].to_vec();
        let original = code(&target);
        let mut monitor = connected(&mut target);
        // Breakpoints first (many of them valid), then the random session.
        let mut session: Vec<Step> = breakpoints
            .iter()
            .map(|(at, kind)| Step::Packet {
                data: format!("Z0,{at:x},{kind:x}").into_bytes(),
                escape_all: false,
            })
            .collect();
        session.extend(steps);
        play(&mut monitor, &mut target, &session, &cuts);
        monitor.disconnect(&mut target);
        prop_assert_eq!(code(&target), original);
        prop_assert!(!target.0.stopped, "the target runs on without a debugger");
    }

    /// A target with more to give than a reply holds (a long thread
    /// description, a wide readable window) is answered within bounds.
    #[test]
    fn large_answers_stay_within_a_reply(
        architecture in architecture(),
        reads in vec((0x0fff0u32..0x11010, 0u32..0x400), 0..20),
        steps in vec(step(), 0..20),
    ) {
        let mut target = Large(Model::new(architecture));
        let mut monitor = connected(&mut target);
        let mut session: Vec<Step> = reads
            .iter()
            .map(|(at, n)| Step::Packet { data: format!("m{at:x},{n:x}").into_bytes(), escape_all: false })
            .collect();
        session.push(Step::Packet { data: b"qThreadExtraInfo,3".to_vec(), escape_all: false });
        session.extend(steps);
        let sent = play(&mut monitor, &mut target, &session, &[usize::MAX]);
        let packets = replies(&sent).map_err(|e| TestCaseError::fail(format!("{e}: {sent:?}")))?;
        for packet in &packets {
            prop_assert!(packet.len() <= 2 * crate::MAX_READ, "a reply of {} bytes", packet.len());
        }
    }

    /// A memory read answers the bytes the target holds from its address:
    /// all that were asked for, or as many as can be read before refused
    /// memory (a short reply, which GDB allows), or an error when not even
    /// the first may be read; never more than [`crate::MAX_READ`].
    #[test]
    fn memory_reads_answer_exactly_the_readable_start(
        architecture in architecture(),
        scribbles in any::<bool>(),
        at in address(),
        asked in prop_oneof![0u32..0x48, 0x1f0u32..0x210],
    ) {
        let mut target = Model::new(architecture);
        target.scribbles = scribbles;
        let mut monitor = connected(&mut target);
        let sent = play(
            &mut monitor,
            &mut target,
            &[Step::Packet { data: format!("m{at:x},{asked:x}").into_bytes(), escape_all: false }],
            &[usize::MAX],
        );
        let packets = replies(&sent).map_err(|e| TestCaseError::fail(format!("{e}: {sent:?}")))?;
        prop_assert_eq!(packets.len(), 1);
        let reply = String::from_utf8(packets[0].clone()).unwrap();
        // The model: 0x1000..0x1030 readable, each byte its offset.
        let readable = (0x1000u64..0x1030).contains(&u64::from(at));
        let available = if readable { 0x1030 - u64::from(at) } else { 0 };
        let expected = u64::from(asked).min(available);
        if asked as usize > crate::MAX_READ {
            prop_assert_eq!(reply, "E01");
        } else if asked == 0 {
            // Passed on as it is: the model takes an empty read up to
            // the kernel's part.
            let empty_ok = (0x1000u64..=0x1030).contains(&u64::from(at));
            prop_assert_eq!(reply, if empty_ok { "" } else { "E0e" });
        } else if expected == 0 {
            prop_assert_eq!(reply, "E0e");
        } else {
            let bytes: String =
                (0..expected).map(|i| format!("{:02x}", (u64::from(at) - 0x1000 + i) as u8)).collect();
            prop_assert_eq!(reply, bytes);
        }
    }

    /// The target description comes in windows of what was asked (at
    /// most [`crate::MAX_READ`] bytes) from the offset asked, `l` on the
    /// last: read on from where each ends, they give the whole text.
    #[test]
    fn the_target_description_reads_in_exact_windows(
        architecture in architecture(),
        offset in 0u32..0x1000,
        window in prop_oneof![1u32..0x40, 0x1f0u32..0x1000],
    ) {
        let xml = architecture.target_xml().as_bytes();
        let mut target = Model::new(architecture);
        let mut monitor = connected(&mut target);
        let mut read = Vec::new();
        let mut at = offset;
        loop {
            let sent = play(
                &mut monitor,
                &mut target,
                &[Step::Packet {
                    data: format!("qXfer:features:read:target.xml:{at:x},{window:x}").into_bytes(),
                    escape_all: false,
                }],
                &[usize::MAX],
            );
            let packets =
                replies(&sent).map_err(|e| TestCaseError::fail(format!("{e}: {sent:?}")))?;
            prop_assert_eq!(packets.len(), 1);
            let (&marker, data) = packets[0].split_first().expect("a marker");
            prop_assert!(data.len() <= (window as usize).min(crate::MAX_READ));
            read.extend_from_slice(data);
            at += data.len() as u32;
            match marker {
                b'l' => break,
                b'm' => prop_assert!(!data.is_empty(), "a window of nothing, not the last"),
                other => prop_assert!(false, "marker {other:#x}"),
            }
        }
        let start = (offset as usize).min(xml.len());
        prop_assert_eq!(read, xml[start..].to_vec());
    }

    /// What a reply frames, the decoder gives back byte for byte, behind
    /// any bytes that hold no `$`.
    #[test]
    fn replies_decode_to_what_they_framed(
        data in vec(any::<u8>(), 0..300),
        before in vec(any::<u8>().prop_filter("no packet start", |&b| b != b'$'), 0..16),
    ) {
        let mut buffer = vec![0u8; 2 * data.len() + 4];
        let mut reply = Reply::new(&mut buffer);
        reply.bytes(&data);
        prop_assert!(!reply.overflowed());
        let length = reply.finish();
        let mut decoder = Decoder::new();
        let mut events = Vec::new();
        for &byte in before.iter().chain(&buffer[..length]) {
            match decoder.push(byte) {
                Some(Event::Packet(got)) => events.push(Some(got.to_vec())),
                Some(Event::Interrupt) => {}
                Some(_) => events.push(None),
                None => {}
            }
        }
        prop_assert_eq!(events, vec![Some(data)]);
    }
}
