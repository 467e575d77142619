//! The monitor against a model target: what GDB sends, what it gets back.

use std::string::String;
use std::vec::Vec;

use crate::packet::checksum;
use crate::{Architecture, MAX_PACKET, Monitor, Target, TargetError};

mod properties;

/// Threads 3 ("app:main") and 5 ("app:worker"); 64 bytes of memory at
/// 0x1000 of which 0x1030.. is "the kernel's" (refused).
struct Model {
    architecture: Architecture,
    memory: [u8; 64],
    stopped: bool,
    resumed: Vec<Option<u32>>,
    hit: Option<(u32, u8)>,
    /// Register writes taken: thread, index, value. Index 13 is refused
    /// (as a stack pointer is).
    written: Vec<(u32, usize, u32)>,
    /// A refused read leaves garbage in its buffer (nothing in the
    /// `Target` contract says it may not).
    scribbles: bool,
}

const BASE: u32 = 0x1000;
const KERNEL: u32 = 0x1030;

impl Model {
    fn new(architecture: Architecture) -> Self {
        let mut memory = [0u8; 64];
        memory.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Self {
            architecture,
            memory,
            stopped: false,
            resumed: Vec::new(),
            hit: None,
            written: Vec::new(),
            scribbles: false,
        }
    }

    fn range(&self, address: u32, length: usize) -> Result<usize, TargetError> {
        let end = address as u64 + length as u64;
        if address < BASE || end > u64::from(KERNEL) {
            return Err(TargetError::BadAddress);
        }
        Ok((address - BASE) as usize)
    }
}

impl Target for Model {
    fn architecture(&self) -> Architecture {
        self.architecture
    }

    fn threads(&mut self, out: &mut [u32]) -> usize {
        out[0] = 3;
        out[1] = 5;
        2
    }

    fn describe(&mut self, thread: u32, out: &mut dyn core::fmt::Write) -> Result<(), TargetError> {
        let name = match thread {
            3 => "app:main",
            5 => "app:worker",
            _ => return Err(TargetError::NoSuchThread),
        };
        out.write_str(name).map_err(|_| TargetError::NoSuchThread)
    }

    fn stop(&mut self) {
        self.stopped = true;
    }

    fn resume(&mut self, thread: Option<u32>) {
        self.stopped = false;
        self.resumed.push(thread);
    }

    fn registers(&mut self, thread: u32, out: &mut [u32]) -> Result<(), TargetError> {
        if thread != 3 && thread != 5 {
            return Err(TargetError::NoSuchThread);
        }
        if !self.stopped {
            return Err(TargetError::NotStopped);
        }
        out.iter_mut().enumerate().for_each(|(i, r)| *r = thread << 24 | i as u32);
        Ok(())
    }

    fn write_register(&mut self, thread: u32, index: usize, value: u32) -> Result<(), TargetError> {
        if index == 13 {
            return Err(TargetError::ReadOnlyRegister);
        }
        self.written.push((thread, index, value));
        Ok(())
    }

    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError> {
        let at = match self.range(address, out.len()) {
            Ok(at) => at,
            Err(error) => {
                if self.scribbles {
                    out.fill(0xee);
                }
                return Err(error);
            }
        };
        out.copy_from_slice(&self.memory[at..at + out.len()]);
        Ok(())
    }

    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        let at = self.range(address, data.len())?;
        self.memory[at..at + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn stopped_thread(&mut self) -> Option<(u32, u8)> {
        self.hit.take()
    }
}

/// A target whose code (0x1010..0x1020) takes breakpoints but no other
/// writes, as the image's does.
struct ProtectedCode(Model);

const CODE: core::ops::Range<u32> = 0x1010..0x1020;

impl Target for ProtectedCode {
    fn architecture(&self) -> Architecture {
        self.0.architecture()
    }
    fn threads(&mut self, out: &mut [u32]) -> usize {
        self.0.threads(out)
    }
    fn describe(&mut self, thread: u32, out: &mut dyn core::fmt::Write) -> Result<(), TargetError> {
        self.0.describe(thread, out)
    }
    fn stop(&mut self) {
        self.0.stop()
    }
    fn resume(&mut self, thread: Option<u32>) {
        self.0.resume(thread)
    }
    fn registers(&mut self, thread: u32, out: &mut [u32]) -> Result<(), TargetError> {
        self.0.registers(thread, out)
    }
    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError> {
        self.0.read_memory(address, out)
    }
    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        let end = u64::from(address) + data.len() as u64;
        if address < CODE.end && u64::from(CODE.start) < end {
            return Err(TargetError::BadAddress);
        }
        self.0.write_memory(address, data)
    }
    fn insert_breakpoint(&mut self, address: u32, instruction: &[u8]) -> Result<(), TargetError> {
        if !CODE.contains(&address) {
            return Err(TargetError::BadAddress);
        }
        self.0.write_memory(address, instruction)
    }
    fn remove_breakpoint(&mut self, address: u32, original: &[u8]) -> Result<(), TargetError> {
        self.0.write_memory(address, original)
    }
}

