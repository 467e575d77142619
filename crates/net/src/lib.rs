//! smoltcp on Ferrode: a network interface over a NIC driver or a NIC session.
//!
//! Two smoltcp [`smoltcp::phy::Device`]s ([`NetDevice`]s): [`Phy`] turns a
//! frame-level [`ferrode_hal::EthernetDevice`] (a NIC driver called
//! directly, or a test double) into one, copying each frame once between
//! the controller and its own buffers; [`StreamPhy`] works on the two
//! packet streams of a NIC session and copies nothing (smoltcp reads and
//! writes the frames in the slots the driver component fills and sends).
//! Both check the TCP and UDP checksums of the frames they receive and fill
//! those of the frames they send, in place of smoltcp, which sums two bytes
//! at a time (see `checksum`); a frame whose checksum does not hold is
//! dropped and counted (`checksum_errors`).
//! [`Stack`] bundles a device with a smoltcp interface, its sockets and
//! a [`ferrode_hal::Monotonic`] clock for timestamps, configured with a
//! static IPv4 address ([`Ipv4Config::QEMU_USER`] matches QEMU's user
//! network) or by DHCP. [`echo`] is the TCP and UDP echo service (RFC 862)
//! that the `echo-net` application runs; it is written here so that host
//! tests can drive it through two stacks wired back to back.
//! [`sockets`] is a BSD-style socket table (`bind`, `listen`, `accept`,
//! `connect`, `send`, `recv`, ...) over a fixed pool of smoltcp sockets,
//! whose calls never block: the board crate's std support runs
//! `std::net` on it. [`dns`] writes a DNS query for a name's IPv4
//! addresses and reads them from the answer, for std's host name lookups.
//!
//! Nothing here knows a board: the platform supplies the device and the
//! clock, the application supplies socket buffers (see [`ConstStaticCell`], and
//! [`Zeroed`] for values that would keep a static out of `.bss`).
#![no_std]

#[cfg(test)]
extern crate std;

mod checksum;
pub mod dns;
pub mod echo;
mod phy;
pub mod sockets;
mod stack;
mod stream;
mod zeroed;

#[cfg(test)]
mod tests;

pub use phy::{Phy, PhyRxToken, PhyTxToken};
pub use smoltcp;
#[cfg(any(test, feature = "dhcp"))]
pub use stack::DNS_SERVERS;
pub use stack::{Ipv4Config, Stack, instant_from_ns};
pub use static_cell::ConstStaticCell;
pub use stream::{StreamPhy, StreamRxToken, StreamTxToken};
pub use zeroed::Zeroed;

/// A smoltcp device a [`Stack`] can run on: it also names the station
/// address the interface answers to.
pub trait NetDevice: smoltcp::phy::Device {
    /// The station MAC address.
    fn mac_address(&self) -> [u8; 6];
}
