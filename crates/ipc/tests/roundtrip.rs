//! Property tests: every marshallable type survives a trip through a UTCB
//! and stays within the size it declares.
#![allow(missing_docs, reason = "test-only types")]

mod common;

use core::fmt::Debug;

use ferrode_ipc::{
    Bytes, CapSel, Capability, Marshal, MessageError, Reader, TransportError, Utcb, Writer,
};
use proptest::prelude::*;

ferrode_ipc::marshal! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct Point { pub x: i32, pub y: i32, pub label: heapless::String<12> }
}

ferrode_ipc::marshal! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct Wrapper(pub u8, pub Option<char>, pub Capability<dyn common::Counter>);
}

ferrode_ipc::marshal! {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Shape {
        Empty,
        Circle(u32),
        Segment(Point, Point),
        Rect { width: u16, height: u16 },
    }
}

fn roundtrip<T: Marshal + PartialEq + Debug>(value: &T) {
    let mut utcb = Utcb::new();
    let mut writer = Writer::new(&mut utcb);
    value.marshal(&mut writer);
    writer.finish(0).expect("fits");
    assert!(utcb.word_count as usize <= T::MAX_WORDS, "{value:?} uses more words than declared");
    assert!(utcb.cap_count as usize <= T::MAX_CAPS, "{value:?} uses more caps than declared");
    let mut reader = Reader::new(&utcb);
    let decoded = T::unmarshal(&mut reader).expect("decodes");
    reader.finish().expect("whole message read");
    assert_eq!(&decoded, value);
}

fn any_string<const N: usize>() -> impl Strategy<Value = heapless::String<N>> {
    proptest::collection::vec(any::<char>(), 0..N).prop_map(|chars| {
        let mut string = heapless::String::new();
        for c in chars {
            let _ = string.push(c);
        }
        string
    })
}

fn any_capability<I: ?Sized + 'static>() -> impl Strategy<Value = Capability<I>> {
    any::<u32>().prop_map(|selector| Capability::from_selector(CapSel(selector)))
}

fn any_point() -> impl Strategy<Value = Point> {
    (any::<i32>(), any::<i32>(), any_string::<12>()).prop_map(|(x, y, label)| Point { x, y, label })
}

fn any_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Empty),
        any::<u32>().prop_map(Shape::Circle),
        (any_point(), any_point()).prop_map(|(a, b)| Shape::Segment(a, b)),
        (any::<u16>(), any::<u16>()).prop_map(|(width, height)| Shape::Rect { width, height }),
    ]
}

proptest! {
    // Miri runs each case thousands of times slower.
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 256 }))]

    #[test]
    fn word_blocks(words in proptest::collection::vec(any::<usize>(), 64)) {
        let mut block = [0usize; 64];
        block.copy_from_slice(&words);
        roundtrip(&ferrode_ipc::Words(block));
        let mut short = [0usize; 3];
        short.copy_from_slice(&words[..3]);
        roundtrip(&ferrode_ipc::Words(short));
    }

    #[test]
    fn integers(a: u8, b: u16, c: u32, d: u64, e: u128, f: usize, g: i8, h: i16) {
        roundtrip(&a); roundtrip(&b); roundtrip(&c); roundtrip(&d);
        roundtrip(&e); roundtrip(&f); roundtrip(&g); roundtrip(&h);
    }

    #[test]
    fn signed_integers(a: i32, b: i64, c: i128, d: isize) {
        roundtrip(&a); roundtrip(&b); roundtrip(&c); roundtrip(&d);
    }

    #[test]
    fn bool_char_unit(a: bool, b: char) {
        roundtrip(&a); roundtrip(&b); roundtrip(&());
    }

    #[test]
    fn options_and_results(a: Option<u16>, b: Result<u8, i64>, c: Option<Option<bool>>) {
        roundtrip(&a); roundtrip(&b); roundtrip(&c);
    }

    #[test]
    fn tuples_and_arrays(a: (u8, i16, u32, bool, char, u64, i8, u128), b: [u32; 5], c: [(bool, i8); 3]) {
        roundtrip(&a); roundtrip(&(a.0,)); roundtrip(&b); roundtrip(&c);
    }

    #[test]
    fn strings_vectors_bytes(
        s in any_string::<20>(),
        v in proptest::collection::vec(any::<u16>(), 0..10),
        bytes in proptest::collection::vec(any::<u8>(), 0..=33),
    ) {
        roundtrip(&s);
        roundtrip(&heapless::Vec::<u16, 10>::from_slice(&v).unwrap());
        roundtrip(&Bytes::<33>::from_slice(&bytes).unwrap());
    }

    #[test]
    fn capabilities(a in any_capability::<dyn common::Counter>(), b in any_capability::<dyn common::Base>()) {
        roundtrip(&a);
        roundtrip(&(a, 7u8, b));
        roundtrip(&Some(b));
    }

    #[test]
    fn derived_types(shape in any_shape(), byte: u8, c: Option<char>, cap in any_capability::<dyn common::Counter>()) {
        roundtrip(&shape);
        roundtrip(&Wrapper(byte, c, cap));
    }

    #[test]
    fn declared_errors(a: u32, b: u32) {
        roundtrip(&common::CalcError::Overflow { a, b });
        roundtrip(&common::CalcError::DivideByZero);
        roundtrip(&common::CalcError::Transport(ferrode_ipc::TransportError::ServerDead));
    }
}

