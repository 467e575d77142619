//! Host tests: data-sheet arithmetic and behaviour against the model.

use embedded_io::{Read, ReadReady, Write, WriteReady};

use crate::model::Model16550;
use crate::regs::LSR;
use crate::{Config, Error, Interrupt, Uart16550, divisor};

const AXI_CLOCK_HZ: u32 = 100_000_000;

fn configured(model: &Model16550) -> Uart16550<&Model16550> {
    let mut uart = Uart16550::new(model, AXI_CLOCK_HZ);
    uart.configure(&Config { baud_rate: 115_200 }).unwrap();
    uart
}

#[test]
fn the_divisor_is_the_clock_over_sixteen_times_the_baud_rate_rounded() {
    // PG143: 100 MHz / (16 x 115200) = 54.25; 9600 baud: 651.04.
    assert_eq!(divisor(100_000_000, 115_200), Some(54));
    assert_eq!(divisor(100_000_000, 9_600), Some(651));
    // 1.8432 MHz, the classic 16550 crystal: exact divisors.
    assert_eq!(divisor(1_843_200, 115_200), Some(1));
    assert_eq!(divisor(1_843_200, 9_600), Some(12));
    assert_eq!(divisor(100_000_000, 0), None);
    assert_eq!(divisor(1_000_000, 115_200), None, "divisor 1 gives 62500 baud, 46% off");
    assert_eq!(divisor(100_000_000, 50), None, "125000 does not fit 16 bits");
}

#[test]
fn configure_programs_the_divisor_latch_and_leaves_dlab_clear() {
    let model = Model16550::default();
    let _uart = configured(&model);
    assert_eq!((model.dll.get(), model.dlm.get()), (54, 0));
    assert_eq!(model.lcr.get(), 0b11, "8N1, DLAB clear");
    assert_eq!(model.ier.get(), 0, "interrupts masked");
    assert_eq!(model.fcr.get() & 1, 1, "FIFOs on");
    let mut uart = Uart16550::new(&model, 1_000_000);
    assert_eq!(uart.configure(&Config { baud_rate: 115_200 }), Err(Error::InvalidBaudRate));
}

#[test]
fn loopback_brings_written_bytes_back_and_nothing_reaches_the_line() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    uart.set_loopback(true);
    model.sent_per_status_read.set(16);
    uart.write_all(b"ferrode").unwrap();
    uart.flush().unwrap();
    let mut buffer = [0; 16];
    let count = uart.read(&mut buffer).unwrap();
    assert_eq!(&buffer[..count], b"ferrode");
    assert!(model.wire.borrow().is_empty());
    uart.set_loopback(false);
    uart.write_all(b"out").unwrap();
    uart.flush().unwrap();
    assert_eq!(model.wire.borrow().as_slice(), b"out");
}

#[test]
fn writing_takes_what_fits_and_never_overfills_the_fifo() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    let text = [b'x'; 40];
    assert_eq!(uart.write_available(&text), 16);
    assert_eq!(uart.write_available(&text), 0, "FIFO not empty: nothing written, no wait");
    model.send(16);
    assert_eq!(uart.write_available(&text[16..]), 16);
}

#[test]
fn errors_come_in_place_and_an_overrun_keeps_its_character() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    for byte in 0..17u8 {
        model.receive(byte);
    }
    // 16 in the FIFO, the 17th lost: the next read reports the overrun,
    // then every character in order.
    assert_eq!(uart.try_read_byte(), Err(Error::Overrun));
    for byte in 0..16u8 {
        assert_eq!(uart.try_read_byte(), Ok(Some(byte)));
    }
    assert_eq!(uart.try_read_byte(), Ok(None));
    model.receive(b'a');
    model.errors.set(LSR::FE::SET.value);
    assert_eq!(uart.try_read_byte(), Err(Error::Framing), "the spoilt character is dropped");
    assert_eq!(uart.try_read_byte(), Ok(None));
}

#[test]
fn received_data_interrupts_come_at_the_trigger_level_or_after_a_character_timeout() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    assert_eq!(model.ier.get(), 0, "configure masks every interrupt");
    uart.set_loopback(true);
    uart.enable_receive_interrupt(true);
    assert_eq!(model.ier.get(), 1, "only ERBFI");
    assert_eq!(uart.interrupt_id(), None);
    uart.write_all(b"!").unwrap();
    model.send(1);
    assert_eq!(uart.interrupt_id(), None, "one character is below the trigger level of 8");
    model.line_idle();
    assert_eq!(uart.interrupt_id(), Some(Interrupt::CharacterTimeout));
    assert_eq!(
        uart.interrupt_id(),
        Some(Interrupt::CharacterTimeout),
        "a level: reading IIR keeps it"
    );
    assert_eq!(uart.try_read_byte(), Ok(Some(b'!')));
    assert_eq!(uart.interrupt_id(), None);
    uart.write_all(b"12345678").unwrap();
    model.send(8);
    assert_eq!(uart.interrupt_id(), Some(Interrupt::ReceivedData), "the trigger level");
    assert_eq!(uart.try_read_byte(), Ok(Some(b'1')));
    assert_eq!(uart.interrupt_id(), None, "below the trigger level again");
    uart.enable_receive_interrupt(false);
    model.line_idle();
    assert_eq!(uart.interrupt_id(), None, "masked");
}

