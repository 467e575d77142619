//! The controller: enable, acknowledge, priority and dispatch.

use crate::regs::{MER, Registers};
use ferrode_hal::mmio::{Readable, Writeable};

/// An interrupt input number of the controller, 0 to 31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Irq(u8);

impl Irq {
    /// The input `number`, or `None` if the controller has no such input.
    pub const fn new(number: u32) -> Option<Self> {
        if number < 32 { Some(Irq(number as u8)) } else { None }
    }

    /// The input number.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The input's bit in ISR, IER, IAR, SIE and CIE.
    pub const fn mask(self) -> u32 {
        1 << self.0
    }
}

/// Synthesis options of the controller instance (PG099 "Design Parameters").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// C_KIND_OF_INTR: bit n set means input n is edge-triggered, clear
    /// means level-triggered. Decides whether [`AxiIntc::dispatch`]
    /// acknowledges before (edge) or after (level) calling the handler.
    pub edge_triggered: u32,
    /// C_HAS_SIE and C_HAS_CIE: the atomic set/clear-enable registers
    /// exist. Without them enables are read-modify-writes of IER.
    pub has_set_clear_enable: bool,
}

impl Config {
    /// All inputs level-triggered, SIE/CIE present.
    pub const fn new() -> Self {
        Self { edge_triggered: 0, has_set_clear_enable: true }
    }

    /// Marks the inputs in `mask` as edge-triggered.
    pub const fn with_edge_triggered(mut self, mask: u32) -> Self {
        self.edge_triggered = mask;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// Upper bound on handler calls in one [`AxiIntc::dispatch`], so that a
/// level source its handler fails to clear cannot wedge the trap.
pub const MAX_DISPATCH: u32 = 64;

/// The highest-priority (lowest-numbered) input in a pending mask.
pub const fn highest_priority(pending: u32) -> Option<Irq> {
    if pending == 0 { None } else { Irq::new(pending.trailing_zeros()) }
}

/// An AXI INTC instance.
#[derive(Debug)]
pub struct AxiIntc<R> {
    regs: R,
    config: Config,
}

impl<R: Registers> AxiIntc<R> {
    /// Takes over the controller: disables every input, acknowledges
    /// anything latched, then sets MER to ME | HIE so hardware interrupts
    /// reach the CPU. Writes, in order: IER = 0, IAR = 0xFFFF_FFFF,
    /// MER = 0x3.
    ///
    /// HIE is write-once in hardware: after it, ISR can no longer be
    /// written by software (PG099, MER).
    pub fn new(regs: R, config: Config) -> Self {
        regs.ier().set(0);
        regs.iar().set(u32::MAX);
        regs.mer().write(MER::ME::SET + MER::HIE::SET);
        Self { regs, config }
    }

    /// The synthesis options this driver was given.
    pub fn config(&self) -> Config {
        self.config
    }

    /// Lets `irq` reach the CPU.
    ///
    /// Without SIE this is a read-modify-write of IER: call it with
    /// interrupts masked.
    pub fn enable(&self, irq: Irq) {
        if self.config.has_set_clear_enable {
            self.regs.sie().set(irq.mask());
        } else {
            let ier = self.regs.ier().get();
            self.regs.ier().set(ier | irq.mask());
        }
    }

    /// Stops `irq` from reaching the CPU (it still latches in ISR).
    pub fn disable(&self, irq: Irq) {
        if self.config.has_set_clear_enable {
            self.regs.cie().set(irq.mask());
        } else {
            let ier = self.regs.ier().get();
            self.regs.ier().set(ier & !irq.mask());
        }
    }

    /// Lets `irq` reach the CPU again after [`disable`](Self::disable)
    /// masked it while it fired (a driver's interrupt, masked from the
    /// moment it fires until the driver has served the device). A level
    /// input's ISR bit latched while it was masked and stays latched after
    /// the device lets go (only IAR clears it): it is acknowledged first,
    /// and latches again at once if the device still asserts, so the
    /// interrupt comes exactly when there is one. An edge input keeps its
    /// latch: an edge that came while it was masked is delivered.
    ///
    /// Without SIE this is a read-modify-write of IER: call it with
    /// interrupts masked.
    pub fn unmask(&self, irq: Irq) {
        if self.config.edge_triggered & irq.mask() == 0 {
            self.acknowledge(irq);
        }
        self.enable(irq);
    }

    /// Whether `irq` is enabled.
    pub fn is_enabled(&self, irq: Irq) -> bool {
        self.regs.ier().get() & irq.mask() != 0
    }

    /// Clears the latched ISR bit of `irq` (IAR). For a level input, clear
    /// the source first or it latches again at once.
    pub fn acknowledge(&self, irq: Irq) {
        self.regs.iar().set(irq.mask());
    }

    /// Mask of inputs that are latched and enabled (ISR & IER; computed
    /// rather than read from the optional IPR).
    pub fn pending(&self) -> u32 {
        self.regs.isr().get() & self.regs.ier().get()
    }

    /// The highest-priority pending enabled input, if any.
    pub fn next_pending(&self) -> Option<Irq> {
        highest_priority(self.pending())
    }

    /// Serves every pending enabled input, most urgent first, and returns
    /// how many handler calls were made. Call it from the RV32 machine
    /// external-interrupt trap (mcause = 0x8000_000B).
    ///
    /// Edge inputs are acknowledged before `handler` runs, so an edge
    /// arriving during the handler latches again and is not lost; level
    /// inputs after it, once the handler has cleared the source. Stops
    /// after [`MAX_DISPATCH`] calls.
    pub fn dispatch(&self, mut handler: impl FnMut(Irq)) -> u32 {
        let mut calls = 0;
        while calls < MAX_DISPATCH {
            let Some(irq) = self.next_pending() else {
                break;
            };
            let edge = self.config.edge_triggered & irq.mask() != 0;
            if edge {
                self.acknowledge(irq);
            }
            handler(irq);
            if !edge {
                self.acknowledge(irq);
            }
            calls += 1;
        }
        calls
    }
}