/// A target with more than the monitor passes on: a 4 KiB window at
/// 0x10000 where each byte reads as its address's low byte, and thread
/// descriptions longer than the 64 bytes a `qThreadExtraInfo` reply holds.
/// The rest is the model's.
struct Large(Model);

const WIDE: core::ops::Range<u32> = 0x10000..0x11000;
/// The description [`Large`] gives every thread: 80 bytes.
const LONG_NAME: &str =
    "component-with-a-long-name:thread-with-a-name-longer-than-one-reply-holds-012345";

impl Target for Large {
    fn architecture(&self) -> Architecture {
        self.0.architecture()
    }
    fn threads(&mut self, out: &mut [u32]) -> usize {
        self.0.threads(out)
    }
    fn describe(&mut self, thread: u32, out: &mut dyn core::fmt::Write) -> Result<(), TargetError> {
        self.0.describe(thread, &mut String::new())?;
        out.write_str(LONG_NAME).map_err(|_| TargetError::NoSuchThread)
    }
    fn stop(&mut self) {
        self.0.stop()
    }
    fn resume(&mut self, thread: Option<u32>) {
        self.0.resume(thread)
    }
    fn registers(&mut self, thread: u32, out: &mut [u32]) -> Result<(), TargetError> {
        self.0.registers(thread, out)
    }
    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError> {
        let end = u64::from(address) + out.len() as u64;
        if address < WIDE.start || end > u64::from(WIDE.end) {
            return self.0.read_memory(address, out);
        }
        out.iter_mut().zip(address..).for_each(|(byte, at)| *byte = at as u8);
        Ok(())
    }
    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        self.0.write_memory(address, data)
    }
    fn stopped_thread(&mut self) -> Option<(u32, u8)> {
        self.0.stopped_thread()
    }
}

fn frame(data: &str) -> Vec<u8> {
    format!("${data}#{:02x}", checksum(data.as_bytes())).into_bytes()
}

/// Feeds `input` (all of it, draining the output as a connection would)
/// and returns everything the monitor sent.
fn exchange(monitor: &mut Monitor, target: &mut dyn Target, input: &[u8]) -> String {
    let mut sent = Vec::new();
    let mut rest = input;
    // Each round takes a byte or drains output that waited: more rounds
    // than that means output that `sent` never clears.
    for round in 0.. {
        assert!(round <= input.len() + 1, "the output never drains: {sent:?}");
        let taken = monitor.receive(rest, target);
        let out = monitor.output().to_vec();
        monitor.sent(out.len());
        sent.extend_from_slice(&out);
        rest = &rest[taken..];
        if rest.is_empty() || (taken == 0 && out.is_empty()) {
            break;
        }
    }
    String::from_utf8(sent).expect("replies are text")
}

