//! A DNS stub resolver's two messages (RFC 1035): the query for a name's
//! IPv4 addresses (type A, recursion desired) and the addresses in a
//! server's answer to it. No I/O and no allocation: the caller sends the
//! query in a UDP datagram to a server's port [`PORT`], hands over each
//! datagram that comes back from it, and gives up or tries another server
//! after a timeout (the board crate's std layer does, for `getaddrinfo`).
//!
//! An answer counts only if it carries the query's id and repeats its
//! question; anything else is [`DnsError::NotOurs`], to be ignored while
//! the real answer is awaited. The addresses are the answer section's A
//! records (of the name or of the names a CNAME chain leads to: a
//! recursive server answers with the whole chain).

use smoltcp::wire::Ipv4Address;

/// The port DNS servers listen on.
pub const PORT: u16 = 53;
/// The longest name, in its text form without a final dot (RFC 1035,
/// 2.3.4: 255 bytes on the wire).
pub const MAX_NAME: usize = 253;
/// The longest label of a name.
pub const MAX_LABEL: usize = 63;
/// The longest query: header, the name on the wire, type and class.
pub const MAX_QUERY: usize = HEADER + MAX_NAME + 2 + 4;
/// The longest answer a server sends over UDP to a query without EDNS.
pub const MAX_ANSWER: usize = 512;

/// The header's length.
const HEADER: usize = 12;
/// Flags: a response (QR).
const RESPONSE: u16 = 0x8000;
/// Flags: recursion desired (RD).
const RECURSION_DESIRED: u16 = 0x0100;
/// Record type A (an IPv4 address) and class IN.
const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
/// How many compression pointers one name may follow: more is a loop.
const MAX_POINTERS: usize = 16;

/// Why a name has no addresses, or why a datagram is not its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsError {
    /// Not a name a query can carry: empty, an empty label (`a..b`), a
    /// label over [`MAX_LABEL`] bytes, or over [`MAX_NAME`] bytes in all.
    InvalidName,
    /// Not the answer to this query (another id or question, or not a
    /// response): ignore it and go on waiting.
    NotOurs,
    /// Cut short, or its parts do not fit together.
    Malformed,
    /// The name does not exist (`NXDOMAIN`).
    NoSuchName,
    /// The name exists but has no IPv4 address.
    NoAddress,
    /// The server could not answer (`SERVFAIL`), refused, or did not
    /// understand: another server may.
    ServerFailure,
}

/// The labels of `name` (one final dot allowed), checked.
fn labels(name: &str) -> Result<impl Iterator<Item = &[u8]>, DnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(DnsError::InvalidName);
    }
    if name.split('.').any(|label| label.is_empty() || label.len() > MAX_LABEL) {
        return Err(DnsError::InvalidName);
    }
    Ok(name.split('.').map(str::as_bytes))
}

/// Writes the query with `id` for `name`'s IPv4 addresses into `out`;
/// its length.
pub fn query(id: u16, name: &str, out: &mut [u8; MAX_QUERY]) -> Result<usize, DnsError> {
    let labels = labels(name)?;
    out[..HEADER].copy_from_slice(&header(id, RECURSION_DESIRED, 1));
    let mut at = HEADER;
    for label in labels {
        out[at] = label.len() as u8;
        out[at + 1..at + 1 + label.len()].copy_from_slice(label);
        at += 1 + label.len();
    }
    out[at] = 0;
    out[at + 1..at + 3].copy_from_slice(&TYPE_A.to_be_bytes());
    out[at + 3..at + 5].copy_from_slice(&CLASS_IN.to_be_bytes());
    Ok(at + 5)
}

/// A header: `id`, `flags`, `questions` questions and no records.
fn header(id: u16, flags: u16, questions: u16) -> [u8; HEADER] {
    let [i0, i1] = id.to_be_bytes();
    let [f0, f1] = flags.to_be_bytes();
    let [q0, q1] = questions.to_be_bytes();
    [i0, i1, f0, f1, q0, q1, 0, 0, 0, 0, 0, 0]
}

/// The big-endian `u16` at `at`.
fn u16_at(packet: &[u8], at: usize) -> Result<u16, DnsError> {
    match packet.get(at..at + 2) {
        Some(&[high, low]) => Ok(u16::from_be_bytes([high, low])),
        _ => Err(DnsError::Malformed),
    }
}

/// Walks the name at `at`, following compression pointers, handing each
/// label to `label`; where the name's bytes at `at` end.
fn walk_name(packet: &[u8], at: usize, mut label: impl FnMut(&[u8])) -> Result<usize, DnsError> {
    let mut at = at;
    // Where the name ends in place: after its first pointer, or its end.
    let mut end = None;
    let mut pointers = 0;
    loop {
        let length = *packet.get(at).ok_or(DnsError::Malformed)? as usize;
        match length & 0xc0 {
            0x00 if length == 0 => return Ok(end.unwrap_or(at + 1)),
            0x00 => {
                label(packet.get(at + 1..at + 1 + length).ok_or(DnsError::Malformed)?);
                at += 1 + length;
            }
            0xc0 => {
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DnsError::Malformed);
                }
                end.get_or_insert(at + 2);
                at = usize::from(u16_at(packet, at)? & 0x3fff);
            }
            // 0x40 and 0x80: extended label types, not in answers to A.
            _ => return Err(DnsError::Malformed),
        }
    }
}

/// Reads the answer to the query with `id` for `name` from `packet`: its
/// IPv4 addresses, as many as `out` has room for (the rest are dropped);
/// how many.
pub fn answer(
    id: u16,
    name: &str,
    packet: &[u8],
    out: &mut [Ipv4Address],
) -> Result<usize, DnsError> {
    if packet.len() < HEADER {
        return Err(DnsError::Malformed);
    }
    let flags = u16_at(packet, 2)?;
    if u16_at(packet, 0)? != id || flags & RESPONSE == 0 {
        return Err(DnsError::NotOurs);
    }
    let (questions, answers) = (u16_at(packet, 4)?, u16_at(packet, 6)?);
    let code = flags & 0x000f;
    // The question must be ours; a server that did not understand the
    // query may leave it out, and says so in its code.
    let mut at = HEADER;
    if questions != 1 && code == 0 {
        return Err(DnsError::NotOurs);
    }
    if questions == 1 {
        let mut wanted = labels(name)?;
        let mut same = true;
        at = walk_name(packet, at, |label| {
            same &= wanted.next().is_some_and(|want| want.eq_ignore_ascii_case(label));
        })?;
        same &= wanted.next().is_none();
        if !same || u16_at(packet, at)? != TYPE_A || u16_at(packet, at + 2)? != CLASS_IN {
            return Err(DnsError::NotOurs);
        }
        at += 4;
    }
    match code {
        0 => {}
        3 => return Err(DnsError::NoSuchName),
        _ => return Err(DnsError::ServerFailure),
    }
    let mut found = 0;
    for _ in 0..answers {
        at = walk_name(packet, at, |_| {})?;
        let kind = u16_at(packet, at)?;
        let class = u16_at(packet, at + 2)?;
        let length = usize::from(u16_at(packet, at + 8)?);
        let data = packet.get(at + 10..at + 10 + length).ok_or(DnsError::Malformed)?;
        if let (TYPE_A, CLASS_IN, &[a, b, c, d]) = (kind, class, data)
            && let Some(slot) = out.get_mut(found)
        {
            *slot = Ipv4Address::new(a, b, c, d);
            found += 1;
        }
        at += 10 + length;
    }
    if found == 0 {
        return Err(DnsError::NoAddress);
    }
    Ok(found)
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
