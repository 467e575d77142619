//! The NIC service: control calls over RPC, frames through two packet
//! streams (Genode's Nic session).

use ferrode_ipc::Capability;

use crate::{Session, SessionError, SignalSource};

/// The name of the NIC service in routing tables.
pub const NIC: &str = "Nic";

ferrode_ipc::marshal! {
    /// The driver's frame counters (a snapshot).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct NicCounters {
        /// Frames received and handed to the client.
        pub rx_frames: u32,
        /// Frames sent.
        pub tx_frames: u32,
        /// Received frames dropped: shorter than a minimal frame.
        pub rx_runt: u32,
        /// Received frames dropped: longer than the largest frame.
        pub rx_oversized: u32,
        /// Received frames dropped: CRC, alignment or filter errors.
        pub rx_errors: u32,
        /// Received frames the device dropped for lack of room.
        pub rx_overruns: u32,
        /// Frames the device failed to send.
        pub tx_errors: u32,
    }
}

ferrode_ipc::interface! {
    /// A NIC session. The frames do not travel in messages: the session
    /// has a transmit packet stream (the client is its source) and a
    /// receive packet stream (the driver is its source) in memory the
    /// driver component set up for it; these calls are the control path.
    pub trait Nic: Session {
        /// The station MAC address, in the low 48 bits (first byte highest).
        fn mac_address(&mut self) -> Result<u64, SessionError>;
        /// Whether the link is up.
        fn link_up(&mut self) -> Result<bool, SessionError>;
        /// Where the driver signals the client (a frame received, a
        /// transmitted frame acknowledged); the driver keeps a submit-only
        /// copy.
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// A submit-only copy of the driver's own signal, which the client
        /// raises when it submitted frames or acknowledged received ones.
        fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError>;
        /// The driver's counters for this session (since it was opened).
        fn counters(&mut self) -> Result<NicCounters, SessionError>;
    }
}