/// Sends one packet; returns the reply's data, checking the ack and the
/// reply's checksum.
fn ask(monitor: &mut Monitor, target: &mut dyn Target, data: &str) -> String {
    let sent = exchange(monitor, target, &frame(data));
    let body = sent.strip_prefix("+$").unwrap_or_else(|| panic!("no ack and reply: {sent:?}"));
    let (reply, sum) = body.rsplit_once('#').expect("a checksum");
    assert_eq!(sum, format!("{:02x}", checksum(reply.as_bytes())), "reply checksum");
    reply.to_string()
}

fn connected(architecture: Architecture) -> (Monitor, Model) {
    let mut monitor = Monitor::new();
    let mut target = Model::new(architecture);
    monitor.connect(&mut target);
    assert!(target.stopped, "attaching stops the target");
    (monitor, target)
}

#[test]
fn bad_checksum_garbage_and_oversized_are_refused_and_the_session_goes_on() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(exchange(&mut m, &mut t, b"$?#00"), "-");
    assert_eq!(exchange(&mut m, &mut t, b"hello\r\n+++---}}}##"), "");
    let huge = "m".repeat(MAX_PACKET + 10);
    assert_eq!(exchange(&mut m, &mut t, &frame(&huge)), "-");
    assert_eq!(ask(&mut m, &mut t, "?"), "T05thread:3;");
}

#[test]
fn unknown_commands_get_the_empty_reply() {
    let (mut m, mut t) = connected(Architecture::Arm);
    for packet in ["qOffsets", "vMustReplyEmpty", "!", "s", "G00", "Z2,1000,4", "QFoo"] {
        assert_eq!(ask(&mut m, &mut t, packet), "", "{packet}");
    }
}

#[test]
fn supported_attached_and_the_target_description() {
    let (mut m, mut t) = connected(Architecture::Riscv32);
    assert_eq!(
        ask(&mut m, &mut t, "qSupported:multiprocess+;swbreak+;xmlRegisters=arm"),
        "PacketSize=400;qXfer:features:read+"
    );
    assert_eq!(ask(&mut m, &mut t, "qAttached"), "1");
    let xml = Architecture::Riscv32.target_xml();
    let first = ask(&mut m, &mut t, "qXfer:features:read:target.xml:0,40");
    assert_eq!(first, format!("m{}", &xml[..0x40]));
    // The rest, in chunks of at most MAX_READ bytes, as GDB asks.
    let mut read = first[1..].to_string();
    loop {
        let chunk =
            ask(&mut m, &mut t, &format!("qXfer:features:read:target.xml:{:x},fff", read.len()));
        assert!(chunk.len() <= crate::MAX_READ + 1);
        read.push_str(&chunk[1..]);
        if chunk.starts_with('l') {
            break;
        }
        assert!(chunk.starts_with('m'));
    }
    assert_eq!(read, xml);
    let past = ask(&mut m, &mut t, &format!("qXfer:features:read:target.xml:{:x},10", xml.len()));
    assert_eq!(past, "l");
    assert_eq!(ask(&mut m, &mut t, "qXfer:features:read:other.xml:0,40"), "E01");
}

#[test]
fn threads_are_listed_and_described() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "qfThreadInfo"), "m3,5");
    assert_eq!(ask(&mut m, &mut t, "qsThreadInfo"), "l");
    assert_eq!(ask(&mut m, &mut t, "qC"), "QC3");
    let hex: String = "app:worker".bytes().map(|b| format!("{b:02x}")).collect();
    assert_eq!(ask(&mut m, &mut t, "qThreadExtraInfo,5"), hex);
    assert_eq!(ask(&mut m, &mut t, "qThreadExtraInfo,9"), "E02");
    assert_eq!(ask(&mut m, &mut t, "T5"), "OK");
    assert_eq!(ask(&mut m, &mut t, "T7"), "E02");
}

