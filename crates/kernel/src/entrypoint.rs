//! Entrypoints (server threads serving RPC objects) and the kernel
//! transport that client stubs call through.

use core::marker::PhantomData;
use core::ptr::NonNull;

use ferrode_ipc::{
    CapSel, Capability, Dispatch, Marshal, RpcError, RpcObject, Serve, Transport, TransportError,
    Utcb, fits_in_message, write_reply,
};

use crate::arch::Arch;
use crate::error::KernelError;
use crate::ids::{ComponentId, ThreadId};
use crate::kernel::Kernel;

/// A server thread of a component, looping in reply-and-wait and
/// dispatching each request to the RPC object it was sent to. A handle:
/// copies designate the same entrypoint (a server may keep one to manage
/// objects it creates while serving).
pub struct Entrypoint<A: 'static> {
    kernel: &'static Kernel<A>,
    thread: ThreadId,
    component: ComponentId,
}

impl<A> Clone for Entrypoint<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Entrypoint<A> {}

impl<A: Arch> Entrypoint<A> {
    /// Starts an entrypoint thread in `component`.
    pub fn new(
        kernel: &'static Kernel<A>,
        component: ComponentId,
        name: &'static str,
        priority: u8,
        stack: &'static mut [u8],
        utcb: &'static mut Utcb,
    ) -> Result<Self, KernelError> {
        let argument = kernel as *const Kernel<A> as usize;
        let thread =
            kernel.spawn(component, name, priority, stack, utcb, entrypoint_main::<A>, argument)?;
        Ok(Self { kernel, thread, component })
    }

    /// The entrypoint's thread.
    pub fn thread(&self) -> ThreadId {
        self.thread
    }

    /// The component the entrypoint serves in.
    pub fn component(&self) -> ComponentId {
        self.component
    }

    /// Lets the entrypoint serve `object` as interface `I` and returns a
    /// capability for it in the running component's space. The object is
    /// owned by the entrypoint's component; the kernel learns `I`'s
    /// receive windows, and a call through a capability used as another
    /// interface is refused (`WrongInterface`) before any method runs.
    pub fn manage<I, S>(
        &self,
        object: &'static mut RpcObject<I, S>,
    ) -> Result<Capability<I>, KernelError>
    where
        I: ?Sized + Serve<S> + 'static,
        S: 'static,
    {
        let object: NonNull<dyn Dispatch> = NonNull::from(object as &mut dyn Dispatch);
        // SAFETY: a `&'static mut` given up to the kernel, dispatched only
        // by this entrypoint's thread; the windows are `I`'s own.
        let (_, selector) = unsafe {
            self.kernel.create_object(
                self.thread,
                object,
                <I as ferrode_ipc::Interface>::caps_window,
            )?
        };
        Ok(Capability::from_selector(selector))
    }

    /// Dissolves the object `capability` designates: every capability to
    /// it, in every component, fails with `ServerDead` from now on. Only
    /// the owner may ([`KernelError::NotOwner`] otherwise); the entrypoint
    /// handle itself is no authority.
    pub fn dissolve<I: ?Sized>(&self, capability: Capability<I>) -> Result<(), KernelError> {
        self.kernel.revoke(capability.selector())
    }
}

/// The right to answer a request later, typed by the method's reply
/// (`Result<T, E>`): what a server that must block its client without
/// blocking itself (a timer, a terminal) keeps. Made by
/// [`defer_reply`]; answered with [`DeferredReply::reply`] from any thread
/// of the same component. Dropping it without replying leaves the caller
/// blocked until the capability is dropped from the kernel
/// ([`DeferredReply::abandon`]) or the component dies: then it gets
/// `ServerDead`.
#[must_use = "the caller stays blocked until this is answered or abandoned"]
pub struct DeferredReply<T, E> {
    selector: CapSel,
    reply: PhantomData<fn(Result<T, E>)>,
}

/// Keeps the reply to the request the running thread serves for later
/// (call it inside a server method; what the method then returns is not
/// sent). `Result<T, E>` must fit in a UTCB, and `E` carry no
/// capabilities, as for a method's reply (checked at build time).
pub fn defer_reply<A: Arch, T: Marshal, E: RpcError>(
    kernel: &'static Kernel<A>,
) -> Result<DeferredReply<T, E>, KernelError> {
    const {
        assert!(
            fits_in_message::<Result<T, E>>(),
            "DeferredReply: the reply could exceed the UTCB (64 words, 4 capabilities)"
        );
        assert!(
            E::MAX_CAPS == 0,
            "DeferredReply: its error type carries capabilities (a refusal carries none)"
        );
    };
    Ok(DeferredReply { selector: kernel.defer_reply()?, reply: PhantomData })
}

