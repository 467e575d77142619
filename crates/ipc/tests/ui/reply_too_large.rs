//! A 64-word return value plus the Result tag word cannot fit.

use ferrode_ipc::TransportError;

ferrode_ipc::marshal! {
    #[derive(Debug)]
    pub enum Error { Transport(TransportError) }
}

ferrode_ipc::rpc_error!(Error::Transport);

ferrode_ipc::interface! {
    pub trait Bulk {
        fn read(&mut self) -> Result<heapless::Vec<u32, 64>, Error>;
    }
}

fn main() {}
