//! An error cannot carry a capability: authority travels only with an Ok
//! reply (the kernel delivers no capability with a refusal).

use ferrode_ipc::{Capability, TransportError};

ferrode_ipc::interface! {
    pub trait Lender {
        fn lend(&mut self) -> Result<(), Error>;
    }
}

ferrode_ipc::marshal! {
    #[derive(Debug)]
    pub enum Error { Busy(Capability<dyn Lender>), Transport(TransportError) }
}

ferrode_ipc::rpc_error!(Error::Transport);

fn main() {}
