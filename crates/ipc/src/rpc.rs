//! The transport the kernel implements, client stubs and server dispatch.

use core::marker::PhantomData;

use crate::capability::{CapSel, Capability, Inherits, Interface};
use crate::error::{MessageError, TransportError};
use crate::marshal::{Marshal, Reader, Writer};
use crate::utcb::Utcb;

/// Synchronous IPC as seen by a client thread: implemented by the kernel's
/// system-call layer, and by [`crate::Loopback`] on the host.
pub trait Transport {
    /// The calling thread's UTCB.
    fn utcb(&mut self) -> &mut Utcb;

    /// Calls the object designated by `capability` and waits for the reply.
    ///
    /// On entry the UTCB holds the request (label = opcode, `word_count`
    /// words, `cap_count` capabilities in the caller's space); on `Ok` it
    /// holds the reply, capabilities translated into the caller's space.
    /// A failure (invalid capability, revoked object, dead server, malformed
    /// message refused) is reported either as `Err` or as an error reply
    /// (no words, the code in `error`); stubs handle both. The kernel uses
    /// error replies; [`crate::Loopback`] returns `Err`.
    fn call(&mut self, capability: CapSel) -> Result<(), TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    #[inline]
    fn utcb(&mut self) -> &mut Utcb {
        (**self).utcb()
    }

    #[inline]
    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        (**self).call(capability)
    }
}

/// A client stub: a capability for an `I` object and a transport to call it.
///
/// [`crate::interface!`] implements the interface trait (and every listed
/// base) for `Client<dyn Trait, T>`, so RPCs read like method calls.
pub struct Client<I: ?Sized, T> {
    transport: T,
    capability: Capability<I>,
}

impl<I: ?Sized, T: Transport> Client<I, T> {
    /// A stub calling `capability` through `transport`.
    pub fn new(transport: T, capability: Capability<I>) -> Self {
        Self { transport, capability }
    }

    /// The capability this stub calls.
    pub fn capability(&self) -> Capability<I> {
        self.capability
    }

    /// The transport, e.g. to build another stub with it.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// The same stub seen through base interface `B`.
    pub fn upcast<B: ?Sized>(self) -> Client<B, T>
    where
        I: Inherits<B>,
    {
        Client { transport: self.transport, capability: self.capability.upcast() }
    }

    #[doc(hidden)]
    pub fn parts(&mut self) -> (&mut T, CapSel) {
        (&mut self.transport, self.capability.selector())
    }
}

/// Client side of one RPC: marshal `arguments` with `opcode`, call, and
/// decode the reply as `Result<R, E>`. Transport failures and malformed
/// replies become `E::from(TransportError)`.
#[inline]
pub fn call<T, A, R, E>(
    transport: &mut T,
    capability: CapSel,
    opcode: usize,
    arguments: &A,
) -> Result<R, E>
where
    T: Transport + ?Sized,
    A: Marshal,
    R: Marshal,
    E: Marshal + From<TransportError>,
{
    let mut writer = Writer::new(transport.utcb());
    arguments.marshal(&mut writer);
    writer.finish(opcode).map_err(|error| E::from(error.into()))?;
    transport.call(capability)?;
    let reply = transport.utcb();
    if reply.error != 0 {
        return Err(E::from(reply_error(reply.error)));
    }
    let mut reader = Reader::new(reply);
    let decoded = Result::<R, E>::unmarshal(&mut reader).and_then(|result| reader.finish().map(|()| result));
    decoded.map_err(|error| E::from(error.into()))?
}

/// The transport error an error reply carries (kept out of the call path).
#[cold]
fn reply_error(code: u32) -> TransportError {
    TransportError::from_code(code).unwrap_or(TransportError::InvalidValue)
}

/// Server side of an interface: decode the method named by `opcode`, run
/// it on `server`, and write the reply into the same UTCB.
///
/// Implemented by [`crate::interface!`] for `dyn Trait`; an interface
/// hands the opcodes of its base to the base's implementation.
pub trait Serve<S: ?Sized>: Interface {
    /// Handles one request. On `Err` nothing useful was written and the
    /// caller ([`dispatch`]) turns the error into an error reply.
    fn serve(server: &mut S, opcode: usize, utcb: &mut Utcb) -> Result<(), MessageError>;
}

/// Server side of one method: decode the arguments (the whole message,
/// exactly), call `method`, marshal its result as the reply.
#[inline]
pub fn serve_method<A, R, E>(
    utcb: &mut Utcb,
    method: impl FnOnce(A) -> Result<R, E>,
) -> Result<(), MessageError>
where
    A: Marshal,
    R: Marshal,
    E: Marshal,
{
    let arguments = {
        let mut reader = Reader::new(utcb);
        let arguments = A::unmarshal(&mut reader)?;
        reader.finish()?;
        arguments
    };
    let result = method(arguments);
    let mut writer = Writer::new(utcb);
    result.marshal(&mut writer);
    writer.finish(0)
}

/// Serves the request in `utcb` with `server` as interface `I` and leaves
/// the reply in `utcb`. Never panics on any UTCB contents: an unknown
/// opcode or a malformed request gets an error reply (no words, `error`
/// set), and the server stays ready for the next request.
pub fn dispatch<I, S>(server: &mut S, utcb: &mut Utcb)
where
    I: ?Sized + Serve<S>,
    S: ?Sized,
{
    let opcode = utcb.label;
    if let Err(error) = I::serve(server, opcode, utcb) {
        write_error_reply(utcb, error.into());
    }
}

/// Replaces the message in `utcb` by an error reply carrying `error`.
#[inline]
pub fn write_error_reply(utcb: &mut Utcb, error: TransportError) {
    utcb.label = 0;
    utcb.word_count = 0;
    utcb.cap_count = 0;
    utcb.error = error.code();
}

/// An RPC object as an entrypoint holds it: anything that serves requests.
pub trait Dispatch {
    /// Serves the request in `utcb`, leaving the reply there (see [`dispatch`]).
    fn dispatch(&mut self, utcb: &mut Utcb);
}

/// A server `S` serving interface `I`, usable as `&mut dyn Dispatch`.
pub struct RpcObject<I: ?Sized, S> {
    server: S,
    interface: PhantomData<fn(&I)>,
}

impl<I: ?Sized, S> RpcObject<I, S> {
    /// Wraps `server` to serve `I`.
    pub const fn new(server: S) -> Self {
        Self { server, interface: PhantomData }
    }

    /// The server state.
    pub fn server(&mut self) -> &mut S {
        &mut self.server
    }
}

impl<I: ?Sized + Serve<S>, S> Dispatch for RpcObject<I, S> {
    #[inline]
    fn dispatch(&mut self, utcb: &mut Utcb) {
        dispatch::<I, S>(&mut self.server, utcb);
    }
}
