//! The QEMU side of Ferrode's tests: boards, the harness, the cases.
//!
//! [`boards`] says how each board runs under QEMU, [`harness`] boots an
//! image with time limits and captures its console, [`cases`] lists what
//! every image must do, [`images`] the files real boards load, [`net`]
//! holds the host-side network clients,
//! [`measure`] the measurements and [`figures`] their budgets and history,
//! [`stacks`] how deep each of an image's stacks went, [`profile`] where
//! its instructions go, [`sd_image`] the SD card images the cases put in
//! the PBX-A9's slot.
//! `cargo xtask test` builds the images and runs the cases; the host unit
//! tests here check the harness itself.

pub mod boards;
pub mod cases;
pub mod figures;
pub mod harness;
pub mod images;
pub mod measure;
pub mod net;
pub mod profile;
pub mod sd_image;
pub mod stacks;
