extern crate std;

use std::vec::Vec;

use embedded_io::{Error as _, ErrorKind, Read, ReadReady, Write, WriteReady};

use crate::model::UartModel;
use crate::{Error, UartLite};

fn read_all<R: crate::Registers>(uart: &mut UartLite<R>, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    while out.len() < n {
        let got = uart.read(&mut buf).unwrap();
        out.extend_from_slice(&buf[..got]);
    }
    out
}

#[test]
fn new_discards_stale_input_with_one_control_write() {
    let model = UartModel::default();
    model.receive(b"junk");
    let mut uart: UartLite<_> = UartLite::new(&model);
    assert_eq!(model.writes(), [(0xC, 0x2)]);
    assert_eq!(uart.try_read_byte(), Ok(None));
}

#[test]
fn polled_writes_wait_for_room_and_keep_order() {
    let model = UartModel::default();
    model.tx_per_status_read.set(1);
    let mut uart: UartLite<_> = UartLite::new(&model);
    let text: Vec<u8> = (0..40).collect();
    uart.write_all(&text).unwrap();
    uart.flush().unwrap();
    assert_eq!(model.wire(), text);
}

#[test]
fn write_returns_what_fits_in_the_fifo() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    assert_eq!(uart.write(&[b'x'; 40]).unwrap(), 16);
    assert!(!uart.write_ready().unwrap());
    model.transmit(16);
    assert!(uart.write_ready().unwrap());
}

#[test]
fn fmt_write_reaches_the_line() {
    let model = UartModel::default();
    model.tx_per_status_read.set(16);
    let mut uart: UartLite<_> = UartLite::new(&model);
    core::fmt::Write::write_fmt(&mut uart, format_args!("tick {}\n", 42)).unwrap();
    model.transmit(16);
    assert_eq!(model.wire(), b"tick 42\n");
}

#[test]
fn interrupt_driven_receive_keeps_more_than_the_fifo_holds() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    uart.enable_interrupt();
    assert_eq!(model.writes().last(), Some(&(0xC, 0x10)));
    let data: Vec<u8> = (0..48).collect();
    for chunk in data.chunks(12) {
        let edges = model.interrupt_edges.get();
        model.receive(chunk);
        assert_eq!(
            model.interrupt_edges.get(),
            edges + 1,
            "Rx FIFO non-empty raises the interrupt"
        );
        assert_eq!(uart.on_interrupt(), 12);
    }
    assert!(uart.read_ready().unwrap());
    assert_eq!(read_all(&mut uart, 48), data);
}

#[test]
fn overrun_is_reported_once_then_the_kept_data() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    let data: Vec<u8> = (0..20).collect();
    model.receive(&data);
    let mut buf = [0u8; 32];
    assert_eq!(uart.read(&mut buf), Err(Error::Overrun));
    assert_eq!(Error::Overrun.kind(), ErrorKind::Other);
    assert_eq!(read_all(&mut uart, 16), &data[..16]);
}

#[test]
fn framing_error_seen_while_writing_is_not_lost() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    model.receive_framing_error();
    // Writing reads STAT_REG, which clears the error bit in hardware.
    uart.write_all(b"hi").unwrap();
    model.receive(b"A");
    assert_eq!(uart.try_read_byte(), Err(Error::Framing));
    assert_eq!(Error::Framing.kind(), ErrorKind::InvalidData);
    assert_eq!(uart.try_read_byte(), Ok(Some(b'A')));
}

#[test]
fn full_ring_leaves_characters_in_the_fifo() {
    let model = UartModel::default();
    let mut uart: UartLite<_, 4> = UartLite::new(&model);
    model.receive(b"abcdef");
    assert_eq!(uart.on_interrupt(), 4);
    let mut buf = [0u8; 8];
    let mut got = Vec::new();
    while got.len() < 6 {
        let n = uart.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"abcdef");
}

#[test]
fn console_output_takes_what_fits_and_never_waits_for_the_line() {
    // The platform's console holds the UART with interrupts masked: each
    // call must return after a status read or two, never wait for room.
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    let text: Vec<u8> = (0..100).collect();
    let mut rest = &text[..];
    let mut calls = 0;
    while !rest.is_empty() {
        let before = model.status_reads.get();
        let taken = uart.write_available(rest);
        assert!(model.status_reads.get() - before <= taken as u32 + 1);
        rest = &rest[taken..];
        // Time passes with interrupts open: the line sends a few bytes.
        model.transmit(5);
        calls += 1;
        assert!(calls < 100);
    }
    assert!(!uart.tx_empty());
    model.transmit(16);
    assert!(uart.tx_empty());
    assert_eq!(model.wire(), text);
}

#[test]
fn errors_read_as_sentences() {
    use std::string::ToString;
    assert_eq!(Error::Overrun.to_string(), "UART receive overrun: characters lost");
    assert_eq!(Error::Framing.to_string(), "UART framing error");
    assert_eq!(Error::Parity.to_string(), "UART parity error");
}

#[test]
fn disabling_the_interrupt_writes_ctrl_zero_and_silences_it() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    uart.enable_interrupt();
    uart.disable_interrupt();
    assert_eq!(model.writes().last(), Some(&(0xC, 0)));
    model.receive(b"x");
    assert_eq!(model.interrupt_edges.get(), 0);
}

/// Ready to read means a byte in the ring, one in the FIFO, or an error
/// to report; nothing at all is not ready.
#[test]
fn read_ready_says_whether_a_read_would_return_at_once() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    assert!(!uart.read_ready().unwrap(), "nothing arrived");
    model.receive(b"ab");
    assert!(uart.read_ready().unwrap(), "bytes in the FIFO");
    assert_eq!(uart.on_interrupt(), 2);
    assert_eq!(uart.received_len(), 2);
    assert!(uart.read_ready().unwrap(), "bytes in the ring, FIFO empty");
    assert_eq!(read_all(&mut uart, 2), b"ab");
    assert_eq!(uart.received_len(), 0);
    model.receive_framing_error();
    // Writing reads STAT_REG, which clears the error bit in hardware.
    uart.write_all(b"!").unwrap();
    assert!(uart.read_ready().unwrap(), "an error seen by an earlier status read");
    assert_eq!(uart.try_read_byte(), Err(Error::Framing));
    assert!(!uart.read_ready().unwrap());
}

#[test]
fn a_read_fills_the_buffer_and_no_more() {
    let model = UartModel::default();
    let mut uart: UartLite<_> = UartLite::new(&model);
    model.receive(b"abcdef");
    let mut buf = [0u8; 4];
    assert_eq!(uart.read(&mut buf), Ok(4));
    assert_eq!(&buf, b"abcd");
    let mut buf = [0u8; 8];
    assert_eq!(uart.read(&mut buf), Ok(2));
    assert_eq!(&buf[..2], b"ef");
}
