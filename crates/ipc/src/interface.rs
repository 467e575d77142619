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
/// impl From<TransportError> for CalcError {
///     fn from(error: TransportError) -> Self { Self::Transport(error) }
/// }
///
/// ferrode_ipc::interface! {
///     /// Something that answers.
///     pub trait Pingable {
///         fn ping(&mut self) -> Result<(), CalcError>;
///     }
/// }
///
/// ferrode_ipc::interface! {
///     /// Adds numbers; inherits `ping` as opcode 0.
///     pub trait Calculator: Pingable {
///         /// Opcode 1.
///         fn add(&mut self, a: u32, b: u32) -> Result<u32, CalcError>;
///         /// Opcode 2.
///         fn forward(&mut self, to: Capability<dyn Pingable>) -> Result<(), CalcError>;
///     }
/// }
/// ```
///
/// Syntax: `$vis trait Name $(: Parent $(+ Ancestor)*)? { methods }`, each
/// method `fn name(&mut self, arg: Type, ...) -> Result<Ok, Err>;` with
/// doc comments and attributes allowed. No generics, no default bodies.
///
/// - **Opcodes**: a method's opcode is the parent's `OPCODE_COUNT` plus its
///   position, so the parent's methods keep their numbers.
/// - **Inheritance**: `Parent` must be declared with `interface!`. If the
///   parent itself inherits, list all further ancestors after it
///   (`trait C: B + A`); leaving one out is a compile error, not a silent
///   fault. `Capability<dyn Name>` then [`upcast`](crate::Capability::upcast)s
///   to each of them.
/// - **Errors**: `Err` must implement [`crate::Marshal`] and
///   `From<`[`crate::TransportError`]`>`: the client stub reports invalid
///   capabilities, dead servers and malformed messages through it; a server
///   returns its own domain variants, which travel in the reply.
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
                fn $method:ident (&mut self $(, $arg:ident : $arg_ty:ty)* $(,)?)
                    -> Result<$ok:ty, $err:ty>;
            )*
        }
    ) => {
        $(#[$attr])*
        $vis trait $name $(: $parent $(+ $ancestor)*)? {
            $(
                $(#[$method_attr])*
                fn $method(&mut self $(, $arg: $arg_ty)*) -> Result<$ok, $err>;
            )*
        }

        const _: () = {
            #[allow(non_camel_case_types, dead_code, reason = "one opcode per method, by position")]
            enum Method { $($method),* }

            /// The first opcode of this interface's own methods.
            const FIRST: usize = 0 $(+ <dyn $parent as $crate::Interface>::OPCODE_COUNT)?;

            $(
                const _: () = assert!(
                    $crate::fits_in_message::<($($arg_ty,)*)>(),
                    concat!(
                        "RPC ", stringify!($name), "::", stringify!($method),
                        ": the arguments could exceed the UTCB (64 words, 4 capabilities)"
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

            impl $crate::Interface for dyn $name {
                const NAME: &'static str = stringify!($name);
                const OPCODE_COUNT: usize =
                    FIRST + <[&'static str]>::len(&[$(stringify!($method)),*]);
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
                            FIRST + Method::$method as usize,
                            &($($arg,)*),
                        )
                    }
                )*
            }

            impl<Server: ?Sized + $name> $crate::Serve<Server> for dyn $name {
                #[allow(unused_variables, unused_comparisons, reason = "an interface may be empty or a root")]
                fn serve(
                    server: &mut Server,
                    opcode: usize,
                    utcb: &mut $crate::Utcb,
                ) -> Result<(), $crate::MessageError> {
                    $(
                        if opcode < FIRST {
                            return <dyn $parent as $crate::Serve<Server>>::serve(server, opcode, utcb);
                        }
                    )?
                    let index = opcode.wrapping_sub(FIRST);
                    $(
                        if index == Method::$method as usize {
                            return $crate::__private::serve_method(
                                utcb,
                                |($($arg,)*): ($($arg_ty,)*)| server.$method($($arg),*),
                            );
                        }
                    )*
                    Err($crate::MessageError::UnknownOpcode)
                }
            }
        };
    };
}
