//! The board-independent half of Ferrode's Rust `std` support.
//!
//! Rust's standard library has a platform layer for the Hermit unikernel
//! that calls the `sys_*` functions of the [`hermit_abi`] crate. A Ferrode
//! image built for one of the `targets/*-ferrode-hermit.json` specs (see
//! `docs/ARCHITECTURE.md`, "Rust std") links std's layer, and the board
//! crate's `hermit` module defines those functions over Ferrode: a std
//! program is one client component of a composition. What those functions
//! need that does not depend on a board lives here, host-tested:
//!
//! - [`LineBuffer`]: std writes stdout and stderr in pieces; a LOG session
//!   takes whole lines (each prefixed with the component's label).
//! - [`timespec_of_us`], [`us_of_timespec`]: clocks and timeouts;
//!   [`us_of_timeval`], [`timeval_of_us`]: socket timeouts.
//! - [`ipv4_of_sockaddr`], [`sockaddr_of_ipv4`]: socket addresses
//!   (`std::net` on a NIC session); [`Ipv4Setting`]: the interface's
//!   address, from the environment.
//! - [`NameServers`], [`answer_without_lookup`], [`LookupRequest`]: host
//!   name lookups (`getaddrinfo`).
//! - [`TlsLayout`]: a thread's thread-local block, where its thread
//!   pointer points.
//! - [`SeedGenerator`]: the bytes `sys_read_entropy` answers with. Neither
//!   board has an entropy source; see its docs.
//! - [`rom_module`], [`seek`]: std's files are the component's ROM
//!   modules, read-only, at `/rom/<label of the ROM route>`.
//! - [`environment_entries`]: std's environment variables, from the ROM
//!   module `env`.
//! - [`fat`]: long file names on the SD card's FAT volume.
//! - [`TtyInput`]: stdin from a Terminal session, as a terminal's line
//!   discipline hands it over (a carriage return is a line end, Ctrl-D an
//!   end of file).
#![no_std]

pub use hermit_abi::{self as abi, errno};

pub mod fat;
pub mod threads;

/// Collects bytes written to a console stream and hands out whole lines
/// (without their `\n`), as a LOG session takes them.
///
/// A line of `N` bytes or more (or of its [limit](LineBuffer::with_limit),
/// the longest line the LOG session takes) goes out in pieces of at most
/// that many bytes, cut at a character boundary; each byte that is not part of valid UTF-8
/// comes out as `?` (LOG prints control characters as `?` too). Nothing
/// written is dropped: [`LineBuffer::flush`] hands out an unfinished line
/// (at exit).
#[derive(Debug)]
pub struct LineBuffer<const N: usize> {
    bytes: [u8; N],
    len: usize,
    /// The longest piece handed out, 1 to `N`.
    limit: usize,
}

impl<const N: usize> Default for LineBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuffer<N> {
    /// An empty buffer that hands out lines of up to `N` bytes.
    pub const fn new() -> Self {
        Self { bytes: [0; N], len: 0, limit: N }
    }

    /// An empty buffer that hands out lines of up to `limit` bytes (taken
    /// as 1 to `N`).
    pub const fn with_limit(limit: usize) -> Self {
        let limit = if limit == 0 {
            1
        } else if limit > N {
            N
        } else {
            limit
        };
        Self { bytes: [0; N], len: 0, limit }
    }

    /// Bytes of an unfinished line held.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Takes `data`, calling `emit` with every line it completes.
    pub fn write(&mut self, data: &[u8], mut emit: impl FnMut(&str)) {
        for &byte in data {
            if byte == b'\n' {
                self.emit(self.len, &mut emit);
                continue;
            }
            if self.len >= self.limit {
                self.emit(self.complete_prefix(), &mut emit);
            }
            self.bytes[self.len] = byte;
            self.len += 1;
        }
    }

    /// Hands out the unfinished line, if any.
    pub fn flush(&mut self, mut emit: impl FnMut(&str)) {
        if self.len > 0 {
            self.emit(self.len, &mut emit);
        }
    }

