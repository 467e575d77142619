//! `interface!`: a Rust trait becomes an RPC interface with client stub and dispatcher.

/// Declares an RPC interface as a trait, with opcodes, client stub,
/// server dispatcher and compile-time size checks.
///
/// ```
/// use ferrode_ipc::{Capability, TransportError};
///
/// ferrode_ipc::marshal! {
///     #[derive(Debug, Clone, Copy, PartialEq)]
///     pub enum CalcError { Overflow, Transport(TransportError) }
/// }
/// ferrode_ipc::rpc_error!(CalcError::Transport);
///
/// ferrode_ipc::interface! {
///     /// Something that answers.
///     pub trait Pingable {
///         fn ping(&mut self) -> Result<(), CalcError>;
///     }
/// }
///
/// ferrode_ipc::interface! {
///     /// Adds numbers; inherits `ping`.
///     pub trait Calculator: Pingable {
///         /// Position 0 of `Calculator`.
///         fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError>;
///         /// Position 1.
///         fn forward(&mut self, to: Capability<dyn Pingable>) -> Result<(), CalcError>;
///     }
/// }
/// ```
///
/// Syntax: `$vis trait Name $(: Parent $(+ Ancestor)*)? { methods }`, each
/// method `fn name(&mut self, arg: Type, ...) -> Result<Ok, Err>;` with
/// doc comments and attributes allowed, or with a default body `{ ... }`
/// instead of the `;` (what a server gets unless it implements the
/// method; the client stub always calls the server). No generics.
///
/// - **Labels**: a method's label is its declaring interface's
///   [`ID`](crate::Interface::ID) and its position in that declaration
///   ([`crate::label`]), so a base's methods keep their labels in every
///   derived interface, and a label of an interface the object does not
///   implement is refused ([`crate::TransportError::WrongInterface`]).
/// - **Inheritance**: `Parent` must be declared with `interface!`. If the
///   parent itself inherits, list all further ancestors after it
///   (`trait C: B + A`); leaving one out is a compile error, not a silent
///   fault. `Capability<dyn Name>` then [`upcast`](crate::Capability::upcast)s
///   to each of them.
/// - **Errors**: `Err` must implement [`crate::RpcError`] (with
///   [`crate::rpc_error!`]): the client stub reports invalid capabilities,
///   dead servers and malformed messages through it; a server returns its
///   own domain variants, which travel in the reply. A transport error a
///   server returns reaches its client as
///   [`Forwarded`](crate::TransportError::Forwarded). An error type
///   carries no capabilities (a compile error otherwise): authority
///   travels only with success, and the kernel refuses capabilities in a
///   reply that is not an `Ok`.
/// - **Receive windows**: each method's argument capability count and
///   its `Ok` type's are its receive windows
///   ([`crate::Interface::caps_window`]); the kernel refuses a message
///   carrying more.
/// - **Client**: `Name` is implemented for [`crate::Client<I, T>`] for every
///   transport `T` and every `I` that inherits `dyn Name`.
/// - **Server**: any `S: Name` is served by
///   [`dispatch::<dyn Name, S>`](crate::dispatch) or through
///   [`crate::RpcObject`]`<dyn Name, S>`.
/// - **Sizes**: arguments (as a tuple) and the reply `Result<Ok, Err>` must
///   fit in [`crate::MSG_WORDS`] words and [`crate::MSG_CAPS`] capabilities,
///   or the declaration does not compile.
#[macro_export]
macro_rules! interface {
    (
        $(#[$attr:meta])*
        $vis:vis trait $name:ident $(: $parent:ident $(+ $ancestor:ident)*)? {
            $(
                $(#[$method_attr:meta])*
                fn $method:ident (&mut $this:ident $(, $arg:ident : $arg_ty:ty)* $(,)?)
                    -> Result<$ok:ty, $err:ty> $body:tt
            )*
        }
    ) => {
        $(#[$attr])*
        $vis trait $name $(: $parent $(+ $ancestor)*)? {
            $(
                $(#[$method_attr])*
                // `$this` is the declaration's `self`, so a default body
                // can name it.
                fn $method(&mut $this $(, $arg: $arg_ty)*) -> Result<$ok, $err> $body
            )*
        }

        const _: () = {
            #[allow(non_camel_case_types, dead_code, reason = "one position per method")]
            enum Method { $($method),* }

            /// This interface's identity.
            const ID: u32 = $crate::interface_id(concat!(module_path!(), "::", stringify!($name)));
            /// The label of this interface's method at position 0.
            const BASE: usize = (ID as usize) << 16;
            const METHODS: usize = <[&'static str]>::len(&[$(stringify!($method)),*]);
            const _: () = assert!(METHODS <= 256, concat!("interface ", stringify!($name), ": at most 256 methods"));

            $(
                const _: () = assert!(
                    $crate::fits_in_message::<($($arg_ty,)*)>(),
                    concat!(
                        "RPC ", stringify!($name), "::", stringify!($method),
                        ": the arguments could exceed the UTCB (64 words, 4 capabilities)"
                    )
                );
                const _: () = assert!(
                    <$err as $crate::Marshal>::MAX_CAPS == 0,
                    concat!(
                        "RPC ", stringify!($name), "::", stringify!($method),
                        ": its error type carries capabilities (a refusal carries none: the kernel delivers capabilities only with an Ok reply)"
                    )
                );
                const _: () = assert!(
                    $crate::fits_in_message::<Result<$ok, $err>>(),
                    concat!(
                        "RPC ", stringify!($name), "::", stringify!($method),
                        ": the reply could exceed the UTCB (64 words, 4 capabilities)"
                    )
                );
            )*

            // SAFETY: `caps_window` is a pure function of its arguments:
            // comparisons and constants (its base's, made by this macro
            // too), no calls into the kernel, no side effects, no panic.
            unsafe impl $crate::Interface for dyn $name {
                const NAME: &'static str = stringify!($name);
                const ID: u32 = ID;
                const METHODS: usize = METHODS;

                #[allow(unreachable_code, unused_variables, reason = "a root interface has no base to ask")]
                fn caps_window(label: usize, reply: bool) -> usize {
                    let index = label.wrapping_sub(BASE);
                    $(
                        if index == Method::$method as usize {
                            return if reply {
                                <$ok as $crate::Marshal>::MAX_CAPS
                            } else {
                                <($($arg_ty,)*) as $crate::Marshal>::MAX_CAPS
                            };
                        }
                    )*
                    $(return <dyn $parent as $crate::Interface>::caps_window(label, reply);)?
                    0
                }
            }

            impl $crate::Inherits<dyn $name> for dyn $name {}
            $(
                impl $crate::Inherits<dyn $parent> for dyn $name {}
                $(impl $crate::Inherits<dyn $ancestor> for dyn $name {})*
            )?

            impl<ClientInterface, ClientTransport> $name
                for $crate::Client<ClientInterface, ClientTransport>
            where
                ClientInterface: ?Sized + $crate::Inherits<dyn $name>
                    $(+ $crate::Inherits<dyn $parent> $(+ $crate::Inherits<dyn $ancestor>)*)?,
                ClientTransport: $crate::Transport,
            {
                $(
                    #[inline]
                    fn $method(&mut self $(, $arg: $arg_ty)*) -> Result<$ok, $err> {
                        let (transport, selector) = self.parts();
                        $crate::__private::call::<_, ($($arg_ty,)*), $ok, $err>(
                            transport,
                            selector,
                            BASE + Method::$method as usize,
                            &($($arg,)*),
                        )
                    }
                )*
            }

            impl<Server: ?Sized + $name> $crate::Serve<Server> for dyn $name {
                #[allow(unused_variables, unreachable_code, reason = "an interface may be empty or a root")]
                unsafe fn serve(
                    server: &mut Server,
                    label: usize,
                    utcb: ::core::ptr::NonNull<$crate::Utcb>,
                ) -> Result<(), $crate::MessageError> {
                    let index = label.wrapping_sub(BASE);
                    $(
                        if index == Method::$method as usize {
                            // SAFETY: forwarded contract (see `Serve::serve`).
                            return unsafe {
                                $crate::__private::serve_method(
                                    utcb,
                                    |($($arg,)*): ($($arg_ty,)*)| server.$method($($arg),*),
                                )
                            };
                        }
                    )*
                    if label >> 16 == ID as usize {
                        return Err($crate::MessageError::UnknownOpcode);
                    }
                    $(
                        // SAFETY: forwarded contract.
                        return unsafe { <dyn $parent as $crate::Serve<Server>>::serve(server, label, utcb) };
                    )?
                    Err($crate::MessageError::WrongInterface)
                }
            }
        };
    };
}

/// Makes an error enum with a `Transport(TransportError)`-style variant an
/// RPC error type: implements `From<TransportError>` and
/// [`crate::RpcError`] for it.
///
/// ```
/// use ferrode_ipc::TransportError;
/// ferrode_ipc::marshal! {
///     #[derive(Debug, Clone, Copy, PartialEq)]
///     pub enum NicError { LinkDown, Transport(TransportError) }
/// }
/// ferrode_ipc::rpc_error!(NicError::Transport);
/// ```
#[macro_export]
macro_rules! rpc_error {
    ($error:ident :: $variant:ident) => {
        impl ::core::convert::From<$crate::TransportError> for $error {
            fn from(error: $crate::TransportError) -> Self {
                Self::$variant(error)
            }
        }

        impl $crate::RpcError for $error {
            fn transport_error(&self) -> ::core::option::Option<$crate::TransportError> {
                match self {
                    Self::$variant(error) => ::core::option::Option::Some(*error),
                    #[allow(
                        unreachable_patterns,
                        reason = "an error type may be nothing but transport errors"
                    )]
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
}
