//! Core's device services, IO_MEM and IRQ, and the GPIO driver component
//! that reaches its device only through them.
//!
//! The platform's device table (`memory_map::DEVICES`) is the only place
//! that knows addresses and interrupt numbers. A driver component's route
//! names its device as the session label (`gpio: "IO_MEM" "gpio" =>
//! io_mem`); a component without such a route has no session to ask, and
//! a label naming no device (or a device granted to another session) is
//! [`SessionError::Denied`]. An interrupt reaches its driver as a signal:
//! the platform's handler only masks the line and submits the signal, the
//! driver serves its device and `ack`s, which unmasks the line.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_component::{
    Gpio, IoMem, IoWindow, Irq, Root, Session, SessionArgs, SessionError, SignalSource,
};
use ferrode_hal::{DeviceWindow, GpioPort};
use ferrode_ipc::{Capability, RpcObject};

use super::Env;
use crate::kernel::{self, BoardEntrypoint, CapEntry, ConstStaticCell, KernelError, kernel};
use crate::platform::memory_map::DEVICES;

/// Sessions each device service holds at once.
const DEVICE_SESSIONS: usize = 4;

/// The device a session's label names (`client -> device`).
fn device_named(args: &SessionArgs) -> Result<usize, SessionError> {
    let wanted = args.label.rsplit(" -> ").next().unwrap_or("");
    DEVICES.iter().position(|device| device.name == wanted).ok_or(SessionError::Denied)
}

/// State one device server keeps per session slot: the device it was
/// granted (`None`: the slot is free). Touched only by that server's
/// entrypoint thread (and, for IRQ, through atomics by the handler).
struct Slots(RefCell<[Option<usize>; DEVICE_SESSIONS]>);

// SAFETY: each `Slots` belongs to one server and is used only by the
// entrypoint thread that dispatches that server's objects, one request at
// a time; the `RefCell` turns any other use into a panic, not a race.
unsafe impl Sync for Slots {}

impl Slots {
    const fn new() -> Self {
        Self(RefCell::new([None; DEVICE_SESSIONS]))
    }

    fn device(&self, slot: usize) -> Option<usize> {
        self.0.borrow()[slot]
    }

    /// A free slot for `device`, or `Denied` while another session has it.
    fn claim(&self, device: usize) -> Result<usize, SessionError> {
        let mut slots = self.0.borrow_mut();
        if slots.contains(&Some(device)) {
            return Err(SessionError::Denied);
        }
        let slot = slots.iter().position(Option::is_none).ok_or(SessionError::OutOfSessions)?;
        slots[slot] = Some(device);
        Ok(slot)
    }

    fn release(&self, slot: usize) {
        self.0.borrow_mut()[slot] = None;
    }
}

/// A pool of session objects of one service: each managed the first time
/// a session uses it, and reused after `close` took back every copy of its
/// capability.
struct Pool<I: ?Sized + 'static> {
    entrypoint: BoardEntrypoint,
    caps: [Option<Capability<I>>; DEVICE_SESSIONS],
}

impl<I: ?Sized + ferrode_ipc::Inherits<dyn Session> + 'static> Pool<I> {
    fn slot_of(&self, slots: &Slots, session: Capability<dyn Session>) -> Option<usize> {
        (0..DEVICE_SESSIONS).find(|&slot| {
            slots.device(slot).is_some()
                && self.caps[slot].is_some_and(|cap| cap.upcast::<dyn Session>() == session)
        })
    }

    /// Revokes every copy of the slot's capability (the object stays, for
    /// the next session in that slot).
    fn close(
        &self,
        slots: &Slots,
        session: Capability<dyn Session>,
    ) -> Result<usize, SessionError> {
        let slot = self.slot_of(slots, session).ok_or(SessionError::UnknownSession)?;
        let cap = self.caps[slot].ok_or(SessionError::UnknownSession)?;
        kernel().revoke_copies(cap.selector()).map_err(|_| SessionError::UnknownSession)?;
        slots.release(slot);
        Ok(slot)
    }
}

// ----- IO_MEM ---------------------------------------------------------------

static IO_MEM_SLOTS: Slots = Slots::new();

/// One IO_MEM session object: its slot.
struct IoMemSession {
    slot: usize,
}

