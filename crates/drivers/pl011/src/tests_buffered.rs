//! Host tests of the interrupt-driven rings against the behavioural model:
//! the test plays the line (sends characters, shifts bytes out) and the
//! interrupt controller (calls `on_interrupt` while the UART's line is high).

use std::vec::Vec;

use embedded_io::{Read, ReadReady, Write, WriteReady};

use crate::model::{FIFO_DEPTH, SharedModel};
use crate::{BufferedPl011, Config, Error, Interrupts, Pl011};

type Buffered<const RX: usize, const TX: usize> = BufferedPl011<SharedModel, RX, TX>;

fn started<const RX: usize, const TX: usize>() -> (SharedModel, Buffered<RX, TX>) {
    let model = SharedModel::new();
    let mut uart = Pl011::new(model.clone(), 24_000_000);
    uart.configure(&Config::default()).unwrap();
    let mut buffered = BufferedPl011::new(uart);
    buffered.enable_interrupts();
    (model, buffered)
}

/// Serves the UART's interrupt line until it goes low; returns how often.
fn serve<const RX: usize, const TX: usize>(
    model: &SharedModel,
    uart: &mut Buffered<RX, TX>,
) -> u32 {
    let mut served = 0;
    while model.with(|m| m.interrupt_line()) {
        served += 1;
        assert!(served < 100, "interrupt storm: the line stays high");
        uart.on_interrupt();
    }
    served
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn queued_bytes_leave_in_order_refilled_by_transmit_interrupts() {
    let (model, mut uart) = started::<16, 64>();
    model.with(|m| m.line_drains = false);
    let data = pattern(60);
    assert_eq!(uart.queue(&data), 60, "FIFO (16) plus ring (64) take all 60");
    assert_eq!(model.with(|m| m.transmit_fifo.len()), FIFO_DEPTH);
    assert_eq!(uart.transmit_pending(), 60 - FIFO_DEPTH);
    assert!(
        model.with(|m| m.imsc & Interrupts::TRANSMIT.0 != 0),
        "TXIM on while the ring holds bytes"
    );
    let mut interrupts = 0;
    while model.with(|m| !m.transmit_fifo.is_empty()) {
        // The line sends a few characters; at the half-full level the
        // transmit interrupt asserts and the handler refills the FIFO.
        model.with(|m| m.shift_out(3));
        interrupts += serve(&model, &mut uart);
    }
    assert_eq!(model.with(|m| m.transmitted.clone()), data);
    assert!(interrupts >= 3, "refilled by interrupts, {interrupts} seen");
    assert_eq!(uart.transmit_pending(), 0);
    assert_eq!(
        model.with(|m| m.imsc & Interrupts::TRANSMIT.0),
        0,
        "TXIM off once the ring is empty"
    );
    assert!(!model.with(|m| m.interrupt_line()));
}

#[test]
fn a_short_write_goes_straight_to_the_fifo_without_transmit_interrupts() {
    let (model, mut uart) = started::<16, 64>();
    model.with(|m| m.line_drains = false);
    assert_eq!(uart.queue(b"hello"), 5);
    assert_eq!(uart.transmit_pending(), 0);
    assert_eq!(model.with(|m| m.imsc & Interrupts::TRANSMIT.0), 0);
    model.with(|m| m.shift_out(16));
    assert_eq!(serve(&model, &mut uart), 0, "nothing queued: no transmit interrupt");
    assert_eq!(model.with(|m| m.transmitted.clone()), b"hello");
}

#[test]
fn queue_reports_a_full_ring_and_blocking_write_drains_it_without_interrupts() {
    let (model, mut uart) = started::<16, 8>();
    model.with(|m| m.line_drains = false);
    let data = pattern(200);
    let taken = uart.queue(&data[..40]);
    assert_eq!(taken, FIFO_DEPTH + 8);
    assert_eq!(uart.queue(b"x"), 0, "FIFO and ring full");
    // Interrupts are never served from here on (as with IRQs masked): the
    // blocking write and flush must still get everything out.
    model.with(|m| m.line_drains = true);
    uart.write_all(&data[taken..]).unwrap();
    uart.flush().unwrap();
    assert_eq!(model.with(|m| m.transmitted.clone()), pattern(200));
    assert!(model.with(|m| m.transmit_fifo.is_empty()));
}

/// A blocking write to a full FIFO and ring waits, refilling the FIFO
/// itself, until the line makes room, and then takes what fits: it never
/// answers `Ok(0)`, which `write_all` would report as an error.
#[test]
fn a_blocking_write_to_a_full_fifo_and_ring_waits_for_the_line() {
    let (model, mut uart) = started::<16, 8>();
    model.with(|m| m.line_drains = false);
    assert_eq!(uart.queue(&pattern(40)), FIFO_DEPTH + 8);
    let reads = model.with(|m| m.flag_reads);
    model.with(|m| m.departure = Some((reads + 5, 1)));
    assert_eq!(uart.write(b"x"), Ok(1));
    assert!(model.with(|m| m.flag_reads) >= reads + 5, "the write waited for the line");
    model.with(|m| m.line_drains = true);
    uart.flush().unwrap();
    let mut expected = pattern(40)[..FIFO_DEPTH + 8].to_vec();
    expected.push(b'x');
    assert_eq!(model.with(|m| m.transmitted.clone()), expected);
}

#[test]
fn polled_console_output_follows_what_the_ring_already_holds() {
    let (model, mut uart) = started::<16, 64>();
    model.with(|m| m.line_drains = false);
    let queued = pattern(40);
    uart.queue(&queued);
    model.with(|m| m.line_drains = true);
    uart.write_polled(b"[console]");
    uart.flush_polled();
    let mut expected = queued;
    expected.extend_from_slice(b"[console]");
    assert_eq!(model.with(|m| m.transmitted.clone()), expected);
    assert_eq!(model.with(|m| m.imsc & Interrupts::TRANSMIT.0), 0);
}

#[test]
fn received_bytes_reach_the_ring_by_interrupt() {
    let (model, mut uart) = started::<64, 16>();
    assert_eq!(model.with(|m| m.receive_with_flow_control(b"serial")), 6);
    assert_eq!(serve(&model, &mut uart), 1);
    assert_eq!(uart.received_len(), 6);
    assert!(model.with(|m| m.receive_fifo.is_empty()));
    let mut buffer = [0; 16];
    assert_eq!(uart.read(&mut buffer).unwrap(), 6);
    assert_eq!(&buffer[..6], b"serial");
}

#[test]
fn a_full_ring_holds_the_rest_in_the_fifo_and_loses_nothing() {
    let (model, mut uart) = started::<32, 16>();
    let data = pattern(100);
    let mut sent = 0;
    // The sender pushes while the FIFO has room; the handler runs whenever
    // the line is high. The ring (32) fills, reception is masked, the FIFO
    // (16) fills and the sender stalls: no storm, no loss.
    loop {
        let progress = model.with(|m| m.receive_with_flow_control(&data[sent..]));
        sent += progress;
        let served = serve(&model, &mut uart);
        if progress == 0 && served == 0 {
            break;
        }
    }
    assert_eq!(sent, 32 + FIFO_DEPTH);
    assert_eq!(uart.received_len(), 32);
    assert_eq!(
        model.with(|m| m.imsc & Interrupts::RECEIVE.0),
        0,
        "reception masked while the ring is full"
    );
    let mut received = Vec::new();
    let mut buffer = [0; 10];
    while received.len() < data.len() {
        let count = uart.read_buffered(&mut buffer).unwrap();
        received.extend_from_slice(&buffer[..count]);
        sent += model.with(|m| m.receive_with_flow_control(&data[sent..]));
        serve(&model, &mut uart);
    }
    assert_eq!(received, data);
    assert_eq!(uart.lost_bytes(), 0);
    assert_ne!(model.with(|m| m.imsc & Interrupts::RECEIVE.0), 0, "reception unmasked again");
}

#[test]
fn line_errors_come_in_place_between_the_good_bytes() {
    let (model, mut uart) = started::<64, 16>();
    model.with(|m| {
        m.receive_with_flow_control(b"ab");
        m.receive((1 << 9) | u32::from(b'?'));
        m.receive_with_flow_control(b"cd");
        m.receive(1 << 10);
        m.receive_with_flow_control(b"e");
    });
    serve(&model, &mut uart);
    let mut buffer = [0; 16];
    let mut results = Vec::new();
    for _ in 0..5 {
        results.push(uart.read(&mut buffer).map(|count| buffer[..count].to_vec()));
    }
    assert_eq!(
        results,
        [
            Ok(b"ab".to_vec()),
            Err(Error::Parity),
            Ok(b"cd".to_vec()),
            Err(Error::Break),
            Ok(b"e".to_vec())
        ]
    );
    assert_eq!(uart.line_errors(), 2);
    assert_eq!(uart.lost_bytes(), 0);
}

#[test]
fn an_overrun_is_counted_and_reported_before_the_good_character_after_it() {
    let (model, mut uart) = started::<64, 16>();
    // A sender without flow control outruns a UART nobody serves: four
    // characters are lost, the next one to get in carries OE.
    model.with(|m| {
        for &byte in &pattern(20) {
            m.receive(u32::from(byte));
        }
    });
    assert_eq!(model.with(|m| m.lost_on_the_line), 4);
    serve(&model, &mut uart);
    model.with(|m| m.receive(u32::from(b'Z')));
    serve(&model, &mut uart);
    let mut buffer = [0; 32];
    assert_eq!(uart.read(&mut buffer).unwrap(), FIFO_DEPTH);
    assert_eq!(&buffer[..FIFO_DEPTH], &pattern(FIFO_DEPTH)[..]);
    assert_eq!(uart.read(&mut buffer), Err(Error::Overrun));
    assert_eq!(uart.read(&mut buffer).unwrap(), 1);
    assert_eq!(buffer[0], b'Z');
    assert_eq!(uart.lost_bytes(), 1);
}

#[test]
fn console_output_never_holds_the_uart_while_the_line_drains_the_ring() {
    // A full transmit ring at a slow line: each console step must return
    // after a few UARTFR reads (its caller masks interrupts meanwhile),
    // and the console text still follows what the ring held, in order.
    let (model, mut uart) = started::<16, 64>();
    model.with(|m| m.line_drains = false);
    let queued = pattern(64 + FIFO_DEPTH);
    assert_eq!(uart.queue(&queued), queued.len());
    let mut rest: &[u8] = b"[console line]";
    let mut steps = 0;
    loop {
        let before = model.with(|m| m.flag_reads);
        let step = uart.console_step(rest);
        let reads = model.with(|m| m.flag_reads) - before;
        assert!(reads <= 2 * FIFO_DEPTH as u32 + 4, "one step polled UARTFR {reads} times");
        rest = &rest[step.taken..];
        if step.in_fifo {
            break;
        }
        // Time passes with interrupts open: the line sends a few bytes.
        model.with(|m| m.shift_out(3));
        steps += 1;
        assert!(steps < 1000, "console output never reached the FIFO");
    }
    model.with(|m| m.shift_out(FIFO_DEPTH));
    let mut expected = queued;
    expected.extend_from_slice(b"[console line]");
    assert_eq!(model.with(|m| m.transmitted.clone()), expected);
}

#[test]
fn console_bytes_go_straight_to_the_fifo_after_the_ring_and_never_into_it() {
    // The ring holds more than the FIFO takes at a slow line: console
    // bytes wait (0 taken) until the ring is in the FIFO, then go into the
    // FIFO as far as it has room, each step polling UARTFR a few times.
    let (model, mut uart) = started::<16, 64>();
    model.with(|m| m.line_drains = false);
    let queued = pattern(40);
    assert_eq!(uart.queue(&queued), queued.len());
    let mut rest: &[u8] = b"[console line, longer than the FIFO]";
    let mut steps = 0;
    while !rest.is_empty() {
        let before = model.with(|m| m.flag_reads);
        let taken = uart.write_after_queued(rest);
        let reads = model.with(|m| m.flag_reads) - before;
        assert!(reads <= 2 * FIFO_DEPTH as u32 + 4, "one step polled UARTFR {reads} times");
        if taken > 0 {
            assert_eq!(uart.transmit_pending(), 0, "console bytes only after the ring");
        }
        rest = &rest[taken..];
        // Time passes with interrupts open: the line sends a few bytes.
        model.with(|m| m.shift_out(5));
        steps += 1;
        assert!(steps < 1000, "console output never reached the FIFO");
    }
    assert_eq!(uart.transmit_pending(), 0, "nothing of the console's was queued");
    model.with(|m| m.shift_out(FIFO_DEPTH));
    let mut expected = queued;
    expected.extend_from_slice(b"[console line, longer than the FIFO]");
    assert_eq!(model.with(|m| m.transmitted.clone()), expected);
}

#[test]
fn a_character_arriving_during_a_read_is_returned_or_left_signalled() {
    // Three characters wait; a fourth arrives while the read is at work,
    // at each UARTFR read the read could make.
    for arrival in 1..8 {
        let (model, mut uart) = started::<64, 64>();
        model.with(|m| b"abc".iter().for_each(|&byte| m.receive(u32::from(byte))));
        let reads = model.with(|m| m.flag_reads);
        model.with(|m| m.arrival = Some((reads + arrival, u32::from(b'x'))));
        let mut buffer = [0u8; 8];
        let count = uart.read_buffered(&mut buffer).unwrap();
        // What the read took from the FIFO it returned: a short read
        // leaves the ring empty. (A character moved into the ring and
        // left there reaches no one: taking it lowered the UART's
        // interrupt, and the reader, told there was no more, waits for
        // that interrupt.)
        assert_eq!(uart.received_len(), 0, "arrival at UARTFR read {arrival}");
        let arrived = model.with(|m| m.arrival.is_none());
        if arrived && count == 3 {
            // Not taken: still in the FIFO, and the UART says so.
            assert_eq!(model.with(|m| m.receive_fifo.len()), 1);
            assert!(model.with(|m| m.interrupt_line()), "arrival at UARTFR read {arrival}");
        } else if arrived {
            assert_eq!(&buffer[..count], b"abcx", "arrival at UARTFR read {arrival}");
        } else {
            assert_eq!(&buffer[..count], b"abc");
        }
    }
}

#[test]
fn a_full_buffer_leaves_the_rest_for_the_next_read() {
    let (model, mut uart) = started::<64, 64>();
    let data = pattern(12);
    model.with(|m| data.iter().for_each(|&byte| m.receive(u32::from(byte))));
    let mut buffer = [0u8; 5];
    let mut got = Vec::new();
    loop {
        let count = uart.read_buffered(&mut buffer).unwrap();
        got.extend_from_slice(&buffer[..count]);
        if count < buffer.len() {
            break;
        }
    }
    assert_eq!(got, data);
    assert_eq!(uart.received_len(), 0);
}

/// Break: UARTDR bit 10 (BE) with a 0 character (TRM 3.3.1).
const BREAK: u32 = 1 << 10;

#[test]
fn has_received_counts_bytes_in_the_fifo_or_ring_and_errors_alone() {
    let (model, mut uart) = started::<16, 16>();
    assert!(!uart.has_received(), "nothing arrived");
    assert_eq!(uart.read_ready(), Ok(false));
    model.with(|m| m.receive_with_flow_control(b"x"));
    assert!(uart.has_received(), "a byte in the FIFO");
    assert_eq!(uart.read_ready(), Ok(true));
    assert_eq!(uart.received_len(), 1, "now in the ring");
    let mut buffer = [0; 4];
    assert_eq!(uart.read_buffered(&mut buffer), Ok(1));
    assert!(!uart.has_received());
    model.with(|m| m.receive(BREAK));
    assert!(uart.has_received(), "only an error waits");
    assert_eq!(uart.received_len(), 0);
    assert_eq!(uart.read_buffered(&mut buffer), Err(Error::Break));
    assert!(!uart.has_received());
}

#[test]
fn can_queue_is_false_only_when_fifo_and_ring_are_full() {
    let (model, mut uart) = started::<16, 4>();
    model.with(|m| m.line_drains = false);
    assert!(uart.can_queue());
    assert_eq!(uart.queue(&pattern(FIFO_DEPTH + 3)), FIFO_DEPTH + 3);
    assert!(uart.can_queue(), "one place left in the ring");
    assert_eq!(uart.write_ready(), Ok(true));
    assert_eq!(uart.queue(b"z"), 1);
    assert!(!uart.can_queue());
    assert_eq!(uart.write_ready(), Ok(false));
    // embedded_io's write waits for room rather than taking nothing.
    model.with(|m| m.line_drains = true);
    assert_eq!(uart.write(b"!"), Ok(1));
}

#[test]
fn reception_unmasks_the_line_error_interrupts_too() {
    let (model, _uart) = started::<16, 16>();
    // RXIM (4), RTIM (6), FEIM, PEIM, BEIM, OEIM (7-10); not TXIM (5).
    assert_eq!(model.with(|m| m.imsc), 0x7d0);
}

/// embedded_io's read waits for a character rather than returning Ok(0).
#[test]
fn a_blocking_read_waits_for_the_first_character() {
    let (model, mut uart) = started::<16, 16>();
    let reads = model.with(|m| m.flag_reads);
    model.with(|m| m.arrival = Some((reads + 5, u32::from(b'k'))));
    let mut buffer = [0; 4];
    assert_eq!(uart.read(&mut buffer), Ok(1));
    assert_eq!(buffer[0], b'k');
}

/// With a ring smaller than what waits in the FIFO, one read takes the
/// ring, refills it and takes more, up to the next line error, which comes
/// exactly after the bytes before it: the count of bytes taken over the
/// rounds must add up (`count - start`, not `+`).
#[test]
fn one_read_refills_a_small_ring_and_stops_exactly_at_the_next_error() {
    let (model, mut uart) = started::<4, 16>();
    assert_eq!(uart.read_buffered(&mut [0; 16]), Ok(0), "nothing arrived");
    model.with(|m| {
        m.receive_with_flow_control(b"abcdef");
        m.receive(BREAK);
        m.receive_with_flow_control(b"g");
    });
    let mut buffer = [0; 16];
    assert_eq!(uart.read_buffered(&mut buffer), Ok(6));
    assert_eq!(&buffer[..6], b"abcdef");
    assert_eq!(uart.read_buffered(&mut buffer), Err(Error::Break));
    assert_eq!(uart.read_buffered(&mut buffer), Ok(1));
    assert_eq!(buffer[0], b'g');
}

#[test]
fn enabling_interrupts_sets_both_fifo_levels_to_half_whatever_was_there() {
    let model = SharedModel::new();
    model.with(|m| m.ifls = 0);
    let mut uart = Pl011::new(model.clone(), 24_000_000);
    uart.configure(&Config::default()).unwrap();
    let mut buffered: Buffered<16, 16> = BufferedPl011::new(uart);
    buffered.enable_interrupts();
    // RXIFLSEL (5:3) and TXIFLSEL (2:0) both 0b010, half full.
    assert_eq!(model.with(|m| m.ifls), 0x12);
}