impl<T: Marshal, E: RpcError> DeferredReply<T, E> {
    /// Sends `result` to the waiting caller. Should the reply not fit
    /// after all (a `Marshal` implementation whose size constants lie),
    /// the caller gets the error reply a method's would bring
    /// (`PayloadTooLarge`) instead of waiting on.
    pub fn reply<A: Arch>(
        self,
        kernel: &'static Kernel<A>,
        result: Result<T, E>,
    ) -> Result<(), KernelError> {
        // SAFETY: the running thread's own UTCB, borrowed for this
        // marshalling only (nothing else of this thread runs meanwhile).
        write_reply(unsafe { &mut *kernel.current_utcb() }, &result);
        kernel.reply_deferred(self.selector)
    }

    /// Gives up: the caller gets `ServerDead`.
    pub fn abandon<A: Arch>(self, kernel: &'static Kernel<A>) -> Result<(), KernelError> {
        kernel.drop_capability(self.selector)
    }
}

extern "C" fn entrypoint_main<A: Arch + 'static>(kernel: usize) -> ! {
    // SAFETY: `Entrypoint::new` passes a `&'static Kernel<A>` as the argument.
    let kernel = unsafe { &*(kernel as *const Kernel<A>) };
    let Some(utcb) = NonNull::new(kernel.current_utcb()) else { kernel.exit_current() };
    let mut object = kernel.wait();
    loop {
        // SAFETY: objects are `&'static mut` handed to `manage`, used only
        // by this entrypoint thread, one request at a time; the UTCB is
        // this thread's own, with no reference to it live (the dispatcher
        // borrows it only around decoding and encoding, so the method may
        // make calls of its own through it).
        unsafe { serve_request(kernel, object, utcb) };
        object = kernel.reply_and_wait();
    }
}

/// Serves one delivered request on the running thread (an entrypoint's,
/// or the composer's): dispatches it to `object` (`None`: dissolved after
/// delivery, answered `ServerDead`) and, if it was refused, drops the
/// capabilities the delivery added to the component's space
/// ([`ferrode_ipc::serve_request`]).
///
/// # Safety
///
/// `object` is dispatched by the running thread only, one request at a
/// time; `utcb` is that thread's UTCB with no reference to it live.
#[inline(always)]
pub unsafe fn serve_request<A: Arch>(
    kernel: &'static Kernel<A>,
    object: Option<NonNull<dyn Dispatch>>,
    utcb: NonNull<Utcb>,
) {
    // SAFETY: forwarded contract: the object is the running thread's to
    // dispatch, and no other reference to it is live.
    let target = object.map(|mut object| unsafe { object.as_mut() as &mut dyn Dispatch });
    // SAFETY: forwarded contract.
    unsafe {
        ferrode_ipc::serve_request(
            target,
            utcb,
            |selector| kernel.capability(kernel.current_component(), selector),
            |selector| {
                // A slot the delivery filled and that still holds what it
                // brought: dropping it cannot fail.
                let _ = kernel.drop_capability(selector);
            },
        )
    };
}

/// The transport client stubs use: the UTCB of the thread that made it
/// and [`Kernel::call`]. It belongs to that thread (it is neither `Send`
/// nor `Sync`, like the UTCB it points to). Several stubs of one thread
/// each hold one; none of them holds a reference to the UTCB between
/// calls (see [`Transport`]), so they never alias a `&mut`.
pub struct KernelTransport<A: 'static> {
    kernel: &'static Kernel<A>,
    utcb: NonNull<Utcb>,
    arch: PhantomData<fn() -> A>,
}

impl<A: Arch> KernelTransport<A> {
    /// A transport for the calling thread.
    ///
    /// # Panics
    ///
    /// Before [`Kernel::init`] (there is no thread, hence no UTCB, yet).
    pub fn new(kernel: &'static Kernel<A>) -> Self {
        let utcb =
            NonNull::new(kernel.current_utcb()).expect("Ferrode kernel used before Kernel::init");
        Self { kernel, utcb, arch: PhantomData }
    }
}

// SAFETY: the UTCB of the thread that made this transport (which is not
// `Send`, so that thread is the caller): a `&'static mut Utcb` given to the
// kernel at spawn, which the kernel writes only inside `call`.
unsafe impl<A: Arch> Transport for KernelTransport<A> {
    #[inline]
    fn utcb(&mut self) -> NonNull<Utcb> {
        self.utcb
    }

    /// Always `Ok`: the kernel reports failures as error replies in the
    /// UTCB, which the stub reads like any other reply.
    #[inline(always)]
    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        self.kernel.call(capability);
        Ok(())
    }

    /// Drops what the last reply added: the slots were filled by that
    /// delivery and no other thread of this component knows them, so
    /// each still holds what the reply brought.
    fn discard_fresh_caps(&mut self) {
        // SAFETY: this thread's UTCB (see the impl's contract), copied out
        // before the kernel is entered again.
        let fresh = unsafe { self.utcb.as_ref() }.fresh_selectors();
        for selector in fresh {
            let _ = self.kernel.drop_capability(selector);
        }
    }
}
