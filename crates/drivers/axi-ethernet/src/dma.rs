//! The DMA's two channels: reset, start, the tail pointer, acknowledging
//! interrupts, and bringing a halted channel back.

use core::sync::atomic::{Ordering, fence};

use ferrode_hal::mmio::{LocalRegisterCopy, Readable, Writeable};

use crate::driver::{AxiEthernet, MAX_POLLS, split_address};
use crate::error::Error;
use crate::regs::{Channel, DMACR, DMASR, Dma, Mac, RCW1};

type Dmacr = LocalRegisterCopy<u32, DMACR::Register>;
type Dmasr = LocalRegisterCopy<u32, DMASR::Register>;

/// MM2S DMACR while running: no interrupts (sent frames' descriptors are
/// reclaimed when the driver looks), one completion per IOC.
fn transmit_control() -> Dmacr {
    let mut control = Dmacr::new(0);
    control.write(DMACR::RS::SET + DMACR::IRQ_THRESHOLD.val(1));
    control
}

impl<M: Mac, D: Dma, const TX: usize, const RX: usize> AxiEthernet<'_, M, D, TX, RX> {
    /// Resets the AXI DMA through `channel`'s DMACR (the hardware resets
    /// both channels, QEMU the one written) and waits, bounded, until the
    /// Reset bit of both channels reads 0. The channels reset are halted.
    pub(crate) fn reset_dma(&mut self, channel: Channel) -> Result<(), Error> {
        self.dma.dmacr(channel).write(DMACR::RESET::SET);
        for _ in 0..MAX_POLLS {
            if Channel::BOTH.iter().all(|&c| !self.dma.dmacr(c).is_set(DMACR::RESET)) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout)
    }

    /// CURDESC of `channel` (written while the channel is halted). The
    /// upper word only where addresses have one (host tests), first.
    fn set_current(&self, channel: Channel, address: u64) {
        let (low, high) = split_address(address);
        if usize::BITS > 32 {
            self.dma.curdesc_msb(channel).set(high);
        }
        self.dma.curdesc(channel).set(low);
    }

    /// TAILDESC of `channel`: the DMA works up to and including that
    /// descriptor. The low word is written last: it is the write that
    /// (re)starts the channel (on a DMA of 32-bit addresses, the boards'
    /// and QEMU's, the upper word is never written).
    pub(crate) fn set_tail(&self, channel: Channel, address: u64) {
        let (low, high) = split_address(address);
        if usize::BITS > 32 {
            self.dma.taildesc_msb(channel).set(high);
        }
        self.dma.taildesc(channel).set(low);
    }

    /// S2MM DMACR while running: IOC and Err interrupts as wanted, one
    /// completed frame per IOC interrupt (QEMU never interrupts with 0).
    pub(crate) fn receive_control(&self) -> Dmacr {
        let mut control = Dmacr::new(0);
        let enabled = u32::from(self.rx_interrupt);
        control.write(
            DMACR::RS::SET
                + DMACR::IRQ_THRESHOLD.val(1)
                + DMACR::IOC_IRQ_EN.val(enabled)
                + DMACR::ERR_IRQ_EN.val(enabled),
        );
        control
    }

    /// Whether `channel` is meant to run (the receive channel stops on
    /// purpose while every descriptor holds a frame).
    pub(crate) fn running(&self, channel: Channel) -> bool {
        match channel {
            Channel::Mm2s => true,
            Channel::S2mm => self.rx_running,
        }
    }

    /// Whether `channel`'s DMASR says Halted.
    pub(crate) fn halted(&self, channel: Channel) -> bool {
        self.dma.dmasr(channel).is_set(DMASR::HALTED)
    }

    /// Starts the halted MM2S channel at the descriptor the next frame
    /// goes into; the next TAILDESC write sends it.
    pub(crate) fn start_transmit(&mut self) {
        fence(Ordering::SeqCst);
        self.set_current(Channel::Mm2s, self.tx.descriptor_address(self.tx_next));
        self.dma.dmacr(Channel::Mm2s).set(transmit_control().get());
    }

    /// Writes the receiver configuration again, unchanged (QEMU's model
    /// then delivers the frames it queued: see `give_back_head`), unless
    /// the S2MM channel is idle: then a later hand-back does.
    pub(crate) fn flush_receiver(&mut self) {
        if !self.dma.dmasr(Channel::S2mm).is_set(DMASR::IDLE) {
            self.rx_flush_owed = false;
            self.mac.rcw1().write(RCW1::RX::SET);
        }
    }

    /// Starts the halted S2MM channel on the free receive descriptors:
    /// from the first after those that hold frames to the one before the
    /// head. With none free it stays stopped (it would halt at once on a
    /// full descriptor) until one is handed back.
    ///
    /// CURDESC, then TAILDESC while still halted (which only sets the
    /// pause point), then Run/Stop, then TAILDESC again, which starts a
    /// real DMA fetching. QEMU starts at the Run/Stop write already, with
    /// the TAILDESC it has, and may reach it at once if frames wait: the
    /// second write then comes only if the channel is not idle, since QEMU
    /// restarts an idle channel at any TAILDESC write, past its tail.
    pub(crate) fn start_receive(&mut self) {
        let holding = self.completed_receive_descriptors();
        if holding == RX {
            self.rx_running = false;
            return;
        }
        let first = (self.rx_head + holding) % RX;
        let tail = self.rx.descriptor_address((self.rx_head + RX - 1) % RX);
        fence(Ordering::SeqCst);
        self.set_current(Channel::S2mm, self.rx.descriptor_address(first));
        self.set_tail(Channel::S2mm, tail);
        let control = self.receive_control().get();
        self.dma.dmacr(Channel::S2mm).set(control);
        self.rx_control_written = control;
        self.rx_running = true;
        if !self.dma.dmasr(Channel::S2mm).is_set(DMASR::IDLE) {
            self.set_tail(Channel::S2mm, tail);
        }
        // Frames met the channel stopped: QEMU's network may be holding
        // them back (see `give_back_head`). The caller writes the receiver
        // configuration: `new` enables the receiver last, a restart
        // flushes.
        self.rx_flush_owed = true;
    }

    /// Writes the running S2MM channel's DMACR if the interrupt enables
    /// changed, unless the channel is idle (every descriptor it has is
    /// full): QEMU restarts a channel at any DMACR write with Run/Stop set,
    /// and an idle one would go on past its tail into a descriptor still
    /// holding a frame and halt. An idle channel completes nothing, so
    /// raises no new interrupt, until a descriptor is handed back; the
    /// write waits until then (`give_back_head` asks again).
    pub(crate) fn apply_receive_control(&mut self) {
        let control = self.receive_control().get();
        if control == self.rx_control_written || self.dma.dmasr(Channel::S2mm).is_set(DMASR::IDLE) {
            return;
        }
        self.dma.dmacr(Channel::S2mm).set(control);
        self.rx_control_written = control;
        // The channel went idle between the look and the write.
        if self.halted(Channel::S2mm) {
            self.recover(Channel::S2mm);
        }
    }

    /// Acknowledges `channel`'s pending interrupts by writing DMASR back as
    /// read: the interrupt bits read as 1 are cleared (write 1 to clear),
    /// the rest is read only. QEMU instead stores the value written (with
    /// every interrupt bit cleared): written back, Halted and Idle stay as
    /// they were; a 0 there would restart an idle channel past its tail.
    /// Returns the status read.
    pub(crate) fn acknowledge(&mut self, channel: Channel) -> Dmasr {
        let status = self.dma.dmasr(channel).extract();
        let pending = DMASR::IOC_IRQ::SET + DMASR::DLY_IRQ::SET + DMASR::ERR_IRQ::SET;
        if status.any_matching_bits_set(pending) {
            self.dma.dmasr(channel).set(status.get());
        }
        status
    }

    /// Counts a halt of `channel` found while it should run.
    pub(crate) fn count_restart(&mut self, channel: Channel) {
        let restarts = match channel {
            Channel::Mm2s => &mut self.restarts.transmit,
            Channel::S2mm => &mut self.restarts.receive,
        };
        *restarts = restarts.saturating_add(1);
    }

    /// Brings back `channel`, found halted while it should run: counts
    /// it, then re-initialises it.
    pub(crate) fn recover(&mut self, channel: Channel) {
        self.count_restart(channel);
        self.reinitialise(channel);
    }

    /// Resets the DMA through `channel`, then re-initialises every channel
    /// the reset left halted (on the hardware both, in QEMU the one reset).
    /// If the reset does not end, the channel stays halted and the next
    /// look tries again.
    pub(crate) fn reinitialise(&mut self, channel: Channel) {
        if self.reset_dma(channel).is_err() {
            return;
        }
        if self.halted(Channel::Mm2s) {
            self.restart_transmit();
        }
        if self.halted(Channel::S2mm) {
            self.rx_running = false;
            self.start_receive();
            if self.rx_running {
                self.flush_receiver();
            }
        }
    }

    /// Starts the MM2S channel again after a reset: the frames the DMA
    /// completed are counted as sent, the ones it had not are lost
    /// (counted as errors), and every descriptor is free.
    fn restart_transmit(&mut self) {
        self.reclaim_transmitted();
        let lost = u32::try_from(self.tx_busy).unwrap_or(u32::MAX);
        self.counters.tx_errors = self.counters.tx_errors.saturating_add(lost);
        self.tx_busy = 0;
        self.start_transmit();
    }
}
