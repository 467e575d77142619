//! TCP and UDP checksums over IPv4, computed by the device layer instead
//! of by smoltcp.
//!
//! smoltcp sums a segment two bytes at a time, each pair read big-endian:
//! on the PBX-A9 that was about 4.9 instructions per byte, a third of all
//! the work of echoing a TCP byte (it is summed once when the segment
//! comes in and once when the echo goes out). [`sum`] reads aligned 32-bit
//! words in the processor's own byte order and corrects for it once at the
//! end (RFC 1071, 2: the one's complement sum does not depend on byte
//! order). The devices ([`crate::Phy`], [`crate::StreamPhy`]) tell smoltcp
//! that TCP and UDP checksums are done for it, [`verify`] every frame that
//! comes in before smoltcp sees it, and [`fill`] every frame smoltcp
//! builds before it goes out. IPv4 header and ICMP checksums stay with
//! smoltcp (20 bytes, and rare).
//!
//! Which bytes are summed is exactly what smoltcp summed: an IPv4 packet's
//! payload up to its total length (not the Ethernet padding; a UDP
//! datagram up to its own length field), with the pseudo header of its
//! addresses, protocol and length. A frame whose headers do not hold
//! together is passed on unchecked, and smoltcp drops it when it parses
//! them.

/// Ethernet header: destination, source, type.
const ETHERNET_HEADER: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_UDP: u8 = 17;
/// Where the checksum field lies in a TCP and a UDP header.
const TCP_CHECKSUM_AT: usize = 16;
const UDP_CHECKSUM_AT: usize = 6;

/// Tells smoltcp that the device checks and fills TCP and UDP checksums.
pub fn offload(capabilities: &mut smoltcp::phy::DeviceCapabilities) {
    capabilities.checksum.tcp = smoltcp::phy::Checksum::None;
    capabilities.checksum.udp = smoltcp::phy::Checksum::None;
}

/// What [`verify`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A TCP or UDP checksum that holds (or a UDP datagram sent without
    /// one).
    Valid,
    /// A TCP or UDP checksum that does not hold: drop the frame.
    Invalid,
    /// Not a TCP or UDP packet over IPv4, or headers smoltcp will refuse.
    Unchecked,
}

/// The TCP or UDP segment of an Ethernet frame: where it starts and ends
/// in the frame, where its checksum field is, and the pseudo header's sum.
struct Segment {
    start: usize,
    end: usize,
    checksum_at: usize,
    pseudo_header: u32,
    udp: bool,
}

impl Segment {
    /// The one's complement sum of the pseudo header and the segment as
    /// it stands in `frame`, checksum field included.
    fn total(&self, frame: &[u8]) -> u16 {
        fold(u64::from(self.pseudo_header) + u64::from(sum(&frame[self.start..self.end])))
    }
}

