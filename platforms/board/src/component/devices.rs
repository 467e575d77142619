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
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_component::{
    Gpio, GpioTrigger, IoMem, IoWindow, Irq, Root, Session, SessionArgs, SessionError, SignalSource,
};
use ferrode_hal::{DeviceWindow, GpioPort};
use ferrode_ipc::{CapSel, Capability, RpcObject};

use super::wake::{Submitting, Wake};
use super::{Env, Pool};
use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};
use crate::platform::memory_map::DEVICES;

/// Sessions each device service holds at once.
const DEVICE_SESSIONS: usize = 4;

/// The device a session's label names (`client -> device`).
fn device_named(args: &SessionArgs) -> Result<usize, SessionError> {
    let wanted = args.target();
    DEVICES.iter().position(|device| device.name == wanted).ok_or(SessionError::Denied)
}

/// The register window of device `name` as the running driver component's
/// IO_MEM session granted it (its route `"IO_MEM" "name"`), for the
/// platform's `*_port` accessors; `Denied` without such a route.
pub(super) fn granted_window(name: &'static str) -> Result<DeviceWindow, SessionError> {
    let env = Env::own().ok_or(SessionError::Denied)?;
    let io_mem = env.session::<dyn IoMem>(ferrode_component::IO_MEM, name)?;
    let window = kernel::client(io_mem).window()?;
    Ok(DeviceWindow { name, base: window.base as usize, size: window.size as usize, irq: None })
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

    /// Whether an open session has `device`.
    fn granted(&self, device: usize) -> bool {
        self.0.borrow().contains(&Some(device))
    }

    fn set(&self, slot: usize, device: Option<usize>) {
        self.0.borrow_mut()[slot] = device;
    }
}

/// Opens a session of `device` in `pool`, recording the device in `slots`;
/// `Denied` while another session has it.
fn open_device<I, S: 'static>(
    pool: &mut Pool<I, DEVICE_SESSIONS>,
    slots: &Slots,
    device: usize,
    objects: &'static [ConstStaticCell<Option<RpcObject<I, S>>>; DEVICE_SESSIONS],
    make: impl FnOnce(usize) -> S,
) -> Result<Capability<dyn Session>, SessionError>
where
    I: ?Sized + ferrode_ipc::Inherits<dyn Session> + ferrode_ipc::Serve<S> + 'static,
{
    if slots.granted(device) {
        return Err(SessionError::Denied);
    }
    let (slot, cap) = pool.open(objects, make)?;
    slots.set(slot, Some(device));
    Ok(cap)
}

/// Closes `session` of `pool` and forgets its device.
fn close_device<I>(
    pool: &mut Pool<I, DEVICE_SESSIONS>,
    slots: &Slots,
    session: Capability<dyn Session>,
) -> Result<(), SessionError>
where
    I: ?Sized + ferrode_ipc::Inherits<dyn Session> + 'static,
{
    let slot = pool.close(session)?;
    slots.set(slot, None);
    Ok(())
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
static IO_MEM_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, IoMemRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The IO_MEM server's root.
struct IoMemRoot(Pool<dyn IoMem, DEVICE_SESSIONS>);

impl Root for IoMemRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let device = device_named(&args)?;
        open_device(&mut self.0, &IO_MEM_SLOTS, device, &IO_MEM_OBJECTS, |slot| IoMemSession {
            slot,
        })
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        close_device(&mut self.0, &IO_MEM_SLOTS, session)
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
    super::composer_only()?;
    let root = IO_MEM_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(IoMemRoot(Pool::new(entrypoint))));
    entrypoint.manage(root)
}

// ----- IRQ ------------------------------------------------------------------

static IRQ_SLOTS: Slots = Slots::new();

/// No signal / no line.
const NONE: u32 = u32::MAX;

/// Per slot, what the handler needs: the interrupt line and the kernel
/// signal to submit (its index in bits 0 to 7, the badge of the driver's
/// copy in bits 8 to 15, so that the driver learns it as if the copy
/// had submitted; both `NONE` while unset).
static IRQ_LINES: [AtomicU32; DEVICE_SESSIONS] = [const { AtomicU32::new(NONE) }; DEVICE_SESSIONS];
static IRQ_SIGNALS: [AtomicU32; DEVICE_SESSIONS] =
    [const { AtomicU32::new(NONE) }; DEVICE_SESSIONS];