    /// How much of a full buffer goes out: all but a character whose
    /// bytes are not all there yet (it may end in the next write), unless
    /// that is all the buffer holds.
    fn complete_prefix(&self) -> usize {
        let bytes = &self.bytes[..self.len];
        // Back over at most three continuation bytes to their lead.
        let mut lead = bytes.len();
        while lead > 0 && bytes.len() - lead < 3 && bytes[lead - 1] & 0xc0 == 0x80 {
            lead -= 1;
        }
        let Some(lead) = lead.checked_sub(1).filter(|lead| *lead > 0) else {
            return bytes.len();
        };
        let needs = match bytes[lead] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return bytes.len(),
        };
        if bytes.len() - lead < needs { lead } else { bytes.len() }
    }

    /// Emits the first `count` bytes as one line, keeps the rest.
    fn emit(&mut self, count: usize, emit: &mut impl FnMut(&str)) {
        let line = &mut self.bytes[..count];
        emit(valid_or_marked(line));
        self.bytes.copy_within(count..self.len, 0);
        self.len -= count;
    }
}

/// `bytes` as text, each byte that is not part of valid UTF-8 replaced by
/// `?` in place.
fn valid_or_marked(bytes: &mut [u8]) -> &str {
    let mut checked = 0;
    loop {
        match core::str::from_utf8(&bytes[checked..]) {
            Ok(_) => break,
            Err(error) => {
                let bad = checked + error.valid_up_to();
                let len = error.error_len().unwrap_or(bytes.len() - bad);
                bytes[bad..bad + len].fill(b'?');
                checked = bad + len;
            }
        }
    }
    // Every invalid byte is now `?`.
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// Nanoseconds in a second.
const NANOS: u64 = 1_000_000_000;

/// A time in microseconds as a `timespec`.
pub fn timespec_of_us(us: u64) -> abi::timespec {
    abi::timespec {
        tv_sec: (us / 1_000_000) as abi::time_t,
        tv_nsec: ((us % 1_000_000) * 1_000) as i32,
    }
}

/// A `timespec` (a timeout or a time) in whole microseconds, rounded up
/// (a wait is never shorter than asked); `None` if it is negative or its
/// nanoseconds are not below one second (`EINVAL`).
pub fn us_of_timespec(time: &abi::timespec) -> Option<u64> {
    let seconds = u64::try_from(time.tv_sec).ok()?;
    let nanos = u64::try_from(time.tv_nsec).ok().filter(|n| *n < NANOS)?;
    Some(seconds.saturating_mul(1_000_000).saturating_add(nanos.div_ceil(1_000)))
}

/// A socket timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`) in microseconds:
/// `None` for zero (no timeout); `Err(EINVAL)` if it is negative or its
/// microseconds are not below one second.
pub fn us_of_timeval(time: &abi::timeval) -> Result<Option<u64>, i32> {
    let seconds = u64::try_from(time.tv_sec).map_err(|_| errno::EINVAL)?;
    let micros = u64::try_from(time.tv_usec).ok().filter(|us| *us < 1_000_000);
    let micros = micros.ok_or(errno::EINVAL)?;
    let us = seconds.saturating_mul(1_000_000).saturating_add(micros);
    Ok((us > 0).then_some(us))
}

/// A socket timeout as a `timeval` (`None`: zero, no timeout).
pub fn timeval_of_us(us: Option<u64>) -> abi::timeval {
    let us = us.unwrap_or(0);
    abi::timeval {
        tv_sec: (us / 1_000_000) as abi::time_t,
        tv_usec: (us % 1_000_000) as abi::suseconds_t,
    }
}

/// The IPv4 address and port of a socket address `bytes` long (what a
/// program hands `bind`, `connect` or `sendto`): `EAFNOSUPPORT` for any
/// family but `AF_INET` (Ferrode's stack speaks IPv4 only), `EINVAL` if
/// it is shorter than a `sockaddr_in`.
pub fn ipv4_of_sockaddr(bytes: &[u8]) -> Result<([u8; 4], u16), i32> {
    // sin_len, sin_family, sin_port (network order), sin_addr (network
    // order), sin_zero: hermit-abi's `sockaddr_in`.
    if bytes.len() < 2 {
        return Err(errno::EINVAL);
    }
    if i32::from(bytes[1]) != abi::AF_INET {
        return Err(errno::EAFNOSUPPORT);
    }
    if bytes.len() < size_of::<abi::sockaddr_in>() {
        return Err(errno::EINVAL);
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    Ok(([bytes[4], bytes[5], bytes[6], bytes[7]], port))
}

/// The `sockaddr_in` of an IPv4 address and port, as its bytes (what
/// `accept`, `recvfrom`, `getsockname` and `getpeername` hand back).
pub fn sockaddr_of_ipv4(address: [u8; 4], port: u16) -> [u8; size_of::<abi::sockaddr_in>()] {
    let mut bytes = [0; size_of::<abi::sockaddr_in>()];
    bytes[0] = size_of::<abi::sockaddr_in>() as u8;
    bytes[1] = abi::AF_INET as u8;
    bytes[2..4].copy_from_slice(&port.to_be_bytes());
    bytes[4..8].copy_from_slice(&address);
    bytes
}

/// How the std component's network interface gets its IPv4 address: the
/// environment's `FERRODE_IPV4` (`ADDRESS/PREFIX`, or `dhcp`) and
/// `FERRODE_IPV4_GATEWAY` (the default route), as [`Ipv4Setting::parse`]
/// reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Setting {
    /// Neither is set: the board's default (QEMU's user network).
    Default,
    /// `FERRODE_IPV4=dhcp`: ask a DHCP server.
    Dhcp,
    /// A fixed address, prefix length and, optionally, gateway.
    Static {
        /// The interface's address.
        address: [u8; 4],
        /// Its network's prefix length (0 to 32).
        prefix: u8,
        /// The default route.
        gateway: Option<[u8; 4]>,
    },
}

impl Ipv4Setting {
    /// The names of the variables read.
    pub const ADDRESS: &str = "FERRODE_IPV4";
    /// See [`Ipv4Setting::ADDRESS`].
    pub const GATEWAY: &str = "FERRODE_IPV4_GATEWAY";

    /// The setting the two variables' values make; a message naming the
    /// mistake for a value that is none (a gateway without an address
    /// too).
    pub fn parse(address: Option<&str>, gateway: Option<&str>) -> Result<Self, &'static str> {
        let parse_ip = |text: &str| text.parse::<core::net::Ipv4Addr>().map(|ip| ip.octets());
        let gateway = gateway
            .map(|text| parse_ip(text).map_err(|_| "FERRODE_IPV4_GATEWAY is not an IPv4 address"))
            .transpose()?;
        match (address, gateway) {
            (None, None) => Ok(Self::Default),
            (None, Some(_)) => Err("FERRODE_IPV4_GATEWAY needs FERRODE_IPV4 (ADDRESS/PREFIX)"),
            (Some("dhcp"), None) => Ok(Self::Dhcp),
            (Some("dhcp"), Some(_)) => Err("FERRODE_IPV4_GATEWAY is the DHCP server's to give"),
            (Some(text), gateway) => {
                const BAD: &str = "FERRODE_IPV4 is neither ADDRESS/PREFIX (10.0.2.15/24) nor dhcp";
                let (ip, prefix) = text.split_once('/').ok_or(BAD)?;
                let prefix = prefix.parse::<u8>().ok().filter(|p| *p <= 32).ok_or(BAD)?;
                Ok(Self::Static { address: parse_ip(ip).map_err(|_| BAD)?, prefix, gateway })
            }
        }
    }
}

