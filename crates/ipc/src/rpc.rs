//! The transport the kernel implements, client stubs and server dispatch.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::capability::{CapSel, Capability, Inherits, Interface};
use crate::error::{MessageError, TransportError};
use crate::marshal::{Marshal, Reader, Writer};
use crate::utcb::{MSG_CAPS, Utcb};

/// Synchronous IPC as seen by a client thread: implemented by the kernel's
/// system-call layer, and by [`crate::Loopback`] on the host.
///
/// The UTCB is handed out as a pointer, never as a reference that could
/// outlive one access: a thread's UTCB is reached by several stubs (and,
/// in a server, by the dispatcher around a method that makes calls of its
/// own), so this crate borrows it only for the span of one marshalling or
/// demarshalling step, and never across [`Transport::call`].
///
/// # Safety
///
/// [`Transport::utcb`] must return a pointer valid for reads and writes of
/// a `Utcb` for as long as the transport exists, to memory that nothing
/// else references while this crate's code runs on the calling thread
/// (the kernel writes it only inside [`Transport::call`]).
pub unsafe trait Transport {
    /// The calling thread's UTCB.
    fn utcb(&mut self) -> NonNull<Utcb>;

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

    /// Drops the capabilities the last reply added to the caller's space
    /// ([`Utcb::fresh_caps`]): the stub calls this when a reply does not
    /// decode, so that a hostile server cannot fill its client's space
    /// with capabilities attached to replies the client cannot use. (A
    /// refusal carries none: the kernel refuses capabilities in a reply
    /// that is not an `Ok`.) The default does nothing, for transports that
    /// translate no capabilities.
    fn discard_fresh_caps(&mut self) {}
}

// SAFETY: forwards to a transport that upholds the contract.
unsafe impl<T: Transport + ?Sized> Transport for &mut T {
    #[inline]
    fn utcb(&mut self) -> NonNull<Utcb> {
        (**self).utcb()
    }