#[test]
fn registers_of_the_selected_thread() {
    let (mut m, mut t) = connected(Architecture::Arm);
    let g = ask(&mut m, &mut t, "g");
    assert_eq!(g.len(), 17 * 8);
    assert!(g.starts_with("00000003" /* r0 of thread 3: index 0, LE */));
    assert_eq!(ask(&mut m, &mut t, "Hg5"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Hc-1"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Hg0"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Hgp1.5"), "OK");
    // pc is register 15; cpsr is GDB's 25 (0x19), the 17th in `g`.
    assert_eq!(ask(&mut m, &mut t, "pf"), "0f000005");
    assert_eq!(ask(&mut m, &mut t, "p19"), "10000005");
    assert_eq!(ask(&mut m, &mut t, "p10"), "E02");
    assert_eq!(ask(&mut m, &mut t, "Hg8"), "E02");
    assert_eq!(ask(&mut m, &mut t, "Hgzz"), "E01");
    let (mut m, mut t) = connected(Architecture::Riscv32);
    assert_eq!(ask(&mut m, &mut t, "g").len(), 33 * 8);
    assert_eq!(ask(&mut m, &mut t, "p20"), "20000003");
}

#[test]
fn memory_reads_and_writes_are_bounded_by_the_target() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "m1004,4"), "04050607");
    assert_eq!(ask(&mut m, &mut t, "M1004,4:deadbeef"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1004,4"), "deadbeef");
    // Binary write with an escaped byte ('#' is 0x23: "}\x03").
    let raw = b"X1008,2:}\x03a";
    let mut input = vec![b'$'];
    input.extend_from_slice(raw);
    input.extend_from_slice(format!("#{:02x}", checksum(raw)).as_bytes());
    assert_eq!(exchange(&mut m, &mut t, &input), format!("+$OK#{:02x}", checksum(b"OK")));
    assert_eq!(ask(&mut m, &mut t, "m1008,2"), "2361");
    assert_eq!(ask(&mut m, &mut t, "X1000,0:"), "OK");
    // Unmapped, the kernel's, running into the kernel's (the bytes before
    // it, as GDB allows a short reply), too long, malformed.
    assert_eq!(ask(&mut m, &mut t, "m0,4"), "E0e");
    assert_eq!(ask(&mut m, &mut t, "m1030,4"), "E0e");
    assert_eq!(ask(&mut m, &mut t, "m102e,4"), "2e2f");
    assert_eq!(ask(&mut m, &mut t, "m102f,1"), "2f");
    assert_eq!(ask(&mut m, &mut t, "m1030,1"), "E0e");
    assert_eq!(
        ask(&mut m, &mut t, "m1011,40"),
        "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    );
    // The bytes are read again once their length is known: a refused
    // read may have left anything in the buffer.
    t.scribbles = true;
    assert_eq!(ask(&mut m, &mut t, "m1028,10"), "28292a2b2c2d2e2f");
    t.scribbles = false;
    assert_eq!(ask(&mut m, &mut t, "mffffffff,8"), "E0e");
    assert_eq!(ask(&mut m, &mut t, "M1030,1:00"), "E0e");
    assert_eq!(ask(&mut m, &mut t, "m1000,201"), "E01");
    assert_eq!(ask(&mut m, &mut t, "m1000"), "E01");
    assert_eq!(ask(&mut m, &mut t, "M1000,2:123"), "E01");
    assert_eq!(ask(&mut m, &mut t, "M1000,2000:00"), "E01");
    assert_eq!(ask(&mut m, &mut t, "m1000,4"), "00010203", "nothing else changed");
}

#[test]
fn software_breakpoints_write_and_restore_the_code() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "Z0,1010,4"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1010,4"), "fedeffe7");
    assert_eq!(ask(&mut m, &mut t, "Z0,1010,4"), "OK", "inserting twice is harmless");
    assert_eq!(ask(&mut m, &mut t, "z0,1010,4"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1010,4"), "10111213");
    assert_eq!(ask(&mut m, &mut t, "z0,1010,4"), "E01", "not inserted");
    assert_eq!(ask(&mut m, &mut t, "Z0,1030,4"), "E0e", "not in the image");
    // T32: a 16-bit instruction (kind 2) and a 32-bit one (kind 3) both
    // get the 16-bit breakpoint; the second halfword of the 32-bit one
    // stays as it was.
    assert_eq!(ask(&mut m, &mut t, "Z0,1016,2"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Z0,1018,3"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1014,8"), "1415fedefede1a1b");
    assert_eq!(ask(&mut m, &mut t, "z0,1016,2"), "OK");
    assert_eq!(ask(&mut m, &mut t, "z0,1018,3"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1014,8"), "1415161718191a1b");
    assert_eq!(ask(&mut m, &mut t, "Z0,1010,5"), "E01", "no such instruction");
    let (mut m, mut t) = connected(Architecture::Riscv32);
    assert_eq!(ask(&mut m, &mut t, "Z0,1000,3"), "E01", "kind 3 is T32's");
    assert_eq!(ask(&mut m, &mut t, "Z0,1000,2"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Z0,1004,4;X1,ff"), "OK");
    assert_eq!(ask(&mut m, &mut t, "m1000,8"), "0290020373001000");
    // Detaching takes every breakpoint out and lets the target run.
    assert_eq!(ask(&mut m, &mut t, "D"), "OK");
    assert!(m.closing());
    m.disconnect(&mut t);
    assert_eq!(&t.memory[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(!t.stopped);
}

/// A breakpoint over part of another is refused: it would save the other's
/// breakpoint bytes as its original and put them back when removed.
#[test]
fn a_breakpoint_overlapping_another_is_refused_and_the_code_comes_back() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "Z0,1010,4"), "OK");
    assert_eq!(ask(&mut m, &mut t, "Z0,1012,2"), "E10", "inside the first");
    assert_eq!(ask(&mut m, &mut t, "Z0,100e,4"), "E10", "over its start");
    assert_eq!(ask(&mut m, &mut t, "Z0,100e,2"), "OK", "just before it");
    assert_eq!(ask(&mut m, &mut t, "Z0,1014,2"), "OK", "just after it");
    for address in ["1010", "100e", "1014"] {
        assert_eq!(ask(&mut m, &mut t, &format!("z0,{address},2")), "OK");
    }
    assert_eq!(ask(&mut m, &mut t, "z0,1012,2"), "E01", "never inserted");
    assert_eq!(ask(&mut m, &mut t, "m100c,c"), "0c0d0e0f1011121314151617");
}

#[test]
fn breakpoints_go_where_other_writes_to_code_may_not() {
    let mut m = Monitor::new();
    let mut t = ProtectedCode(Model::new(Architecture::Arm));
    m.connect(&mut t);
    assert_eq!(exchange(&mut m, &mut t, &frame("M1010,4:00000000")), "+$E0e#da");
    assert_eq!(exchange(&mut m, &mut t, &frame("Z0,1010,4")), "+$OK#9a");
    assert_eq!(&t.0.memory[0x10..0x14], &0xe7ff_defe_u32.to_le_bytes());
    assert_eq!(exchange(&mut m, &mut t, &frame("Z0,1004,4")), "+$E0e#da", "not code");
    assert_eq!(exchange(&mut m, &mut t, &frame("z0,1010,4")), "+$OK#9a");
    assert_eq!(&t.0.memory[0x10..0x14], &[0x10, 0x11, 0x12, 0x13]);
    // Disconnecting takes out what is still in.
    assert_eq!(exchange(&mut m, &mut t, &frame("Z0,1014,4")), "+$OK#9a");
    m.disconnect(&mut t);
    assert_eq!(&t.0.memory[0x14..0x18], &[0x14, 0x15, 0x16, 0x17]);
}

#[test]
fn continue_interrupt_and_breakpoint_stops() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "vCont?"), "vCont;c;C;t");
    assert_eq!(exchange(&mut m, &mut t, &frame("c")), "+", "no reply until it stops");
    assert!(m.running() && !t.stopped);
    m.poll(&mut t);
    assert_eq!(m.output(), b"", "nothing stopped yet");
    let sent = exchange(&mut m, &mut t, b"\x03");
    assert_eq!(sent, format!("$T02thread:3;#{:02x}", checksum(b"T02thread:3;")));
    assert!(t.stopped && !m.running());
    // A thread hits a breakpoint while running.
    assert_eq!(exchange(&mut m, &mut t, &frame("vCont;c:5")), "+");
    assert_eq!(t.resumed.last(), Some(&Some(5)));
    t.hit = Some((5, 5));
    m.poll(&mut t);
    let stop = String::from_utf8(m.output().to_vec()).unwrap();
    assert!(stop.starts_with("$T05thread:5;"), "{stop}");
    m.sent(stop.len());
    assert_eq!(ask(&mut m, &mut t, "?"), "T05thread:5;");
    assert_eq!(ask(&mut m, &mut t, "qC"), "QC5");
    assert_eq!(exchange(&mut m, &mut t, &frame("vCont;c")), "+");
    assert_eq!(t.resumed.last(), Some(&None));
    // The interrupt byte while stopped is ignored.
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(exchange(&mut m, &mut t, b"\x03"), "");
    assert_eq!(ask(&mut m, &mut t, "vCont;x"), "E01");
}

#[test]
fn a_thread_stopped_at_a_fault_is_reported_with_the_faults_signal() {
    let (mut m, mut t) = connected(Architecture::Riscv32);
    assert_eq!(exchange(&mut m, &mut t, &frame("c")), "+");
    // Thread 7 executed an illegal instruction: SIGILL (4).
    t.hit = Some((7, 4));
    m.poll(&mut t);
    let stop = String::from_utf8(m.output().to_vec()).unwrap();
    assert_eq!(stop, format!("$T04thread:7;#{:02x}", checksum(b"T04thread:7;")));
    m.sent(stop.len());
    assert!(t.stopped && !m.running());
    assert_eq!(ask(&mut m, &mut t, "?"), "T04thread:7;", "`?` tells the same stop again");
    // The next debugger attaches to a target stopped on its behalf.
    m.disconnect(&mut t);
    m.connect(&mut t);
    assert!(ask(&mut m, &mut t, "?").starts_with("T05"));
    // A thread that faulted while nobody was connected waits for the
    // debugger: the one that attaches next is told of that stop.
    m.disconnect(&mut t);
    t.hit = Some((9, 11));
    m.connect(&mut t);
    assert_eq!(ask(&mut m, &mut t, "?"), "T0bthread:9;");
    assert_eq!(t.hit, None, "taken");
}

#[test]
fn register_writes_go_to_the_selected_thread_in_target_order() {
    let (mut m, mut t) = connected(Architecture::Arm);
    // r1 of the thread that stopped (3), the value's bytes little-endian.
    assert_eq!(ask(&mut m, &mut t, "P1=78563412"), "OK");
    // The cpsr is GDB's register 25, the 17th in target order.
    assert_eq!(ask(&mut m, &mut t, "Hg5"), "OK");
    assert_eq!(ask(&mut m, &mut t, "P19=13000060"), "OK");
    assert_eq!(t.written, [(3, 1, 0x1234_5678), (5, 16, 0x6000_0013)]);
    // What the target refuses, and what does not parse.
    assert_eq!(ask(&mut m, &mut t, "Pd=00000000"), "E0f");
    for malformed in ["P1", "P=00000000", "P1=123", "P1=0000000g", "P10=00000000", "Pzz=00"] {
        assert_eq!(ask(&mut m, &mut t, malformed), "E01", "{malformed}");
    }
    assert_eq!(t.written.len(), 2, "nothing else written");
    // A target that keeps the default refuses every write.
    let (mut m, t) = connected(Architecture::Riscv32);
    let mut plain = ProtectedCode(t);
    assert_eq!(ask(&mut m, &mut plain, "P1=00000000"), "E0f");
    assert!(plain.0.written.is_empty());
}

#[test]
fn kill_detaches_without_a_reply() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(exchange(&mut m, &mut t, &frame("k")), "+");
    assert!(m.closing());
    // Nothing more is taken once closing.
    assert_eq!(m.receive(&frame("?"), &mut t), 0);
    m.disconnect(&mut t);
    assert!(!t.stopped);
}

#[test]
fn one_reply_at_a_time() {
    let (mut m, mut t) = connected(Architecture::Arm);
    let mut input = frame("qC");
    input.extend_from_slice(&frame("qC"));
    let taken = m.receive(&input, &mut t);
    assert_eq!(taken, input.len() / 2);
    assert_eq!(m.receive(&input[taken..], &mut t), 0, "output still waits");
    m.sent(m.output().len());
    assert_eq!(m.receive(&input[taken..], &mut t), input.len() / 2);
}

/// Guards the output buffer's size and the `m` bound: a read of exactly
/// [`crate::MAX_READ`] bytes must come back whole (1024 hex digits, a
/// valid checksum), not refused or cut off; one byte more is refused.
#[test]
fn a_read_of_max_read_bytes_is_answered_whole() {
    let mut m = Monitor::new();
    let mut t = Large(Model::new(Architecture::Arm));
    m.connect(&mut t);
    let expected: String = (0..crate::MAX_READ).map(|i| format!("{:02x}", i as u8)).collect();
    assert_eq!(ask(&mut m, &mut t, &format!("m{:x},{:x}", WIDE.start, crate::MAX_READ)), expected);
    let over = format!("m{:x},{:x}", WIDE.start, crate::MAX_READ + 1);
    assert_eq!(ask(&mut m, &mut t, &over), "E01");
}

/// Guards the bound of a thread's description: a target that writes more
/// than 64 bytes gets the first 64 sent, and nothing is written past them.
#[test]
fn a_thread_description_longer_than_64_bytes_is_cut_at_64() {
    let mut m = Monitor::new();
    let mut t = Large(Model::new(Architecture::Arm));
    m.connect(&mut t);
    assert!(LONG_NAME.len() > 64);
    let expected: String = LONG_NAME.bytes().take(64).map(|b| format!("{b:02x}")).collect();
    assert_eq!(ask(&mut m, &mut t, "qThreadExtraInfo,3"), expected);
    assert_eq!(ask(&mut m, &mut t, "qThreadExtraInfo,9"), "E02");
}

/// GDB probes for `X` with a zero-length write: it is answered `OK`
/// without asking the target, even at an address the target refuses.
#[test]
fn a_zero_length_binary_write_is_ok_without_asking_the_target() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "X0,0:"), "OK");
    assert_eq!(ask(&mut m, &mut t, "X1030,0:"), "OK");
    assert_eq!(ask(&mut m, &mut t, "X0,1:a"), "E0e", "a non-empty write there is refused");
}

