//! Register access for memory-mapped devices: one style for every driver.
//!
//! A driver's `regs.rs` reads like the data sheet, in four parts:
//!
//! 1. **The block's layout**: a `#[repr(C)]` struct (`Regs`) with every
//!    register and reserved gap at its data-sheet offset, locked with
//!    `const _: () = assert!(offset_of!(Regs, field) == 0x..)`. The platform
//!    turns an address into a `volatile::VolatilePtr<Regs>` (its `unsafe`
//!    promise that the whole block is that device) and wraps it in
//!    [`Mmio`].
//! 2. **Register names**: an enum (`Register`) with a variant per register
//!    the driver uses (indexed registers carry their index), implementing
//!    [`RegisterName`] (the byte offset in `Regs`). It is the vocabulary the
//!    bus speaks: [`RegisterAccess`] reads and writes a named register as a
//!    32-bit word. [`Mmio`] implements it with one volatile access; host
//!    tests implement it with a *behavioural model* of the device (a FIFO
//!    that pops on read, write-1-to-clear status, counters that move), which
//!    is why the bus is a trait and not a pointer.
//! 3. **Named bit fields**: tock-registers'
//!    [`register_bitfields!`](crate::mmio::register_bitfields), in the data
//!    sheet's names (`FR::RXFE`, `CR::UARTEN::SET`, `LCR_H::WLEN.val(3)`).
//! 4. **Typed registers**: [`registers!`](crate::registers) declares the
//!    driver's accessor trait, one method per register giving its access
//!    right and its fields: `fn fr() -> ReadOnly<FR::Register> =
//!    Register::Fr;`. The method returns a [`Reg`], which implements
//!    tock-registers' [`Readable`] only for readable registers, [`Writeable`]
//!    only for writable ones (and so [`ReadWriteable::modify`] only for
//!    read-write ones), with fields of that register only: writing a
//!    read-only register, reading a write-only one or using another
//!    register's field does not compile. A register whose read pops a FIFO
//!    is declared with `&mut self` (`fn dr(&mut self) -> ReadWrite<..>`),
//!    so only a driver method holding `&mut` to its bus can pop it.
//!
//! Driver code is generic over its accessor trait (implemented for every
//! bus of that register enum) and reads
//! `self.regs.fr().is_set(FR::RXFE)`,
//! `self.regs.cr().write(CR::UARTEN::SET + CR::TXE::SET)`. It never calls
//! [`RegisterAccess`] itself: that is the bus's side, for [`Mmio`] and
//! models. Everything inlines: a register read on hardware is one load.
//!
//! Models either implement [`RegisterAccess`] with their own interior
//! mutability, or implement [`RegisterModel`] (`&mut self`, plain fields)
//! and are handed to the driver in a `RefCell`, which implements
//! [`RegisterAccess`] for them.
//!
//! Why not tock-registers' own `register_structs!`/`ReadWrite` types for the
//! memory side: they are reached through `&` references to device memory
//! and cannot be swapped for a model, so a driver written against them is
//! tested only against RAM, which has none of the side effects that matter.
//! Ferrode keeps tock-registers' field and interface half (its well-known
//! `Readable`/`Writeable` vocabulary) and puts the bus underneath.

use core::cell::RefCell;
use core::marker::PhantomData;

pub use tock_registers::fields::{Field, FieldValue};
pub use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
pub use tock_registers::{LocalRegisterCopy, RegisterLongName, register_bitfields};
use volatile::VolatilePtr;

/// 32-bit access to a device's registers, named by the driver's register
/// enum `R`: [`Mmio`] on hardware, a behavioural model in tests. Drivers
/// reach registers through their typed accessors ([`registers!`](crate::registers)),
/// not through this trait.
pub trait RegisterAccess<R> {
    /// Reads `register`, with its side effects.
    fn read(&self, register: R) -> u32;
    /// Writes `value` to `register`, with its side effects.
    fn write(&self, register: R, value: u32);
}

impl<R, T: RegisterAccess<R> + ?Sized> RegisterAccess<R> for &T {
    #[inline]
    fn read(&self, register: R) -> u32 {
        (**self).read(register)
    }

    #[inline]
    fn write(&self, register: R, value: u32) {
        (**self).write(register, value)
    }
}

