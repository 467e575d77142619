//! Host tests: data-sheet arithmetic and behaviour against the model.

use core::cell::RefCell;

use embedded_io::{Read, ReadReady, Write};
use ferrode_hal::mmio::RamBlock;
use ferrode_hal::mmio::Readable;

use crate::model::{FIFO_DEPTH, ModelUart};
use crate::regs::FR;
use crate::{
    BaudRateDivisor, Config, DataBits, Error, Interrupts, Mmio, Parity, Pl011, Register, Registers,
    Regs, StopBits, baud_rate_divisor,
};

const QEMU_UART_CLOCK_HZ: u32 = 24_000_000;

fn configured() -> Pl011<RefCell<ModelUart>> {
    let mut uart = Pl011::new(RefCell::new(ModelUart::new()), QEMU_UART_CLOCK_HZ);
    uart.configure(&Config::default()).unwrap();
    uart
}

#[test]
fn baud_rate_divisor_matches_the_data_sheet_examples() {
    let table = [
        // TRM 3.3.6 worked example: 230400 baud from 4 MHz.
        (4_000_000, 230_400, Some((1, 5))),
        // 24 MHz reference clock (RealView boards), 115200 baud: 13.02.
        (24_000_000, 115_200, Some((13, 1))),
        // 24 MHz, 38400 baud: 39.0625 exactly.
        (24_000_000, 38_400, Some((39, 4))),
        // Faster than UARTCLK / 16 cannot be reached.
        (1_000_000, 115_200, None),
        // A divisor above 65535 does not fit UARTIBRD.
        (100_000_000, 50, None),
        (24_000_000, 0, None),
    ];
    for (clock, baud, expected) in table {
        let expected =
            expected.map(|(integer, fractional)| BaudRateDivisor { integer, fractional });
        assert_eq!(baud_rate_divisor(clock, baud), expected, "{clock} Hz, {baud} baud");
    }
}

#[test]
fn configure_latches_divisor_and_enables_uart_after_going_idle() {
    let mut model = ModelUart::new();
    model.cr = 0x301;
    model.busy_reads = 3;
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let config = Config {
        baud_rate: 38_400,
        data_bits: DataBits::Seven,
        parity: Parity::Even,
        stop_bits: StopBits::Two,
    };
    uart.configure(&config).unwrap();
    let model = uart.release().into_inner();
    assert!(!model.reprogrammed_while_active, "divisor written while UART enabled or busy");
    assert_eq!(model.latched_divisor, (39, 4));
    // WLEN=7 bits (0b10), FEN, STP2, EPS, PEN.
    assert_eq!(model.lcr_h, (2 << 5) | (1 << 4) | (1 << 3) | (1 << 2) | (1 << 1));
    assert_eq!(model.cr, (1 << 9) | (1 << 8) | 1);
    assert_eq!(model.imsc, 0);
}

#[test]
fn unreachable_baud_rate_is_rejected_without_touching_the_uart() {
    let mut model = ModelUart::new();
    model.cr = 0x301;
    let mut uart = Pl011::new(RefCell::new(model), 1_000_000);
    assert_eq!(uart.configure(&Config::default()), Err(Error::InvalidBaudRate));
    assert_eq!(
        uart.release().into_inner().cr,
        0x301,
        "a failed configure must leave the UART running"
    );
}

#[test]
fn written_bytes_reach_the_line_in_order() {
    let mut uart = configured();
    uart.write_all(b"hello, ferrode").unwrap();
    uart.flush().unwrap();
    assert_eq!(uart.release().into_inner().transmitted, b"hello, ferrode");
}

#[test]
fn write_stops_at_a_full_fifo_instead_of_dropping_bytes() {
    let uart = configured();
    let mut model = uart.release().into_inner();
    model.line_drains = false;
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let data = [0x5a; 40];
    assert_eq!(uart.write(&data).unwrap(), FIFO_DEPTH);
    assert_eq!(uart.release().into_inner().transmit_fifo.len(), FIFO_DEPTH);
}

#[test]
fn read_returns_waiting_bytes_and_ready_reflects_the_fifo() {
    let mut uart = configured();
    assert!(!uart.read_ready().unwrap());
    let mut model = uart.release().into_inner();
    model.receive_fifo.extend(b"abc".iter().map(|&b| u32::from(b)));
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    assert!(uart.read_ready().unwrap());
    let mut buffer = [0; 8];
    assert_eq!(uart.read(&mut buffer).unwrap(), 3);
    assert_eq!(&buffer[..3], b"abc");
    assert!(!uart.read_ready().unwrap());
}