/// Where the std component's host name lookups go: the environment's
/// `FERRODE_DNS`, a comma-separated list of up to [`NameServers::MAX`]
/// servers, each an IPv4 address with an optional port (`10.0.2.3`,
/// `192.168.1.1:5353`; port 53 when left out).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameServers {
    servers: [Option<([u8; 4], u16)>; NameServers::MAX],
}

impl NameServers {
    /// The name of the variable read.
    pub const VARIABLE: &str = "FERRODE_DNS";
    /// The most servers it lists.
    pub const MAX: usize = 3;
    /// The port of a server named without one.
    pub const PORT: u16 = 53;

    /// The servers `value` lists; a message naming the mistake for a
    /// value that lists none, or more than [`NameServers::MAX`], or an
    /// entry that is not `ADDRESS[:PORT]`.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        const BAD: &str = "FERRODE_DNS is not a list of ADDRESS[:PORT] (10.0.2.3,10.0.2.2:5353)";
        let mut servers = Self::default();
        let mut entries = value.split(',').map(str::trim_ascii);
        for slot in &mut servers.servers {
            let Some(entry) = entries.next() else { break };
            let (address, port) = match entry.split_once(':') {
                Some((address, port)) => {
                    (address, port.parse::<u16>().ok().filter(|p| *p != 0).ok_or(BAD)?)
                }
                None => (entry, Self::PORT),
            };
            let address = address.parse::<core::net::Ipv4Addr>().map_err(|_| BAD)?;
            *slot = Some((address.octets(), port));
        }
        if entries.next().is_some() {
            return Err("FERRODE_DNS lists more than 3 servers");
        }
        Ok(servers)
    }

    /// One server.
    pub fn single(address: [u8; 4], port: u16) -> Self {
        let mut servers = Self::default();
        servers.servers[0] = Some((address, port));
        servers
    }

    /// The servers of a list of addresses (port 53), as DHCP names them;
    /// the first [`NameServers::MAX`].
    pub fn of_addresses(addresses: impl IntoIterator<Item = [u8; 4]>) -> Self {
        let mut addresses = addresses.into_iter();
        Self { servers: core::array::from_fn(|_| addresses.next().map(|a| (a, Self::PORT))) }
    }

    /// The servers, in the order to ask them.
    pub fn iter(&self) -> impl Iterator<Item = ([u8; 4], u16)> + '_ {
        self.servers.iter().flatten().copied()
    }

    /// Whether it lists none.
    pub fn is_empty(&self) -> bool {
        self.servers[0].is_none()
    }
}