/// A behavioural model of a register block written with `&mut self` and
/// plain fields; `RefCell<Model>` is then a [`RegisterAccess`] bus.
pub trait RegisterModel<R> {
    /// Reads `register`, with its side effects.
    fn read(&mut self, register: R) -> u32;
    /// Writes `value` to `register`, with its side effects.
    fn write(&mut self, register: R, value: u32);
}

impl<R, M: RegisterModel<R>> RegisterAccess<R> for RefCell<M> {
    fn read(&self, register: R) -> u32 {
        self.borrow_mut().read(register)
    }

    fn write(&self, register: R, value: u32) {
        self.borrow_mut().write(register, value)
    }
}

/// A register name of a memory-mapped block: where it sits in `Block`.
pub trait RegisterName: Copy {
    /// The block's `#[repr(C)]` layout.
    type Block;
    /// Byte offset of the register from the block's base.
    fn offset(self) -> usize;
}

/// A memory-mapped register block: the bus [`RegisterAccess`] on hardware,
/// for every register name of `Block`.
pub struct Mmio<'a, Block> {
    regs: VolatilePtr<'a, Block>,
}

impl<Block> Clone for Mmio<'_, Block> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Block> Copy for Mmio<'_, Block> {}

// SAFETY: an `Mmio` is a handle to device registers outside Rust's memory,
// which the platform gave to the handle's owner (the `unsafe` that built
// the `VolatilePtr`); moving that owner to another thread moves the device
// with it. It is not `Sync`: sharing one handle between threads is the
// owner's decision, made with a lock (a critical section).
unsafe impl<Block> Send for Mmio<'_, Block> {}

impl<Block> core::fmt::Debug for Mmio<'_, Block> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Mmio").field(&self.regs.as_raw_ptr()).finish()
    }
}

impl<'a, Block> Mmio<'a, Block> {
    /// Wraps the register block the platform mapped.
    pub const fn new(regs: VolatilePtr<'a, Block>) -> Self {
        Self { regs }
    }

    /// The word at byte `offset`.
    ///
    /// # Panics
    /// If `offset` is not a whole word inside `Block` (a driver's register
    /// name computed a bad index); constant offsets fold the check away.
    #[inline]
    fn word(&self, offset: usize) -> *mut u32 {
        const { assert!(align_of::<Block>() >= 4, "a register block is word-aligned") };
        assert!(
            offset.is_multiple_of(4) && offset + 4 <= size_of::<Block>(),
            "register offset outside its block"
        );
        self.regs.as_raw_ptr().as_ptr().cast::<u8>().wrapping_add(offset).cast::<u32>()
    }
}

impl<R: RegisterName> RegisterAccess<R> for Mmio<'_, R::Block> {
    #[inline]
    fn read(&self, register: R) -> u32 {
        let word = self.word(register.offset());
        // SAFETY: `word` is a whole, aligned word inside the block, and the
        // platform that built the `VolatilePtr` vouched that the whole block
        // is this device's registers, valid for volatile access for 'a.
        unsafe { word.read_volatile() }
    }

    #[inline]
    fn write(&self, register: R, value: u32) {
        let word = self.word(register.offset());
        // SAFETY: as in `read`.
        unsafe { word.write_volatile(value) }
    }
}

/// A register block in host memory, for a driver's host test of its
/// memory-mapped access ([`Mmio`]): does each register name reach its
/// data-sheet offset? The driver reaches the block through the
/// [`VolatilePtr`] [`RamBlock::view`] gives; the test reads and writes its
/// words at byte offsets ([`RamBlock::peek`], [`RamBlock::poke`]). Both go
/// through one raw pointer, so neither aliases a reference of the other.
pub struct RamBlock {
    base: core::ptr::NonNull<u32>,
    words: usize,
}

impl RamBlock {
    /// The block over `words`, which the test gives up for it (a zeroed,
    /// leaked allocation: `Box::leak(Box::new([0; 1024]))`).
    pub fn new(words: &'static mut [u32]) -> Self {
        Self { words: words.len(), base: core::ptr::NonNull::from(words).cast() }
    }