#[test]
fn wide_integers_take_the_words_their_size_needs() {
    let word = core::mem::size_of::<usize>();
    assert_eq!(u32::MAX_WORDS, 1);
    assert_eq!(u64::MAX_WORDS, 8 / word);
    assert_eq!(u128::MAX_WORDS, 16 / word);
    assert_eq!(Capability::<dyn common::Counter>::MAX_WORDS, 0);
    assert_eq!(Capability::<dyn common::Counter>::MAX_CAPS, 1);
    assert_eq!(Shape::MAX_WORDS, 1 + 2 * Point::MAX_WORDS);
    assert_eq!(Bytes::<33>::MAX_WORDS, 1 + 33usize.div_ceil(word));
}

#[test]
fn too_long_payload_is_an_error_not_a_truncation() {
    assert_eq!(Bytes::<4>::from_slice(&[1, 2, 3, 4, 5]), Err(MessageError::PayloadTooLarge));
    // A received length beyond the capacity is refused too.
    let mut utcb = Utcb::new();
    let mut writer = Writer::new(&mut utcb);
    Bytes::<16>::from_slice(&[9; 16]).unwrap().marshal(&mut writer);
    writer.finish(0).unwrap();
    let mut reader = Reader::new(&utcb);
    assert_eq!(Bytes::<8>::unmarshal(&mut reader), Err(MessageError::PayloadTooLarge));
}