impl Session for IoMemSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl IoMem for IoMemSession {
    fn window(&mut self) -> Result<IoWindow, SessionError> {
        let device = IO_MEM_SLOTS.device(self.slot).ok_or(SessionError::UnknownSession)?;
        let DeviceWindow { base, size, .. } = DEVICES[device];
        Ok(IoWindow { base: base as u32, size: size as u32 })
    }
}

static IO_MEM_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn IoMem, IoMemSession>>>;
    DEVICE_SESSIONS] = [const { ConstStaticCell::new(None) }; DEVICE_SESSIONS];
static IO_MEM_ROOT: ConstStaticCell<Option<RpcObject<dyn Root, IoMemRoot>>> =
    ConstStaticCell::new(None);

/// The IO_MEM server's root.
struct IoMemRoot(Pool<dyn IoMem>);

impl Root for IoMemRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let slot = IO_MEM_SLOTS.claim(device_named(&args)?)?;
        let cap = match self.0.caps[slot] {
            Some(cap) => cap,
            None => {
                let managed = IO_MEM_OBJECTS[slot]
                    .try_take()
                    .map(|cell| cell.insert(RpcObject::new(IoMemSession { slot })))
                    .ok_or(SessionError::OutOfSessions)
                    .and_then(|object| {
                        self.0.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)
                    });
                match managed {
                    Ok(cap) => *self.0.caps[slot].insert(cap),
                    Err(error) => {
                        IO_MEM_SLOTS.release(slot);
                        return Err(error);
                    }
                }
            }
        };
        Ok(cap.upcast())
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.0.close(&IO_MEM_SLOTS, session).map(drop)
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Ok(0)
    }
}

/// The IO_MEM server's root, for `compose!`: `provides: "IO_MEM", root:
/// ferrode_board::component::io_mem_root`. A session's label names the
/// device (from the platform's device table) whose register window it
/// grants; one session per device at a time.
pub fn io_mem_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let root = IO_MEM_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(IoMemRoot(Pool { entrypoint, caps: [None; DEVICE_SESSIONS] })));
    entrypoint.manage(root)
}

// ----- IRQ ------------------------------------------------------------------

static IRQ_SLOTS: Slots = Slots::new();

/// No signal / no line.
const NONE: u32 = u32::MAX;

/// Per slot, what the handler needs: the interrupt line and the kernel
/// signal to submit (both `NONE` while unset).
static IRQ_LINES: [AtomicU32; DEVICE_SESSIONS] = [const { AtomicU32::new(NONE) }; DEVICE_SESSIONS];
static IRQ_SIGNALS: [AtomicU32; DEVICE_SESSIONS] =
    [const { AtomicU32::new(NONE) }; DEVICE_SESSIONS];

/// The platform's handler for the line of slot `SLOT`: masks the line and
/// submits the driver's signal. Nothing else runs in interrupt context.
fn irq_handler<const SLOT: usize>() {
    let line = IRQ_LINES[SLOT].load(Ordering::Relaxed);
    let _ = crate::platform::irq::mask(line);
    let signal = IRQ_SIGNALS[SLOT].load(Ordering::Relaxed);
    if signal != NONE {
        kernel().submit_from_interrupt(kernel::SignalId::from_index(signal as usize));
    }
}

const IRQ_HANDLERS: [fn(); DEVICE_SESSIONS] =
    [irq_handler::<0>, irq_handler::<1>, irq_handler::<2>, irq_handler::<3>];

/// One IRQ session object: its slot.
struct IrqSession {
    slot: usize,
}

impl IrqSession {
    fn line(&self) -> Result<u32, SessionError> {
        let device = IRQ_SLOTS.device(self.slot).ok_or(SessionError::UnknownSession)?;
        DEVICES[device].irq.ok_or(SessionError::Denied)
    }
}

impl Session for IrqSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Irq for IrqSession {
    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let line = self.line()?;
        let k = kernel();
        let CapEntry::Signal { signal, .. } =
            k.capability(k.current_component(), signal.selector())
        else {
            return Err(SessionError::UnknownSession);
        };
        IRQ_SIGNALS[self.slot].store(signal.index() as u32, Ordering::Relaxed);
        IRQ_LINES[self.slot].store(line, Ordering::Relaxed);
        crate::platform::irq::register(line, IRQ_HANDLERS[self.slot])
            .map_err(|_| SessionError::Denied)
    }

    fn ack(&mut self) -> Result<(), SessionError> {
        crate::platform::irq::unmask(self.line()?).map_err(|_| SessionError::Denied)
    }
}

