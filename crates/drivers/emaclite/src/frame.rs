//! Received-frame length from its headers: EthernetLite has no receive
//! length register (PG135), so the length is derived from the Ethernet
//! type/length field and the network-layer header.

use ferrode_hal::MAX_FRAME_LEN;

/// Ethernet header length (destination, source, type/length).
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Header bytes [`frame_length`] needs to look at.
pub const HEADER_BYTES_NEEDED: usize = 20;

/// What the headers say about a received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameLength {
    /// The frame is this many bytes long (no FCS).
    Exact(usize),
    /// The type is one whose length the headers do not give: the whole
    /// frame buffer up to [`MAX_FRAME_LEN`] is passed up.
    Unknown,
    /// The headers claim less than the smallest valid packet.
    Runt,
    /// The headers claim more than [`MAX_FRAME_LEN`].
    Oversized,
    /// A type/length value in the undefined 1501..=1535 range.
    Malformed,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const IPV4_MIN_HEADER: usize = 20;
const ARP_IPV4_LEN: usize = 28;
const IPV6_HEADER: usize = 40;

fn be16(header: &[u8; HEADER_BYTES_NEEDED], at: usize) -> usize {
    usize::from(u16::from_be_bytes([header[at], header[at + 1]]))
}

fn bounded(len: usize) -> FrameLength {
    if len > MAX_FRAME_LEN { FrameLength::Oversized } else { FrameLength::Exact(len) }
}

/// The frame length the first [`HEADER_BYTES_NEEDED`] bytes imply.
pub fn frame_length(header: &[u8; HEADER_BYTES_NEEDED]) -> FrameLength {
    let type_or_length = be16(header, 12);
    match type_or_length {
        0 => FrameLength::Runt,
        // IEEE 802.3 length field.
        1..=1500 => bounded(ETHERNET_HEADER_LEN + type_or_length),
        1501..=0x05FF => FrameLength::Malformed,
        _ => match type_or_length as u16 {
            ETHERTYPE_IPV4 => {
                let total = be16(header, 16);
                if total < IPV4_MIN_HEADER {
                    FrameLength::Runt
                } else {
                    bounded(ETHERNET_HEADER_LEN + total)
                }
            }
            ETHERTYPE_ARP => FrameLength::Exact(ETHERNET_HEADER_LEN + ARP_IPV4_LEN),
            ETHERTYPE_IPV6 => bounded(ETHERNET_HEADER_LEN + IPV6_HEADER + be16(header, 18)),
            _ => FrameLength::Unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ethertype: u16, word16: u16, word18: u16) -> [u8; HEADER_BYTES_NEEDED] {
        let mut h = [0u8; HEADER_BYTES_NEEDED];
        h[12..14].copy_from_slice(&ethertype.to_be_bytes());
        h[16..18].copy_from_slice(&word16.to_be_bytes());
        h[18..20].copy_from_slice(&word18.to_be_bytes());
        h
    }

    #[test]
    fn lengths_from_headers() {
        let table = [
            (header(0x0800, 84, 0), FrameLength::Exact(98)), // ICMP echo, 56 data bytes
            (header(0x0800, 1500, 0), FrameLength::Exact(1514)),
            (header(0x0800, 1501, 0), FrameLength::Oversized),
            (header(0x0800, 20, 0), FrameLength::Exact(34)), // a bare IPv4 header
            (header(0x0800, 19, 0), FrameLength::Runt),
            (header(0x0806, 0, 0), FrameLength::Exact(42)),
            (header(0x86DD, 0, 1460), FrameLength::Exact(1514)),
            (header(0x86DD, 0, 1461), FrameLength::Oversized),
            (header(46, 0, 0), FrameLength::Exact(60)),
            (header(0, 0, 0), FrameLength::Runt),
            (header(1536 - 1, 0, 0), FrameLength::Malformed),
            (header(0x88CC, 0, 0), FrameLength::Unknown),
        ];
        for (h, expected) in table {
            assert_eq!(
                frame_length(&h),
                expected,
                "type {:#06x}",
                u16::from_be_bytes([h[12], h[13]])
            );
        }
    }
}
