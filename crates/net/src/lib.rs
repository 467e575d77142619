//! smoltcp on Ferrode: a network interface over any `EthernetDevice`.
//!
//! [`Phy`] turns a frame-level [`ferrode_hal::EthernetDevice`] (a NIC
//! driver, or a test double) into a smoltcp [`smoltcp::phy::Device`].
//! [`Stack`] bundles that device with a smoltcp interface, its sockets and
//! a [`ferrode_hal::Monotonic`] clock for timestamps, configured with a
//! static IPv4 address ([`Ipv4Config::QEMU_USER`] matches QEMU's user
//! network) or by DHCP. [`echo`] is the TCP and UDP echo service (RFC 862)
//! that the `echo-net` application runs; it is written here so that host
//! tests can drive it through two stacks wired back to back.
//!
//! Nothing here knows a board: the platform supplies the device and the
//! clock, the application supplies socket buffers (see [`ConstStaticCell`], and
//! [`Zeroed`] for values that would keep a static out of `.bss`).
#![no_std]

#[cfg(test)]
extern crate std;

pub mod echo;
mod phy;
mod stack;
mod zeroed;

#[cfg(test)]
mod tests;

pub use phy::{Phy, PhyRxToken, PhyTxToken};
pub use smoltcp;
pub use stack::{Ipv4Config, Stack, instant_from_ns};
pub use static_cell::ConstStaticCell;
pub use zeroed::Zeroed;
