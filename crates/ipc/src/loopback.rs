//! A host transport that plays the kernel: copies messages between UTCBs and dispatches.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::capability::{CapSel, Capability};
use crate::error::TransportError;
use crate::rpc::{Dispatch, RpcObject, Serve, Transport};
use crate::utcb::Utcb;

/// What a selector designates in the [`Loopback`]'s capability space.
enum Slot<'a> {
    Empty,
    Live(&'a mut dyn Dispatch),
    Revoked,
}

/// Stale contents of the server's UTCB before each request, so that a
/// server reading words it was not sent reads garbage, as it would on a
/// real kernel that copies only the used words.
const STALE_WORD: usize = 0x5a5a_5a5a;

/// The kernel's IPC path on the host, for tests: one client thread (its
/// UTCB lent to the loopback for its life), up to `N` RPC objects served
/// by one server UTCB.
///
/// A call checks the capability, copies the header and exactly the used
/// words and capabilities into the server UTCB (checking that every
/// capability sent is valid), dispatches, and copies the reply back the
/// same way. All components share one capability space here, so
/// "translation" keeps selectors unchanged.
pub struct Loopback<'a, const N: usize> {
    /// The client's UTCB, reached only through this one pointer, made from
    /// the borrow `new` was lent: the pointer [`Transport::utcb`] hands out
    /// is a copy of it, so it stays valid across [`Transport::call`] as the
    /// transport's contract asks. (A UTCB inside the loopback would be
    /// reborrowed with the loopback at each call, which ends the pointers
    /// handed out before it.)
    client: NonNull<Utcb>,
    server: Utcb,
    objects: [Slot<'a>; N],
    calls: usize,
    _client: PhantomData<&'a mut Utcb>,
}

impl<'a, const N: usize> Loopback<'a, N> {
    /// A loopback with no objects, for the client thread whose UTCB is
    /// `client`.
    pub fn new(client: &'a mut Utcb) -> Self {
        Self {
            client: NonNull::from(client),
            server: Utcb::new(),
            objects: core::array::from_fn(|_| Slot::Empty),
            calls: 0,
            _client: PhantomData,
        }
    }

    /// Serves `object` and returns its capability (Genode's
    /// `Rpc_entrypoint::manage`), or `None` when all `N` slots are taken.
    pub fn manage<I, S>(&mut self, object: &'a mut RpcObject<I, S>) -> Option<Capability<I>>
    where
        I: ?Sized + Serve<S>,
    {
        self.manage_dispatch(object).map(Capability::from_selector)
    }

    /// Serves an untyped `object`; returns its selector.
    pub fn manage_dispatch(&mut self, object: &'a mut dyn Dispatch) -> Option<CapSel> {
        let index = self.objects.iter().position(|slot| matches!(slot, Slot::Empty))?;
        self.objects[index] = Slot::Live(object);
        Some(CapSel(index as u32))
    }

    /// Revokes the object behind `selector`: later calls fail with
    /// [`TransportError::ServerDead`].
    pub fn dissolve(&mut self, selector: CapSel) {
        if let Some(slot) = self.objects.get_mut(selector.0 as usize) {
            *slot = Slot::Revoked;
        }
    }

    /// The server's UTCB as the last request left it (the reply).
    pub fn server_utcb(&self) -> &Utcb {
        &self.server
    }

    /// Requests that reached a server.
    pub fn calls(&self) -> usize {
        self.calls
    }

    fn check_caps(&self, utcb: &Utcb) -> Result<(), TransportError> {
        let caps = utcb.used_caps().ok_or(TransportError::WrongLength)?;
        for selector in caps {
            if !selector.is_valid() {
                continue;
            }
            match self.objects.get(selector.0 as usize) {
                Some(Slot::Live(_)) | Some(Slot::Revoked) => {}
                _ => return Err(TransportError::InvalidCapability),
            }
        }
        Ok(())
    }
}

// SAFETY: the client UTCB is lent to the loopback for its life and
// reached only through `client`, whose copies the stubs get: valid for as
// long as the loopback exists, and referenced by the loopback itself only
// inside `call`.
unsafe impl<const N: usize> Transport for Loopback<'_, N> {
    fn utcb(&mut self) -> NonNull<Utcb> {
        self.client
    }

    fn call(&mut self, capability: CapSel) -> Result<(), TransportError> {
        match self.objects.get(capability.0 as usize) {
            Some(Slot::Live(_)) => {}
            Some(Slot::Revoked) => return Err(TransportError::ServerDead),
            Some(Slot::Empty) | None => return Err(TransportError::InvalidCapability),
        }
        // SAFETY: the lent UTCB; the stub holds no reference to it across
        // the call (the transport's contract), and this one ends before the
        // dispatch.
        let client = unsafe { self.client.as_ref() };
        self.check_caps(client)?;
        self.server.words = [STALE_WORD; crate::MSG_WORDS];
        self.server.caps = [CapSel(STALE_WORD as u32); crate::MSG_CAPS];
        self.server.copy_message_from(client)?;
        // As the kernel does: the badge names the object, and a request
        // carries no error code.
        self.server.badge = capability.0 as usize;
        self.server.error = 0;
        if let Some(Slot::Live(object)) = self.objects.get_mut(capability.0 as usize) {
            // SAFETY: the server UTCB is the loopback's own and no reference
            // to it is live; the object cannot reach the loopback (it is
            // borrowed mutably here).
            unsafe { object.dispatch(NonNull::from(&mut self.server)) };
        }
        self.calls += 1;
        self.check_caps(&self.server)?;
        // SAFETY: as above; the server's dispatch is over.
        unsafe { self.client.as_mut() }.copy_message_from(&self.server)
    }
}
