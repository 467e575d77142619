//! The Terminal driver component: the console UART (PL011 UART0 on the
//! PBX-A9, the UART Lite on MicroBlaze V) as a byte stream, read, write and
//! a signal when input arrives.
//!
//! Like the GPIO driver, it reaches its device only through its IO_MEM
//! session: its route (`terminal: "IO_MEM" "console-uart" => io_mem`)
//! grants the UART's register window, which it shows the platform
//! (`devices::terminal_port`, which refuses any other window).
//!
//! The UART is also the console, where LOG lines and `println!` go, so the
//! platform's serial driver keeps the UART's interrupt: its handler drains
//! the receive FIFO into a ring (and, on the PBX-A9, refills the transmit
//! FIFO from the ring console output shares). An IRQ session would replace
//! that handler with one that only masks the line and submits a signal,
//! and console output would stall behind the masked line. So the device
//! table grants no interrupt for the console UART; instead the platform
//! calls an input hook (`devices::set_serial_input_hook`) from its handler
//! whenever received bytes wait, and the hook submits the session's signal
//! directly (`submit_from_interrupt`, as the IRQ service's handlers do).
//! A UART has one input stream, so the driver serves one session at a time
//! and needs no thread of its own to fan signals out.

use core::cell::RefCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_component::{
    IoMem, Root, Session, SessionArgs, SessionError, SignalSource, TERMINAL_CHUNK, Terminal,
};
use ferrode_hal::DeviceWindow;
use ferrode_ipc::{Bytes, CapSel, Capability, RpcObject};

use super::Env;
use crate::kernel::{self, BoardEntrypoint, CapEntry, ConstStaticCell, KernelError, kernel};

/// The device-table name of the console UART: the label of the driver's
/// IO_MEM route.
pub const TERMINAL_DEVICE: &str = "console-uart";

type Port = crate::platform::devices::Serial;

/// No signal.
const NONE: u32 = u32::MAX;

/// The kernel signal of the open session's client that the input hook
/// submits (`NONE`: no session, or no `sigh` yet).
static INPUT_SIGNAL: AtomicU32 = AtomicU32::new(NONE);

/// The platform's serial input hook (interrupt context): received bytes
/// wait, tell the session's client. Nothing else runs in interrupt context.
fn input_arrived() {
    let signal = INPUT_SIGNAL.load(Ordering::Relaxed);
    if signal != NONE {
        kernel().submit_from_interrupt(kernel::SignalId::from_index(signal as usize));
    }
}

/// The driver's port (once its IO_MEM window was granted) and its one
/// session.
struct TerminalState {
    port: Option<Port>,
    /// The session object's capability (managed once, reused after close).
    cap: Option<Capability<dyn Terminal>>,
    open: bool,
}

struct TerminalCell(RefCell<TerminalState>);

// SAFETY: used only by the Terminal component's entrypoint thread, which
// dispatches its root and session objects one request at a time; the
// `RefCell` turns any other use into a panic, not a race. (The interrupt
// hook touches only the atomic `INPUT_SIGNAL`.)
unsafe impl Sync for TerminalCell {}

static TERMINAL: TerminalCell =
    TerminalCell(RefCell::new(TerminalState { port: None, cap: None, open: false }));

/// The driver's port: on first use, asks the component's IO_MEM session
/// for the console UART's window (its route must grant "console-uart") and
/// hands it to the platform.
fn port(state: &mut TerminalState) -> Result<&mut Port, SessionError> {
    if state.port.is_none() {
        let env = Env::own().ok_or(SessionError::Denied)?;
        let io_mem = env.session::<dyn IoMem>(ferrode_component::IO_MEM, TERMINAL_DEVICE)?;
        let window = kernel::client(io_mem).window()?;
        let window = DeviceWindow {
            name: TERMINAL_DEVICE,
            base: window.base as usize,
            size: window.size as usize,
            irq: None,
        };
        let port = crate::platform::devices::terminal_port(&window).ok_or(SessionError::Denied)?;
        crate::platform::devices::set_serial_input_hook(input_arrived);
        state.port = Some(port);
    }
    state.port.as_mut().ok_or(SessionError::Denied)
}

