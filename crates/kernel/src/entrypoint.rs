//! Entrypoints (server threads serving RPC objects) and the kernel
//! transport that client stubs call through.

use core::marker::PhantomData;
use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Capability, Dispatch, Interface, Transport, TransportError, Utcb, write_error_reply};

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
        let thread = kernel.spawn(component, name, priority, stack, utcb, entrypoint_main::<A>, argument)?;
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

    /// Lets the entrypoint serve `object` (an `RpcObject<dyn I, S>`) and
    /// returns a capability for it in the entrypoint's component.
    pub fn manage<I, O>(&self, object: &'static mut O) -> Result<Capability<I>, KernelError>
    where
        I: ?Sized + Interface,
        O: Dispatch + 'static,
    {
        let object: NonNull<dyn Dispatch> = NonNull::from(object as &mut dyn Dispatch);
        let (_, selector) = self.kernel.create_object(self.thread, object, self.component)?;
        Ok(Capability::from_selector(selector))
    }

    /// Revokes the object `capability` designates: every capability to it,
    /// in every component, fails with `ServerDead` from now on.
    pub fn dissolve<I: ?Sized>(&self, capability: Capability<I>) -> Result<(), KernelError> {
        self.kernel.revoke(self.component, capability.selector())
    }
}

extern "C" fn entrypoint_main<A: Arch + 'static>(kernel: usize) -> ! {
    // SAFETY: `Entrypoint::new` passes a `&'static Kernel<A>` as the argument.
    let kernel = unsafe { &*(kernel as *const Kernel<A>) };
    let utcb = kernel.current_utcb();
    let mut object = kernel.wait();
    loop {
        // SAFETY: the running thread's own UTCB; the kernel does not touch
        // it until the next kernel call below.
        let utcb = unsafe { &mut *utcb };
        match object {
            // SAFETY: objects are `&'static mut` handed to `manage`, used
            // only by this entrypoint thread, one request at a time.
            Some(mut target) => unsafe { target.as_mut().dispatch(utcb) },
            None => reply_object_gone(utcb),
        }
        object = kernel.reply_and_wait();
    }
}

/// The request's object was dissolved between delivery and dispatch.
#[cold]
fn reply_object_gone(utcb: &mut Utcb) {
    write_error_reply(utcb, TransportError::ServerDead);
}

/// The transport client stubs use: the UTCB of the thread that made it
/// and [`Kernel::call`]. It belongs to that thread (it is neither `Send`
/// nor `Sync`, like the UTCB it points to).
pub struct KernelTransport<A: 'static> {
    kernel: &'static Kernel<A>,
    utcb: *mut Utcb,
    arch: PhantomData<fn() -> A>,
}

impl<A: Arch> KernelTransport<A> {
    /// A transport for the calling thread.
    pub fn new(kernel: &'static Kernel<A>) -> Self {
        Self { kernel, utcb: kernel.current_utcb(), arch: PhantomData }
    }
}

impl<A: Arch> Clone for KernelTransport<A> {
    fn clone(&self) -> Self {
        Self { kernel: self.kernel, utcb: self.utcb, arch: PhantomData }
    }
}

impl<A: Arch> Transport for KernelTransport<A> {
    #[inline]
    fn utcb(&mut self) -> &mut Utcb {
        // SAFETY: the UTCB of the thread that made this transport (which is
        // not `Send`, so that thread is the caller); the stub drops this
        // borrow before `call` (the kernel writes the UTCB only during a call).
        unsafe { &mut *self.utcb }
    }

    /// Always `Ok`: the kernel reports failures as error replies in the
    /// UTCB, which the stub reads like any other reply.
    #[inline(always)]
    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        self.kernel.call(capability);
        Ok(())
    }
}