/// What a host name stands for without asking a server
/// ([`answer_without_lookup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalAnswer {
    /// This address.
    Address([u8; 4]),
    /// No such name.
    NoSuchName,
}

/// What `name` stands for without asking a server, if it is one of these
/// (RFC 6761's special names among them, which are never looked up): an
/// IPv4 address written out (`10.0.2.2`); `localhost` and the names under
/// it, the loopback address; `invalid` and the names under it, no such
/// name. Case and one final dot do not matter.
pub fn answer_without_lookup(name: &str) -> Option<LocalAnswer> {
    if let Ok(address) = name.parse::<core::net::Ipv4Addr>() {
        return Some(LocalAnswer::Address(address.octets()));
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let under = |domain: &str| {
        let Some(start) = name.len().checked_sub(domain.len()) else { return false };
        name.get(start..).is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
            && (start == 0 || name.as_bytes()[start - 1] == b'.')
    };
    if under("localhost") {
        Some(LocalAnswer::Address([127, 0, 0, 1]))
    } else if under("invalid") {
        Some(LocalAnswer::NoSuchName)
    } else {
        None
    }
}

/// What a `getaddrinfo` call asks for besides its host name: the kind of
/// socket its results are for and their port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupRequest {
    /// `SOCK_STREAM` or `SOCK_DGRAM` (a request for any kind gets
    /// `SOCK_STREAM`).
    pub socktype: i32,
    /// `IPPROTO_TCP` or `IPPROTO_UDP`, to match.
    pub protocol: i32,
    /// The port, in host order (0 without a service).
    pub port: u16,
}

impl LookupRequest {
    /// The request `hints` (none: any) and `service` (none: no port; else
    /// a port number) make, or the `EAI_*` error for one Ferrode cannot
    /// answer: another address family than IPv4 (`EAI_FAMILY`), another
    /// socket kind (`EAI_SOCKTYPE`), a service name (`EAI_SERVICE`: there
    /// is no services database).
    pub fn new(hints: Option<&abi::addrinfo>, service: Option<&[u8]>) -> Result<Self, i32> {
        let (family, socktype) =
            hints.map_or((abi::AF_UNSPEC, 0), |h| (h.ai_family, h.ai_socktype));
        if family != abi::AF_UNSPEC && family != abi::AF_INET {
            return Err(abi::EAI_FAMILY);
        }
        let (socktype, protocol) = match socktype {
            0 | abi::SOCK_STREAM => (abi::SOCK_STREAM, abi::IPPROTO_TCP),
            abi::SOCK_DGRAM => (abi::SOCK_DGRAM, abi::IPPROTO_UDP),
            _ => return Err(abi::EAI_SOCKTYPE),
        };
        let port = match service {
            None => 0,
            Some(text) => core::str::from_utf8(text)
                .ok()
                .and_then(|text| text.parse::<u16>().ok())
                .ok_or(abi::EAI_SERVICE)?,
        };
        Ok(Self { socktype, protocol, port })
    }
}

