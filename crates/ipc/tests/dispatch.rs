//! The server side: malformed requests get error replies, never a panic,
//! and the server keeps serving.

mod common;

use common::*;
use ferrode_ipc::{CapSel, Marshal, TransportError, Utcb, Writer, dispatch};
use proptest::prelude::*;

/// Label of `Calculator::add` (position 0 of `Calculator`).
const ADD: usize = ferrode_ipc::label::<dyn Calculator>(0);

fn request(opcode: usize, arguments: &impl Marshal) -> Utcb {
    let mut utcb = Utcb::new();
    let mut writer = Writer::new(&mut utcb);
    arguments.marshal(&mut writer);
    writer.finish(opcode).unwrap();
    utcb
}

fn serve(server: &mut CalculatorServer, utcb: &mut Utcb) {
    // SAFETY: a UTCB of the test's own, no other reference live.
    unsafe { dispatch::<dyn Scientific, _>(server, core::ptr::NonNull::from(utcb)) };
}

fn assert_error_reply(utcb: &Utcb, error: TransportError) {
    assert_eq!(utcb.error, error.code());
    assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
}

/// A well-formed `add(2, 3)` still gets `Ok(5)`.
fn assert_still_serving(server: &mut CalculatorServer) {
    let mut utcb = request(ADD, &(2u32, 3u32));
    serve(server, &mut utcb);
    assert_eq!(utcb.error, 0);
    assert_eq!(utcb.used_words(), Some(&[0, 5][..]));
}

#[test]
fn unknown_positions_get_an_error_reply() {
    let mut server = CalculatorServer::default();
    let unknown = [
        ferrode_ipc::label::<dyn Calculator>(5),
        ferrode_ipc::label::<dyn Base>(2),
        ferrode_ipc::label::<dyn Scientific>(255),
    ];
    for label in unknown {
        let mut utcb = request(label, &());
        serve(&mut server, &mut utcb);
        assert_error_reply(&utcb, TransportError::UnknownOpcode);
        assert_still_serving(&mut server);
    }
}

#[test]
fn labels_of_other_interfaces_get_wrong_interface() {
    let mut server = CalculatorServer::default();
    for label in [0, 8, 1000, usize::MAX, ferrode_ipc::label::<dyn Counter>(0)] {
        let mut utcb = request(label, &());
        serve(&mut server, &mut utcb);
        assert_error_reply(&utcb, TransportError::WrongInterface);
        assert_still_serving(&mut server);
    }
}

#[test]
fn short_and_long_messages_get_error_replies() {
    let mut server = CalculatorServer::default();
    let mut short = request(ADD, &(2u32,));
    serve(&mut server, &mut short);
    assert_error_reply(&short, TransportError::WrongLength);
    let mut long = request(ADD, &(2u32, 3u32, 4u32));
    serve(&mut server, &mut long);
    assert_error_reply(&long, TransportError::WrongLength);
    let mut extra_cap = request(ADD, &(2u32, 3u32, CapSel(0)));
    serve(&mut server, &mut extra_cap);
    assert_error_reply(&extra_cap, TransportError::WrongLength);
    let mut beyond = request(ADD, &(2u32, 3u32));
    beyond.word_count = 65;
    serve(&mut server, &mut beyond);
    assert_error_reply(&beyond, TransportError::WrongLength);
    assert_still_serving(&mut server);
}

#[test]
fn bad_values_and_oversized_payloads_get_error_replies() {
    const CHECKSUM: usize = ferrode_ipc::label::<dyn Calculator>(4);
    let mut server = CalculatorServer::default();
    let mut bad = request(ADD, &(2u32, 3u32));
    bad.words[0] = usize::MAX; // not a u32 on 64-bit hosts, or fine on 32-bit
    serve(&mut server, &mut bad);
    if core::mem::size_of::<usize>() > 4 {
        assert_error_reply(&bad, TransportError::InvalidValue);
    }
    let mut oversized =
        request(CHECKSUM, &ferrode_ipc::Bytes::<300>::from_slice(&[1; 300]).unwrap());
    serve(&mut server, &mut oversized);
    assert_error_reply(&oversized, TransportError::PayloadTooLarge);
    assert_still_serving(&mut server);
}

#[test]
fn domain_errors_travel_in_the_reply() {
    let mut server = CalculatorServer::default();
    let mut utcb = request(ADD, &(u32::MAX, 1u32));
    serve(&mut server, &mut utcb);
    assert_eq!(utcb.error, 0, "a domain error is a normal reply");
    let expected: Result<u32, CalcError> = Err(CalcError::Overflow { a: u32::MAX, b: 1 });
    assert_eq!(utcb.used_words(), request(0, &expected).used_words());
}

fn any_utcb() -> impl Strategy<Value = Utcb> {
    (
        prop_oneof![0usize..10, any::<usize>()],
        prop_oneof![0u32..=64, any::<u32>()],
        prop_oneof![0u32..=4, any::<u32>()],
        proptest::array::uniform32(prop_oneof![0usize..4, any::<usize>()]),
        proptest::array::uniform4(any::<u32>()),
    )
        .prop_map(|(label, word_count, cap_count, words, caps)| {
            let mut utcb = Utcb::new();
            utcb.label = label;
            utcb.word_count = word_count;
            utcb.cap_count = cap_count;
            utcb.words[..32].copy_from_slice(&words);
            utcb.words[32..].copy_from_slice(&words);
            utcb.caps = caps.map(CapSel);
            utcb
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// The fuzz target: random UTCB contents never panic the dispatcher,
    /// the reply is well formed, and the server keeps serving.
    #[test]
    fn random_requests_never_panic_the_server(mut utcb in any_utcb()) {
        let mut server = CalculatorServer::default();
        serve(&mut server, &mut utcb);
        prop_assert!(utcb.word_count as usize <= ferrode_ipc::MSG_WORDS);
        prop_assert!(utcb.cap_count as usize <= ferrode_ipc::MSG_CAPS);
        if utcb.error != 0 {
            prop_assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
        }
        assert_still_serving(&mut server);
    }
}