/// `vCont;t` (stop, for non-stop mode) resumes nothing: the monitor stays
/// stopped and answers with a stop reply at once rather than leaving GDB
/// waiting, and `t` is not refused as malformed.
#[test]
fn vcont_with_only_stop_actions_resumes_nothing_and_answers_at_once() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(ask(&mut m, &mut t, "vCont;t"), "T00thread:3;");
    assert_eq!(ask(&mut m, &mut t, "vCont;t:5;t"), "T00thread:3;");
    assert!(!m.running());
    assert!(t.resumed.is_empty() && t.stopped);
}

/// A `vCont` action naming thread `-1` (all) or `0` (any) resumes every
/// thread, not a thread with that id.
#[test]
fn vcont_on_thread_all_or_any_resumes_every_thread() {
    let (mut m, mut t) = connected(Architecture::Arm);
    for action in ["vCont;c:-1", "vCont;c:0", "vCont;C05:p1.-1"] {
        t.resumed.clear();
        assert_eq!(exchange(&mut m, &mut t, &frame(action)), "+", "{action}");
        assert_eq!(t.resumed, [None], "{action}");
        assert!(m.running());
        let sent = exchange(&mut m, &mut t, b"\x03");
        assert!(sent.starts_with("$T02"), "{action}: {sent}");
    }
}

