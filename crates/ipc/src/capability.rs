//! Capability selectors and typed capabilities.

use core::fmt;
use core::marker::PhantomData;

/// An index into a component's capability space.
///
/// A selector only means something in the space of the component that holds
/// it; the kernel translates selectors carried in a message into the
/// receiver's space.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CapSel(pub u32);

impl CapSel {
    /// The selector that designates nothing; calls through it fail with
    /// [`crate::TransportError::InvalidCapability`].
    pub const INVALID: CapSel = CapSel(u32::MAX);

    /// Whether this is not [`CapSel::INVALID`].
    #[inline]
    pub const fn is_valid(self) -> bool {
        self.0 != Self::INVALID.0
    }
}

/// An RPC interface, implemented by [`crate::interface!`] for `dyn Trait`.
///
/// # Labels
///
/// A request's label names the method *and* the interface that declares
/// it: `ID << 16 | position`, the position counted in the declaring trait.
/// (The identity sits in the upper half so that a label is two immediate
/// operands on ARM and one `lui` on RISC-V: the dispatcher's check costs
/// one or two instructions.)
/// A derived interface's dispatcher serves its own labels and hands those
/// of its bases down; a label no interface of the object declares is
/// refused with [`crate::TransportError::WrongInterface`], so a capability
/// used as the wrong type fails before any method runs.
///
/// # Safety
///
/// [`caps_window`](Self::caps_window) is run by the kernel inside its
/// operations, with interrupts masked, on whichever thread makes the IPC:
/// the client's thread for a request, with the client's authority. It
/// must be a pure function of its arguments, as [`crate::interface!`]
/// writes it: no kernel calls, no side effects, no blocking, no panic,
/// and the same answer every time. A server that could give it another
/// body could act with its clients' capabilities and re-enter the
/// kernel; so an implementation by hand is `unsafe`, and `interface!`
/// is the safe way to one.
pub unsafe trait Interface {
    /// The trait's name, for diagnostics.
    const NAME: &'static str;
    /// The interface's identity: a 16-bit hash of its module path and
    /// name, never 0. (Two interfaces that hash alike would not be told
    /// apart by the label check; the test suite checks that the project's
    /// own interfaces differ.)
    const ID: u32;
    /// Methods this trait declares itself (not counting inherited ones).
    const METHODS: usize;

    /// The receive window for the method `label` names: how many
    /// capabilities its arguments (`reply` false) or its reply (`reply`
    /// true) may carry; 0 for a label of no method of this interface. The
    /// kernel refuses messages that carry more, before changing anything.
    fn caps_window(label: usize, reply: bool) -> usize;
}

/// The label of method `position` (counted in its declaring trait) of `I`.
#[inline(always)]
pub const fn label<I: ?Sized + Interface>(position: usize) -> usize {
    ((I::ID as usize) << 16) | position
}

/// A 16-bit FNV-1a hash of `name` (folded), never 0: how
/// [`Interface::ID`]s are made from an interface's module path and name.
pub const fn interface_id(name: &str) -> u32 {
    let bytes = name.as_bytes();
    let mut hash: u32 = 0x811c_9dc5;
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        index += 1;
    }
    let id = (hash >> 16) ^ (hash & 0xffff);
    if id == 0 { 1 } else { id }
}

/// `Self` is `B` or derives from it: a capability for `Self` may be used as
/// a capability for `B`. Implemented by [`crate::interface!`] for the
/// interface itself and for each listed base interface.
pub trait Inherits<B: ?Sized> {}

/// A capability for an RPC object implementing interface `I` (`dyn Trait`).
///
/// It is a selector plus a type: it can be copied, compared, sent in a
/// message (it then travels in a capability slot, not in the words) and
/// converted to a base interface with [`Capability::upcast`].
pub struct Capability<I: ?Sized> {
    selector: CapSel,
    interface: PhantomData<fn(&I)>,
}

impl<I: ?Sized> Capability<I> {
    /// Wraps a selector that the caller knows designates an `I` object
    /// (the entrypoint that manages the object, or a test).
    #[inline]
    pub const fn from_selector(selector: CapSel) -> Self {
        Self { selector, interface: PhantomData }
    }

    /// The capability that designates nothing.
    #[inline]
    pub const fn invalid() -> Self {
        Self::from_selector(CapSel::INVALID)
    }

    /// The selector in the holder's capability space.
    #[inline]
    pub const fn selector(self) -> CapSel {
        self.selector
    }

    /// Whether this is not [`Capability::invalid`].
    #[inline]
    pub const fn is_valid(self) -> bool {
        self.selector.is_valid()
    }

    /// The same capability seen through base interface `B`
    /// (Genode's `Capability<Derived>` to `Capability<Base>`).
    #[inline]
    pub const fn upcast<B: ?Sized>(self) -> Capability<B>
    where
        I: Inherits<B>,
    {
        Capability::from_selector(self.selector)
    }
}

impl<I: ?Sized> Clone for Capability<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: ?Sized> Copy for Capability<I> {}

impl<I: ?Sized> PartialEq for Capability<I> {
    fn eq(&self, other: &Self) -> bool {
        self.selector == other.selector
    }
}

impl<I: ?Sized> Eq for Capability<I> {}

impl<I: ?Sized> fmt::Debug for Capability<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Capability({})", self.selector.0)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use super::{CapSel, Capability, interface_id};

    #[test]
    fn interface_ids_fold_the_name_s_32_bit_fnv_1a_hash() {
        // FNV-1a of "" is 0x811c_9dc5, of "a" 0xe40c_292c, of "foobar"
        // 0xbf9c_f968 (the published test vectors); the id is the two
        // halves exclusive-ored.
        assert_eq!(interface_id(""), 0x811c ^ 0x9dc5);
        assert_eq!(interface_id("a"), 0xe40c ^ 0x292c);
        assert_eq!(interface_id("foobar"), 0xbf9c ^ 0xf968);
    }

    #[test]
    fn an_interface_id_is_never_zero() {
        // "id110210" hashes to 0x3629_3629, whose halves cancel.
        assert_eq!(interface_id("id110210"), 1);
    }

    #[test]
    fn capabilities_are_their_selectors_and_say_so() {
        let some = Capability::<()>::from_selector(CapSel(7));
        assert!(some.is_valid());
        assert!(CapSel(0).is_valid());
        assert!(!Capability::<()>::invalid().is_valid());
        assert_eq!(some, Capability::from_selector(CapSel(7)));
        assert_ne!(some, Capability::from_selector(CapSel(8)));
        assert_ne!(some, Capability::invalid());
        assert_eq!(format!("{some:?}"), "Capability(7)");
    }
}
