//! The GIC driver: distributor set-up, per-interrupt control, and the
//! acknowledge / end-of-interrupt pair an IRQ handler runs.

use crate::Error;
use ferrode_hal::mmio::{Readable, Writeable};

use crate::regs::{ICCIAR, ICCICR, ICCPMR, ICDDCR, ICDICTR, ICDSGIR, Registers};

/// Interrupt IDs 0-15 are software generated (SGIs), 16-31 private
/// peripheral interrupts (PPIs), 32 and up shared peripheral ones (SPIs).
const FIRST_SPI: u32 = 32;
/// ICCIAR's interrupt ID when nothing is pending (GIC v1 section 3.1).
const SPURIOUS: u32 = 1023;
/// Default priority: middle of the range, below the default mask.
const DEFAULT_PRIORITY: u8 = 0xa0;
/// Priority mask: signal every priority above (numerically below) 0xf0.
const DEFAULT_PRIORITY_MASK: u32 = 0xf0;

/// How a shared peripheral interrupt is signalled (ICDICFR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Level-sensitive: pending while the line is asserted.
    Level,
    /// Edge-triggered: pending on a rising edge.
    Edge,
}

/// An interrupt the CPU interface handed out through ICCIAR; hand it back
/// to [`Gic::end_of_interrupt`] exactly once.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "every acknowledged interrupt needs its end of interrupt"]
pub struct InterruptId {
    raw: u32,
}

impl InterruptId {
    /// The interrupt ID (ICCIAR bits 9:0).
    pub const fn number(&self) -> u32 {
        (self.raw >> ICCIAR::INTERRUPT_ID.shift) & ICCIAR::INTERRUPT_ID.mask
    }

    /// For an SGI, the CPU that sent it (ICCIAR bits 12:10).
    pub const fn source_cpu(&self) -> Option<u8> {
        if self.number() < 16 {
            Some(((self.raw >> ICCIAR::CPUID.shift) & ICCIAR::CPUID.mask) as u8)
        } else {
            None
        }
    }
}

/// A GICv1: distributor plus this core's CPU interface.
pub struct Gic<R> {
    registers: R,
    line_count: u32,
}

impl<R: Registers> Gic<R> {
    /// Wraps the GIC at `registers` and reads how many interrupt lines its
    /// distributor implements (ICDICTR ITLinesNumber).
    pub fn new(registers: R) -> Self {
        let lines_field = registers.icdictr().read(ICDICTR::IT_LINES_NUMBER);
        let line_count = ((lines_field + 1) * 32).min(SPURIOUS - 3);
        Self { registers, line_count }
    }

    /// Number of interrupt IDs the distributor implements (a multiple of 32).
    pub const fn line_count(&self) -> u32 {
        self.line_count
    }

    /// Boot-core set-up: every SPI disabled, not pending, level-triggered,
    /// default priority, routed to CPU 0; then this core's interface; then
    /// the distributor enabled. Enable the lines you need afterwards.
    pub fn init(&mut self) {
        self.registers.icddcr().write(ICDDCR::ENABLE::CLEAR);
        let words = (self.line_count / 32) as usize;
        for word in 1..words {
            self.registers.icdicer(word).set(u32::MAX);
            self.registers.icdicpr(word).set(u32::MAX);
        }
        let priorities = u32::from_ne_bytes([DEFAULT_PRIORITY; 4]);
        for word in (FIRST_SPI / 4) as usize..(self.line_count / 4) as usize {
            self.registers.icdipr(word).set(priorities);
            self.registers.icdiptr(word).set(0x0101_0101);
        }
        for word in (FIRST_SPI / 16) as usize..(self.line_count / 16) as usize {
            self.registers.icdicfr(word).set(0);
        }
        self.init_cpu_interface();
        self.registers.icddcr().write(ICDDCR::ENABLE::SET);
    }

    /// Per-core set-up (also for secondary cores): PPIs disabled, SGIs
    /// enabled, banked priorities defaulted, priority mask 0xf0, interface on.
    pub fn init_cpu_interface(&mut self) {
        self.registers.icdicer(0).set(0xffff_0000);
        self.registers.icdiser(0).set(0x0000_ffff);
        let priorities = u32::from_ne_bytes([DEFAULT_PRIORITY; 4]);
        for word in 0..(FIRST_SPI / 4) as usize {
            self.registers.icdipr(word).set(priorities);
        }
        self.registers.iccpmr().write(ICCPMR::PRIORITY.val(DEFAULT_PRIORITY_MASK));
        self.registers.iccbpr().set(0);
        self.registers.iccicr().write(ICCICR::ENABLE::SET);
    }

    /// Lets `interrupt` be forwarded to the CPUs.
    pub fn enable(&mut self, interrupt: u32) -> Result<(), Error> {
        let (word, bit) = self.bit_position(interrupt)?;
        self.registers.icdiser(word).set(bit);
        Ok(())
    }

    /// Stops `interrupt` from being forwarded.
    pub fn disable(&mut self, interrupt: u32) -> Result<(), Error> {
        let (word, bit) = self.bit_position(interrupt)?;
        self.registers.icdicer(word).set(bit);
        Ok(())
    }

    /// Whether `interrupt` is enabled.
    pub fn is_enabled(&mut self, interrupt: u32) -> Result<bool, Error> {
        let (word, bit) = self.bit_position(interrupt)?;
        Ok(self.registers.icdiser(word).get() & bit != 0)
    }

    /// Makes `interrupt` pending by software (e.g. to test a handler).
    pub fn set_pending(&mut self, interrupt: u32) -> Result<(), Error> {
        let (word, bit) = self.bit_position(interrupt)?;
        self.registers.icdispr(word).set(bit);
        Ok(())
    }

