//! Queries byte for byte, and answers as servers write them: plain,
//! through CNAME chains with compressed names, and every way one can be
//! wrong or not ours.

use std::vec;
use std::vec::Vec;

use smoltcp::wire::Ipv4Address;

use super::{DnsError, MAX_NAME, MAX_QUERY, answer, query};

/// The query's id in these tests.
const ID: u16 = 0xbeef;

fn query_of(name: &str) -> Result<Vec<u8>, DnsError> {
    let mut out = [0u8; MAX_QUERY];
    let length = query(ID, name, &mut out)?;
    Ok(out[..length].to_vec())
}

/// An answer: the query's header turned into a response with `code`,
/// its question (unless `question` is false), then `records`.
fn response(name: &str, code: u16, question: bool, records: &[Vec<u8>]) -> Vec<u8> {
    let query = query_of(name).unwrap();
    let mut packet = query[..12].to_vec();
    packet[2..4].copy_from_slice(&(0x8180 | code).to_be_bytes());
    packet[4..6].copy_from_slice(&u16::from(question).to_be_bytes());
    packet[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    if question {
        packet.extend_from_slice(&query[12..]);
    }
    for record in records {
        packet.extend_from_slice(record);
    }
    packet
}

/// A record of `kind` for the name at offset 12 (the question's, by a
/// compression pointer), with `data`.
fn record(kind: u16, data: &[u8]) -> Vec<u8> {
    record_named(&[0xc0, 12], kind, data)
}

fn record_named(name: &[u8], kind: u16, data: &[u8]) -> Vec<u8> {
    let mut record = name.to_vec();
    record.extend_from_slice(&kind.to_be_bytes());
    record.extend_from_slice(&1u16.to_be_bytes()); // IN
    record.extend_from_slice(&300u32.to_be_bytes()); // TTL
    record.extend_from_slice(&(data.len() as u16).to_be_bytes());
    record.extend_from_slice(data);
    record
}

fn addresses(name: &str, packet: &[u8]) -> Result<Vec<Ipv4Address>, DnsError> {
    let mut out = [Ipv4Address::UNSPECIFIED; 4];
    let count = answer(ID, name, packet, &mut out)?;
    Ok(out[..count].to_vec())
}

#[test]
fn a_query_asks_for_a_records_with_recursion() {
    let expected = [
        0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // id, RD, one question
        7, b'f', b'e', b'r', b'r', b'o', b'd', b'e', 4, b't', b'e', b's', b't', 0, // name
        0, 1, 0, 1, // A, IN
    ];
    assert_eq!(query_of("ferrode.test").unwrap(), expected);
    // A final dot names the same.
    assert_eq!(query_of("ferrode.test.").unwrap(), expected);
}

#[test]
fn names_a_query_cannot_carry_are_refused() {
    for name in ["", ".", "a..b", ".a", "a.b..", &"x".repeat(64)] {
        assert_eq!(query_of(name), Err(DnsError::InvalidName), "{name:?}");
    }
    // The longest label and the longest name fit.
    assert!(query_of(&"x".repeat(63)).is_ok());
    let longest = ["y".repeat(63), "y".repeat(63), "y".repeat(63), "y".repeat(61)].join(".");
    assert_eq!(longest.len(), MAX_NAME);
    assert_eq!(query_of(&longest).unwrap().len(), MAX_QUERY);
    assert_eq!(query_of(&(longest + "y")), Err(DnsError::InvalidName));
}

#[test]
fn an_answer_gives_its_a_records() {
    let packet = response(
        "ferrode.test",
        0,
        true,
        &[record(1, &[10, 0, 2, 2]), record(1, &[192, 168, 1, 7])],
    );
    let expected = [Ipv4Address::new(10, 0, 2, 2), Ipv4Address::new(192, 168, 1, 7)];
    assert_eq!(addresses("ferrode.test", &packet).unwrap(), expected);
    // Names compare without regard to case.
    assert_eq!(addresses("FERRODE.Test.", &packet).unwrap(), expected);
}

#[test]
fn a_cname_chain_leads_to_the_addresses() {
    // ferrode.test CNAME www.example (written out), www.example A; the A
    // record's owner is compressed to the CNAME's data.
    let cname_data = [3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0];
    let cname = record(5, &cname_data);
    // The CNAME's data starts after the question (12 + 14 + 4) and the
    // CNAME record's own name, type, class, TTL and length (2 + 10).
    let target = 12 + 14 + 4 + 12;
    let a = record_named(&[0xc0, target as u8], 1, &[10, 0, 2, 3]);
    let packet = response("ferrode.test", 0, true, &[cname, a]);
    assert_eq!(addresses("ferrode.test", &packet).unwrap(), [Ipv4Address::new(10, 0, 2, 3)]);
}

#[test]
fn records_other_than_a_are_passed_over() {
    // An AAAA record, an A record with the wrong length, an A record of
    // class CH: none is an IPv4 address.
    let mut chaos = record(1, &[1, 2, 3, 4]);
    chaos[5] = 3;
    let packet = response(
        "ferrode.test",
        0,
        true,
        &[
            record(28, &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            record(1, &[1, 2, 3]),
            chaos,
        ],
    );
    assert_eq!(addresses("ferrode.test", &packet), Err(DnsError::NoAddress));
    // No records at all: the name exists without an IPv4 address.
    let empty = response("ferrode.test", 0, true, &[]);
    assert_eq!(addresses("ferrode.test", &empty), Err(DnsError::NoAddress));
}

#[test]
fn addresses_beyond_the_room_are_dropped() {
    let records: Vec<Vec<u8>> = (0..6).map(|i| record(1, &[10, 0, 0, i])).collect();
    let packet = response("ferrode.test", 0, true, &records);
    let mut out = [Ipv4Address::UNSPECIFIED; 2];
    assert_eq!(answer(ID, "ferrode.test", &packet, &mut out), Ok(2));
    assert_eq!(out, [Ipv4Address::new(10, 0, 0, 0), Ipv4Address::new(10, 0, 0, 1)]);
}

#[test]
fn the_servers_codes_are_errors() {
    let packet = response("nothing.test", 3, true, &[]);
    assert_eq!(addresses("nothing.test", &packet), Err(DnsError::NoSuchName));
    for code in [1, 2, 4, 5] {
        let packet = response("ferrode.test", code, true, &[]);
        assert_eq!(addresses("ferrode.test", &packet), Err(DnsError::ServerFailure), "{code}");
        // A server that did not understand may leave the question out.
        let packet = response("ferrode.test", code, false, &[]);
        assert_eq!(addresses("ferrode.test", &packet), Err(DnsError::ServerFailure), "{code}");
    }
}

#[test]
fn answers_to_other_queries_are_not_ours() {
    let good = response("ferrode.test", 0, true, &[record(1, &[10, 0, 2, 2])]);
    // Another id.
    let mut other = good.clone();
    other[1] ^= 1;
    assert_eq!(addresses("ferrode.test", &other), Err(DnsError::NotOurs));
    // Not a response: a query.
    let mut asked = good.clone();
    asked[2] &= 0x7f;
    assert_eq!(addresses("ferrode.test", &asked), Err(DnsError::NotOurs));
    // Another name, a name that is ours and more, a type other than A.
    assert_eq!(addresses("ferrode.tests", &good), Err(DnsError::NotOurs));
    assert_eq!(addresses("ferrode", &good), Err(DnsError::NotOurs));
    let mut aaaa = good.clone();
    aaaa[12 + 14 + 1] = 28;
    assert_eq!(addresses("ferrode.test", &aaaa), Err(DnsError::NotOurs));
    // A success without the question proves nothing.
    let bare = response("ferrode.test", 0, false, &[record(1, &[10, 0, 2, 2])]);
    assert_eq!(addresses("ferrode.test", &bare), Err(DnsError::NotOurs));
    // A name our query cannot be for.
    assert_eq!(addresses("a..b", &good), Err(DnsError::InvalidName));
}

#[test]
fn broken_answers_are_malformed_not_read_past_their_end() {
    let good = response("ferrode.test", 0, true, &[record(1, &[10, 0, 2, 2])]);
    // Every cut short of the whole.
    for length in 0..good.len() {
        let result = addresses("ferrode.test", &good[..length]);
        assert!(
            matches!(result, Err(DnsError::Malformed | DnsError::NoAddress)),
            "{length}: {result:?}"
        );
    }
    // A pointer to itself, and a label type that is not a length.
    let looping = response("ferrode.test", 0, true, &[record_named(&[0xc0, 30], 1, &[1, 2, 3, 4])]);
    assert_eq!(looping[30..32], [0xc0, 30]);
    assert_eq!(addresses("ferrode.test", &looping), Err(DnsError::Malformed));
    let extended = response("ferrode.test", 0, true, &[record_named(&[0x41, 0], 1, &[1, 2, 3, 4])]);
    assert_eq!(addresses("ferrode.test", &extended), Err(DnsError::Malformed));
    // A pointer past the end.
    let outside = response("ferrode.test", 0, true, &[record_named(&[0xc1, 0], 1, &[1, 2, 3, 4])]);
    assert_eq!(addresses("ferrode.test", &outside), Err(DnsError::Malformed));
}

#[test]
fn a_name_may_follow_sixteen_pointers_and_no_more() {
    // A TXT record whose data is a chain of pointer cells (each to the
    // one before, the first to the question's name at 12), then an A
    // record whose owner points to the last cell.
    let chained = |cells: usize| {
        // The TXT record's data starts after the question (12 + 14 + 4)
        // and its own pointer name, type, class, TTL and length.
        let start = 12 + 14 + 4 + 12;
        let mut data = vec![0xc0, 12];
        for cell in 1..cells {
            data.extend_from_slice(&[0xc0, (start + 2 * (cell - 1)) as u8]);
        }
        let last = start + 2 * (cells - 1);
        let txt = record(16, &data);
        let a = record_named(&[0xc0, last as u8], 1, &[10, 0, 2, 9]);
        response("ferrode.test", 0, true, &[txt, a])
    };
    // The owner's pointer and 15 cells: 16 pointers.
    let packet = chained(15);
    assert_eq!(addresses("ferrode.test", &packet).unwrap(), [Ipv4Address::new(10, 0, 2, 9)]);
    // One more is taken for a loop.
    assert_eq!(addresses("ferrode.test", &chained(16)), Err(DnsError::Malformed));
}