fn segment(frame: &[u8]) -> Option<Segment> {
    let ip = frame.get(ETHERNET_HEADER..)?;
    if frame.get(12..14)? != ETHERTYPE_IPV4 || ip.first()? >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    if header_len < 20 || total_len < header_len || total_len > ip.len() {
        return None;
    }
    let (checksum_at, udp) = match ip[9] {
        PROTOCOL_TCP => (TCP_CHECKSUM_AT, false),
        PROTOCOL_UDP => (UDP_CHECKSUM_AT, true),
        _ => return None,
    };
    let mut length = total_len - header_len;
    if length < checksum_at + 2 {
        return None;
    }
    if udp {
        // A UDP datagram is as long as its length field says, which may
        // be less than the IP payload (smoltcp drops one that says more).
        let field = usize::from(u16::from_be_bytes([ip[header_len + 4], ip[header_len + 5]]));
        if field < 8 || field > length {
            return None;
        }
        length = field;
    }
    // Source and destination address, protocol and segment length (RFC
    // 793 3.1, RFC 768), as 16-bit words.
    let mut pseudo_header = u32::from(ip[9]) + length as u32;
    for word in ip[12..20].chunks_exact(2) {
        pseudo_header += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    let start = ETHERNET_HEADER + header_len;
    Some(Segment {
        start,
        end: start + length,
        checksum_at: start + checksum_at,
        pseudo_header,
        udp,
    })
}

/// Checks the TCP or UDP checksum of an Ethernet frame.
#[inline(never)]
pub fn verify(frame: &[u8]) -> Verdict {
    let Some(segment) = segment(frame) else { return Verdict::Unchecked };
    let field = &frame[segment.checksum_at..segment.checksum_at + 2];
    if segment.udp && field == [0, 0] {
        // Sent without a checksum (RFC 768).
        return Verdict::Valid;
    }
    match segment.total(frame) {
        0xffff => Verdict::Valid,
        _ => Verdict::Invalid,
    }
}

/// Writes the TCP or UDP checksum into an Ethernet frame smoltcp built
/// (with the field zero); leaves any other frame as it is. Out of line:
/// smoltcp makes a transmit token's `consume` for every kind of frame.
#[inline(never)]
pub fn fill(frame: &mut [u8]) {
    let Some(segment) = segment(frame) else { return };
    frame[segment.checksum_at..segment.checksum_at + 2].fill(0);
    let mut checksum = !segment.total(frame);
    if segment.udp && checksum == 0 {
        // Zero would mean "no checksum" (RFC 768).
        checksum = 0xffff;
    }
    frame[segment.checksum_at..segment.checksum_at + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// Folds a sum of 16-bit words into 16 bits with end-around carry.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The one's complement sum of `data` as big-endian 16-bit words (a last
/// odd byte is the high byte of a word), folded to 16 bits.
pub fn sum(data: &[u8]) -> u16 {
    // SAFETY: every bit pattern is a valid u32, so viewing aligned bytes
    // as words is sound; `align_to` puts only whole, aligned words in the
    // middle part.
    let (head, words, tail) = unsafe { data.align_to::<u32>() };
    let mut total = u64::from(sum_bytes(head, 0));
    // The words in the processor's byte order: folded, that is the sum of
    // 16-bit words read little-endian on a little-endian processor, which
    // is the big-endian sum with its bytes swapped when the words start an
    // even number of bytes into `data` (RFC 1071, 2.(B)).
    let mut accumulator = 0u64;
    // Four words a round: fewer loop branches per byte.
    let mut rounds = words.chunks_exact(4);
    for round in &mut rounds {
        accumulator +=
            u64::from(round[0]) + u64::from(round[1]) + u64::from(round[2]) + u64::from(round[3]);
    }
    for word in rounds.remainder() {
        accumulator += u64::from(*word);
    }
    let words_sum = fold(accumulator);
    let words_sum = if cfg!(target_endian = "little") { words_sum.swap_bytes() } else { words_sum };
    total +=
        u64::from(if head.len().is_multiple_of(2) { words_sum } else { words_sum.swap_bytes() });
    total += u64::from(sum_bytes(tail, head.len() + words.len() * 4));
    fold(total)
}

/// The big-endian 16-bit sum of a few bytes that lie `offset` bytes into
/// the data being summed.
fn sum_bytes(bytes: &[u8], offset: usize) -> u16 {
    let mut total = 0u64;
    for (index, byte) in bytes.iter().enumerate() {
        let high = (offset + index).is_multiple_of(2);
        total += u64::from(*byte) << if high { 8 } else { 0 };
    }
    fold(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::pattern;
    use std::format;
    use std::vec::Vec;

    fn bytes(seed: u32, len: usize) -> Vec<u8> {
        pattern(len, seed)
    }

    /// RFC 1071's definition, word by word.
    fn naive(data: &[u8]) -> u16 {
        let mut total = 0u64;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            total += u64::from(word);
        }
        fold(total)
    }

    #[test]
    fn the_sum_matches_the_definition_at_every_length_and_alignment() {
        let data = bytes(7, 1600);
        for start in 0..8 {
            for len in 0..200 {
                let part = &data[start..start + len];
                assert_eq!(sum(part), naive(part), "start {start}, len {len}");
            }
            let part = &data[start..1600 - 8 + start];
            assert_eq!(sum(part), naive(part), "start {start}, full frame");
        }
        // Carries out of every word.
        let ones = [0xffu8; 1514];
        for start in 0..4 {
            assert_eq!(sum(&ones[start..]), naive(&ones[start..]));
        }
    }

    /// An Ethernet frame holding an IPv4 packet of `protocol` whose
    /// payload is `payload`, checksum field zero.
    fn frame(protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x52, 0x55, 10, 0, 2, 2, 0x08, 0x00]);
        let total = (20 + payload.len()) as u16;
        f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64]);
        f.extend_from_slice(&[protocol, 0, 0, 10, 0, 2, 2, 10, 0, 2, 15]);
        f.extend_from_slice(payload);
        f
    }

    /// `f` is smoltcp's to check: `verify` says so, and `fill` leaves every
    /// byte of it as it was.
    #[track_caller]
    fn assert_left_to_smoltcp(f: &[u8], what: &str) {
        assert_eq!(verify(f), Verdict::Unchecked, "{what}");
        let mut copy = f.to_vec();
        fill(&mut copy);
        assert_eq!(copy, f, "fill leaves {what} alone");
    }

    /// The checksum of `f`'s segment by RFC 793's definition.
    fn expected(f: &[u8], checksum_at: usize) -> u16 {
        let segment = &f[34..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&f[26..34]);
        pseudo.extend_from_slice(&[0, f[23]]);
        pseudo.extend_from_slice(&(segment.len() as u16).to_be_bytes());
        let mut zeroed = segment.to_vec();
        zeroed[checksum_at..checksum_at + 2].fill(0);
        pseudo.extend_from_slice(&zeroed);
        !naive(&pseudo)
    }

    #[test]
    fn filled_tcp_and_udp_checksums_are_rfc_checksums_and_verify() {
        for len in [20usize, 21, 33, 1460 + 20] {
            let mut tcp = frame(PROTOCOL_TCP, &bytes(len as u32, len));
            fill(&mut tcp);
            let field = u16::from_be_bytes([tcp[34 + 16], tcp[34 + 17]]);
            assert_eq!(field, expected(&tcp, 16), "tcp, {len} bytes");
            assert_eq!(verify(&tcp), Verdict::Valid);
            tcp[40] ^= 0x01;
            assert_eq!(verify(&tcp), Verdict::Invalid);
        }
        let mut udp = frame(PROTOCOL_UDP, &bytes(3, 8 + 37));
        udp[38..40].copy_from_slice(&45u16.to_be_bytes());
        fill(&mut udp);
        assert_eq!(u16::from_be_bytes([udp[40], udp[41]]), expected(&udp, 6));
        assert_eq!(verify(&udp), Verdict::Valid);
        udp[50] ^= 0x80;
        assert_eq!(verify(&udp), Verdict::Invalid);
        // Sent without a checksum.
        udp[40..42].fill(0);
        assert_eq!(verify(&udp), Verdict::Valid);
    }

    #[test]
    fn ethernet_padding_and_bytes_past_a_udp_length_are_not_summed() {
        let mut tcp = frame(PROTOCOL_TCP, &bytes(9, 20));
        fill(&mut tcp);
        tcp.extend_from_slice(&[0xAB; 6]);
        assert_eq!(verify(&tcp), Verdict::Valid);
        let mut udp = frame(PROTOCOL_UDP, &bytes(4, 18));
        udp[38..40].copy_from_slice(&12u16.to_be_bytes());
        fill(&mut udp);
        let mut short = udp[..34 + 12].to_vec();
        short[16..18].copy_from_slice(&32u16.to_be_bytes());
        assert_eq!(u16::from_be_bytes([udp[40], udp[41]]), expected(&short, 6));
        udp[50] ^= 0xff;
        assert_eq!(verify(&udp), Verdict::Valid);
        // A length field beyond the IP payload: smoltcp's to refuse.
        udp[38..40].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(verify(&udp), Verdict::Unchecked);
    }

    #[test]
    fn other_frames_and_inconsistent_headers_are_left_to_smoltcp() {
        let arp = [0u8; 42];
        assert_eq!(verify(&arp), Verdict::Unchecked);
        let icmp = frame(1, &[8, 0, 0, 0, 0, 1, 0, 1]);
        assert_left_to_smoltcp(&icmp, "ICMP");
        let mut long = frame(PROTOCOL_TCP, &[0; 20]);
        long[17] += 1; // total length beyond the frame
        assert_eq!(verify(&long), Verdict::Unchecked);
        let mut short = frame(PROTOCOL_TCP, &[0; 20]);
        short[14] = 0x44; // header length 16
        assert_eq!(verify(&short), Verdict::Unchecked);
        let tiny = frame(PROTOCOL_TCP, &[0; 10]);
        assert_eq!(verify(&tiny), Verdict::Unchecked);
        assert_eq!(verify(&[]), Verdict::Unchecked);
    }

    /// The frame must say IPv4 twice, in its Ethernet type and in the IP
    /// version: guards against a check that passes a frame on when only
    /// one of the two says something else.
    #[test]
    fn a_frame_is_summed_only_when_its_ethertype_and_ip_version_both_say_ipv4() {
        let mut ipv6_type = frame(PROTOCOL_TCP, &[0; 20]);
        ipv6_type[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(verify(&ipv6_type), Verdict::Unchecked);
        let mut version_6 = frame(PROTOCOL_TCP, &[0; 20]);
        version_6[14] = 0x65;
        assert_left_to_smoltcp(&version_6, "IP version 6");
    }

    /// An IPv4 total length shorter than the IP header is refused, not
    /// subtracted from: guards against a check that lets such a header
    /// through (the length would then wrap).
    #[test]
    fn a_total_length_shorter_than_the_ip_header_is_left_to_smoltcp() {
        let mut f = frame(PROTOCOL_TCP, &[0; 20]);
        f[16..18].copy_from_slice(&19u16.to_be_bytes());
        assert_left_to_smoltcp(&f, "total length 19");
    }

    /// A segment too short to hold its checksum field is not summed and
    /// nothing is written past it: guards against a length check that
    /// counts the field's end short (a 16-byte TCP payload ends where the
    /// field starts; an Ethernet pad follows it here).
    #[test]
    fn a_segment_that_ends_before_its_checksum_field_is_left_to_smoltcp() {
        for (protocol, length) in [(PROTOCOL_TCP, 16), (PROTOCOL_TCP, 17), (PROTOCOL_UDP, 7)] {
            let mut f = frame(protocol, &bytes(length as u32, length));
            f.extend_from_slice(&[0; 8]);
            assert_left_to_smoltcp(&f, &format!("protocol {protocol}, {length} bytes"));
        }
    }

    /// A UDP datagram with no payload (8 bytes, the header alone) gets a
    /// checksum and verifies: guards against a length check that takes
    /// the header alone for too short.
    #[test]
    fn an_empty_udp_datagram_is_checksummed() {
        let mut udp = frame(PROTOCOL_UDP, &[0x12, 0x34, 0x00, 0x07, 0, 8, 0, 0]);
        fill(&mut udp);
        assert_eq!(u16::from_be_bytes([udp[40], udp[41]]), expected(&udp, 6));
        assert_ne!(&udp[40..42], &[0, 0]);
        assert_eq!(verify(&udp), Verdict::Valid);
        udp[34] ^= 0x01;
        assert_eq!(verify(&udp), Verdict::Invalid);
    }

    /// A UDP length field below the header's 8 bytes is refused: guards
    /// against summing (and writing a checksum into) a datagram whose
    /// length leaves out its own checksum field.
    #[test]
    fn a_udp_length_field_below_eight_is_left_to_smoltcp() {
        for field in [0u16, 4, 7] {
            let mut udp = frame(PROTOCOL_UDP, &bytes(5, 8 + 10));
            udp[38..40].copy_from_slice(&field.to_be_bytes());
            udp[40..42].copy_from_slice(&[0x5a, 0xa5]);
            assert_left_to_smoltcp(&udp, &format!("UDP length field {field}"));
        }
    }

    /// The devices take TCP and UDP checksums off smoltcp: guards against
    /// smoltcp summing every segment a second time (the cost this module
    /// exists to remove).
    #[test]
    fn offload_tells_smoltcp_to_leave_tcp_and_udp_checksums_alone() {
        use smoltcp::phy::{Checksum, DeviceCapabilities};
        let mut capabilities = DeviceCapabilities::default();
        offload(&mut capabilities);
        assert!(matches!(capabilities.checksum.tcp, Checksum::None));
        assert!(matches!(capabilities.checksum.udp, Checksum::None));
        assert!(matches!(capabilities.checksum.ipv4, Checksum::Both), "IPv4 stays smoltcp's");
    }
}
