//! The smoltcp device over a frame-level Ethernet device.

use ferrode_hal::{EthernetDevice, FrameBuffer, MAX_FRAME_LEN};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::time::Instant;

use crate::NetDevice;
use crate::checksum::{self, Verdict};

/// A smoltcp [`Device`] over the Ethernet device `D`. It owns one receive
/// and one transmit frame buffer, so frames are copied once each way
/// between the NIC's FIFOs and smoltcp. The buffers are [`FrameBuffer`]s:
/// the frame starts 2 bytes past a word, so the driver's copy moves a word
/// per access and smoltcp's copies of TCP and UDP payload, which then lie
/// on word boundaries, move whole words too. It checks and fills TCP and
/// UDP checksums itself, faster than smoltcp would (see `checksum`).
pub struct Phy<D> {
    device: D,
    receive_buffer: FrameBuffer,
    transmit_buffer: FrameBuffer,
    transmit_failures: u32,
    receive_failures: u32,
    checksum_errors: u32,
}

impl<D: EthernetDevice> Phy<D> {
    /// Wraps `device`.
    pub const fn new(device: D) -> Self {
        Self {
            device,
            receive_buffer: FrameBuffer::new(),
            transmit_buffer: FrameBuffer::new(),
            transmit_failures: 0,
            receive_failures: 0,
            checksum_errors: 0,
        }
    }

    /// The Ethernet device (for its counters or link state).
    pub fn device(&mut self) -> &mut D {
        &mut self.device
    }

    /// Frames smoltcp produced that the device refused (e.g. FIFO full);
    /// they are dropped, and TCP retransmits.
    pub const fn transmit_failures(&self) -> u32 {
        self.transmit_failures
    }

    /// Device errors met while receiving (the frame, if any, is lost).
    pub const fn receive_failures(&self) -> u32 {
        self.receive_failures
    }

    /// Received TCP segments and UDP datagrams dropped because their
    /// checksum did not hold.
    pub const fn checksum_errors(&self) -> u32 {
        self.checksum_errors
    }
}

/// A received frame, lent to smoltcp.
pub struct PhyRxToken<'a> {
    frame: &'a [u8],
}

/// Permission to send one frame, handed to smoltcp.
pub struct PhyTxToken<'a, D> {
    device: &'a mut D,
    buffer: &'a mut [u8; MAX_FRAME_LEN],
    failures: &'a mut u32,
}

impl RxToken for PhyRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl<D: EthernetDevice> TxToken for PhyTxToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU it was given; clamp anyway
        // so a bug there cannot index out of bounds here.
        let frame = &mut self.buffer[..len.min(MAX_FRAME_LEN)];
        let result = f(frame);
        checksum::fill(frame);
        if self.device.transmit(frame).is_err() {
            *self.failures = self.failures.saturating_add(1);
        }
        result
    }
}

impl<D: EthernetDevice> NetDevice for Phy<D> {
    fn mac_address(&self) -> [u8; 6] {
        self.device.mac_address()
    }
}

impl<D: EthernetDevice> Device for Phy<D> {
    type RxToken<'a>
        = PhyRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = PhyTxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let length = loop {
            let length = match self.device.receive(self.receive_buffer.frame_mut()) {
                Ok(Some(length)) => length,
                Ok(None) => return None,
                Err(_) => {
                    self.receive_failures = self.receive_failures.saturating_add(1);
                    return None;
                }
            };
            match checksum::verify(&self.receive_buffer.frame()[..length]) {
                Verdict::Invalid => self.checksum_errors = self.checksum_errors.saturating_add(1),
                Verdict::Valid | Verdict::Unchecked => break length,
            }
        };
        let receive = PhyRxToken { frame: &self.receive_buffer.frame()[..length] };
        let transmit = PhyTxToken {
            device: &mut self.device,
            buffer: self.transmit_buffer.frame_mut(),
            failures: &mut self.transmit_failures,
        };
        Some((receive, transmit))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        if !self.device.can_transmit() {
            return None;
        }
        Some(PhyTxToken {
            device: &mut self.device,
            buffer: self.transmit_buffer.frame_mut(),
            failures: &mut self.transmit_failures,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = MAX_FRAME_LEN;
        // One frame at a time: the NIC's FIFOs are the only queue.
        capabilities.max_burst_size = Some(1);
        checksum::offload(&mut capabilities);
        capabilities
    }
}
