//! Register access for memory-mapped devices, shared by every driver.
//!
//! A driver describes its register block as a `#[repr(C)]` struct with
//! `volatile`'s `VolatileFieldAccess` derive (the data sheet's layout) and
//! names the registers it uses with [`mmio_registers!`](crate::mmio_registers), which generates
//! the register enum, checks each offset against the data sheet, and
//! writes the memory-mapped adapter. The driver's logic is generic over
//! [`RegisterAccess`], so host tests drive it through a behavioural model
//! of the device instead of memory.

/// 32-bit access to a device's registers, named by the driver's register
/// enum `R`: the memory-mapped adapter on hardware, a model in tests.
pub trait RegisterAccess<R> {
    /// Reads `register`.
    fn read(&self, register: R) -> u32;
    /// Writes `value` to `register`.
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

#[doc(hidden)]
pub use volatile as __volatile;

/// Declares the registers a driver uses in its register block `Regs`:
///
/// ```
/// use volatile::VolatileFieldAccess;
///
/// #[repr(C)]
/// #[derive(VolatileFieldAccess)]
/// pub struct Regs {
///     pub data: u32,
///     pub status: u32,
/// }
///
/// ferrode_hal::mmio_registers! {
///     block Regs;
///     /// One register of the block.
///     pub enum Register {
///         /// Data.
///         Data => data @ 0x0,
///         /// Status.
///         Status => status @ 0x4,
///     }
///     /// The memory-mapped register block.
///     pub struct Mmio;
///     /// Access to this block's registers.
///     pub trait Access;
/// }
/// # assert_eq!(Register::Status.offset(), 4);
/// ```
///
/// This generates the enum (with `offset()`), a compile-time check that
/// each field sits at the data sheet's offset, `Mmio<'a>` over a
/// `VolatilePtr<'a, Regs>` implementing [`RegisterAccess`], and a trait
/// alias (here `Access`) for [`RegisterAccess`]`<Register>` that the
/// driver's code can name as a bound. Every listed field must be a
/// readable and writable `u32`; registers with other access rules are
/// written by hand.
#[macro_export]
macro_rules! mmio_registers {
    (
        block $regs:ident;
        $(#[$enum_attr:meta])*
        $vis:vis enum $register:ident {
            $( $(#[$attr:meta])* $variant:ident => $field:ident @ $offset:literal ),+ $(,)?
        }
        $(#[$mmio_attr:meta])*
        $mmio_vis:vis struct $mmio:ident;
        $(#[$access_attr:meta])*
        $access_vis:vis trait $access:ident;
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

        $crate::mmio_adapter! {
            $(#[$mmio_attr])*
            $mmio_vis struct $mmio for $regs;
            $(#[$access_attr])*
            $access_vis trait $access for $register;
        }

        impl $crate::RegisterAccess<$register> for $mmio<'_> {
            #[inline]
            fn read(&self, register: $register) -> u32 {
                let regs = self.regs;
                match register {
                    $( $register::$variant => regs.$field().read(), )+
                }
            }

            #[inline]
            fn write(&self, register: $register, value: u32) {
                let regs = self.regs;
                match register {
                    $( $register::$variant => regs.$field().write(value), )+
                }
            }
        }
    };
}

/// The part of [`mmio_registers!`](crate::mmio_registers) that drivers
/// with indexed registers (buffers, per-channel banks) use on their own:
/// `Mmio<'a>` over a `VolatilePtr<'a, Regs>` with `Mmio::new`, and the
/// trait alias for [`RegisterAccess`]`<Register>` that driver code names as
/// a bound. The driver then writes its register enum and implements
/// [`RegisterAccess`] for `Mmio` itself.
///
/// ```
/// use volatile::VolatileFieldAccess;
///
/// #[repr(C)]
/// #[derive(VolatileFieldAccess)]
/// pub struct Regs {
///     pub channel0: u32,
///     pub channel1: u32,
/// }
///
/// #[derive(Clone, Copy)]
/// pub enum Register {
///     Channel(bool),
/// }
///
/// ferrode_hal::mmio_adapter! {
///     /// The memory-mapped register block.
///     pub struct Mmio for Regs;
///     /// Access to this block's registers.
///     pub trait Access for Register;
/// }
///
/// impl ferrode_hal::RegisterAccess<Register> for Mmio<'_> {
///     fn read(&self, register: Register) -> u32 {
///         let Register::Channel(second) = register;
///         if second { self.regs.channel1().read() } else { self.regs.channel0().read() }
///     }
///     fn write(&self, register: Register, value: u32) {
///         let Register::Channel(second) = register;
///         if second { self.regs.channel1().write(value) } else { self.regs.channel0().write(value) }
///     }
/// }
/// ```
#[macro_export]
macro_rules! mmio_adapter {
    (
        $(#[$mmio_attr:meta])*
        $mmio_vis:vis struct $mmio:ident for $regs:ident;
        $(#[$access_attr:meta])*
        $access_vis:vis trait $access:ident for $register:ident;
    ) => {
        $(#[$mmio_attr])*
        #[derive(Clone, Copy, Debug)]
        $mmio_vis struct $mmio<'a> {
            regs: $crate::mmio::__volatile::VolatilePtr<'a, $regs>,
        }

        impl<'a> $mmio<'a> {
            /// Wraps the register block the platform mapped.
            pub const fn new(regs: $crate::mmio::__volatile::VolatilePtr<'a, $regs>) -> Self {
                Self { regs }
            }
        }

        $(#[$access_attr])*
        $access_vis trait $access: $crate::RegisterAccess<$register> {}

        impl<T: $crate::RegisterAccess<$register> + ?Sized> $access for T {}
    };
}