#[test]
fn receive_error_is_reported_after_the_good_bytes_before_it() {
    let mut model = ModelUart::new();
    model.receive_fifo.extend([u32::from(b'o'), u32::from(b'k'), (1 << 9) | 0x41, u32::from(b'!')]);
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let mut buffer = [0; 8];
    assert_eq!(uart.read(&mut buffer).unwrap(), 2);
    assert_eq!(&buffer[..2], b"ok");
    assert_eq!(uart.read(&mut buffer), Err(Error::Parity));
    assert_eq!(uart.read(&mut buffer).unwrap(), 1);
    assert_eq!(buffer[0], b'!');
}

#[test]
fn overrun_outranks_other_flags_and_maps_to_an_io_error_kind() {
    let mut model = ModelUart::new();
    model.receive_fifo.push_back((1 << 11) | (1 << 8));
    model.receive_fifo.push_back(1 << 8);
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    assert_eq!(uart.try_read_byte(), Err(Error::Overrun));
    assert_eq!(uart.try_read_byte(), Err(Error::Framing));
    assert_eq!(embedded_io::Error::kind(&Error::Framing), embedded_io::ErrorKind::InvalidData);
}

#[test]
fn interrupt_entry_reports_and_clears_only_unmasked_sources() {
    let mut uart = configured();
    uart.set_interrupt_mask(Interrupts::RECEIVE.union(Interrupts::RECEIVE_TIMEOUT));
    let mut model = uart.release().into_inner();
    model.ris = Interrupts::RECEIVE.0 | Interrupts::TRANSMIT.0;
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let pending = uart.take_interrupts();
    assert_eq!(pending, Interrupts::RECEIVE);
    assert_eq!(uart.take_interrupts(), Interrupts::NONE, "handled source must be cleared");
    assert_eq!(uart.release().into_inner().ris, Interrupts::TRANSMIT.0, "masked source left alone");
}

#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let regs = Mmio::new(block.view::<Regs>());
    let writable = [
        (Register::Dr, 0x000),
        (Register::RsrEcr, 0x004),
        (Register::Ibrd, 0x024),
        (Register::Fbrd, 0x028),
        (Register::LcrH, 0x02c),
        (Register::Cr, 0x030),
        (Register::Ifls, 0x034),
        (Register::Imsc, 0x038),
        (Register::Icr, 0x044),
    ];
    block.check_writes(&regs, &writable);
    block.poke(0x018, 0x90);
    block.poke(0x040, 0x10);
    assert!(regs.fr().is_set(FR::RXFE) && regs.fr().is_set(FR::TXFE));
    assert_eq!(regs.mis().get(), 0x10);
    // Writing UARTFR does not compile (`regs.fr().set(..)`): see the
    // compile_fail example on `Registers`.
}

#[test]
fn configure_lets_queued_boot_output_out_instead_of_hanging_on_busy() {
    // A boot loader left a prompt in the transmit FIFO of a running UART.
    // Disabling first and then waiting for BUSY would hang: a disabled
    // UART never drains, and BUSY stays set while the FIFO holds data.
    let mut model = ModelUart::new();
    model.cr = 0x301;
    model.transmit_fifo.extend(b"boot> ");
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    uart.configure(&Config::default()).unwrap();
    let model = uart.release().into_inner();
    assert_eq!(model.transmitted, b"boot> ", "queued output lost");
    assert!(!model.reprogrammed_while_active);
    assert_eq!(model.cr, 0x301);
}

#[test]
fn configure_flushes_the_fifo_of_a_disabled_uart_instead_of_waiting() {
    let mut model = ModelUart::new();
    model.cr = 0;
    model.lcr_h = 0x70;
    model.transmit_fifo.extend(b"stale");
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    uart.configure(&Config::default()).unwrap();
    uart.write_all(b"ok").unwrap();
    uart.flush().unwrap();
    let model = uart.release().into_inner();
    assert_eq!(model.transmitted, b"ok");
    assert!(!model.reprogrammed_while_active);
}