#[test]
fn invalid_values_are_rejected() {
    fn decode<T: Marshal + Debug>(words: &[usize]) -> Result<T, MessageError> {
        let mut utcb = Utcb::new();
        utcb.words[..words.len()].copy_from_slice(words);
        utcb.word_count = words.len() as u32;
        T::unmarshal(&mut Reader::new(&utcb))
    }
    assert_eq!(decode::<bool>(&[2]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<char>(&[0xd800]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<u8>(&[256]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<i8>(&[128]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<i8>(&[usize::MAX]), Ok(-1));
    assert_eq!(decode::<Option<u8>>(&[2, 0]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<Shape>(&[4]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<heapless::String<8>>(&[1, 0xff]), Err(MessageError::InvalidValue));
    assert_eq!(decode::<u32>(&[]), Err(MessageError::WrongLength));
    assert_eq!(decode::<Capability<dyn common::Counter>>(&[]), Err(MessageError::WrongLength));
}

#[test]
fn a_transport_error_code_out_of_range_is_rejected() {
    fn decode(word: usize) -> Result<TransportError, MessageError> {
        let mut utcb = Utcb::new();
        utcb.words[0] = word;
        utcb.word_count = 1;
        TransportError::unmarshal(&mut Reader::new(&utcb))
    }
    // Every code a `TransportError` has decodes to itself ...
    for code in 1..=12 {
        let error = decode(code).expect("a transport error's code");
        assert_eq!(error.code() as usize, code);
    }
    // ... and a word that is no code is an invalid value, as an enum
    // tag out of range is, not some other error than the one sent.
    assert_eq!(decode(0), Err(MessageError::InvalidValue));
    assert_eq!(decode(13), Err(MessageError::InvalidValue));
    assert_eq!(decode(0xffff), Err(MessageError::InvalidValue));
    assert_eq!(decode(u32::MAX as usize), Err(MessageError::InvalidValue));
}

/// Marshals `value` and checks that it takes exactly the words and
/// capabilities its type declares at most: the bounds the compile-time
/// checks of an RPC and its receive windows are computed from are tight
/// for a largest value, neither too small (an RPC that overflows the UTCB
/// would compile) nor too large (a method would take more capabilities
/// than it can hold, or an RPC that fits would not compile).
fn takes_what_it_declares<T: Marshal + PartialEq + Debug>(value: &T) {
    let mut utcb = Utcb::new();
    let mut writer = Writer::new(&mut utcb);
    value.marshal(&mut writer);
    writer.finish(0).expect("fits");
    assert_eq!(utcb.word_count as usize, T::MAX_WORDS, "words of {value:?}");
    assert_eq!(utcb.cap_count as usize, T::MAX_CAPS, "capabilities of {value:?}");
    roundtrip(value);
}

#[test]
fn the_largest_value_of_a_container_takes_what_its_type_declares() {
    type Cap = Capability<dyn common::Counter>;
    let cap = Cap::from_selector(CapSel(3));
    takes_what_it_declares(&Some(u128::MAX));
    // A result takes the larger of its two sides, in words and in capabilities.
    takes_what_it_declares(&Ok::<u128, u8>(u128::MAX));
    takes_what_it_declares(&Err::<u8, u128>(u128::MAX));
    takes_what_it_declares(&Ok::<[Cap; 2], Cap>([cap; 2]));
    takes_what_it_declares(&Err::<Cap, [Cap; 2]>([cap; 2]));
    takes_what_it_declares(&[(u64::MAX, cap); 3]);
    let mut full = heapless::Vec::<(u32, u32, Cap), 4>::new();
    while full.push((7, 8, cap)).is_ok() {}
    takes_what_it_declares(&full);
    takes_what_it_declares(&heapless::String::<13>::try_from("thirteen byte").unwrap());
    takes_what_it_declares(&Bytes::<13>::from_slice(&[0xff; 13]).unwrap());
}

#[test]
fn only_what_fits_a_utcb_is_said_to_fit() {
    type Cap = Capability<dyn common::Counter>;
    assert!(ferrode_ipc::fits_in_message::<[usize; 64]>());
    assert!(!ferrode_ipc::fits_in_message::<[usize; 65]>());
    assert!(ferrode_ipc::fits_in_message::<([usize; 64], [Cap; 4])>());
    assert!(!ferrode_ipc::fits_in_message::<[Cap; 5]>());
    assert!(!ferrode_ipc::fits_in_message::<([usize; 65], [Cap; 5])>());
}

#[test]
fn a_full_vector_arrives_and_a_longer_one_is_refused() {
    fn decode(words: &[usize]) -> Result<heapless::Vec<u16, 3>, MessageError> {
        let mut utcb = Utcb::new();
        utcb.words[..words.len()].copy_from_slice(words);
        utcb.word_count = words.len() as u32;
        heapless::Vec::unmarshal(&mut Reader::new(&utcb))
    }
    roundtrip(&heapless::Vec::<u16, 3>::from_slice(&[1, 2, 3]).unwrap());
    assert_eq!(decode(&[3, 1, 2, 3]).unwrap(), [1, 2, 3]);
    // A length past the capacity is refused as such, whatever follows it.
    assert_eq!(decode(&[4, 1, 2, 3, 4]), Err(MessageError::PayloadTooLarge));
    assert_eq!(decode(&[4]), Err(MessageError::PayloadTooLarge));
    assert_eq!(decode(&[usize::MAX]), Err(MessageError::PayloadTooLarge));
}

#[test]
fn a_byte_buffer_is_built_whole_or_not_at_all() {
    let empty = Bytes::<4>::new();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    let bytes = Bytes::<4>::try_from(&[1u8, 2, 3][..]).unwrap();
    assert!(!bytes.is_empty());
    assert_eq!(bytes.len(), 3);
    assert_eq!(bytes.as_slice(), [1, 2, 3]);
    assert_eq!(&*bytes, [1, 2, 3]);
    assert_eq!(Bytes::<4>::try_from(&[1u8; 4][..]).map(|full| full.len()), Ok(4));
    assert_eq!(Bytes::<4>::try_from(&[1u8; 5][..]), Err(MessageError::PayloadTooLarge));
}