static IRQ_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Irq, IrqSession>>>; DEVICE_SESSIONS] =
    [const { ConstStaticCell::new(None) }; DEVICE_SESSIONS];
static IRQ_ROOT: ConstStaticCell<Option<RpcObject<dyn Root, IrqRoot>>> = ConstStaticCell::new(None);

/// The IRQ server's root.
struct IrqRoot(Pool<dyn Irq>);

impl Root for IrqRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let device = device_named(&args)?;
        if DEVICES[device].irq.is_none() {
            return Err(SessionError::Denied);
        }
        let slot = IRQ_SLOTS.claim(device)?;
        let cap = match self.0.caps[slot] {
            Some(cap) => cap,
            None => {
                let managed = IRQ_OBJECTS[slot]
                    .try_take()
                    .map(|cell| cell.insert(RpcObject::new(IrqSession { slot })))
                    .ok_or(SessionError::OutOfSessions)
                    .and_then(|object| {
                        self.0.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)
                    });
                match managed {
                    Ok(cap) => *self.0.caps[slot].insert(cap),
                    Err(error) => {
                        IRQ_SLOTS.release(slot);
                        return Err(error);
                    }
                }
            }
        };
        Ok(cap.upcast())
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.0.slot_of(&IRQ_SLOTS, session).ok_or(SessionError::UnknownSession)?;
        let line = IRQ_LINES[slot].swap(NONE, Ordering::Relaxed);
        if line != NONE {
            let _ = crate::platform::irq::unregister(line);
        }
        IRQ_SIGNALS[slot].store(NONE, Ordering::Relaxed);
        self.0.close(&IRQ_SLOTS, session).map(drop)
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Ok(0)
    }
}

/// The IRQ server's root, for `compose!`: `provides: "IRQ", root:
/// ferrode_board::component::irq_root`. A session's label names the
/// device whose interrupt it delivers; one session per device at a time.
pub fn irq_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let root = IRQ_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(IrqRoot(Pool { entrypoint, caps: [None; DEVICE_SESSIONS] })));
    entrypoint.manage(root)
}

// ----- the GPIO driver component ----------------------------------------------

type GpioDevice = crate::platform::devices::GpioDevice;

/// The GPIO driver's device (once its IO_MEM window was granted) and each
/// session's pins (`0`: the slot is free).
struct GpioState {
    device: Option<GpioDevice>,
    pins: [u32; DEVICE_SESSIONS],
}

struct GpioCell(RefCell<GpioState>);

// SAFETY: used only by the GPIO component's entrypoint thread, which
// dispatches its root and session objects one request at a time.
unsafe impl Sync for GpioCell {}

static GPIO: GpioCell =
    GpioCell(RefCell::new(GpioState { device: None, pins: [0; DEVICE_SESSIONS] }));

/// The driver's device: on first use, asks the component's IO_MEM session
/// for the window (its route must grant "gpio") and takes the device over.
fn gpio_device(state: &mut GpioState) -> Result<&mut GpioDevice, SessionError> {
    if state.device.is_none() {
        let env = Env::own().ok_or(SessionError::Denied)?;
        let io_mem = env.session::<dyn IoMem>(ferrode_component::IO_MEM, "gpio")?;
        let window = kernel::client(io_mem).window()?;
        let window = DeviceWindow {
            name: "gpio",
            base: window.base as usize,
            size: window.size as usize,
            irq: None,
        };
        state.device =
            Some(crate::platform::devices::gpio_port(&window).ok_or(SessionError::Denied)?);
    }
    state.device.as_mut().ok_or(SessionError::Denied)
}

/// One GPIO session object: its slot (its pins are `GPIO.pins[slot]`).
struct GpioSession {
    slot: usize,
}