/// Per slot, that signal's generation: should its driver be destroyed
/// and the signal's slot made anew for another component before the
/// session is reclaimed, an interrupt then wakes no one.
static IRQ_GENERATIONS: [AtomicU32; DEVICE_SESSIONS] =
    [const { AtomicU32::new(0) }; DEVICE_SESSIONS];
/// Per slot, the IRQ server's selector for that signal (its copy of the
/// driver's capability), dropped when replaced or at close. Stored plus
/// one, 0 while unset, so that the table is all zero (in `.bss`).
static IRQ_SELECTORS: [AtomicU32; DEVICE_SESSIONS] = [const { AtomicU32::new(0) }; DEVICE_SESSIONS];

/// Drops the IRQ server's copy of a signal (`stored`: its selector plus
/// one, as in `IRQ_SELECTORS`) unless another session still delivers to
/// it (the kernel keeps one copy of a signal given to several).
fn drop_irq_signal(stored: u32) {
    if stored != 0 && !IRQ_SELECTORS.iter().any(|s| s.load(Ordering::Relaxed) == stored) {
        let _ = kernel().drop_capability(CapSel(stored - 1));
    }
}

/// The platform's handler for the line of slot `SLOT`: masks the line and
/// submits the driver's signal. Nothing else runs in interrupt context.
fn irq_handler<const SLOT: usize>() {
    let line = IRQ_LINES[SLOT].load(Ordering::Relaxed);
    // SAFETY: the IRQ service owns the line while its session does (it
    // registered this handler for it).
    let _ = unsafe { crate::platform::irq::mask(line) };
    let signal = IRQ_SIGNALS[SLOT].load(Ordering::Relaxed);
    if signal != NONE {
        let generation = IRQ_GENERATIONS[SLOT].load(Ordering::Relaxed);
        let (badge, index) = (signal >> 8, signal & 0xff);
        let signal = kernel::SignalId::from_index(index as usize);
        // SAFETY: the platform runs this as the line's interrupt handler.
        unsafe { kernel().submit_from_interrupt(signal, generation, badge as u8) };
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
        let held = super::client_signal_of(signal)?;
        let selector = held.selector;
        // Both at once for the handler (an interrupt between the two
        // stores would find a mixed pair, and submit nothing).
        crate::arch::without_interrupts(|| {
            IRQ_GENERATIONS[self.slot].store(held.generation, Ordering::Relaxed);
            let signal = held.id.index() as u32 | u32::from(held.badge) << 8;
            IRQ_SIGNALS[self.slot].store(signal, Ordering::Relaxed);
        });
        IRQ_LINES[self.slot].store(line, Ordering::Relaxed);
        let stored = selector.0.wrapping_add(1);
        let replaced = IRQ_SELECTORS[self.slot].swap(stored, Ordering::Relaxed);
        if replaced != stored {
            drop_irq_signal(replaced);
        }
        // SAFETY: the IRQ service owns the interrupts of the board's
        // devices, and this session (one per device) is the line's; the
        // handler only masks it and submits the driver's signal.
        unsafe { crate::platform::irq::register(line, IRQ_HANDLERS[self.slot]) }
            .map_err(|_| SessionError::Denied)
    }

    fn ack(&mut self) -> Result<(), SessionError> {
        let line = self.line()?;
        // SAFETY: as in `sigh`: the session's line.
        unsafe { crate::platform::irq::unmask(line) }.map_err(|_| SessionError::Denied)
    }
}

static IRQ_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Irq, IrqSession>>>; DEVICE_SESSIONS] =
    [const { ConstStaticCell::new(None) }; DEVICE_SESSIONS];
static IRQ_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, IrqRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The IRQ server's root.
struct IrqRoot(Pool<dyn Irq, DEVICE_SESSIONS>);