/// The session object (the driver has one).
struct TerminalSession;

impl TerminalSession {
    /// Runs `f` on the port while the session is open.
    fn with_port<R>(&self, f: impl FnOnce(&mut Port) -> R) -> Result<R, SessionError> {
        let mut state = TERMINAL.0.borrow_mut();
        if !state.open {
            return Err(SessionError::UnknownSession);
        }
        Ok(f(port(&mut state)?))
    }
}

impl Session for TerminalSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Terminal for TerminalSession {
    fn write(&mut self, bytes: Bytes<TERMINAL_CHUNK>) -> Result<u32, SessionError> {
        // Both platforms queue all of it, waiting for room.
        self.with_port(|port| port.write_bytes(&bytes))?;
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
        let CapEntry::Signal { signal: id, .. } =
            k.capability(k.current_component(), signal.selector())
        else {
            return Err(SessionError::UnknownSession);
        };
        let waiting = self.with_port(|port| port.received_len() > 0)?;
        INPUT_SIGNAL.store(id.index() as u32, Ordering::Relaxed);
        if waiting {
            // Input that arrived before the client asked is news too.
            let _ = k.submit(signal.selector());
        }
        Ok(())
    }

    fn avail(&mut self) -> Result<u32, SessionError> {
        self.with_port(|port| port.received_len() as u32)
    }

    fn lost(&mut self) -> Result<u32, SessionError> {
        self.with_port(|port| port.lost_bytes())
    }
}

static TERMINAL_OBJECT: ConstStaticCell<Option<RpcObject<dyn Terminal, TerminalSession>>> =
    ConstStaticCell::new(None);
static TERMINAL_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, TerminalRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The Terminal driver's root: one session at a time (a UART has one input
/// stream); closing it makes room for the next.
struct TerminalRoot {
    entrypoint: BoardEntrypoint,
}

impl Root for TerminalRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let mut state = TERMINAL.0.borrow_mut();
        // A driver without its device serves no one: a missing IO_MEM
        // route fails here, at the first session.
        port(&mut state)?;
        if state.open {
            return Err(SessionError::OutOfSessions);
        }
        let cap = match state.cap {
            Some(cap) => cap,
            None => {
                let object = TERMINAL_OBJECT
                    .try_take()
                    .ok_or(SessionError::OutOfSessions)?
                    .insert(RpcObject::new(TerminalSession));
                let cap =
                    self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?;
                *state.cap.insert(cap)
            }
        };
        state.open = true;
        Ok(cap.upcast())
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let mut state = TERMINAL.0.borrow_mut();
        let cap = state
            .cap
            .filter(|cap| state.open && cap.upcast::<dyn Session>() == session)
            .ok_or(SessionError::UnknownSession)?;
        INPUT_SIGNAL.store(NONE, Ordering::Relaxed);
        kernel().revoke_copies(cap.selector()).map_err(|_| SessionError::UnknownSession)?;
        state.open = false;
        Ok(())
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// The Terminal driver component's root, for `compose!`: `provides:
/// "Terminal", root: ferrode_board::component::terminal_root`, with a route
/// `terminal: "IO_MEM" "console-uart" => io_mem` that grants it the console
/// UART's registers (it has no other way to them). One session at a time.
pub fn terminal_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    let root = TERMINAL_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(TerminalRoot { entrypoint }));
    entrypoint.manage(root)
}

impl Env {
    /// A signal of this component for "input arrived", and the Terminal
    /// session of `label` told to deliver it there.
    pub fn terminal(
        &self,
        label: &str,
    ) -> Result<(ferrode_ipc::Client<dyn Terminal, kernel::Transport>, CapSel), SessionError> {
        let mut terminal =
            kernel::client(self.session::<dyn Terminal>(ferrode_component::TERMINAL, label)?);
        let (_, signal) = kernel().create_signal().map_err(|_| SessionError::QuotaExceeded)?;
        terminal.sigh(Capability::from_selector(signal))?;
        Ok((terminal, signal))
    }
}
