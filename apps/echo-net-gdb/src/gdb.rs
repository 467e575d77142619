//! The GDB monitor's connection: a smoltcp TCP socket on port 8181 in the
//! echo's stack, bytes handed to `ferrode_gdb_monitor::Monitor`, the
//! image side from `ferrode_board::component::gdb::ImageTarget`.
//!
//! One debugger at a time. A connection stops the debuggable threads
//! (all-stop); its end (detach, kill, or the peer closing) takes the
//! breakpoints out and resumes them, and the socket listens again.

use ferrode_board::component::gdb::ImageTarget;
use ferrode_gdb_monitor::Monitor;
use ferrode_net::ConstStaticCell;
use ferrode_net::smoltcp::iface::{SocketHandle, SocketSet};
use ferrode_net::smoltcp::socket::tcp;

/// The GDB monitor's TCP port (Genode's GDB monitor used the same).
pub const PORT: u16 = 8181;
const BUFFER_LEN: usize = 2048;

/// The socket's buffers and the monitor (zeroed: `.bss`).
pub struct GdbBuffers {
    receive: [u8; BUFFER_LEN],
    transmit: [u8; BUFFER_LEN],
    monitor: Monitor,
}

static BUFFERS: ConstStaticCell<GdbBuffers> = ConstStaticCell::new(GdbBuffers {
    receive: [0; BUFFER_LEN],
    transmit: [0; BUFFER_LEN],
    monitor: Monitor::new(),
});

/// The monitor's socket and state.
pub struct GdbServer {
    handle: SocketHandle,
    monitor: &'static mut Monitor,
    target: ImageTarget,
    connected: bool,
    /// The monitor closed the connection; the socket listens again once
    /// it is closed (no new session on the old connection meanwhile).
    draining: bool,
}

impl GdbServer {
    /// Adds the listening socket to `sockets`.
    pub fn new(sockets: &mut SocketSet<'static>) -> Option<Self> {
        let buffers = BUFFERS.try_take()?;
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut buffers.receive[..]),
            tcp::SocketBuffer::new(&mut buffers.transmit[..]),
        );
        socket.listen(PORT).ok()?;
        let handle = sockets.add(socket);
        Some(Self {
            handle,
            monitor: &mut buffers.monitor,
            target: ImageTarget::new(),
            connected: false,
            draining: false,
        })
    }

    /// Whether the debugger waits for the target to stop (the loop then
    /// polls at least every few milliseconds for a thread that stopped).
    pub fn waiting_for_stop(&self) -> bool {
        self.connected && self.monitor.running()
    }

    /// Moves bytes between the socket and the monitor; returns whether
    /// anything moved.
    pub fn serve(&mut self, sockets: &mut SocketSet<'static>) -> bool {
        let socket = sockets.get_mut::<tcp::Socket<'static>>(self.handle);
        let mut moved = false;
        if !self.connected && !self.draining && socket.state() == tcp::State::Established {
            self.monitor.connect(&mut self.target);
            self.connected = true;
        }
        if self.connected {
            self.monitor.poll(&mut self.target);
            loop {
                let output = self.monitor.output();
                if !output.is_empty() {
                    match socket.send_slice(output) {
                        Ok(0) | Err(_) => break,
                        Ok(sent) => {
                            self.monitor.sent(sent);
                            moved = true;
                            continue;
                        }
                    }
                }
                if self.monitor.closing() || !socket.can_recv() {
                    break;
                }
                let (monitor, target) = (&mut *self.monitor, &mut self.target);
                let taken = socket.recv(|bytes| {
                    let taken = monitor.receive(bytes, target);
                    (taken, taken)
                });
                match taken {
                    Ok(0) | Err(_) => break,
                    Ok(_) => moved = true,
                }
            }
            let done = self.monitor.closing() && self.monitor.output().is_empty();
            if done || !socket.may_recv() {
                self.monitor.disconnect(&mut self.target);
                self.connected = false;
                socket.close();
                self.draining = true;
                moved = true;
            }
        }
        if matches!(socket.state(), tcp::State::TimeWait) {
            socket.abort();
        }
        if !socket.is_open() {
            self.draining = false;
            let _ = socket.listen(PORT);
        }
        moved
    }
}