impl GpioSession {
    /// Runs `f` on the device if every pin of `wanted` is the session's.
    fn with_pins<R>(
        &self,
        wanted: u32,
        f: impl FnOnce(&mut GpioDevice, u32) -> R,
    ) -> Result<R, SessionError> {
        let mut state = GPIO.0.borrow_mut();
        let pins = state.pins[self.slot];
        if pins == 0 {
            return Err(SessionError::UnknownSession);
        }
        if wanted & !pins != 0 {
            return Err(SessionError::QuotaExceeded);
        }
        Ok(f(gpio_device(&mut state)?, pins))
    }
}

impl Session for GpioSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(GPIO.0.borrow().pins[self.slot])
    }
}

impl Gpio for GpioSession {
    fn configure(&mut self, pin: u8, output: bool, level: bool) -> Result<(), SessionError> {
        let bit = 1u32.checked_shl(u32::from(pin)).ok_or(SessionError::QuotaExceeded)?;
        self.with_pins(bit, |device, _| device.configure(pin, output, level))?
            .map_err(|_| SessionError::Denied)
    }

    fn write(&mut self, mask: u32, value: u32) -> Result<(), SessionError> {
        self.with_pins(mask, |device, _| device.write(mask, value))
    }

    fn read(&mut self) -> Result<u32, SessionError> {
        self.with_pins(0, |device, pins| device.read() & pins)
    }
}

static GPIO_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Gpio, GpioSession>>>; DEVICE_SESSIONS] =
    [const { ConstStaticCell::new(None) }; DEVICE_SESSIONS];
static GPIO_ROOT: ConstStaticCell<Option<RpcObject<dyn Root, GpioRoot>>> =
    ConstStaticCell::new(None);

/// The GPIO driver's root: a session per request, its pins the bits of
/// its quota; two sessions never share a pin.
struct GpioRoot(Pool<dyn Gpio>);

impl Root for GpioRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let mut state = GPIO.0.borrow_mut();
        let pin_count = gpio_device(&mut state)?.pins();
        let all = 1u32.checked_shl(u32::from(pin_count)).map_or(u32::MAX, |bit| bit - 1);
        let taken = state.pins.iter().fold(0, |taken, pins| taken | pins);
        if args.quota == 0 || args.quota & !all != 0 || args.quota & taken != 0 {
            return Err(SessionError::Denied);
        }
        let slot =
            state.pins.iter().position(|&pins| pins == 0).ok_or(SessionError::OutOfSessions)?;
        let cap = match self.0.caps[slot] {
            Some(cap) => cap,
            None => {
                let object = GPIO_OBJECTS[slot]
                    .try_take()
                    .ok_or(SessionError::OutOfSessions)?
                    .insert(RpcObject::new(GpioSession { slot }));
                let cap =
                    self.0.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?;
                *self.0.caps[slot].insert(cap)
            }
        };
        state.pins[slot] = args.quota;
        Ok(cap.upcast())
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = (0..DEVICE_SESSIONS)
            .find(|&slot| {
                GPIO.0.borrow().pins[slot] != 0
                    && self.0.caps[slot].is_some_and(|cap| cap.upcast::<dyn Session>() == session)
            })
            .ok_or(SessionError::UnknownSession)?;
        let cap = self.0.caps[slot].ok_or(SessionError::UnknownSession)?;
        kernel().revoke_copies(cap.selector()).map_err(|_| SessionError::UnknownSession)?;
        GPIO.0.borrow_mut().pins[slot] = 0;
        Ok(())
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// The GPIO driver component's root, for `compose!`: `provides: "Gpio",
/// root: ferrode_board::component::gpio_root`, with a route `gpio:
/// "IO_MEM" "gpio" => io_mem` that grants it the GPIO block's registers
/// (it has no other way to them). A session's quota is the mask of the
/// pins it may use.
pub fn gpio_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let root = GPIO_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .insert(RpcObject::new(GpioRoot(Pool { entrypoint, caps: [None; DEVICE_SESSIONS] })));
    entrypoint.manage(root)
}

impl Env {
    /// The GPIO session the route labelled `label` opened.
    pub fn gpio(
        &self,
        label: &str,
    ) -> Result<ferrode_ipc::Client<dyn Gpio, kernel::Transport>, SessionError> {
        Ok(kernel::client(self.session::<dyn Gpio>(ferrode_component::GPIO, label)?))
    }
}