/// A `vCont` naming more threads than [`crate::MAX_THREADS`] resumes the
/// first ones and drops the rest instead of writing past its list.
#[test]
fn vcont_naming_more_than_max_threads_resumes_the_first_max_threads() {
    let (mut m, mut t) = connected(Architecture::Arm);
    let count = crate::MAX_THREADS as u32 + 1;
    let actions: String = (1..=count).map(|thread| format!(";c:{thread:x}")).collect();
    assert_eq!(exchange(&mut m, &mut t, &frame(&format!("vCont{actions}"))), "+");
    let expected: Vec<Option<u32>> = (1..count).map(Some).collect();
    assert_eq!(t.resumed, expected);
    assert!(m.running());
}

/// `poll` reports a stop only while the target runs for the debugger and
/// no output waits: a stopped target's breakpoint hit is not reported (nor
/// taken from the target), and a stop reply is not appended to an ack not
/// yet sent.
#[test]
fn poll_reports_a_stop_only_while_running_and_nothing_waits() {
    let (mut m, mut t) = connected(Architecture::Arm);
    t.hit = Some((5, 5));
    m.poll(&mut t);
    assert_eq!(m.output(), b"", "stopped: nothing to report");
    assert_eq!(t.hit, Some((5, 5)), "the hit is left for later");
    // Resume, but leave the ack unsent.
    let input = frame("c");
    assert_eq!(m.receive(&input, &mut t), input.len());
    assert!(m.running());
    m.poll(&mut t);
    assert_eq!(m.output(), b"+", "the stop waits for the ack to go out");
    m.sent(1);
    m.poll(&mut t);
    let stop = String::from_utf8(m.output().to_vec()).unwrap();
    assert_eq!(stop, format!("$T05thread:5;#{:02x}", checksum(b"T05thread:5;")));
}