    /// Sets `interrupt`'s priority (0 is the most urgent; the GIC may
    /// implement only the upper bits). Read-modify-write: call from one
    /// core at a time.
    pub fn set_priority(&mut self, interrupt: u32, priority: u8) -> Result<(), Error> {
        self.check(interrupt)?;
        self.update_byte(self.registers.icdipr(interrupt as usize / 4), interrupt, priority);
        Ok(())
    }

    /// Routes the shared interrupt `interrupt` to the CPUs in `cpu_mask`
    /// (bit n = CPU n).
    pub fn set_target_cpus(&mut self, interrupt: u32, cpu_mask: u8) -> Result<(), Error> {
        self.check_shared(interrupt)?;
        self.update_byte(self.registers.icdiptr(interrupt as usize / 4), interrupt, cpu_mask);
        Ok(())
    }

    /// Sets how the shared interrupt `interrupt` is signalled.
    pub fn set_trigger(&mut self, interrupt: u32, trigger: Trigger) -> Result<(), Error> {
        self.check_shared(interrupt)?;
        let register = self.registers.icdicfr(interrupt as usize / 16);
        let edge_bit = 2 << (2 * (interrupt % 16));
        let value = register.get();
        let value = match trigger {
            Trigger::Level => value & !edge_bit,
            Trigger::Edge => value | edge_bit,
        };
        register.set(value);
        Ok(())
    }

    /// Sends software generated interrupt `sgi` (0-15) to the CPUs in
    /// `cpu_mask`.
    pub fn send_sgi(&mut self, sgi: u32, cpu_mask: u8) -> Result<(), Error> {
        if sgi >= 16 {
            return Err(Error::NotConfigurable(sgi));
        }
        self.registers
            .icdsgir()
            .write(ICDSGIR::CPU_TARGET_LIST.val(u32::from(cpu_mask)) + ICDSGIR::SGIINTID.val(sgi));
        Ok(())
    }

    /// IRQ entry point, step 1: acknowledges the highest-priority pending
    /// interrupt, or `None` if the read was spurious.
    pub fn acknowledge(&mut self) -> Option<InterruptId> {
        let raw = self.registers.icciar().get();
        let id = InterruptId { raw };
        (id.number() != SPURIOUS).then_some(id)
    }

    /// IRQ entry point, step 2: signals that `interrupt` has been handled.
    pub fn end_of_interrupt(&mut self, interrupt: InterruptId) {
        self.registers.icceoir().set(interrupt.raw);
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }

    fn check(&self, interrupt: u32) -> Result<(), Error> {
        if interrupt < self.line_count { Ok(()) } else { Err(Error::InvalidInterrupt(interrupt)) }
    }

    fn check_shared(&self, interrupt: u32) -> Result<(), Error> {
        self.check(interrupt)?;
        if interrupt < FIRST_SPI { Err(Error::NotConfigurable(interrupt)) } else { Ok(()) }
    }

    fn bit_position(&self, interrupt: u32) -> Result<(usize, u32), Error> {
        self.check(interrupt)?;
        Ok(((interrupt / 32) as usize, 1 << (interrupt % 32)))
    }

    fn update_byte(
        &self,
        register: impl Readable<T = u32> + Writeable<T = u32>,
        interrupt: u32,
        byte: u8,
    ) {
        let shift = 8 * (interrupt % 4);
        let value = register.get();
        let value = (value & !(0xff << shift)) | (u32::from(byte) << shift);
        register.set(value);
    }
}

/// Interrupts served per IRQ exception at most (see [`serve_pending`]).
pub const MAX_DISPATCH: u32 = 32;

/// Consecutive services of one interrupt that mark it as stuck.
pub const STORM_REPEATS: u32 = MAX_DISPATCH / 2;

/// What one [`serve_pending`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatch {
    /// Interrupts acknowledged, handled and ended.
    pub served: u32,
    /// The interrupt that came back [`STORM_REPEATS`] times in a row at the
    /// end of a dispatch that used all [`MAX_DISPATCH`] slots: a
    /// level-sensitive source its handler does not clear, or a device
    /// busier than its handler (a NIC under a flood). A diagnosis for the
    /// caller, who should not simply disable it: the busy device must keep
    /// interrupting.
    pub storming: Option<u32>,
}

/// The IRQ exception's loop over the GIC's CPU interface: acknowledge the
/// highest-priority pending interrupt, `handle` its ID, signal end of
/// interrupt, until nothing is pending, at most [`MAX_DISPATCH`] times.
///
/// The three steps are closures so that the caller can release its hold
/// on the GIC while a handler runs (a handler may enable or disable
/// interrupts itself). A spurious acknowledge (ID 1023) ends the loop.
pub fn serve_pending(
    mut acknowledge: impl FnMut() -> Option<InterruptId>,
    mut handle: impl FnMut(u32),
    mut end_of_interrupt: impl FnMut(InterruptId),
) -> Dispatch {
    let mut dispatch = Dispatch::default();
    let mut same_in_a_row = 0;
    let mut last = None;
    while dispatch.served < MAX_DISPATCH {
        let Some(interrupt) = acknowledge() else {
            break;
        };
        let id = interrupt.number();
        handle(id);
        end_of_interrupt(interrupt);
        dispatch.served += 1;
        same_in_a_row = if last == Some(id) { same_in_a_row + 1 } else { 1 };
        last = Some(id);
    }
    if dispatch.served == MAX_DISPATCH && same_in_a_row >= STORM_REPEATS {
        dispatch.storming = last;
    }
    dispatch
}
