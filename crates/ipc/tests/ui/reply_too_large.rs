//! A 64-word return value plus the Result tag word cannot fit.

use ferrode_ipc::TransportError;

ferrode_ipc::marshal! {
    #[derive(Debug)]
    pub enum Error { Transport(TransportError) }
}

impl From<TransportError> for Error {
    fn from(error: TransportError) -> Self {
        Self::Transport(error)
    }
}

ferrode_ipc::interface! {
    pub trait Bulk {
        fn read(&mut self) -> Result<heapless::Vec<u32, 64>, Error>;
    }
}

fn main() {}
