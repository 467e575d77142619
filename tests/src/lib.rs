//! The QEMU side of Ferrode's tests: boards, the harness, the cases.
//!
//! [`boards`] says how each board runs under QEMU, [`harness`] boots an
//! image with a timeout and captures its console, [`cases`] lists what every
//! image must do. `cargo xtask test` builds the images and runs the cases;
//! the host unit tests here check the harness itself.

pub mod boards;
pub mod cases;
pub mod harness;
pub mod net;