impl Root for IrqRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let device = device_named(&args)?;
        if DEVICES[device].irq.is_none() {
            return Err(SessionError::Denied);
        }
        open_device(&mut self.0, &IRQ_SLOTS, device, &IRQ_OBJECTS, |slot| IrqSession { slot })
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.0.slot_of(session).ok_or(SessionError::UnknownSession)?;
        // Closed first: a close that fails leaves the session as it was,
        // its interrupt still delivered.
        close_device(&mut self.0, &IRQ_SLOTS, session)?;
        // The line's handler goes first, and only then what it reads: a
        // handler that ran in between would find no line to mask, and a
        // level interrupt would fire again and again until the unregister.
        let line = IRQ_LINES[slot].load(Ordering::Relaxed);
        if line != NONE {
            // SAFETY: the session's line, registered by its `sigh`.
            let _ = unsafe { crate::platform::irq::unregister(line) };
        }
        IRQ_LINES[slot].store(NONE, Ordering::Relaxed);
        IRQ_SIGNALS[slot].store(NONE, Ordering::Relaxed);
        drop_irq_signal(IRQ_SELECTORS[slot].swap(0, Ordering::Relaxed));
        Ok(())
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Ok(0)
    }
}

/// The IRQ server's root, for `compose!`: `provides: "IRQ", root:
/// ferrode_board::component::irq_root`. A session's label names the
/// device whose interrupt it delivers; one session per device at a time.
pub fn irq_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    let root = IRQ_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(IrqRoot(Pool::new(entrypoint))));
    entrypoint.manage(root)
}

/// For a driver's interrupt thread: the IRQ session its component's route
/// labelled `device` opened, told to deliver to a new signal of the
/// component, and that signal, which it sets in `thread` for the driver's
/// bring-up; `None` without such a route, or if the session refuses.
///
/// Until its driver has brought the device up (at the first session), a
/// line means nothing and may read asserted: a LAN9118 out of reset
/// drives its IRQ pin active-low, which the GIC, wired active-high, sees
/// as a standing interrupt, and a UART or GPIO block left running by the
/// image a debugger loaded over can hold one too. Acknowledging then
/// would unmask a line nobody can quiet, and the handler and the thread
/// would take turns at it for good, starving every component below (the
/// composer that is to ask for the session among them). So a driver's
/// interrupt thread leaves the line masked after an interrupt that came
/// before its device, and the bring-up raises `thread`, which wakes the
/// thread to serve the device and acknowledge. Before the thread has set
/// its signal nothing needs waking: an interrupt that came meanwhile is
/// pending on the signal, and the thread, taking it, finds the device up.
pub(super) fn irq_session(
    device: &str,
    thread: &Wake,
) -> Option<(ferrode_ipc::Client<dyn Irq, kernel::Transport>, CapSel)> {
    let irq = Env::own()?.session::<dyn Irq>(ferrode_component::IRQ, device).ok()?;
    let mut irq = kernel::client(irq);
    let (_, signal) = kernel().create_signal().ok()?;
    irq.sigh(Capability::from_selector(signal)).ok()?;
    thread.set(signal);
    Some((irq, signal))
}

// ----- the GPIO driver component ----------------------------------------------

type GpioDevice = crate::platform::devices::GpioDevice;

/// The GPIO driver's device (once its IO_MEM window was granted) and, per
/// session slot, its pins (`0`: the slot is free), the signal its input
/// changes go to (in the GPIO component's space) and the changes not yet
/// taken.
struct GpioState {
    device: Option<GpioDevice>,
    pins: [u32; DEVICE_SESSIONS],
    signals: [Option<CapSel>; DEVICE_SESSIONS],
    changes: [u32; DEVICE_SESSIONS],
}

struct GpioCell(RefCell<GpioState>);

// SAFETY: used only by the GPIO component's two threads (the entrypoint
// and the interrupt thread), and only inside `with_gpio`, with interrupts
// masked on the one core: neither sees the other's update half done.
unsafe impl Sync for GpioCell {}

static GPIO: GpioCell = GpioCell(RefCell::new(GpioState {
    device: None,
    pins: [0; DEVICE_SESSIONS],
    signals: [None; DEVICE_SESSIONS],
    changes: [0; DEVICE_SESSIONS],
}));