/// A target that does not override `stopped_thread` (the trait's default)
/// never reports a thread stopped by itself: a running target stays running.
#[test]
fn a_target_without_breakpoint_stops_is_never_reported_stopped() {
    let mut m = Monitor::new();
    let mut t = ProtectedCode(Model::new(Architecture::Arm));
    m.connect(&mut t);
    assert_eq!(exchange(&mut m, &mut t, &frame("c")), "+");
    m.poll(&mut t);
    assert_eq!(m.output(), b"");
    assert!(m.running());
}

/// The monitor asks to close the connection only after `D` or `k`, and a
/// new connection starts open again.
#[test]
fn closing_only_after_detach_and_not_on_the_next_connection() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert!(!m.closing());
    for packet in ["?", "qC", "g", "m1000,4", "Z0,1010,4", "vCont?"] {
        ask(&mut m, &mut t, packet);
        assert!(!m.closing(), "{packet}");
    }
    assert_eq!(ask(&mut m, &mut t, "D"), "OK");
    assert!(m.closing());
    m.disconnect(&mut t);
    m.connect(&mut t);
    assert!(!m.closing());
    assert_eq!(ask(&mut m, &mut t, "?"), "T05thread:3;");
}

/// A connection that ended in the middle of a packet (here after its `#`)
/// leaves nothing behind: the next connection's first packet is answered,
/// not taken as the old packet's bad checksum.
#[test]
fn reconnecting_forgets_a_packet_the_last_connection_cut_off() {
    let (mut m, mut t) = connected(Architecture::Arm);
    assert_eq!(exchange(&mut m, &mut t, b"$?#"), "");
    m.disconnect(&mut t);
    m.connect(&mut t);
    assert_eq!(ask(&mut m, &mut t, "?"), "T05thread:3;");
}
