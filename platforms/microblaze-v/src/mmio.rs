//! The one place that turns a base address from [`memory_map`](crate::memory_map)
//! into a register-block pointer for a driver.

use core::ptr::NonNull;

use volatile::VolatilePtr;

/// A volatile pointer to the register block of type `Regs` at `base`.
///
/// # Safety
/// `base` must be the address of a device whose registers are laid out as
/// `Regs`, decoded for the whole run of the image, and not used as memory.
pub unsafe fn registers<Regs>(base: usize) -> VolatilePtr<'static, Regs> {
    let pointer = NonNull::new(base as *mut Regs).expect("device base address is not null");
    // SAFETY: the caller guarantees `base` is a live device block of this
    // layout for the program's lifetime; volatile access is what MMIO needs.
    unsafe { VolatilePtr::new(pointer) }
}
