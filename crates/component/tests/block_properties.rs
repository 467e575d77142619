//! The Block session's packets and the MBR, from random bytes: a client
//! writes the request headers and a card holds the partition table, so
//! the driver takes neither on its word.

use ferrode_component::block::{
    BLOCK_SIZE, BlockStatus, HEADER_BYTES, Operation, PARTITIONS, Request, partition,
};
use proptest::prelude::*;

fn word(bytes: &[u8], index: usize) -> u32 {
    u32::from_le_bytes(bytes[4 * index..4 * index + 4].try_into().unwrap())
}

/// A packet: a header whose words are mostly plausible, and some blocks
/// (or a few bytes short of them).
fn packet() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(1u32), Just(2), any::<u32>()],
        any::<u32>(),
        prop_oneof![0u32..6, any::<u32>()],
        any::<u32>(),
        0usize..6,
        prop_oneof![Just(0usize), 0usize..BLOCK_SIZE],
        any::<u8>(),
    )
        .prop_map(|(operation, block, count, status, blocks, short, fill)| {
            let mut packet = Vec::new();
            for value in [operation, block, count, status] {
                packet.extend_from_slice(&value.to_le_bytes());
            }
            packet.resize((HEADER_BYTES + blocks * BLOCK_SIZE).saturating_sub(short), fill);
            packet
        })
}

fn status() -> impl Strategy<Value = BlockStatus> {
    prop_oneof![
        Just(BlockStatus::Pending),
        Just(BlockStatus::Ok),
        Just(BlockStatus::Malformed),
        Just(BlockStatus::OutOfRange),
        Just(BlockStatus::DeviceError),
        Just(BlockStatus::WriteProtected),
        Just(BlockStatus::MediumChanged),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 1024 }))]

    /// Any packet decodes to a request its bytes hold, or to Malformed:
    /// an operation the header names, at least one block, all of them in
    /// the packet, and the header's words as they are.
    #[test]
    fn any_packet_decodes_to_what_it_holds_or_is_malformed(packet in packet()) {
        let decoded = Request::decode(&packet);
        let Ok((request, used)) = decoded else {
            prop_assert_eq!(decoded, Err(BlockStatus::Malformed));
            if packet.len() >= HEADER_BYTES {
                let (operation, count) = (word(&packet, 0), word(&packet, 2));
                let room = (packet.len() - HEADER_BYTES) / BLOCK_SIZE;
                prop_assert!(!(1..=2).contains(&operation) || count == 0 || count as usize > room);
            }
            return Ok(());
        };
        prop_assert!(request.count >= 1);
        prop_assert_eq!(used, HEADER_BYTES + request.count as usize * BLOCK_SIZE);
        prop_assert!(used <= packet.len());
        let operation = if request.operation == Operation::Read { 1 } else { 2 };
        prop_assert_eq!(word(&packet, 0), operation);
        prop_assert_eq!(word(&packet, 1), request.block);
        prop_assert_eq!(word(&packet, 2), request.count);
        prop_assert_eq!(request.status, BlockStatus::from_code(word(&packet, 3)));
    }

    /// What a client encodes, the driver decodes, whatever the values.
    #[test]
    fn requests_round_trip(
        read in any::<bool>(),
        block in any::<u32>(),
        count in 1u32..5,
        status in status(),
        extra in 0usize..BLOCK_SIZE,
    ) {
        let operation = if read { Operation::Read } else { Operation::Write };
        let request = Request { operation, block, count, status };
        let mut packet = request.encode().to_vec();
        packet.resize(HEADER_BYTES + count as usize * BLOCK_SIZE + extra, 0xa5);
        prop_assert_eq!(
            Request::decode(&packet),
            Ok((request, HEADER_BYTES + count as usize * BLOCK_SIZE))
        );
    }

    /// A request fits a device exactly when its last block is on it,
    /// without the sum wrapping past 32 bits.
    #[test]
    fn a_request_fits_exactly_when_its_blocks_are_on_the_device(
        block in prop_oneof![any::<u32>(), (0u32..4).prop_map(|back| u32::MAX - back)],
        count in prop_oneof![1u32..8, any::<u32>()],
        device in any::<u32>(),
    ) {
        let request =
            Request { operation: Operation::Read, block, count, status: BlockStatus::Pending };
        prop_assert_eq!(
            request.fits(device),
            u64::from(block) + u64::from(count) <= u64::from(device)
        );
    }

    /// A partition is one of the MBR's four entries, read as it is, and
    /// only with the MBR's signature, a type and blocks.
    #[test]
    fn partitions_are_the_mbrs_entries_as_they_are(
        bytes in proptest::collection::vec(any::<u8>(), BLOCK_SIZE),
        signed in any::<bool>(),
        empty in proptest::collection::vec(0u8..4, 4),
        number in prop_oneof![1u32..=PARTITIONS, any::<u32>()],
    ) {
        let mut mbr = [0u8; BLOCK_SIZE];
        mbr.copy_from_slice(&bytes);
        if signed {
            mbr[510..].copy_from_slice(&[0x55, 0xaa]);
        }
        // Some entries without a type, or without blocks.
        for (n, &how) in empty.iter().enumerate() {
            let entry = &mut mbr[446 + 16 * n..446 + 16 * (n + 1)];
            match how {
                0 => entry[4] = 0,
                1 => entry[12..16].fill(0),
                _ => {}
            }
        }
        let found = partition(&mbr, number);
        if !(1..=PARTITIONS).contains(&number) || mbr[510..] != [0x55, 0xaa] {
            prop_assert_eq!(found, None);
            return Ok(());
        }
        let entry = &mbr[446 + 16 * (number as usize - 1)..][..16];
        let (start, count) = (word(&entry[8..], 0), word(&entry[12..], 0));
        let expected = (entry[4] != 0 && count != 0).then_some((start, count));
        prop_assert_eq!(found, expected);
    }
}
