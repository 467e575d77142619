//! The Terminal driver component: the console UART (PL011 UART0 on the
//! PBX-A9, the UART Lite on MicroBlaze V) as a byte stream, read, write and
//! a signal when input arrives.
//!
//! Like the GPIO and NIC drivers, it reaches its device only through its
//! sessions: its IO_MEM route (`terminal: "IO_MEM" "console-uart" =>
//! io_mem`) grants the UART's register window, which it shows the platform
//! (`devices::terminal_port`, which refuses any other window), and its IRQ
//! route (`terminal: "IRQ" "console-uart" => irq`) the UART's interrupt.
//! Its interrupt thread (`terminal-irq`) waits for the IRQ session's
//! signal, has the platform's driver move the receive FIFO into its ring
//! (`Serial::service_interrupt`), acknowledges the session and, if input
//! waits, submits the session client's signal.
//!
//! The UART is also the console, where LOG lines and `println!` go;
//! console output never waits for the UART's interrupt (it moves bytes
//! into the FIFO itself), so it keeps flowing while the IRQ session holds
//! the line masked. A UART has one input stream, so the driver serves one
//! session at a time.

use core::cell::{Cell, RefCell};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_component::{
    Irq, Root, Session, SessionArgs, SessionError, SignalSource, TERMINAL_CHUNK, Terminal,
};
use ferrode_ipc::{Bytes, CapSel, Capability, RpcObject};

use super::Env;
use super::wake::Wake;
use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};

/// The device-table name of the console UART: the label of the driver's
/// IO_MEM route.
pub const TERMINAL_DEVICE: &str = "console-uart";

type Port = crate::platform::devices::Serial;

/// The open session client's signal, as a selector in the driver's space
/// (unset: no session, or no `sigh` yet), which the interrupt thread
/// raises when input arrived.
static INPUT_SIGNAL: Wake = Wake::new();

/// The driver's port, once its IO_MEM window was granted.
struct TerminalCell(RefCell<Option<Port>>);

// SAFETY: used only by the Terminal component's entrypoint thread, which
// dispatches its root and session objects one request at a time; the
// `RefCell` turns any other use into a panic, not a race. (The interrupt
// thread touches only `IRQ_PORT` and the atomic `INPUT_SIGNAL`.)
unsafe impl Sync for TerminalCell {}

static TERMINAL: TerminalCell = TerminalCell(RefCell::new(None));

/// A copy of the port handle for the interrupt thread, once the port runs.
struct IrqPort(Cell<Option<Port>>);

// SAFETY: read and written only with interrupts masked, on the one core,
// so never by two threads at once; `Port` is a `Copy` handle whose driver
// state the platform keeps behind its own lock.
unsafe impl Sync for IrqPort {}

static IRQ_PORT: IrqPort = IrqPort(Cell::new(None));

/// The driver's port: on first use, asks the component's IO_MEM session
/// for the console UART's window (its route must grant "console-uart") and
/// hands it to the platform.
fn port(state: &mut Option<Port>) -> Result<&mut Port, SessionError> {
    if state.is_none() {
        let window = super::devices::granted_window(TERMINAL_DEVICE)?;
        // SAFETY: this is the Terminal driver component, and `window` is
        // what its IO_MEM session for the console UART granted it.
        let port = unsafe { crate::platform::devices::terminal_port(&window) }
            .ok_or(SessionError::Denied)?;
        crate::arch::without_interrupts(|| IRQ_PORT.0.set(Some(port)));
        *state = Some(port);
        IRQ_THREAD.raise();
    }
    state.as_mut().ok_or(SessionError::Denied)
}

/// The port's count of lost bytes when the open session opened: the
/// session is told of its own losses only. Set at every open: the session
/// object is made once and serves each session after (see
/// [`Pool`](super::Pool)), so what it held would be the first session's.
static LOST_BEFORE: AtomicU32 = AtomicU32::new(0);

/// The session object (the driver has one; only its open session's
/// client holds a capability to it).
struct TerminalSession;

impl TerminalSession {
    /// Runs `f` on the port.
    fn with_port<R>(&self, f: impl FnOnce(&mut Port) -> R) -> Result<R, SessionError> {
        Ok(f(port(&mut TERMINAL.0.borrow_mut())?))
    }
}

impl Session for TerminalSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Terminal for TerminalSession {
    fn write(&mut self, bytes: Bytes<TERMINAL_CHUNK>) -> Result<u32, SessionError> {
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            let taken = self.with_port(|port| port.try_write(rest))?;
            rest = &rest[taken..];
            if taken == 0 {
                // No room: move what the transmit side holds on ourselves
                // (the interrupt thread may be waiting behind us), then
                // let the line drain. That serves reception too, taking
                // back the interrupt that would have told the client of
                // input: tell it here.
                if self.with_port(|port| port.service_interrupt())? {
                    signal_input();
                }
                kernel().yield_now();
            }
        }
        Ok(bytes.len() as u32)
    }

    fn read(&mut self) -> Result<Bytes<TERMINAL_CHUNK>, SessionError> {
        self.with_port(|port| {
            let mut buffer = [0u8; TERMINAL_CHUNK];
            // A line error comes alone and is counted by the platform
            // (`lost`); the bytes after it come with the next try. Each
            // error is reported once, so this ends.
            loop {
                if let Ok(count) = port.try_read(&mut buffer) {
                    return Bytes::from_slice(&buffer[..count])
                        .map_err(|_| SessionError::QuotaExceeded);
                }
            }
        })?
    }

    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let k = kernel();
        let (signal, _) = super::client_signal(signal)?;
        let waiting = self.with_port(|port| port.received_len() > 0)?;
        // The one session's previous signal is not needed any more.
        INPUT_SIGNAL.replace_dropping(signal);
        if waiting {
            // Input that arrived before the client asked is news too.
            let _ = k.submit(signal);
        }
        Ok(())
    }

    fn avail(&mut self) -> Result<u32, SessionError> {
        self.with_port(|port| port.received_len() as u32)
    }

    fn lost(&mut self) -> Result<u32, SessionError> {
        self.with_port(|port| port.lost_bytes().wrapping_sub(LOST_BEFORE.load(Ordering::Relaxed)))
    }
}