    #[inline]
    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        (**self).call(capability)
    }

    #[inline]
    fn discard_fresh_caps(&mut self) {
        (**self).discard_fresh_caps();
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

/// Client side of one RPC: marshal `arguments` with `label`, call, and
/// decode the reply as `Result<R, E>`. Transport failures and malformed
/// replies become `E::from(TransportError)`.
#[inline]
pub fn call<T, A, R, E>(
    transport: &mut T,
    capability: CapSel,
    label: usize,
    arguments: &A,
) -> Result<R, E>
where
    T: Transport + ?Sized,
    A: Marshal,
    R: Marshal,
    E: RpcError,
{
    let utcb = transport.utcb();
    {
        // SAFETY: the transport's contract: the calling thread's UTCB, not
        // referenced elsewhere; this borrow ends before the call.
        let mut writer = Writer::new(unsafe { &mut *utcb.as_ptr() });
        arguments.marshal(&mut writer);
        writer.finish(label).map_err(|error| E::from(error.into()))?;
    }
    transport.call(capability)?;
    // SAFETY: as above; the call is over, the kernel no longer writes it.
    let reply = unsafe { &*utcb.as_ptr() };
    let code = reply.error;
    let decoded = match code {
        0 => {
            // `Result::<R, E>::unmarshal`, with the check below on its `Err`
            // arm alone (an `Ok` reply pays nothing for it).
            let mut reader = Reader::new(reply);
            let result = match reader.pop_word() {
                Ok(0) => R::unmarshal(&mut reader).map(Ok),
                Ok(1) => E::unmarshal(&mut reader).map(|error| Err(unforged(error))),
                Ok(_) => Err(MessageError::InvalidValue),
                Err(error) => Err(error),
            };
            result.and_then(|result| reader.finish().map(|()| result))
        }
        // An error reply (its code goes to `failed_reply`).
        _ => Err(MessageError::InvalidValue),
    };
    match decoded {
        Ok(result) => result,
        Err(error) => Err(E::from(failed_reply(transport, code, error))),
    }
}

/// A server's own transport errors travel as `Forwarded` (see
/// `serve_method`); any other in a reply's words was written by a server
/// that bypassed it, and must not pass for the kernel's (`ServerDead`,
/// `InvalidCapability`, ...): it reaches the client as `Forwarded` too.
#[inline]
fn unforged<E: RpcError>(error: E) -> E {
    match error.transport_error() {
        Some(transport) if transport != TransportError::Forwarded => forwarded::<E>(),
        _ => error,
    }
}

/// A reply the stub cannot use (kept out of the call path): an error reply
/// (`code` non-zero) is its transport error; one that does not decode
/// (`code` 0) is `error`, and the capabilities it brought are not kept.
#[cold]
#[inline(never)]
fn failed_reply<T: Transport + ?Sized>(
    transport: &mut T,
    code: u32,
    error: MessageError,
) -> TransportError {
    if code != 0 {
        return TransportError::from_code(code).unwrap_or(TransportError::InvalidValue);
    }
    transport.discard_fresh_caps();
    error.into()
}

/// An interface's error type: a declared enum that can also carry the
/// [`TransportError`]s the client stub reports.
///
/// The kernel's failures and the server's answers must stay apart in the
/// client's `Result`: a server method that returns a transport error (for
/// example one of its own nested calls failed and it passed the error on
/// with `?`) is answered as [`TransportError::Forwarded`], so a client
/// that sees `ServerDead` knows that the object *it* called is gone.
/// [`crate::rpc_error!`] implements this trait and `From<TransportError>`
/// for an enum with a transport variant.
pub trait RpcError: Marshal + From<TransportError> {
    /// The transport error this value carries, if it is one.
    fn transport_error(&self) -> Option<TransportError>;
}

/// Server side of an interface: decode the method named by `label`, run
/// it on `server`, and write the reply into the same UTCB.
///
/// Implemented by [`crate::interface!`] for `dyn Trait`; an interface
/// hands the labels of its base to the base's implementation.
pub trait Serve<S: ?Sized>: Interface {
    /// Handles one request. On `Err` nothing useful was written and the
    /// caller ([`dispatch`]) turns the error into an error reply.
    ///
    /// # Safety
    ///
    /// `utcb` is the running thread's UTCB, valid for reads and writes,
    /// with no reference to it live (the method may make calls of its own
    /// through the same UTCB).
    unsafe fn serve(server: &mut S, label: usize, utcb: NonNull<Utcb>) -> Result<(), MessageError>;
}

/// Server side of one method: decode the arguments (the whole message,
/// exactly), call `method`, marshal its result as the reply.
///
/// # Safety
///
/// As for [`Serve::serve`].
#[inline]
pub unsafe fn serve_method<A, R, E>(
    utcb: NonNull<Utcb>,
    method: impl FnOnce(A) -> Result<R, E>,
) -> Result<(), MessageError>
where
    A: Marshal,
    R: Marshal,
    E: RpcError,
{
    let arguments = {
        // SAFETY: the caller's contract; the borrow ends before the method
        // runs (it may call other servers through this UTCB).
        let mut reader = Reader::new(unsafe { &*utcb.as_ptr() });
        let arguments = A::unmarshal(&mut reader)?;
        reader.finish()?;
        arguments
    };
    let result = match method(arguments) {
        Err(error) if error.transport_error().is_some() => Err(forwarded::<E>()),
        result => result,
    };
    // SAFETY: as above; whatever the method's own calls left in the UTCB
    // (an error code among it) is overwritten by the reply.
    let mut writer = Writer::new(unsafe { &mut *utcb.as_ptr() });
    result.marshal(&mut writer);
    writer.finish_reply()
}

/// A server's own transport error, as its caller sees it.
#[cold]
fn forwarded<E: RpcError>() -> E {
    E::from(TransportError::Forwarded)
}

/// Serves the request in `utcb` with `server` as interface `I` and leaves
/// the reply in `utcb`. Never panics on any UTCB contents: an unknown
/// label, a label of another interface or a malformed request gets an
/// error reply (no words, `error` set), and the server stays ready for the
/// next request.
///
/// # Safety
///
/// As for [`Serve::serve`].
pub unsafe fn dispatch<I, S>(server: &mut S, utcb: NonNull<Utcb>)
where
    I: ?Sized + Serve<S>,
    S: ?Sized,
{
    // SAFETY: the caller's contract; a copy of one word.
    let label = unsafe { (*utcb.as_ptr()).label };
    // SAFETY: forwarded contract.
    if let Err(error) = unsafe { I::serve(server, label, utcb) } {
        // SAFETY: as above; the method (if any ran) has returned.
        write_error_reply(unsafe { &mut *utcb.as_ptr() }, error.into());
    }
}

/// How an entrypoint serves one delivered request: dispatches it to
/// `target` (`None`: the object was dissolved after delivery; answered
/// `ServerDead`) and, if the request was refused, gives back each
/// capability the delivery added to the server's space.
///
/// A method that keeps a capability it was sent must succeed; one that
/// refuses a request keeps none of them. So when the reply is not an `Ok`
/// (an error reply: the request did not decode or named no method; or the
/// method's `Err`), the capabilities the request brought
/// ([`Utcb::fresh_caps`]) are dropped with `drop`, and a client cannot
/// fill a server's capability space with requests that fail.
/// Capabilities the server held before are left alone, and so is a slot
/// whose `entry` changed while the method ran (the method dropped what it
/// was sent and the slot was filled again). A request that brings none
/// (the common case) costs one test more than [`Dispatch::dispatch`].
///
/// # Safety
///
/// As for [`Serve::serve`]; `target` is dispatched by this thread only.
#[inline(always)]
pub unsafe fn serve_request<E: PartialEq>(
    target: Option<&mut dyn Dispatch>,
    utcb: NonNull<Utcb>,
    entry: impl FnMut(CapSel) -> E,
    drop: impl FnMut(CapSel),
) {
    // SAFETY: the caller's contract; a copy of a word or two.
    let fresh = unsafe { (*utcb.as_ptr()).fresh_caps() };
    if fresh != 0 {
        // SAFETY: forwarded contract.
        return unsafe { serve_with_fresh_caps(target, utcb, fresh, entry, drop) };
    }
    match target {
        // SAFETY: forwarded contract.
        Some(target) => unsafe { target.dispatch(utcb) },
        None => reply_object_gone(utcb),
    }
}

/// [`serve_request`] for a request that brought capabilities (`fresh`).
///
/// # Safety
///
/// As for [`serve_request`].
#[cold]
unsafe fn serve_with_fresh_caps<E: PartialEq>(
    target: Option<&mut dyn Dispatch>,
    utcb: NonNull<Utcb>,
    fresh: u32,
    mut entry: impl FnMut(CapSel) -> E,
    mut drop: impl FnMut(CapSel),
) {
    // SAFETY: the caller's contract; a copy, before the reply overwrites it.
    let received = unsafe { (*utcb.as_ptr()).caps };
    let mut delivered: [Option<E>; MSG_CAPS] = [const { None }; MSG_CAPS];
    for (index, before) in delivered.iter_mut().enumerate() {
        if fresh & (1 << index) != 0 {
            *before = Some(entry(received[index]));
        }
    }
    match target {
        // SAFETY: forwarded contract.
        Some(target) => unsafe { target.dispatch(utcb) },
        None => reply_object_gone(utcb),
    }
    // SAFETY: as above; the method has returned.
    if unsafe { (*utcb.as_ptr()).is_ok_reply() } {
        return;
    }
    for (&selector, before) in received.iter().zip(delivered) {
        if before.is_some_and(|before| entry(selector) == before) {
            drop(selector);
        }
    }
}

/// The request's object was dissolved between delivery and dispatch.
#[cold]
fn reply_object_gone(utcb: NonNull<Utcb>) {
    // SAFETY: the entrypoint's own UTCB, no other reference live.
    write_error_reply(unsafe { &mut *utcb.as_ptr() }, TransportError::ServerDead);
}

/// Writes `result` as the reply in `utcb`, as a method's reply is written
/// (the error code cleared). A reply written past the end of the UTCB
/// (only a `Marshal` implementation whose size constants lie) becomes the
/// error reply the dispatcher sends for it, so the caller is always
/// answered. What a server sends a deferred reply with.
pub fn write_reply<T: Marshal>(utcb: &mut Utcb, result: &T) {
    let mut writer = Writer::new(utcb);
    result.marshal(&mut writer);
    if let Err(error) = writer.finish_reply() {
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
    ///
    /// # Safety
    ///
    /// As for [`Serve::serve`].
    unsafe fn dispatch(&mut self, utcb: NonNull<Utcb>);
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
    unsafe fn dispatch(&mut self, utcb: NonNull<Utcb>) {
        // SAFETY: forwarded contract.
        unsafe { dispatch::<I, S>(&mut self.server, utcb) };
    }
}
