//! Typed RPC over UTCBs: messages, marshalling and interfaces as Rust traits.
//!
//! Every thread owns a [`Utcb`]: a small header, [`MSG_WORDS`] message words
//! and [`MSG_CAPS`] capability slots. A client marshals a request into its
//! UTCB, a [`Transport`] (the kernel, or the host [`Loopback`]) copies exactly
//! the used words and capabilities into the server's UTCB, the server
//! demarshals, runs the method and marshals the reply in place.
//!
//! - [`Marshal`] is implemented by every type that may cross a component
//!   boundary; each implementor states its largest size as constants, so an
//!   RPC that could overflow the UTCB does not compile.
//! - [`marshal!`] derives [`Marshal`] for user structs and enums.
//! - [`interface!`] turns a trait into an RPC interface: opcodes by position
//!   (inherited methods first), a client stub ([`Client`]) implementing the
//!   trait, and a server dispatcher ([`dispatch`]).
//!
//! # IPC protocol
//!
//! Request: `label` = the method's label (interface identity and position,
//! see [`Interface`]), `words` = the arguments as a tuple, `caps` =
//! the capabilities among them in order. The kernel sets `badge` on receive.
//! Reply: `error` = 0 and `words` = the method's `Result<T, E>` (a tag word,
//! 0 for `Ok`, then the payload); or, when the server could not decode the
//! request, `error` = a [`TransportError`] code and no words.
#![no_std]

mod capability;
mod containers;
mod error;
mod interface;
mod loopback;
mod marshal;
mod marshal_macro;
mod primitives;
mod rpc;
mod utcb;
mod utf8;

pub use capability::{CapSel, Capability, Inherits, Interface, interface_id, label};
pub use containers::{Bytes, Words};
pub use error::{MessageError, TransportError};
pub use loopback::Loopback;
pub use marshal::{Marshal, Reader, Writer, fits_in_message};
pub use rpc::{
    Client, Dispatch, RpcError, RpcObject, Serve, Transport, dispatch, serve_request,
    write_error_reply, write_reply,
};
pub use utcb::{MSG_CAPS, MSG_WORDS, Utcb};
pub use utf8::is_utf8;

#[doc(hidden)]
pub mod __private {
    pub use crate::rpc::{call, serve_method};
}
