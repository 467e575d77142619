//! A receive window is run by the kernel on the caller's thread, so an
//! `Interface` written by hand, with a window of its own making, is not
//! safe code: only `interface!` implements it without `unsafe`.

trait Evil {}

impl ferrode_ipc::Interface for dyn Evil {
    const NAME: &'static str = "Evil";
    const ID: u32 = 0x4e71;
    const METHODS: usize = 1;

    fn caps_window(_label: usize, _reply: bool) -> usize {
        // Code here would run inside the kernel as the client.
        1
    }
}

fn main() {}
