//! Errors of the kernel's management operations (creating threads,
//! components, objects). IPC failures are [`ferrode_ipc::TransportError`].

use core::fmt;

/// Why a kernel management operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelError {
    /// All thread slots are in use.
    OutOfThreads,
    /// All component slots are in use.
    OutOfComponents,
    /// All RPC object slots are in use.
    OutOfObjects,
    /// All signal slots are in use.
    OutOfSignals,
    /// The component's capability space is full.
    CapabilitySpaceFull,
    /// The component does not exist.
    InvalidComponent,
    /// The selector designates nothing (of the expected kind) in the
    /// component's capability space.
    InvalidCapability,
    /// The thread does not exist or is not of the expected kind.
    InvalidThread,
    /// Priority out of range (1 ..= [`crate::PRIORITIES`] - 1; 0 is idle).
    InvalidPriority,
    /// A thread stack smaller than the kernel's minimum.
    StackTooSmall,
    /// The kernel was used before [`crate::Kernel::init`].
    NotInitialised,
    /// The actor holds no capability to the component it acts on.
    NoAuthority,
    /// Only the owner may do this: dissolve an object (a holder may drop
    /// its copy), or mint badged copies of a signal (its receiver).
    NotOwner,
    /// The component's quota (capability slots, threads, objects, signals,
    /// children) is used up.
    QuotaExceeded,
    /// The capability would let a component call a server of lower
    /// priority than the component's own (Ferrode's priority rule).
    PriorityInversion,
    /// The thread serves no request it could defer the reply to.
    NoReplyPending,
    /// A signal badge above [`crate::MAX_BADGE`].
    InvalidBadge,
}

impl KernelError {
    /// What went wrong, in a few words (what `Display` prints): for reports
    /// written without `core::fmt`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OutOfThreads => "out of thread slots",
            Self::OutOfComponents => "out of component slots",
            Self::OutOfObjects => "out of RPC object slots",
            Self::OutOfSignals => "out of signal slots",
            Self::CapabilitySpaceFull => "capability space full",
            Self::InvalidComponent => "no such component",
            Self::InvalidCapability => "invalid capability",
            Self::InvalidThread => "no such thread",
            Self::InvalidPriority => "priority out of range",
            Self::StackTooSmall => "thread stack too small",
            Self::NotInitialised => "kernel not initialised",
            Self::NoAuthority => "no capability to that component",
            Self::NotOwner => "only the owner may dissolve or mint it",
            Self::QuotaExceeded => "quota exceeded",
            Self::PriorityInversion => "server priority below the holder's",
            Self::NoReplyPending => "no request to defer the reply to",
            Self::InvalidBadge => "signal badge above 31",
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for KernelError {}
