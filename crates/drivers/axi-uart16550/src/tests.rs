//! Host tests: data-sheet arithmetic and behaviour against the model.

use embedded_io::{Read, ReadReady, Write};

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