    /// The word at byte `offset`.
    ///
    /// # Panics
    /// If `offset` is not a whole word inside the block.
    fn word(&self, offset: usize) -> *mut u32 {
        assert!(offset.is_multiple_of(4) && offset / 4 < self.words, "offset outside the block");
        self.base.as_ptr().wrapping_add(offset / 4)
    }

    /// The word at byte `offset`, as the device holds it.
    ///
    /// # Panics
    /// If `offset` is not a whole word inside the block.
    pub fn peek(&self, offset: usize) -> u32 {
        // SAFETY: an aligned word inside the block (checked by `word`),
        // which lives for ever and is reached only through `base`.
        unsafe { self.word(offset).read_volatile() }
    }

    /// Sets the word at byte `offset`, as the device would.
    ///
    /// # Panics
    /// If `offset` is not a whole word inside the block.
    pub fn poke(&self, offset: usize, value: u32) {
        // SAFETY: as in `peek`.
        unsafe { self.word(offset).write_volatile(value) }
    }

    /// Checks that each register of `table` is written at its byte offset:
    /// a write through `bus` (a value of its own per register) shows in
    /// that word, which is cleared again for the next.
    ///
    /// # Panics
    /// At the first register whose write lands elsewhere, naming it.
    pub fn check_writes<R: Copy + core::fmt::Debug>(
        &self,
        bus: &impl RegisterAccess<R>,
        table: &[(R, usize)],
    ) {
        for (value, &(register, offset)) in (0x100..).zip(table) {
            bus.write(register, value);
            assert_eq!(self.peek(offset), value, "{register:?} at {offset:#x}");
            self.poke(offset, 0);
        }
    }

    /// Checks that each register of `table` is read at its byte offset: a
    /// value of its own put in that word is what a read through `bus`
    /// returns; the word is cleared again for the next.
    ///
    /// # Panics
    /// At the first register read from elsewhere, naming it.
    pub fn check_reads<R: Copy + core::fmt::Debug>(
        &self,
        bus: &impl RegisterAccess<R>,
        table: &[(R, usize)],
    ) {
        for (value, &(register, offset)) in (0x100..).zip(table) {
            self.poke(offset, value);
            assert_eq!(bus.read(register), value, "{register:?} at {offset:#x}");
            self.poke(offset, 0);
        }
    }

    /// The block as register block `Block`, to wrap in the driver's [`Mmio`].
    ///
    /// # Panics
    /// If `Block` is larger than the block or needs more than word alignment.
    pub fn view<Block>(&self) -> VolatilePtr<'static, Block> {
        assert!(
            size_of::<Block>() <= self.words * 4 && align_of::<Block>() <= align_of::<u32>(),
            "the register block does not fit"
        );
        // SAFETY: the words are `Block`'s size at least and aligned for it
        // (checked above); they live for ever (given up in `new`) and are
        // reached only through `base`, by volatile accesses, never through
        // a reference.
        unsafe { VolatilePtr::new(self.base.cast()) }
    }
}

/// Access rights of a register ([`Reg`]'s `A` parameter).
pub mod access {
    /// Readable registers.
    pub trait CanRead {}
    /// Writable registers.
    pub trait CanWrite {}

    /// Read only (status, identification): writes do not compile.
    #[derive(Clone, Copy, Debug)]
    pub struct ReadOnly;
    /// Write only (acknowledge, clear, set-enable): reads do not compile.
    #[derive(Clone, Copy, Debug)]
    pub struct WriteOnly;
    /// Read and write, with the same fields both ways (so `modify` works).
    #[derive(Clone, Copy, Debug)]
    pub struct ReadWrite;

    impl CanRead for ReadOnly {}
    impl CanRead for ReadWrite {}
    impl CanWrite for WriteOnly {}
    impl CanWrite for ReadWrite {}
}

/// One register of a block reached through bus `B`: `name` on that bus,
/// access right `A`, fields `F` (tock-registers' register long name, `()`
/// for a plain word). Implements [`Readable`] and [`Writeable`] as `A`
/// allows. Drivers get one from their accessor trait.
pub struct Reg<'a, B: ?Sized, N, A, F: RegisterLongName = ()> {
    bus: &'a B,
    name: N,
    _access: PhantomData<(A, F)>,
}

