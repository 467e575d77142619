//! Five capabilities cannot fit in four capability slots.

use ferrode_ipc::{Capability, TransportError};

ferrode_ipc::marshal! {
    #[derive(Debug)]
    pub enum Error { Transport(TransportError) }
}

ferrode_ipc::rpc_error!(Error::Transport);

ferrode_ipc::interface! {
    pub trait Registry {
        fn register(&mut self, caps: [Capability<dyn Registry>; 5]) -> Result<(), Error>;
    }
}

fn main() {}
