//! Five capabilities cannot fit in four capability slots.

use ferrode_ipc::{Capability, TransportError};

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
    pub trait Registry {
        fn register(&mut self, caps: [Capability<dyn Registry>; 5]) -> Result<(), Error>;
    }
}

fn main() {}