/// A thread's TLS block: the image's TLS segment (`.tdata`, copied, then
/// `.tbss`, zeroed) where local-exec code reaches it from the thread
/// pointer. Both of Ferrode's CPUs use the ELF TLS ABI's variant 1: the
/// pointer is at the block's start, then comes a thread control block of
/// the CPU's size (two words on Arm, none on RISC-V), then the segment at
/// its alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsLayout {
    /// Bytes to allocate for the block (at least one).
    pub size: usize,
    /// Their alignment.
    pub align: usize,
    /// The TLS segment's offset in the block (from the thread pointer).
    pub segment: usize,
}

impl TlsLayout {
    /// The block of a TLS segment of `data` initialized bytes and `zeroed`
    /// more, aligned to `align` (a power of two; 0 for none), after a
    /// control block of `control` bytes; `None` if `align` is not a power
    /// of two or the size overflows.
    pub fn new(control: usize, data: usize, zeroed: usize, align: usize) -> Option<Self> {
        let align = align.max(1);
        if !align.is_power_of_two() {
            return None;
        }
        let segment = control.checked_next_multiple_of(align)?;
        let size = segment.checked_add(data)?.checked_add(zeroed)?.max(1);
        // The control block's words are aligned as words are.
        let align = if control > 0 { align.max(core::mem::size_of::<usize>()) } else { align };
        Some(Self { size, align, segment })
    }
}

/// Ctrl-D: a terminal's end of file.
pub const END_OF_FILE: u8 = 0x04;

/// Bytes received from a terminal, handed to std's `read` of stdin as a
/// terminal's line discipline would: a carriage return (what the Enter key
/// sends) reads as `\n` (termios' `ICRNL`); a Ctrl-D ends the input a read
/// returns, and at the start of a read is an end of file (the read returns
/// 0 and the Ctrl-D is gone: input may go on after it). Holds up to `N`
/// bytes received and not yet read.
#[derive(Debug)]
pub struct TtyInput<const N: usize> {
    bytes: [u8; N],
    start: usize,
    end: usize,
}

impl<const N: usize> Default for TtyInput<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TtyInput<N> {
    /// No input.
    pub const fn new() -> Self {
        Self { bytes: [0; N], start: 0, end: 0 }
    }

    /// Whether a read would find nothing (more must be received first).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Takes what of `data` fits; returns how many bytes that was.
    pub fn receive(&mut self, data: &[u8]) -> usize {
        self.bytes.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        let taken = data.len().min(N - self.end);
        self.bytes[self.end..self.end + taken].copy_from_slice(&data[..taken]);
        self.end += taken;
        taken
    }

    /// Reads into `out`: `None` if nothing was received, `Some(0)` at an
    /// end of file (or for an empty `out`), else the bytes read.
    pub fn read(&mut self, out: &mut [u8]) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        if self.bytes[self.start] == END_OF_FILE {
            self.start += 1;
            return Some(0);
        }
        let mut count = 0;
        while count < out.len() && self.start < self.end {
            let byte = self.bytes[self.start];
            if byte == END_OF_FILE {
                break;
            }
            out[count] = if byte == b'\r' { b'\n' } else { byte };
            count += 1;
            self.start += 1;
        }
        Some(count)
    }
}

/// The directory std's file paths name ROM modules under.
pub const ROM_DIR: &str = "/rom/";

