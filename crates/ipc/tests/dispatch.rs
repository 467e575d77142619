//! The server side: malformed requests get error replies, never a panic,
//! and the server keeps serving.

mod common;

use common::*;
use ferrode_ipc::{
    CapSel, Dispatch, Marshal, RpcObject, TransportError, Utcb, Writer, dispatch, serve_request,
};
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

/// Serves `utcb`; returns whether the reply is an `Ok` (the request was
/// accepted, so an entrypoint would let the server keep its capabilities).
fn serve(server: &mut CalculatorServer, utcb: &mut Utcb) -> bool {
    // SAFETY: a UTCB of the test's own, no other reference live.
    unsafe { dispatch::<dyn Scientific, _>(server, core::ptr::NonNull::from(&mut *utcb)) };
    utcb.is_ok_reply()
}

fn assert_error_reply(utcb: &Utcb, error: TransportError) {
    assert_eq!(utcb.error, error.code());
    assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
}

/// A well-formed `add(2, 3)` still gets `Ok(5)`.
fn assert_still_serving(server: &mut CalculatorServer) {
    let mut utcb = request(ADD, &(2u32, 3u32));
    assert!(serve(server, &mut utcb));
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
        assert!(!serve(&mut server, &mut utcb));
        assert_error_reply(&utcb, TransportError::UnknownOpcode);
        assert_still_serving(&mut server);
    }
}

#[test]
fn labels_of_other_interfaces_get_wrong_interface() {
    let mut server = CalculatorServer::default();
    for label in [0, 8, 1000, usize::MAX, ferrode_ipc::label::<dyn Counter>(0)] {
        let mut utcb = request(label, &());
        assert!(!serve(&mut server, &mut utcb));
        assert_error_reply(&utcb, TransportError::WrongInterface);
        assert_still_serving(&mut server);
    }
}

#[test]
fn short_and_long_messages_get_error_replies() {
    let mut server = CalculatorServer::default();
    let mut short = request(ADD, &(2u32,));
    assert!(!serve(&mut server, &mut short));
    assert_error_reply(&short, TransportError::WrongLength);
    let mut long = request(ADD, &(2u32, 3u32, 4u32));
    assert!(!serve(&mut server, &mut long));
    assert_error_reply(&long, TransportError::WrongLength);
    let mut extra_cap = request(ADD, &(2u32, 3u32, CapSel(0)));
    assert!(!serve(&mut server, &mut extra_cap));
    assert_error_reply(&extra_cap, TransportError::WrongLength);
    let mut beyond = request(ADD, &(2u32, 3u32));
    beyond.word_count = 65;
    assert!(!serve(&mut server, &mut beyond));
    assert_error_reply(&beyond, TransportError::WrongLength);
    assert_still_serving(&mut server);
}

#[test]
fn bad_values_and_oversized_payloads_get_error_replies() {
    const CHECKSUM: usize = ferrode_ipc::label::<dyn Calculator>(4);
    let mut server = CalculatorServer::default();
    let mut bad = request(ADD, &(2u32, 3u32));
    bad.words[0] = usize::MAX; // not a u32 on 64-bit hosts, or fine on 32-bit
    let _ = serve(&mut server, &mut bad);
    if core::mem::size_of::<usize>() > 4 {
        assert_error_reply(&bad, TransportError::InvalidValue);
    }
    let mut oversized =
        request(CHECKSUM, &ferrode_ipc::Bytes::<300>::from_slice(&[1; 300]).unwrap());
    assert!(!serve(&mut server, &mut oversized));
    assert_error_reply(&oversized, TransportError::PayloadTooLarge);
    assert_still_serving(&mut server);
}

#[test]
fn domain_errors_travel_in_the_reply() {
    let mut server = CalculatorServer::default();
    let mut utcb = request(ADD, &(u32::MAX, 1u32));
    assert!(!serve(&mut server, &mut utcb), "the method refused");
    assert_eq!(utcb.error, 0, "a domain error is a normal reply");
    let expected: Result<u32, CalcError> = Err(CalcError::Overflow { a: u32::MAX, b: 1 });
    assert_eq!(utcb.used_words(), request(0, &expected).used_words());
}

/// Serves `utcb` as an entrypoint does, with a capability space whose
/// slots hold what `entry` says; returns the selectors it dropped.
fn serve_in(utcb: &mut Utcb, entry: impl FnMut(CapSel) -> u32) -> Vec<CapSel> {
    let mut object = RpcObject::<dyn Scientific, _>::new(CalculatorServer::default());
    let mut dropped = Vec::new();
    // SAFETY: the test's own UTCB and object, no other reference live.
    unsafe {
        serve_request(
            Some(&mut object as &mut dyn Dispatch),
            core::ptr::NonNull::from(utcb),
            entry,
            |selector| dropped.push(selector),
        )
    };
    dropped
}