#[test]
fn a_character_carrying_an_overrun_is_kept_after_the_error() {
    // TRM 3.3.1: OE says characters were lost before this one; the
    // character itself is valid.
    let uart = configured();
    let mut model = uart.release().into_inner();
    model.receive_fifo.extend([u32::from(b'a'), u32::from(b'b') | (1 << 11), u32::from(b'c')]);
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    assert_eq!(uart.try_read_byte(), Ok(Some(b'a')));
    assert_eq!(uart.try_read_byte(), Err(Error::Overrun));
    assert_eq!(uart.try_read_byte(), Ok(Some(b'b')));
    assert_eq!(uart.try_read_byte(), Ok(Some(b'c')));
    assert_eq!(uart.try_read_byte(), Ok(None));
}

#[test]
fn a_read_returns_the_bytes_before_an_overrun_then_the_error_then_the_rest() {
    let uart = configured();
    let mut model = uart.release().into_inner();
    model.receive_fifo.extend([u32::from(b'x'), u32::from(b'y') | (1 << 11), u32::from(b'z')]);
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let mut buffer = [0; 8];
    assert_eq!(uart.read(&mut buffer), Ok(1));
    assert_eq!(&buffer[..1], b"x");
    assert_eq!(uart.read(&mut buffer), Err(Error::Overrun));
    assert_eq!(uart.read(&mut buffer), Ok(2));
    assert_eq!(&buffer[..2], b"yz");
}

#[test]
fn errors_read_as_sentences() {
    use std::string::ToString;
    assert_eq!(Error::InvalidBaudRate.to_string(), "baud rate not reachable from the UART clock");
    assert_eq!(Error::Overrun.to_string(), "receive FIFO overrun, data lost");
    assert_eq!(Error::Break.to_string(), "break condition received");
    assert_eq!(Error::Parity.to_string(), "parity error in received character");
    assert_eq!(Error::Framing.to_string(), "framing error in received character");
}

/// The largest integer divisor UARTIBRD holds, 65535, is reachable.
#[test]
fn the_largest_integer_divisor_is_accepted() {
    assert_eq!(
        baud_rate_divisor(16 * 65_535, 1),
        Some(BaudRateDivisor { integer: 65_535, fractional: 0 })
    );
}

#[test]
fn interrupt_sets_combine_and_overlap_as_sets() {
    let receive_and_transmit = Interrupts::RECEIVE.union(Interrupts::TRANSMIT);
    assert!(receive_and_transmit.contains_any(Interrupts::TRANSMIT));
    assert!(!Interrupts::RECEIVE.contains_any(Interrupts::TRANSMIT));
    assert!(!Interrupts::NONE.contains_any(Interrupts::ALL));
    assert_eq!(Interrupts::RECEIVE.union(Interrupts::RECEIVE), Interrupts::RECEIVE);
    assert_eq!(Interrupts::ERRORS.0, 0b1111 << 7, "FEIM, PEIM, BEIM, OEIM");
}

#[test]
fn write_ready_follows_the_transmit_fifo_and_read_waits_for_a_character() {
    let mut uart = configured();
    assert_eq!(embedded_io::WriteReady::write_ready(&mut uart), Ok(true));
    let mut model = uart.release().into_inner();
    model.line_drains = false;
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    assert_eq!(uart.write(&[b'x'; 20]).unwrap(), FIFO_DEPTH);
    assert_eq!(embedded_io::WriteReady::write_ready(&mut uart), Ok(false));
    let mut model = uart.release().into_inner();
    let reads = model.flag_reads;
    model.arrival = Some((reads + 5, u32::from(b'k')));
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let mut buffer = [0; 4];
    assert_eq!(uart.read(&mut buffer), Ok(1), "waits instead of returning Ok(0)");
    assert_eq!(buffer[0], b'k');
}

#[test]
fn a_read_stops_at_the_end_of_its_buffer() {
    let uart = configured();
    let mut model = uart.release().into_inner();
    for byte in b"abc" {
        model.receive(u32::from(*byte));
    }
    let mut uart = Pl011::new(RefCell::new(model), QEMU_UART_CLOCK_HZ);
    let mut buffer = [0; 2];
    assert_eq!(uart.read(&mut buffer), Ok(2));
    assert_eq!(&buffer, b"ab");
    assert_eq!(uart.read(&mut buffer), Ok(1));
}