fn with_gpio<R>(f: impl FnOnce(&mut GpioState) -> R) -> R {
    crate::arch::without_interrupts(|| f(&mut GPIO.0.borrow_mut()))
}

/// Takes the device over on first use: asks the component's IO_MEM
/// session for the window (its route must grant "gpio"; the RPC runs
/// outside the critical section) and hands it to the platform.
fn gpio_take_device() -> Result<(), SessionError> {
    if with_gpio(|state| state.device.is_some()) {
        return Ok(());
    }
    let window = granted_window("gpio")?;
    // SAFETY: this is the GPIO driver component, and `window` is what its
    // IO_MEM session for "gpio" granted it.
    let device =
        unsafe { crate::platform::devices::gpio_port(&window) }.ok_or(SessionError::Denied)?;
    let taken = with_gpio(|state| {
        let free = state.device.is_none();
        if free {
            state.device = Some(device);
        }
        free
    });
    if taken {
        GPIO_IRQ_THREAD.raise();
    }
    Ok(())
}

/// One GPIO session object: its slot (its pins are `GPIO.pins[slot]`).
struct GpioSession {
    slot: usize,
}

impl GpioSession {
    /// Runs `f` on the device and the state if every pin of `wanted` is
    /// the session's.
    fn with_pins<R>(
        &self,
        wanted: u32,
        f: impl FnOnce(&mut GpioDevice, u32) -> R,
    ) -> Result<R, SessionError> {
        gpio_take_device()?;
        with_gpio(|state| {
            let pins = state.pins[self.slot];
            if pins == 0 {
                return Err(SessionError::UnknownSession);
            }
            if wanted & !pins != 0 {
                return Err(SessionError::QuotaExceeded);
            }
            let device = state.device.as_mut().ok_or(SessionError::Denied)?;
            Ok(f(device, pins))
        })
    }
}

impl Session for GpioSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(with_gpio(|state| state.pins[self.slot]))
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

    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let (signal, _) = super::client_signal(signal)?;
        let unused = with_gpio(|state| match state.pins[self.slot] {
            0 => Err(SessionError::UnknownSession),
            _ => {
                let old = state.signals[self.slot].replace(signal);
                Ok(old.filter(|&old| !state.signals.contains(&Some(old))))
            }
        })?;
        if let Some(old) = unused {
            // The signal this one replaces, which no other session uses
            // (the kernel keeps one copy of a signal given to several).
            GPIO_SUBMITTING.drop_selector(old);
        }
        Ok(())
    }

    fn watch(&mut self, pins: u32, trigger: GpioTrigger) -> Result<(), SessionError> {
        use ferrode_hal::GpioTrigger as T;
        let trigger = match trigger {
            GpioTrigger::Off => None,
            GpioTrigger::RisingEdge => Some(T::RisingEdge),
            GpioTrigger::FallingEdge => Some(T::FallingEdge),
            GpioTrigger::BothEdges => Some(T::BothEdges),
            GpioTrigger::HighLevel => Some(T::HighLevel),
            GpioTrigger::LowLevel => Some(T::LowLevel),
        };
        self.with_pins(pins, |device, _| device.watch(pins, trigger))?
            .map_err(|_| SessionError::Denied)
    }

    fn take_changes(&mut self) -> Result<u32, SessionError> {
        with_gpio(|state| match state.pins[self.slot] {
            0 => Err(SessionError::UnknownSession),
            _ => Ok(core::mem::take(&mut state.changes[self.slot])),
        })
    }
}

crate::thread_stack!(static GPIO_IRQ_MEMORY: 2048);
static GPIO_IRQ_UTCB: super::runtime::UtcbCell = super::runtime::utcb();

/// The GPIO component's interrupt thread's signal, which
/// [`gpio_take_device`] raises.
static GPIO_IRQ_THREAD: Wake = Wake::new();
/// The interrupt thread while it submits the sessions' signals.
static GPIO_SUBMITTING: Submitting = Submitting::new();

