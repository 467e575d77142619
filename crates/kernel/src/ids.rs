//! Small typed indices into the kernel's tables.

macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) u8);

        impl $name {
            /// The table index.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(
    /// A thread.
    ThreadId
);
id!(
    /// A component: a capability space and the threads that use it.
    ComponentId
);
id!(
    /// An RPC object managed by an entrypoint.
    ObjectId
);
id!(
    /// A counting signal.
    SignalId
);
