//! echo-net on a MicroBlaze V design whose Ethernet is the AXI 1G/2.5G
//! Ethernet subsystem with an AXI DMA: the same components, routes and
//! echo client as `apps/echo-net` (whose source this is), built with the
//! board's `axi-ethernet` feature, so the NIC driver component's
//! "ethernet" device is that MAC. The DMA moves frames between the MAC
//! and rings of buffers in RAM, where the EthernetLite has the CPU copy
//! every word through the bus. `cargo xtask run --board microblaze-v
//! --app echo-net-axi --forward PORT` attaches QEMU's network to the AXI
//! Ethernet (`[package.metadata.ferrode] nic` in the manifest).
#![no_std]
#![no_main]

#[path = "../../echo-net/src/control.rs"]
mod control;
#[path = "../../echo-net/src/wakeup.rs"]
mod wakeup;

include!("../../echo-net/src/app.rs");