/// The ROM module a file path names: `/rom/NAME` is the module of the
/// component's ROM route labelled `NAME`. `None` for any other path (a
/// directory, a path below a module, text that is not UTF-8).
pub fn rom_module(path: &[u8]) -> Option<&str> {
    let path = core::str::from_utf8(path).ok()?;
    let name = path.strip_prefix(ROM_DIR)?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Whether a path names the directory of ROM modules itself (`/rom` or
/// `/rom/`), which `std::fs::read_dir` lists.
pub fn is_rom_dir(path: &[u8]) -> bool {
    path == ROM_DIR.as_bytes() || path == &ROM_DIR.as_bytes()[..ROM_DIR.len() - 1]
}

/// Where a `dirent64`'s name starts: after `d_ino`, `d_off`, `d_reclen`
/// and `d_type`.
const DIRENT_NAME: usize = core::mem::offset_of!(abi::dirent64, d_name);
/// What every `dirent64` starts at: `d_ino` and `d_off` are 64-bit.
const DIRENT_ALIGN: usize = 8;

/// Whether `/rom` lists the module of route label `name`: a path
/// `/rom/NAME` reaches it ([`rom_module`]: not empty, no `/`) and a
/// `d_name` can carry it (no null byte, at most 255 bytes).
pub fn listed(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && bytes.len() <= 255 && !bytes.iter().any(|&b| b == b'/' || b == 0)
}

/// Writes one `dirent64` per name into `out`, all of them or none
/// (`None`: too little room; hermit's `getdents64` then answers `EINVAL`,
/// and std's `read_dir`, which reads a directory in one call, asks again
/// with twice the room). Names that are not [`listed`] are left out.
///
/// Each entry: `d_ino` counting from 1, `d_off` the next entry's offset,
/// `d_reclen` the entry's length (its header, the name and its null byte,
/// rounded up to 8 bytes, so that the next entry's 64-bit fields are
/// aligned), `d_type` a regular file's (`DT_REG`). Returns the bytes
/// written. `out` must start 8-byte aligned for std to read the entries
/// in place, as the heap's allocations do.
pub fn write_dirents<'a>(names: impl Iterator<Item = &'a str>, out: &mut [u8]) -> Option<usize> {
    write_typed_dirents(names.map(|name| (name, abi::DT_REG)), out)
}

/// As [`write_dirents`], each entry with its own `d_type` (`DT_REG` for a
/// file, `DT_DIR` for a directory).
pub fn write_typed_dirents<S: AsRef<str>>(
    entries: impl Iterator<Item = (S, u8)>,
    out: &mut [u8],
) -> Option<usize> {
    let mut at = 0;
    for (index, (name, kind)) in entries.filter(|(name, _)| listed(name.as_ref())).enumerate() {
        at = write_dirent(out, at, index, name.as_ref(), kind)?;
    }
    Some(at)
}

/// Writes one `dirent64` into `out` at `at`, the `index`th (from 0) of a
/// listing, as [`write_dirents`] lays them out; returns where the next
/// starts, or `None` if it does not fit. For listings that come one
/// entry at a time (a FAT directory walked with a callback); the caller
/// leaves out names that are not [`listed`].
pub fn write_dirent(
    out: &mut [u8],
    at: usize,
    index: usize,
    name: &str,
    kind: u8,
) -> Option<usize> {
    let bytes = name.as_bytes();
    let length = (DIRENT_NAME + bytes.len() + 1).next_multiple_of(DIRENT_ALIGN);
    let entry = out.get_mut(at..at + length)?;
    entry.fill(0);
    let field = |offset| offset..offset + 8;
    entry[field(core::mem::offset_of!(abi::dirent64, d_ino))]
        .copy_from_slice(&(index as u64 + 1).to_ne_bytes());
    entry[field(core::mem::offset_of!(abi::dirent64, d_off))]
        .copy_from_slice(&((at + length) as i64).to_ne_bytes());
    entry[core::mem::offset_of!(abi::dirent64, d_reclen)..][..2]
        .copy_from_slice(&(length as u16).to_ne_bytes());
    entry[core::mem::offset_of!(abi::dirent64, d_type)] = kind;
    entry[DIRENT_NAME..][..bytes.len()].copy_from_slice(bytes);
    Some(at + length)
}

/// The directory std's file paths name the SD card's files under.
pub const SD_DIR: &str = "/sd";

/// A path in the SD card's file system, as [`sd_path`] found it: the part
/// after `/sd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdPath<'a>(&'a str);

impl<'a> SdPath<'a> {
    /// The names from the card's root directory on: repeated and trailing
    /// slashes and `.` left out.
    pub fn components(self) -> impl Iterator<Item = &'a str> + Clone {
        self.0.split('/').filter(|name| !name.is_empty() && *name != ".")
    }

    /// Whether the path names the root directory (`/sd` itself).
    pub fn is_root(self) -> bool {
        self.components().next().is_none()
    }

    /// The directories down to the last name, and the last name; `None`
    /// for the root directory.
    pub fn split_last(self) -> Option<(impl Iterator<Item = &'a str> + Clone, &'a str)> {
        let count = self.components().count();
        let last = self.components().last()?;
        Some((self.components().take(count - 1), last))
    }
}