/// The GPIO component's interrupt thread: opens the component's IRQ
/// session (route `gpio: "IRQ" "gpio" => irq`; without one the block's
/// inputs are never signalled and the thread ends), then per interrupt
/// takes the block's changes, records each session's share, submits the
/// signals of the sessions concerned and acks the IRQ. Before the first
/// session took the device over, it leaves the line masked (see
/// [`irq_session`]).
extern "C" fn gpio_irq_start(_: usize) -> ! {
    let k = kernel();
    let Some((mut irq, signal)) = irq_session("gpio", &GPIO_IRQ_THREAD) else { k.exit_current() };
    loop {
        if k.wait_signal(signal).is_err() {
            k.exit_current();
        }
        // Counted from reading the sessions' selectors to submitting them:
        // a session's end drops its signal only after (see `Submitting`).
        let served = GPIO_SUBMITTING.during(|| {
            let wake: Option<heapless::Vec<CapSel, DEVICE_SESSIONS>> = with_gpio(|state| {
                let changes = state.device.as_mut()?.take_changes();
                let mut wake = heapless::Vec::new();
                for slot in 0..DEVICE_SESSIONS {
                    let mine = changes & state.pins[slot];
                    if mine != 0 {
                        state.changes[slot] |= mine;
                        if let Some(selector) = state.signals[slot] {
                            let _ = wake.push(selector);
                        }
                    }
                }
                Some(wake)
            });
            for &selector in wake.iter().flatten() {
                let _ = k.submit(selector);
            }
            wake.is_some()
        });
        if served {
            let _ = irq.ack();
        }
    }
}

static GPIO_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Gpio, GpioSession>>>; DEVICE_SESSIONS] =
    [const { ConstStaticCell::new(None) }; DEVICE_SESSIONS];
static GPIO_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, GpioRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The GPIO driver's root: a session per request, its pins the bits of
/// its quota; two sessions never share a pin.
struct GpioRoot(Pool<dyn Gpio, DEVICE_SESSIONS>);

impl Root for GpioRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        gpio_take_device()?;
        with_gpio(|state| {
            let pin_count = state.device.as_ref().ok_or(SessionError::Denied)?.pins();
            let all = 1u32.checked_shl(u32::from(pin_count)).map_or(u32::MAX, |bit| bit - 1);
            let taken = state.pins.iter().fold(0, |taken, pins| taken | pins);
            if args.quota == 0 || args.quota & !all != 0 || args.quota & taken != 0 {
                return Err(SessionError::Denied);
            }
            Ok(())
        })?;
        let (slot, cap) = self.0.open(&GPIO_OBJECTS, |slot| GpioSession { slot })?;
        with_gpio(|state| {
            state.pins[slot] = args.quota;
            state.signals[slot] = None;
            state.changes[slot] = 0;
        });
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.0.close(session)?;
        let signal = with_gpio(|state| {
            let pins = core::mem::take(&mut state.pins[slot]);
            if let Some(device) = state.device.as_mut() {
                // Its pins are no longer watched for anyone, and go back
                // to inputs, as at reset: what the session drove (a
                // motor, a relay) it drives no more once it is gone (a
                // client that exited or panicked, whose session the
                // composer reclaims), and the next session of those pins
                // starts from the reset state, not the last client's.
                let _ = device.watch(pins, None);
                for pin in 0..device.pins() {
                    if pins & 1u32.checked_shl(u32::from(pin)).unwrap_or(0) != 0 {
                        let _ = device.configure(pin, false, false);
                    }
                }
            }
            state.changes[slot] = 0;
            let signal = state.signals[slot].take();
            signal.filter(|&signal| !state.signals.contains(&Some(signal)))
        });
        if let Some(signal) = signal {
            GPIO_SUBMITTING.drop_selector(signal);
        }
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
/// pins it may use. With a route `gpio: "IRQ" "gpio" => irq` too, the
/// component's interrupt thread signals each session's input changes
/// (`Gpio::watch`, `Gpio::sigh`, `Gpio::take_changes`).
pub fn gpio_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    GPIO_IRQ_MEMORY.spawn_beside(&GPIO_IRQ_UTCB, &entrypoint, "gpio-irq", gpio_irq_start)?;
    let root = GPIO_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(GpioRoot(Pool::new(entrypoint))));
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