impl<'a, B: ?Sized, N, A, F: RegisterLongName> Reg<'a, B, N, A, F> {
    /// Register `name` of `bus`.
    #[inline]
    pub fn new(bus: &'a B, name: N) -> Self {
        Self { bus, name, _access: PhantomData }
    }
}

impl<B, N, A, F> Readable for Reg<'_, B, N, A, F>
where
    B: RegisterAccess<N> + ?Sized,
    N: Copy,
    A: access::CanRead,
    F: RegisterLongName,
{
    type T = u32;
    type R = F;

    #[inline]
    fn get(&self) -> u32 {
        self.bus.read(self.name)
    }
}

impl<B, N, A, F> Writeable for Reg<'_, B, N, A, F>
where
    B: RegisterAccess<N> + ?Sized,
    N: Copy,
    A: access::CanWrite,
    F: RegisterLongName,
{
    type T = u32;
    type R = F;

    #[inline]
    fn set(&self, value: u32) {
        self.bus.write(self.name, value)
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __register_fields {
    () => {
        ()
    };
    ($fields:ty) => {
        $fields
    };
}

/// One accessor of [`registers!`](crate::registers): `&mut self` for a
/// register whose read pops a FIFO, `&self` otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! __register_accessor {
    (
        [$(#[$attr:meta])*] $name:ty, $method:ident,
        (&mut self $(, $arg:ident : $arg_ty:ty)* $(,)?),
        $access:ident, ($($fields:ty)?), $value:expr
    ) => {
        $(#[$attr])*
        #[inline]
        fn $method(&mut self $(, $arg: $arg_ty)*) -> $crate::mmio::Reg<
            '_,
            Self,
            $name,
            $crate::mmio::access::$access,
            $crate::__register_fields!($($fields)?),
        > {
            $crate::mmio::Reg::new(self, $value)
        }
    };
    (
        [$(#[$attr:meta])*] $name:ty, $method:ident,
        ($($arg:ident : $arg_ty:ty),* $(,)?),
        $access:ident, ($($fields:ty)?), $value:expr
    ) => {
        $(#[$attr])*
        #[inline]
        fn $method(&self $(, $arg: $arg_ty)*) -> $crate::mmio::Reg<
            '_,
            Self,
            $name,
            $crate::mmio::access::$access,
            $crate::__register_fields!($($fields)?),
        > {
            $crate::mmio::Reg::new(self, $value)
        }
    };
}

/// Declares a driver's accessor trait: one method per register, naming its
/// access right, its fields and the bus name it maps to.
///
/// ```
/// use core::mem::offset_of;
/// use ferrode_hal::mmio::{Readable, RegisterName, Writeable, register_bitfields};
///
/// #[repr(C)]
/// pub struct Regs {
///     data: u32,
///     status: u32,
///     clear: [u32; 2],
/// }
///
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// pub enum Register {
///     Data,
///     Status,
///     Clear(usize),
/// }
///
/// impl RegisterName for Register {
///     type Block = Regs;
///     fn offset(self) -> usize {
///         match self {
///             Register::Data => offset_of!(Regs, data),
///             Register::Status => offset_of!(Regs, status),
///             Register::Clear(n) => offset_of!(Regs, clear) + 4 * n,
///         }
///     }
/// }
///
/// register_bitfields![u32,
///     STATUS [
///         READY OFFSET(0) NUMBITS(1) [],
///         LEVEL OFFSET(4) NUMBITS(4) [],
///     ],
/// ];
///
/// ferrode_hal::registers! {
///     /// Typed access to the block.
///     pub trait Registers for Register {
///         /// The data register: reading pops the receive FIFO.
///         fn data(&mut self) -> ReadWrite = Register::Data;
///         /// The status register.
///         fn status() -> ReadOnly<STATUS::Register> = Register::Status;
///         /// Clear register `n`.
///         fn clear(n: usize) -> WriteOnly = Register::Clear(n);
///     }
/// }
///
/// fn ready<R: Registers>(regs: &R) -> bool {
///     regs.status().is_set(STATUS::READY)
/// }
///
/// fn pop<R: Registers>(regs: &mut R) -> Option<u32> {
///     ready(regs).then(|| regs.data().get())
/// }
/// # let mut memory = [0u32, 0x31, 0, 0];
/// # let mut regs = ferrode_hal::mmio::Mmio::new(unsafe {
/// #     volatile::VolatilePtr::new(core::ptr::NonNull::from(&mut memory).cast::<Regs>())
/// # });
/// # assert!(ready(&regs));
/// # assert_eq!(pop(&mut regs), Some(0));
/// # assert_eq!(regs.status().read(STATUS::LEVEL), 3);
/// # regs.clear(1).set(7);
/// # assert_eq!(memory[3], 7);
/// ```
///
/// `regs.status().set(1)` or `regs.clear(0).get()` would not compile. The
/// trait is implemented for every [`RegisterAccess`] bus of the register
/// enum, so driver code is generic over it (`R: Registers`).
///
/// An accessor declared with `&mut self` (first, before any index) is for a
/// register whose read has a side effect the driver must own, a FIFO pop
/// above all: it needs `&mut` access to the bus, so a driver method that
/// pops takes `&mut self`, and one that only looks (`&self`) cannot lose a
/// character by accident. (It is a guard against mistakes, not a lock: a
/// copy of a `Copy` bus such as [`Mmio`] can still pop.)
///
/// ```compile_fail
/// # use ferrode_hal::mmio::{Readable, RegisterName};
/// # #[repr(C)]
/// # pub struct Regs { data: u32 }
/// # #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// # pub enum Register { Data }
/// # impl RegisterName for Register {
/// #     type Block = Regs;
/// #     fn offset(self) -> usize { 0 }
/// # }
/// ferrode_hal::registers! {
///     /// Typed access to the block.
///     pub trait Registers for Register {
///         /// Reading pops the receive FIFO.
///         fn data(&mut self) -> ReadOnly = Register::Data;
///     }
/// }
///
/// struct Uart<R> {
///     regs: R,
/// }
///
/// impl<R: Registers> Uart<R> {
///     fn peek(&self) -> u32 {
///         self.regs.data().get() // a pop needs `&mut self`
///     }
/// }
/// ```
#[macro_export]
macro_rules! registers {
    (
        $(#[$trait_attr:meta])*
        $vis:vis trait $trait:ident for $name:ty {
            $(
                $(#[$attr:meta])*
                fn $method:ident($($params:tt)*)
                    -> $access:ident $(<$fields:ty>)? = $value:expr;
            )*
        }
    ) => {
        $(#[$trait_attr])*
        $vis trait $trait: $crate::RegisterAccess<$name> {
            $(
                $crate::__register_accessor! {
                    [$(#[$attr])*] $name, $method, ($($params)*),
                    $access, ($($fields)?), $value
                }
            )*
        }

        impl<T: $crate::RegisterAccess<$name> + ?Sized> $trait for T {}
    };
}

/// Declares a register enum whose every register is one word of the block
/// at a fixed offset: the enum, its offsets (checked against the block's
/// layout when compiled) and [`RegisterName`]. Registers with an index
/// (buffers, per-channel banks) write the enum and [`RegisterName`] by
/// hand instead.
///
/// ```
/// #[repr(C)]
/// pub struct Regs {
///     data: u32,
///     status: u32,
/// }
///
/// ferrode_hal::register_names! {
///     block Regs;
///     /// The block's registers.
///     pub enum Register {
///         /// Data.
///         Data => data @ 0x0,
///         /// Status.
///         Status => status @ 0x4,
///     }
/// }
/// # assert_eq!(Register::Status.offset(), 4);
/// ```
#[macro_export]
macro_rules! register_names {
    (
        block $regs:ident;
        $(#[$enum_attr:meta])*
        $vis:vis enum $register:ident {
            $( $(#[$attr:meta])* $variant:ident => $field:ident @ $offset:literal ),+ $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $register {
            $( $(#[$attr])* $variant, )+
        }

        $( const _: () = assert!(core::mem::offset_of!($regs, $field) == $offset); )+

        impl $register {
            /// Byte offset from the block's base address.
            pub const fn offset(self) -> usize {
                match self {
                    $( $register::$variant => $offset, )+
                }
            }
        }

        impl $crate::mmio::RegisterName for $register {
            type Block = $regs;

            #[inline]
            fn offset(self) -> usize {
                $register::offset(self)
            }
        }
    };
}
