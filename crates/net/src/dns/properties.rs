//! Queries and answers from random names and records. An answer comes
//! from the network: any datagram that reaches the resolver's port, a
//! forged one included, is read without panicking and gives only what
//! it holds.

use std::format;
use std::string::String;
use std::vec::Vec;

use proptest::collection::vec;
use proptest::prelude::*;
use smoltcp::wire::Ipv4Address;

use super::{DnsError, MAX_LABEL, MAX_NAME, MAX_QUERY, answer, query};

/// A name a query can carry: labels of letters, digits and hyphens.
fn name() -> impl Strategy<Value = String> {
    vec("[a-zA-Z0-9-]{1,63}", 1..6)
        .prop_map(|labels| labels.join("."))
        .prop_filter("at most 253 bytes", |name| name.len() <= MAX_NAME)
}

/// One record of an answer: its type, class and data (A records of four
/// bytes, and others), named by a pointer to the question or in full.
#[derive(Clone, Debug)]
struct Record {
    kind: u16,
    class: u16,
    data: Vec<u8>,
    pointer: bool,
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop_oneof![3 => Just(1u16), 1 => Just(5u16), 1 => any::<u16>()],
        prop_oneof![4 => Just(1u16), 1 => any::<u16>()],
        prop_oneof![3 => vec(any::<u8>(), 4), 1 => vec(any::<u8>(), 0..12)],
        any::<bool>(),
    )
        .prop_map(|(kind, class, data, pointer)| Record { kind, class, data, pointer })
}

fn query_bytes(id: u16, name: &str) -> Vec<u8> {
    let mut out = [0u8; MAX_QUERY];
    let length = query(id, name, &mut out).expect("a valid name");
    out[..length].to_vec()
}

/// The server's answer to the query for `name`: the query's header and
/// question, then `records`.
fn response(id: u16, name: &str, records: &[Record]) -> Vec<u8> {
    let query = query_bytes(id, name);
    let mut packet = query.clone();
    packet[2..4].copy_from_slice(&0x8180u16.to_be_bytes());
    packet[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    for record in records {
        if record.pointer {
            packet.extend_from_slice(&[0xc0, 12]);
        } else {
            packet.extend_from_slice(&query[12..query.len() - 4]);
        }
        packet.extend_from_slice(&record.kind.to_be_bytes());
        packet.extend_from_slice(&record.class.to_be_bytes());
        packet.extend_from_slice(&300u32.to_be_bytes());
        packet.extend_from_slice(&(record.data.len() as u16).to_be_bytes());
        packet.extend_from_slice(&record.data);
    }
    packet
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 512 }))]

    /// A query carries its name label by label, whatever its case, and
    /// asks for A records in class IN.
    #[test]
    fn a_query_carries_its_name_label_by_label(id in any::<u16>(), name in name(), dot in any::<bool>()) {
        let asked = if dot { format!("{name}.") } else { name.clone() };
        let packet = query_bytes(id, &asked);
        prop_assert_eq!(&packet[..2], &id.to_be_bytes());
        let mut labels = Vec::new();
        let mut at = 12;
        while packet[at] != 0 {
            let length = usize::from(packet[at]);
            prop_assert!((1..=MAX_LABEL).contains(&length));
            labels.push(String::from_utf8(packet[at + 1..at + 1 + length].to_vec()).unwrap());
            at += 1 + length;
        }
        prop_assert_eq!(labels.join("."), name);
        prop_assert_eq!(&packet[at + 1..], &[0, 1, 0, 1]);
    }

    /// An answer gives its A records of class IN with four bytes of data,
    /// in order, as many as there is room for; passes over the others;
    /// and is NoAddress without one.
    #[test]
    fn an_answer_gives_exactly_its_a_records(
        id in any::<u16>(),
        name in name(),
        records in vec(record(), 0..12),
        room in 0usize..6,
    ) {
        let packet = response(id, &name, &records);
        let mut out = [Ipv4Address::UNSPECIFIED; 6];
        let expected: Vec<Ipv4Address> = records
            .iter()
            .filter(|r| r.kind == 1 && r.class == 1 && r.data.len() == 4)
            .map(|r| Ipv4Address::new(r.data[0], r.data[1], r.data[2], r.data[3]))
            .take(room)
            .collect();
        let got = answer(id, &name.to_uppercase(), &packet, &mut out[..room]);
        if expected.is_empty() {
            prop_assert_eq!(got, Err(DnsError::NoAddress));
        } else {
            prop_assert_eq!(got, Ok(expected.len()));
            prop_assert_eq!(&out[..expected.len()], &expected[..]);
        }
        // Another id, a query rather than a response, or a name the
        // question is only the start or the end of: not ours.
        let other = id.wrapping_add(1);
        prop_assert_eq!(answer(other, &name, &packet, &mut out), Err(DnsError::NotOurs));
        let mut asked = packet.clone();
        asked[2] &= !0x80;
        prop_assert_eq!(answer(id, &name, &asked, &mut out), Err(DnsError::NotOurs), "a query");
        for other in [format!("{name}.x"), format!("x.{name}")] {
            if other.len() <= MAX_NAME {
                prop_assert_eq!(answer(id, &other, &packet, &mut out), Err(DnsError::NotOurs));
            }
        }
    }

    /// Any datagram, a good answer cut short or with bytes changed, or
    /// bytes at random: read without panicking, and an address comes only
    /// from an answer that carries the query's id and question.
    #[test]
    fn any_datagram_is_read_without_harm(
        id in any::<u16>(),
        name in name(),
        records in vec(record(), 0..6),
        cut in any::<prop::sample::Index>(),
        changes in vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        noise in vec(any::<u8>(), 0..64),
        random in any::<bool>(),
    ) {
        let mut packet = if random { noise } else { response(id, &name, &records) };
        if !packet.is_empty() {
            let length = cut.index(packet.len() + 1);
            packet.truncate(length.max(packet.len() / 2));
        }
        for (at, value) in changes {
            if !packet.is_empty() {
                let at = at.index(packet.len());
                packet[at] = value;
            }
        }
        let mut out = [Ipv4Address::UNSPECIFIED; 4];
        if let Ok(count) = answer(id, &name, &packet, &mut out) {
            prop_assert!((1..=4).contains(&count));
            prop_assert_eq!(&packet[..2], &id.to_be_bytes());
            prop_assert!(packet[2] & 0x80 != 0, "a response");
        }
    }
}