/// The path in the SD card's file system that file path `path` names:
/// `/sd` is the root directory of the card's first FAT partition and
/// `/sd/LOGS/DAY1.TXT` a file in a directory of it. `None` for a path
/// outside `/sd` (`/sdx` is outside too), text that is not UTF-8, or a
/// path with `..` in it (the card's root is as high as a path reaches).
pub fn sd_path(path: &[u8]) -> Option<SdPath<'_>> {
    let path = core::str::from_utf8(path).ok()?;
    let rest = path.strip_prefix(SD_DIR)?;
    if !(rest.is_empty() || rest.starts_with('/')) || rest.split('/').any(|name| name == "..") {
        return None;
    }
    Some(SdPath(rest))
}

/// Whether `open` creates the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// No: the file must exist (`ENOENT` otherwise).
    No,
    /// If it does not exist (`O_CREAT`).
    IfMissing,
    /// Always: the file must not exist (`O_CREAT | O_EXCL`; `EEXIST`).
    New,
}

/// What `open`'s flags ask of a file ([`open_mode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenMode {
    /// Reads are allowed (`O_RDONLY`, `O_RDWR`).
    pub read: bool,
    /// Writes are allowed (`O_WRONLY`, `O_RDWR`).
    pub write: bool,
    /// Every write goes to the end (`O_APPEND`).
    pub append: bool,
    /// The file's contents are dropped at the open (`O_TRUNC`).
    pub truncate: bool,
    /// Whether the open creates the file.
    pub create: Create,
    /// The path must name a directory (`O_DIRECTORY`).
    pub directory: bool,
}

/// `open`'s `flags` as an [`OpenMode`]; `EINVAL` for an access mode that
/// is none of `O_RDONLY`, `O_WRONLY` and `O_RDWR`, or a truncation or an
/// appending without writes.
pub fn open_mode(flags: i32) -> Result<OpenMode, i32> {
    let (read, write) = match flags & 0o3 {
        abi::O_RDONLY => (true, false),
        abi::O_WRONLY => (false, true),
        abi::O_RDWR => (true, true),
        _ => return Err(errno::EINVAL),
    };
    let has = |flag| flags & flag == flag;
    let create = match (has(abi::O_CREAT), has(abi::O_EXCL)) {
        (true, true) => Create::New,
        (true, false) => Create::IfMissing,
        (false, _) => Create::No,
    };
    let mode = OpenMode {
        read,
        write,
        append: has(abi::O_APPEND),
        truncate: has(abi::O_TRUNC),
        create,
        directory: has(abi::O_DIRECTORY),
    };
    if (mode.truncate || mode.append) && !write {
        return Err(errno::EINVAL);
    }
    Ok(mode)
}

/// `lseek`'s new offset in a file of `size` bytes read up to `at`:
/// `offset` from the start (`SEEK_SET`, 0), from `at` (`SEEK_CUR`, 1) or
/// from the end (`SEEK_END`, 2). `None` (`EINVAL`) for another `whence` or
/// an offset before the start; past the end is allowed (reads there find
/// nothing), as POSIX allows it.
pub fn seek(at: u64, size: u64, offset: i64, whence: i32) -> Option<u64> {
    let base = match whence {
        0 => 0,
        1 => at,
        2 => size,
        _ => return None,
    };
    base.checked_add_signed(offset)
}

/// The ROM module (route label) std's environment variables come from.
pub const ENV_MODULE: &str = "env";

/// The environment entries (`KEY=VALUE`, as std parses them) of an `env`
/// module's text: one per line, a `\r` before the line end dropped;
/// empty lines, lines starting with `#` and lines without a `=` after
/// their first byte are skipped.
pub fn environment_entries(text: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    text.split(|byte| *byte == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line)).filter(
        |line| {
            !line.is_empty() && line[0] != b'#' && line[1..].contains(&b'=') && !line.contains(&0)
        },
    )
}

/// The bytes `sys_read_entropy` answers with: SplitMix64 from a seed.
///
/// Neither the PBX-A9 nor the MicroBlaze V has an entropy source, so this
/// is not one: the board seeds it from its clock, which under QEMU's
/// `-icount` is the same on every run. It keeps std's `HashMap` working
/// (its keys must come from somewhere) but its output is no secret; code
/// that needs unpredictable numbers (keys, nonces) must bring its own
/// source.
#[derive(Clone, Debug)]
pub struct SeedGenerator {
    state: u64,
}

impl SeedGenerator {
    /// A generator from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fills `buffer`.
    pub fn fill(&mut self, buffer: &mut [u8]) {
        for chunk in buffer.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