static TERMINAL_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Terminal, TerminalSession>>>; 1] =
    [ConstStaticCell::new(None)];
static TERMINAL_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, TerminalRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The Terminal driver's root: one session at a time (a UART has one input
/// stream), in a one-slot [`Pool`](super::Pool); closing it makes room for
/// the next.
struct TerminalRoot(super::Pool<dyn Terminal, 1>);

impl Root for TerminalRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        // A driver without its device serves no one: a missing IO_MEM
        // route fails here, at the first session.
        let lost_before = port(&mut TERMINAL.0.borrow_mut())?.lost_bytes();
        let (_, cap) = self.0.open(&TERMINAL_OBJECTS, |_| TerminalSession)?;
        LOST_BEFORE.store(lost_before, Ordering::Relaxed);
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.0.close(session)?;
        // The client's signal: a closed session wakes no one.
        INPUT_SIGNAL.take_dropping();
        if let Some(port) = TERMINAL.0.borrow_mut().as_mut() {
            discard_input(port);
        }
        Ok(())
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// Drops the input a closed session's client left unread: it came for
/// that client, and the next session starts without it. Bounded by what
/// was received when it started (the FIFO moved into the ring first), so
/// input that keeps arriving cannot keep the entrypoint here.
fn discard_input(port: &mut Port) {
    let _ = port.service_interrupt();
    let mut left = port.received_len();
    let mut buffer = [0u8; TERMINAL_CHUNK];
    while left > 0 {
        match port.try_read(&mut buffer[..left.min(TERMINAL_CHUNK)]) {
            Ok(0) => break,
            Ok(count) => left = left.saturating_sub(count),
            // A line error comes alone, once (as in `read`).
            Err(_) => {}
        }
    }
}

crate::thread_stack!(static IRQ_MEMORY: 2048);
static IRQ_UTCB: super::runtime::UtcbCell = super::runtime::utcb();
/// The interrupt thread's signal, which [`port`] raises.
static IRQ_THREAD: Wake = Wake::new();

/// The driver's interrupt thread: opens the component's IRQ session for
/// the console UART (without one no input is ever signalled and the
/// thread ends), then per interrupt has the platform's driver serve it,
/// acknowledges the session (which opens the line again) and tells the
/// session's client when input waits. Before the first session started
/// the port, it leaves the line masked (see `devices::irq_session`).
extern "C" fn irq_start(_: usize) -> ! {
    let k = kernel();
    let Some((mut irq, signal)) = super::devices::irq_session(TERMINAL_DEVICE, &IRQ_THREAD) else {
        k.exit_current()
    };
    loop {
        if k.wait_signal(signal).is_err() {
            k.exit_current();
        }
        let Some(port) = crate::arch::without_interrupts(|| IRQ_PORT.0.get()) else { continue };
        let input = port.service_interrupt();
        let _ = irq.ack();
        if input {
            signal_input();
        }
    }
}

/// Tells the session's client that input waits (if it asked to be told).
fn signal_input() {
    INPUT_SIGNAL.raise();
}

/// The Terminal driver component's root, for `compose!`: `provides:
/// "Terminal", root: ferrode_board::component::terminal_root`, with routes
/// `terminal: "IO_MEM" "console-uart" => io_mem` and `terminal: "IRQ"
/// "console-uart" => irq` that grant it the console UART's registers and
/// interrupt (it has no other way to them). One session at a time. Starts
/// the driver's interrupt thread at the entrypoint's priority.
pub fn terminal_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    IRQ_MEMORY.spawn_beside(&IRQ_UTCB, &entrypoint, "terminal-irq", irq_start)?;
    let root = TERMINAL_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(TerminalRoot(super::Pool::new(entrypoint))));
    entrypoint.manage(root)
}

impl Env {
    /// A signal of this component for "input arrived", and the Terminal
    /// session of `label` told to deliver it there. The signal watches its
    /// submitters: should the Terminal server end, a wait on it ends with
    /// `ServerDead`.
    pub fn terminal(
        &self,
        label: &str,
    ) -> Result<(ferrode_ipc::Client<dyn Terminal, kernel::Transport>, CapSel), SessionError> {
        let mut terminal =
            kernel::client(self.session::<dyn Terminal>(ferrode_component::TERMINAL, label)?);
        let (_, signal) = kernel().create_signal().map_err(|_| SessionError::QuotaExceeded)?;
        kernel().watch_submitters(signal)?;
        terminal.sigh(Capability::from_selector(signal))?;
        Ok((terminal, signal))
    }
}
