//! 65 words of arguments cannot fit in a 64-word UTCB.

use ferrode_ipc::TransportError;

ferrode_ipc::marshal! {
    #[derive(Debug)]
    pub enum Error { Transport(TransportError) }
}

ferrode_ipc::rpc_error!(Error::Transport);

ferrode_ipc::interface! {
    pub trait Bulk {
        fn fine(&mut self, data: [usize; 63]) -> Result<(), Error>;
        fn too_large(&mut self, header: usize, data: [usize; 64]) -> Result<(), Error>;
    }
}

fn main() {}
