//! The monitor: answers GDB's packets from a [`Target`], one connection
//! at a time, in all-stop mode.

use core::fmt::Write as _;

use crate::hex;
use crate::packet::{Decoder, Event, MAX_PACKET, Reply};
use crate::target::{Architecture, Target, TargetError};

/// The most bytes one `m` reads (its reply is twice as long in hex).
pub const MAX_READ: usize = 512;
/// Breakpoints the monitor can keep at once.
pub const MAX_BREAKPOINTS: usize = 16;
/// The most threads the monitor lists.
pub const MAX_THREADS: usize = 32;
/// Room for one ack and one reply.
const OUTPUT: usize = 2 * MAX_READ + 16;

/// The stop signal GDB is told: SIGTRAP (a breakpoint, or stopped at attach).
pub const SIGTRAP: u8 = 5;
/// SIGINT: stopped because the debugger interrupted.
const SIGINT: u8 = 2;

#[derive(Clone, Copy)]
struct Breakpoint {
    address: u32,
    length: usize,
    /// The instruction bytes the breakpoint replaced.
    original: [u8; 4],
}

/// One GDB connection's state.
pub struct Monitor {
    decoder: Decoder,
    output: [u8; OUTPUT],
    output_length: usize,
    output_sent: usize,
    /// The debugger resumed the target and waits for a stop reply.
    running: bool,
    /// The thread `Hg` selected (0: whichever stopped).
    general: u32,
    /// The thread the last stop reply named.
    stopped: u32,
    /// The signal the last stop reply gave (what `?` tells again); 0
    /// before the first, which is SIGTRAP (a new monitor is all zeroes,
    /// so that a static one goes to `.bss`).
    signal: u8,
    breakpoints: [Option<Breakpoint>; MAX_BREAKPOINTS],
    /// The debugger detached or killed: close the connection.
    closing: bool,
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a request could not be answered: sent as `Exx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// The packet's arguments do not parse.
    Malformed,
    /// The target said no.
    Target(TargetError),
    /// No room for another breakpoint.
    Full,
    /// A breakpoint would cover part of another one.
    Overlaps,
}

impl From<TargetError> for Refusal {
    fn from(error: TargetError) -> Self {
        Self::Target(error)
    }
}

impl Refusal {
    fn code(self) -> u8 {
        match self {
            Self::Malformed => 0x01,
            Self::Target(error) => error.code(),
            Self::Full => 0x1c,
            // EBUSY: those bytes are another breakpoint's.
            Self::Overlaps => 0x10,
        }
    }
}

/// What handling a packet produced.
enum Answer {
    /// Nothing to send (the target runs until it stops).
    Nothing,
    /// The reply was written.
    Reply,
}

impl Monitor {
    /// A monitor with no connection.
    pub const fn new() -> Self {
        Self {
            decoder: Decoder::new(),
            output: [0; OUTPUT],
            output_length: 0,
            output_sent: 0,
            running: false,
            general: 0,
            stopped: 0,
            signal: 0,
            breakpoints: [None; MAX_BREAKPOINTS],
            closing: false,
        }
    }

    /// A debugger connected: stop the target (GDB expects a stopped
    /// target on attach) and forget the last connection's state.
    pub fn connect(&mut self, target: &mut dyn Target) {
        self.decoder.reset();
        self.output_length = 0;
        self.output_sent = 0;
        self.general = 0;
        self.closing = false;
        target.stop();
        self.running = false;
        self.stopped = first_thread(target);
        self.signal = SIGTRAP;
        // A thread that stopped by itself while no debugger was connected
        // (at a fault it waits at for one) is the stop this one sees.
        if let Some((thread, signal)) = target.stopped_thread() {
            self.stopped = thread;
            self.signal = signal;
        }
    }

    /// The connection ended (detach, kill, or closed): take every
    /// breakpoint out and let the target run on.
    pub fn disconnect(&mut self, target: &mut dyn Target) {
        for slot in self.breakpoints.iter_mut() {
            if let Some(breakpoint) = slot.take() {
                let _ = target.remove_breakpoint(
                    breakpoint.address,
                    &breakpoint.original[..breakpoint.length],
                );
            }
        }
        target.resume(None);
        self.running = false;
        self.output_length = 0;
        self.output_sent = 0;
        self.decoder.reset();
    }

    /// Whether the debugger detached (or killed): the caller closes the
    /// connection once [`Monitor::output`] is sent, and calls
    /// [`Monitor::disconnect`].
    pub fn closing(&self) -> bool {
        self.closing
    }

    /// Whether the target runs on the debugger's behalf (a stop reply is
    /// owed).
    pub fn running(&self) -> bool {
        self.running
    }

    /// Bytes waiting to be sent to the debugger.
    pub fn output(&self) -> &[u8] {
        &self.output[self.output_sent..self.output_length]
    }

    /// `count` bytes of [`Monitor::output`] were sent.
    pub fn sent(&mut self, count: usize) {
        self.output_sent = (self.output_sent + count).min(self.output_length);
        if self.output_sent == self.output_length {
            self.output_sent = 0;
            self.output_length = 0;
        }
    }

    /// Takes bytes from the debugger until one of them produced output
    /// (one reply at a time: call again once the output is sent). Returns
    /// how many bytes it took. Takes nothing while output waits.
    pub fn receive(&mut self, input: &[u8], target: &mut dyn Target) -> usize {
        if self.output_length != 0 || self.closing {
            return 0;
        }
        for (index, &byte) in input.iter().enumerate() {
            let Some(event) = self.decoder.push(byte) else { continue };
            match event {
                Event::BadChecksum | Event::Oversized => self.emit_raw(b"-"),
                Event::Interrupt => {
                    if self.running {
                        target.stop();
                        self.running = false;
                        self.stopped = first_thread(target);
                        self.signal = SIGINT;
                        let stopped = self.stopped;
                        self.stop_reply(SIGINT, stopped);
                    }
                }
                Event::Packet(packet) => {
                    // Copied out: the decoder is borrowed by the packet.
                    let mut copy = [0u8; MAX_PACKET];
                    let length = packet.len();
                    copy[..length].copy_from_slice(packet);
                    self.emit_raw(b"+");
                    self.packet(&copy[..length], target);
                }
            }
            if self.output_length != 0 || self.closing {
                return index + 1;
            }
        }
        input.len()
    }

    /// While the target runs: reports a thread that stopped by itself, at
    /// a breakpoint or a fault, with the signal the target gives for it
    /// (stopping the others, as all-stop mode wants).
    pub fn poll(&mut self, target: &mut dyn Target) {
        if !self.running || self.output_length != 0 {
            return;
        }
        if let Some((thread, signal)) = target.stopped_thread() {
            target.stop();
            self.running = false;
            self.stopped = thread;
            self.signal = signal;
            self.stop_reply(signal, thread);
        }
    }

    fn emit_raw(&mut self, bytes: &[u8]) {
        let end = self.output_length + bytes.len();
        self.output[self.output_length..end].copy_from_slice(bytes);
        self.output_length = end;
    }

    /// Writes a reply packet built by `build`.
    fn reply(&mut self, build: impl FnOnce(&mut Reply<'_>)) {
        let mut reply = Reply::new(&mut self.output[self.output_length..]);
        build(&mut reply);
        self.output_length += reply.finish();
    }

    fn error(&mut self, refusal: Refusal) {
        self.reply(|r| {
            r.byte(b'E');
            r.hex(&[refusal.code()]);
        });
    }

    fn ok(&mut self) {
        self.reply(|r| r.bytes(b"OK"));
    }

    fn stop_reply(&mut self, signal: u8, thread: u32) {
        self.reply(|r| {
            r.byte(b'T');
            r.hex(&[signal]);
            if thread != 0 {
                r.bytes(b"thread:");
                r.number(thread);
                r.byte(b';');
            }
        });
    }

    fn packet(&mut self, packet: &[u8], target: &mut dyn Target) {
        match self.handle(packet, target) {
            Ok(Answer::Reply) => {}
            Ok(Answer::Nothing) => {}
            Err(refusal) => self.error(refusal),
        }
    }

    fn handle(&mut self, packet: &[u8], target: &mut dyn Target) -> Result<Answer, Refusal> {
        let Some((&command, rest)) = packet.split_first() else {
            self.reply(|_| {});
            return Ok(Answer::Reply);
        };
        match command {
            b'?' => {
                let stopped = self.stopped;
                let signal = if self.signal == 0 { SIGTRAP } else { self.signal };
                self.stop_reply(signal, stopped);
            }
            b'q' => self.query(rest, target)?,
            b'H' => {
                let (&which, thread) = rest.split_first().ok_or(Refusal::Malformed)?;
                // 0 (any) and -1 (all) select the thread that stopped.
                let thread = match thread_id(thread)? {
                    u32::MAX => 0,
                    thread => thread,
                };
                if thread != 0 && !has_thread(target, thread) {
                    return Err(TargetError::NoSuchThread.into());
                }
                if which == b'g' {
                    self.general = thread;
                }
                self.ok();
            }
            b'T' => {
                if !has_thread(target, thread_id(rest)?) {
                    return Err(TargetError::NoSuchThread.into());
                }
                self.ok();
            }
            b'g' => {
                let thread = self.selected();
                let architecture = target.architecture();
                let mut registers = [0u32; 40];
                let registers = &mut registers[..architecture.register_count()];
                target.registers(thread, registers)?;
                self.reply(|r| registers.iter().for_each(|value| r.hex(&value.to_le_bytes())));
            }
            b'p' => {
                let number = hex::number(rest).ok_or(Refusal::Malformed)?;
                let architecture = target.architecture();
                let index = architecture.register_index(number).ok_or(TargetError::NoSuchThread)?;
                let mut registers = [0u32; 40];
                target
                    .registers(self.selected(), &mut registers[..architecture.register_count()])?;
                let value = registers[index];
                self.reply(|r| r.hex(&value.to_le_bytes()));
            }
            b'P' => {
                let (number, value) = split(rest, b'=')?;
                let number = hex::number(number).ok_or(Refusal::Malformed)?;
                let index =
                    target.architecture().register_index(number).ok_or(Refusal::Malformed)?;
                let mut bytes = [0u8; 4];
                hex::decode(value, &mut bytes).ok_or(Refusal::Malformed)?;
                target.write_register(self.selected(), index, u32::from_le_bytes(bytes))?;
                self.ok();
            }
            b'm' => {
                let (address, length) = address_length(rest)?;
                if length > MAX_READ {
                    return Err(Refusal::Malformed);
                }
                let mut data = [0u8; MAX_READ];
                let read = match target.read_memory(address, &mut data[..length]) {
                    Ok(()) => length,
                    // A read that runs into memory the target refuses (a
                    // guard page, the kernel's state, the image's end) gets
                    // what it may read up to there, as GDB allows a short
                    // reply; gdb then asks for the rest and is told no.
                    Err(error) => match readable_start(target, address, &mut data[..length]) {
                        0 => return Err(error.into()),
                        read => read,
                    },
                };
                self.reply(|r| r.hex(&data[..read]));
            }
            b'M' => {
                let (head, hex_data) = split(rest, b':')?;
                let (address, length) = address_length(head)?;
                let mut data = [0u8; MAX_PACKET / 2];
                let data = data.get_mut(..length).ok_or(Refusal::Malformed)?;
                hex::decode(hex_data, data).ok_or(Refusal::Malformed)?;
                target.write_memory(address, data)?;
                self.ok();
            }
            b'X' => {
                let (head, data) = split(rest, b':')?;
                let (address, length) = address_length(head)?;
                if data.len() != length {
                    return Err(Refusal::Malformed);
                }
                if length > 0 {
                    target.write_memory(address, data)?;
                }
                self.ok();
            }
            b'Z' | b'z' => {
                let (kind, arguments) = split(rest, b',')?;
                if kind != b"0" {
                    // Hardware breakpoints and watchpoints: not offered.
                    self.reply(|_| {});
                    return Ok(Answer::Reply);
                }
                let (address, kind) = split(arguments, b',')?;
                let address = hex::number(address).ok_or(Refusal::Malformed)?;
                // A `;cond` list may follow the kind; conditions are not offered.
                let kind = kind.split(|&b| b == b';').next().unwrap_or_default();
                let kind = hex::number(kind).ok_or(Refusal::Malformed)?;
                if command == b'Z' {
                    self.insert_breakpoint(target, address, kind)?;
                } else {
                    self.remove_breakpoint(target, address)?;
                }
                self.ok();
            }
            b'c' => {
                // `c addr` (resume elsewhere) is not offered: resume where
                // the threads stopped.
                self.resume(target, None);
                return Ok(Answer::Nothing);
            }
            b'v' => return self.v_packet(rest, target),
            b'D' => {
                self.ok();
                self.closing = true;
            }
            b'k' => {
                // Killing the image is not the debugger's to do: the
                // monitor detaches instead (no reply, as for `k`).
                self.closing = true;
                return Ok(Answer::Nothing);
            }
            // `s` (no single-step: vCont? says so and GDB steps in
            // software), `G`/`P` (no register writes) and anything else.
            _ => self.reply(|_| {}),
        }
        Ok(Answer::Reply)
    }

    fn selected(&self) -> u32 {
        if self.general == 0 { self.stopped } else { self.general }
    }

    fn resume(&mut self, target: &mut dyn Target, thread: Option<u32>) {
        self.running = true;
        target.resume(thread);
    }

    fn query(&mut self, rest: &[u8], target: &mut dyn Target) -> Result<(), Refusal> {
        if rest.starts_with(b"Supported") {
            self.reply(|r| {
                let _ = write!(r, "PacketSize={:x};qXfer:features:read+", MAX_PACKET);
            });
        } else if rest == b"Attached" {
            // Attached to a running image: quitting GDB detaches.
            self.reply(|r| r.byte(b'1'));
        } else if rest == b"C" {
            let stopped = self.stopped;
            self.reply(|r| {
                r.bytes(b"QC");
                r.number(stopped);
            });
        } else if rest == b"fThreadInfo" {
            let mut threads = [0u32; MAX_THREADS];
            let count = target.threads(&mut threads);
            self.reply(|r| {
                if count == 0 {
                    r.byte(b'l');
                    return;
                }
                r.byte(b'm');
                for (index, &thread) in threads[..count].iter().enumerate() {
                    if index > 0 {
                        r.byte(b',');
                    }
                    r.number(thread);
                }
            });
        } else if rest == b"sThreadInfo" {
            self.reply(|r| r.byte(b'l'));
        } else if let Some(thread) = rest.strip_prefix(b"ThreadExtraInfo,") {
            let thread = thread_id(thread)?;
            let mut text = Text::new();
            target.describe(thread, &mut text)?;
            self.reply(|r| r.hex(text.as_bytes()));
        } else if let Some(annex) = rest.strip_prefix(b"Xfer:features:read:") {
            let (name, window) = split(annex, b':')?;
            if name != b"target.xml" {
                return Err(Refusal::Malformed);
            }
            let (offset, length) = address_length(window)?;
            let xml = target.architecture().target_xml().as_bytes();
            let offset = (offset as usize).min(xml.len());
            let end = xml.len().min(offset + length.min(MAX_READ));
            self.reply(|r| {
                r.byte(if end == xml.len() { b'l' } else { b'm' });
                // Only whole bytes, and what fits: GDB asks again from
                // where this ends.
                for &byte in &xml[offset..end] {
                    r.byte(byte);
                }
            });
        } else {
            self.reply(|_| {});
        }
        Ok(())
    }

    fn v_packet(&mut self, rest: &[u8], target: &mut dyn Target) -> Result<Answer, Refusal> {
        if rest == b"Cont?" {
            self.reply(|r| r.bytes(b"vCont;c;C;t"));
            return Ok(Answer::Reply);
        }
        let Some(actions) = rest.strip_prefix(b"Cont;") else {
            self.reply(|_| {});
            return Ok(Answer::Reply);
        };
        // Resume all (an action without a thread), or the threads named.
        let mut all = false;
        let mut named = [0u32; MAX_THREADS];
        let mut count = 0;
        for action in actions.split(|&b| b == b';') {
            let (verb, thread) = match action.iter().position(|&b| b == b':') {
                Some(colon) => (&action[..colon], Some(&action[colon + 1..])),
                None => (action, None),
            };
            match verb.first() {
                Some(b'c' | b'C') => match thread {
                    None => all = true,
                    Some(thread) => {
                        let thread = thread_id(thread)?;
                        if thread == 0 || thread == u32::MAX {
                            all = true;
                        } else if count < MAX_THREADS {
                            named[count] = thread;
                            count += 1;
                        }
                    }
                },
                // `t` (stop) is for non-stop mode; in all-stop the
                // threads are stopped already.
                Some(b't') => {}
                _ => return Err(Refusal::Malformed),
            }
        }
        if all {
            self.resume(target, None);
        } else if count > 0 {
            self.running = true;
            named[..count].iter().for_each(|&t| target.resume(Some(t)));
        } else {
            let stopped = self.stopped;
            self.stop_reply(0, stopped);
            return Ok(Answer::Reply);
        }
        Ok(Answer::Nothing)
    }

    fn insert_breakpoint(
        &mut self,
        target: &mut dyn Target,
        address: u32,
        kind: u32,
    ) -> Result<(), Refusal> {
        let architecture = target.architecture();
        // GDB's kind 3 marks a 32-bit T32 instruction: the 16-bit T32
        // breakpoint over its first halfword traps before the second is
        // ever fetched, and only that halfword needs restoring.
        let kind = if architecture == Architecture::Arm && kind == 3 { 2 } else { kind };
        let instruction = architecture.breakpoint(kind).ok_or(Refusal::Malformed)?;
        let length = kind as usize;
        if self.breakpoints.iter().flatten().any(|b| b.address == address) {
            return Ok(());
        }
        // Its "original" bytes would be part of the other breakpoint's
        // instruction, and removing the two in the order they were set
        // would leave that instruction in the code.
        let end = u64::from(address) + length as u64;
        if self.breakpoints.iter().flatten().any(|b| {
            u64::from(b.address) < end
                && u64::from(address) < u64::from(b.address) + b.length as u64
        }) {
            return Err(Refusal::Overlaps);
        }
        let slot = self.breakpoints.iter_mut().find(|b| b.is_none()).ok_or(Refusal::Full)?;
        let mut original = [0u8; 4];
        target.read_memory(address, &mut original[..length])?;
        target.insert_breakpoint(address, &instruction[..length])?;
        *slot = Some(Breakpoint { address, length, original });
        Ok(())
    }

    fn remove_breakpoint(&mut self, target: &mut dyn Target, address: u32) -> Result<(), Refusal> {
        let slot = self
            .breakpoints
            .iter_mut()
            .find(|b| b.is_some_and(|b| b.address == address))
            .ok_or(Refusal::Malformed)?;
        if let Some(breakpoint) = slot.take() {
            target.remove_breakpoint(address, &breakpoint.original[..breakpoint.length])?;
        }
        Ok(())
    }
}

fn first_thread(target: &mut dyn Target) -> u32 {
    let mut threads = [0u32; MAX_THREADS];
    let count = target.threads(&mut threads);
    if count == 0 { 0 } else { threads[0] }
}

fn has_thread(target: &mut dyn Target, thread: u32) -> bool {
    let mut threads = [0u32; MAX_THREADS];
    let count = target.threads(&mut threads);
    threads[..count].contains(&thread)
}

/// A thread id field: hex, `0` (any) or `-1` (all, as `u32::MAX`).
fn thread_id(field: &[u8]) -> Result<u32, Refusal> {
    // `p<pid>.<tid>` (multiprocess form): the thread part.
    let field = match field.strip_prefix(b"p") {
        Some(both) => both.split(|&b| b == b'.').nth(1).ok_or(Refusal::Malformed)?,
        None => field,
    };
    if field == b"-1" {
        return Ok(u32::MAX);
    }
    hex::number(field).ok_or(Refusal::Malformed)
}

fn split(field: &[u8], separator: u8) -> Result<(&[u8], &[u8]), Refusal> {
    let at = field.iter().position(|&b| b == separator).ok_or(Refusal::Malformed)?;
    Ok((&field[..at], &field[at + 1..]))
}

/// How many bytes from `address` the target lets `data` read, for a read
/// of all of `data` it refused: the longest readable start, found by
/// halving (what the target refuses begins somewhere and goes on to the
/// end: every shorter start of a readable range is readable); `data`
/// holds those bytes. At most one read per halving, and one to fill.
fn readable_start(target: &mut dyn Target, address: u32, data: &mut [u8]) -> usize {
    // `readable` bytes are known readable, `refused` are not.
    let (mut readable, mut refused) = (0, data.len());
    while refused - readable > 1 {
        let middle = readable + (refused - readable) / 2;
        if target.read_memory(address, &mut data[..middle]).is_ok() {
            readable = middle;
        } else {
            refused = middle;
        }
    }
    if readable > 0 && target.read_memory(address, &mut data[..readable]).is_err() {
        return 0;
    }
    readable
}

fn address_length(field: &[u8]) -> Result<(u32, usize), Refusal> {
    let (address, length) = split(field, b',')?;
    let address = hex::number(address).ok_or(Refusal::Malformed)?;
    let length = hex::number(length).ok_or(Refusal::Malformed)? as usize;
    Ok((address, length))
}

/// A thread's description, up to 64 bytes.
struct Text {
    bytes: [u8; 64],
    length: usize,
}

impl Text {
    fn new() -> Self {
        Self { bytes: [0; 64], length: 0 }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

impl core::fmt::Write for Text {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for &byte in text.as_bytes() {
            if self.length < self.bytes.len() {
                self.bytes[self.length] = byte;
                self.length += 1;
            }
        }
        Ok(())
    }
}