/// [`serve_in`] with slots that do not change.
fn serve_as_entrypoint(utcb: &mut Utcb) -> Vec<CapSel> {
    serve_in(utcb, |selector| selector.0)
}

#[test]
fn a_refused_request_gives_back_the_capabilities_it_added() {
    const SET_COUNTER: usize = ferrode_ipc::label::<dyn Calculator>(2);
    let counter = ferrode_ipc::Capability::<dyn Counter>::from_selector(CapSel(7));
    // Kept: the method took it and succeeded.
    let mut kept = request(SET_COUNTER, &(counter,));
    kept.fresh = 1;
    assert_eq!(serve_as_entrypoint(&mut kept), []);
    assert_eq!(kept.error, 0);
    // Refused (a capability `add` does not take): the fresh one goes.
    let mut refused = request(ADD, &(2u32, 3u32, CapSel(7), CapSel(9)));
    refused.fresh = 0b10;
    assert_eq!(serve_as_entrypoint(&mut refused), [CapSel(9)]);
    assert_error_reply(&refused, TransportError::WrongLength);
    // Refused by the method itself: the same.
    let mut overflow = request(ADD, &(u32::MAX, 1u32));
    overflow.cap_count = 2;
    overflow.caps[..2].copy_from_slice(&[CapSel(3), CapSel(4)]);
    overflow.fresh = 0b11;
    assert_eq!(serve_as_entrypoint(&mut overflow), [CapSel(3), CapSel(4)]);
    // A stale mask means nothing: without capabilities, or past `cap_count`.
    let mut stale = request(ADD, &(u32::MAX, 1u32));
    stale.fresh = 0b1111;
    assert_eq!(serve_as_entrypoint(&mut stale), []);
    let mut past = request(ADD, &(u32::MAX, 1u32, CapSel(5)));
    past.fresh = 0b1110;
    assert_eq!(serve_as_entrypoint(&mut past), []);
    // A slot that changed while the method ran (it dropped what it was
    // sent, and something else landed there) is left alone.
    let mut changed = request(ADD, &(u32::MAX, 1u32, CapSel(5)));
    changed.fresh = 1;
    let mut looks = 0;
    let after_the_method = serve_in(&mut changed, |_| {
        looks += 1;
        u32::from(looks > 1)
    });
    assert_eq!(after_the_method, []);
    // An object dissolved after delivery refuses too.
    let mut gone = request(SET_COUNTER, &(counter,));
    gone.fresh = 1;
    let mut dropped = Vec::new();
    // SAFETY: the test's own UTCB, no other reference live.
    unsafe {
        serve_request(
            None,
            core::ptr::NonNull::from(&mut gone),
            |selector| selector.0,
            |selector| dropped.push(selector),
        )
    };
    assert_eq!(dropped, [CapSel(7)]);
    assert_error_reply(&gone, TransportError::ServerDead);
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
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 5000 }))]

    /// The fuzz target: random UTCB contents never panic the dispatcher,
    /// the reply is well formed, and the server keeps serving.
    #[test]
    fn random_requests_never_panic_the_server(mut utcb in any_utcb()) {
        let mut server = CalculatorServer::default();
        let _ = serve(&mut server, &mut utcb);
        prop_assert!(utcb.word_count as usize <= ferrode_ipc::MSG_WORDS);
        prop_assert!(utcb.cap_count as usize <= ferrode_ipc::MSG_CAPS);
        if utcb.error != 0 {
            prop_assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
        }
        assert_still_serving(&mut server);
    }
}

/// A value whose `Marshal` constants lie: it claims one word and writes
/// one more than a UTCB holds.
struct Oversized;

impl Marshal for Oversized {
    const MAX_WORDS: usize = 1;
    const MAX_CAPS: usize = 0;

    fn marshal(&self, writer: &mut Writer<'_>) {
        for word in 0..=ferrode_ipc::MSG_WORDS {
            writer.push_word(word);
        }
    }

    fn unmarshal(_: &mut ferrode_ipc::Reader<'_>) -> Result<Self, ferrode_ipc::MessageError> {
        Ok(Self)
    }
}

/// `write_reply` (what a deferred reply is sent with) writes a reply that
/// fits, clearing an error code a nested call left behind, and turns one
/// that does not into an error reply: the caller is answered either way.
#[test]
fn a_reply_that_does_not_fit_becomes_an_error_reply() {
    let mut utcb = Utcb::new();
    utcb.error = TransportError::ServerDead.code();
    ferrode_ipc::write_reply(&mut utcb, &Ok::<u32, CalcError>(7));
    assert_eq!(utcb.error, 0);
    assert!(utcb.is_ok_reply());
    let mut reader = ferrode_ipc::Reader::new(&utcb);
    assert_eq!(Result::<u32, CalcError>::unmarshal(&mut reader), Ok(Ok(7)));

    ferrode_ipc::write_reply(&mut utcb, &Ok::<Oversized, CalcError>(Oversized));
    assert_error_reply(&utcb, TransportError::PayloadTooLarge);
}