#[test]
fn line_errors_seen_by_a_look_at_the_line_status_are_not_lost() {
    // Reading LSR clears OE, PE, FE and BI: a driver that looks at LSR
    // (ready to read? room to write?) must keep them for the character.
    let model = Model16550::default();
    let mut uart = configured(&model);
    model.receive(b'a');
    model.errors.set(LSR::FE::SET.value);
    assert!(uart.read_ready().unwrap());
    assert_eq!(uart.try_read_byte(), Err(Error::Framing));
    model.receive(b'b');
    model.errors.set(LSR::PE::SET.value);
    assert_eq!(uart.write_available(b"x"), 1);
    let mut buffer = [0; 4];
    assert_eq!(uart.read(&mut buffer), Err(Error::Parity));
    assert_eq!(uart.try_read_byte(), Ok(None));
}

#[test]
fn the_divisor_rounds_up_and_its_limits_are_inclusive() {
    // 100 MHz / (16 x 38400) = 162.76: nearest is 163, not 162.
    assert_eq!(divisor(100_000_000, 38_400), Some(163));
    // 10 MHz at 57600: divisor 11 gives 56818 baud, 1.4% off: usable.
    assert_eq!(divisor(10_000_000, 57_600), Some(11));
    // The largest divisor the latch holds.
    assert_eq!(divisor(16 * 65_535, 1), Some(65_535));
    // 100 baud from divisor 1: 103 baud is 3% off (accepted), 104 is not.
    assert_eq!(divisor(1_648, 100), Some(1));
    assert_eq!(divisor(1_664, 100), None);
}

#[test]
fn configure_splits_a_divisor_above_255_across_dll_and_dlm_and_asserts_dtr_rts_out2() {
    let model = Model16550::default();
    let mut uart = Uart16550::new(&model, AXI_CLOCK_HZ);
    uart.configure(&Config { baud_rate: 9_600 }).unwrap();
    // 651 = 0x28b.
    assert_eq!((model.dll.get(), model.dlm.get()), (0x8b, 0x02));
    assert_eq!(model.mcr.get(), 0b1011, "DTR, RTS and OUT2");
}

#[test]
fn an_overrun_seen_by_a_look_and_again_on_the_read_is_reported() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    for byte in 0..17u8 {
        model.receive(byte);
    }
    // A look at LSR keeps OE; a later character overflows the FIFO again
    // and sets OE anew. Kept and new must combine, not cancel.
    assert_eq!(uart.write_available(b"x"), 1);
    model.receive(17);
    assert_eq!(uart.try_read_byte(), Err(Error::Overrun));
    assert_eq!(uart.try_read_byte(), Ok(Some(0)));
}

#[test]
fn errors_read_as_sentences() {
    use std::string::ToString;
    assert_eq!(Error::InvalidBaudRate.to_string(), "baud rate not reachable from the UART clock");
    assert_eq!(Error::Overrun.to_string(), "receive FIFO overrun, data lost");
    assert_eq!(Error::Parity.to_string(), "parity error in received character");
    assert_eq!(Error::Framing.to_string(), "framing error in received character");
    assert_eq!(Error::Break.to_string(), "break condition received");
}

#[test]
fn a_read_fills_the_buffer_and_no_more() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    for byte in b"abcdef" {
        model.receive(*byte);
    }
    let mut buffer = [0; 4];
    assert_eq!(uart.read(&mut buffer), Ok(4));
    assert_eq!(&buffer, b"abcd");
    let mut buffer = [0; 8];
    assert_eq!(uart.read(&mut buffer), Ok(2));
    assert_eq!(&buffer[..2], b"ef");
}

/// Ready to read means a character waits, in the FIFO or held back behind
/// a reported overrun; nothing at all is not ready.
#[test]
fn read_ready_counts_the_character_kept_behind_an_overrun() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    assert!(!uart.read_ready().unwrap(), "nothing arrived");
    model.receive(b'a');
    model.errors.set(LSR::OE::SET.value);
    assert_eq!(uart.try_read_byte(), Err(Error::Overrun));
    assert!(uart.read_ready().unwrap(), "the good character after the overrun");
    assert_eq!(uart.try_read_byte(), Ok(Some(b'a')));
    assert!(!uart.read_ready().unwrap());
}

/// embedded_io's write must not return Ok(0) for bytes it could not take
/// yet: it waits for the TX FIFO to empty.
#[test]
fn write_waits_for_an_empty_fifo_rather_than_taking_nothing() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    assert_eq!(uart.write_available(&[b'x'; 16]), 16);
    model.sent_per_status_read.set(4);
    assert_eq!(uart.write(b"abc"), Ok(3));
    model.send(16);
    assert_eq!(&model.wire.borrow()[16..], b"abc");
}

#[test]
fn write_ready_follows_the_empty_transmit_fifo() {
    let model = Model16550::default();
    let mut uart = configured(&model);
    assert!(uart.write_ready().unwrap());
    assert_eq!(uart.write_available(b"x"), 1);
    assert!(!uart.write_ready().unwrap(), "THRE clear until the FIFO is empty");
    model.send(1);
    assert!(uart.write_ready().unwrap());
}
