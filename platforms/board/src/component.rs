//! Components, sessions and the core LOG service on this board.
//!
//! An image's composition is declared once with [`compose!`](crate::compose):
//! its components (servers that provide a service through a root object,
//! clients with a `main`), their priorities, and the routes of their
//! session requests. The declaration is checked at build time
//! ([`ferrode_component::check_routes`]); at run time the composer (the
//! boot thread, the parent of every component) creates each component with
//! its quota, starts the servers' entrypoints, asks each route's server
//! root for the session (an RPC through the kernel), hands the session
//! capability to the client, and starts the clients. A client reaches its
//! sessions through its [`Env`]; a service it has no route to is
//! [`SessionError::Denied`].

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_component::{
    LABEL_BYTES, LOG_LINE_BYTES, Log, Parent, ROM_CHUNK, Rom, Root, Session, SessionArgs,
    SessionError, SignalSource, Timer,
};
use ferrode_hal::{Alarm, Monotonic, ticks_to_ns, us_to_ticks};
use ferrode_ipc::{CapSel, Capability, RpcObject, TransportError};

pub use ferrode_component::{
    ComponentDecl, RouteDecl, check_after, check_counts, check_quota, check_routes,
    priority_in_range, priority_ok, provides, start_order_ok,
};

use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, kernel};

#[cfg(feature = "block")]
mod block;
mod devices;
#[cfg(feature = "gdb")]
pub mod gdb;
mod i2c;
#[cfg(any(feature = "nic", feature = "block"))]
mod lending;
#[cfg(feature = "nic")]
mod nic;
mod rtc;
mod terminal;
mod wake;

#[cfg(feature = "block")]
pub use block::{BlockClient, BlockError, block_root};
pub use devices::{gpio_root, io_mem_root, irq_root};
pub use i2c::{I2cClient, I2cClientError, i2c_root};
#[cfg(feature = "nic")]
pub use nic::{NicClient, NicPhy, nic_root};
pub use rtc::rtc_root;
pub use terminal::terminal_root;

/// Sessions one component may hold (its routes: checked at build time).
pub const MAX_SESSIONS: usize = ferrode_component::MAX_SESSIONS;

/// A session a component was given: the service, the label it was asked
/// with, and the capability (a selector in the component's own space).
#[derive(Clone, Copy)]
struct Granted {
    service: &'static str,
    label: &'static str,
    /// The capability in the component's space.
    selector: CapSel,
    /// The composer's own copy, and the server's root (for `close`).
    parent_copy: CapSel,
    root: Capability<dyn Root>,
}

/// What the composer hands each component: its name and its sessions.
/// Filled in by the composer before the component's first thread starts,
/// read only by that component.
/// Cells, so that the composer may record and forget sessions while the
/// component holds a shared reference.
pub struct Grants {
    sessions: [core::cell::Cell<Option<Granted>>; MAX_SESSIONS],
    /// How much the component may still raise each session's quota by
    /// (`upgrade`): what its route allows, less what it took.
    upgradable: [core::cell::Cell<u32>; MAX_SESSIONS],
    /// Which sessions' server has ended: the composer dropped its copy
    /// and the root (the record's selectors for them are stale: nothing
    /// reads them once this is set), and the record waits for the client
    /// to close it. Atomic, unlike the records: the composer sets it when
    /// the server ends, whatever the component's threads are doing.
    /// (Beside the records, not in them: a flag in `Granted` would make
    /// an empty record non-zero and every component's grants `.data`
    /// instead of `.bss`.)
    server_ended: [core::sync::atomic::AtomicBool; MAX_SESSIONS],
    /// The component's capability to its parent (`None`, all zero, keeps
    /// the grants in `.bss` until the composer fills them in).
    parent: core::cell::Cell<Option<CapSel>>,
}

impl Grants {
    /// None yet.
    pub const fn new() -> Self {
        Self {
            sessions: [const { core::cell::Cell::new(None) }; MAX_SESSIONS],
            upgradable: [const { core::cell::Cell::new(0) }; MAX_SESSIONS],
            server_ended: [const { core::sync::atomic::AtomicBool::new(false) }; MAX_SESSIONS],
            parent: core::cell::Cell::new(None),
        }
    }
}

impl Grants {
    /// The session a request of `service` with `label` gets: the route of
    /// that label, else the service's route for any label (first match
    /// wins, as in the routing table).
    fn find(&self, service: &str, label: &str) -> Option<(usize, Granted)> {
        let matching = |wanted: &str| {
            (0..MAX_SESSIONS).find_map(|i| {
                self.record(i).filter(|g| g.service == service && g.label == wanted).map(|g| (i, g))
            })
        };
        matching(label).or_else(|| matching(""))
    }

    /// Record `index`, read whole. The composer writes a component's
    /// records (serving one of its threads' parent calls) while its other
    /// threads may read them, so both sides do so with interrupts masked:
    /// on the one core no thread runs between.
    fn record(&self, index: usize) -> Option<Granted> {
        crate::arch::without_interrupts(|| self.sessions.get(index).and_then(core::cell::Cell::get))
    }

    /// Writes record `index` (the composer), as [`Grants::record`] reads.
    fn set_record(&self, index: usize, granted: Option<Granted>) {
        crate::arch::without_interrupts(|| {
            if let Some(slot) = self.sessions.get(index) {
                slot.set(granted);
            }
        });
    }
}

impl Default for Grants {
    fn default() -> Self {
        Self::new()
    }
}

/// A fixed pool of one service's session objects, one per slot, and which
/// slots are open: a slot's object is managed (by the server's entrypoint,
/// so the capability is the server's) the first time a session uses the
/// slot, and kept for the next session there once `close` took back every
/// copy of its capability. The LOG, ROM, Timer, IO_MEM, IRQ, GPIO and
/// Terminal roots keep their sessions in one.
struct Pool<I: ?Sized + 'static, const N: usize> {
    entrypoint: BoardEntrypoint,
    caps: [Option<Capability<I>>; N],
    /// What each kept capability designated when the slot's object was
    /// managed (object and generation).
    held: [kernel::CapEntry; N],
    open: [bool; N],
}

impl<I: ?Sized + ferrode_ipc::Inherits<dyn Session> + 'static, const N: usize> Pool<I, N> {
    fn new(entrypoint: BoardEntrypoint) -> Self {
        Self { entrypoint, caps: [None; N], held: [kernel::CapEntry::Empty; N], open: [false; N] }
    }

    /// Opens a free slot and returns its session capability, managing the
    /// slot's object (`make` builds it for the slot) the first time; on
    /// failure no slot was opened.
    fn open<S: 'static>(
        &mut self,
        objects: &'static [ConstStaticCell<Option<RpcObject<I, S>>>; N],
        make: impl FnOnce(usize) -> S,
    ) -> Result<(usize, Capability<dyn Session>), SessionError>
    where
        I: ferrode_ipc::Serve<S>,
    {
        let slot = self.open.iter().position(|open| !open).ok_or(SessionError::OutOfSessions)?;
        let cap = match self.caps[slot] {
            // The server must still hold the capability it kept for the
            // slot: one it dropped (a bug) would hand the next client a
            // dead selector, or whatever came to live there.
            Some(cap) if own_entry(cap.selector()) == self.held[slot] => cap,
            Some(_) => return Err(SessionError::OutOfSessions),
            None => {
                let object = objects[slot]
                    .try_take()
                    .ok_or(SessionError::OutOfSessions)?
                    .insert(RpcObject::new(make(slot)));
                let cap =
                    self.entrypoint.manage(object).map_err(|_| SessionError::OutOfSessions)?;
                self.held[slot] = own_entry(cap.selector());
                *self.caps[slot].insert(cap)
            }
        };
        self.open[slot] = true;
        Ok((slot, cap.upcast()))
    }

    /// The open slot whose capability `session` is.
    fn slot_of(&self, session: Capability<dyn Session>) -> Option<usize> {
        (0..N).find(|&slot| {
            self.open[slot]
                && self.caps[slot].is_some_and(|cap| cap.upcast::<dyn Session>() == session)
        })
    }

    /// Closes `session`: takes back every copy of its capability and frees
    /// its slot, which it returns.
    fn close(&mut self, session: Capability<dyn Session>) -> Result<usize, SessionError> {
        let slot = self.slot_of(session).ok_or(SessionError::UnknownSession)?;
        let cap = self.caps[slot].ok_or(SessionError::UnknownSession)?;
        kernel().revoke_copies(cap.selector()).map_err(|_| SessionError::UnknownSession)?;
        self.open[slot] = false;
        Ok(slot)
    }
}

/// What `selector` designates in the running component's space.
fn own_entry(selector: CapSel) -> kernel::CapEntry {
    let k = kernel();
    k.capability(k.current_component(), selector)
}

/// A component's view of its environment: its name, the sessions its
/// routes gave it, and its parent (Genode's `Env`).
pub struct Env {
    name: &'static str,
    grants: &'static Grants,
    parent: Capability<dyn Parent>,
}

impl Env {
    #[doc(hidden)]
    pub fn new(name: &'static str, grants: &'static Grants) -> Self {
        let parent = grants.parent.get().unwrap_or(CapSel::INVALID);
        Self { name, grants, parent: Capability::from_selector(parent) }
    }

    /// The environment of the running server component (a driver's
    /// threads reach their IO_MEM and IRQ sessions through it); `None` for
    /// a thread of any other component. A server has no parent requests.
    pub fn own() -> Option<Self> {
        let component = kernel().current_component();
        runtime::server_env(component).map(|(name, grants)| Self {
            name,
            grants,
            parent: Capability::from_selector(CapSel::INVALID),
        })
    }

    /// The component's name (its label in LOG lines).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The session of `service` whose route matched `label` ("" for the
    /// default one), as interface `I`; [`SessionError::Denied`] if the
    /// composition routes no such request of this component.
    pub fn session<I: ?Sized>(
        &self,
        service: &str,
        label: &str,
    ) -> Result<Capability<I>, SessionError> {
        self.grants
            .find(service, label)
            .map(|(_, granted)| Capability::from_selector(granted.selector))
            .ok_or(SessionError::Denied)
    }

    /// The labels of this component's open sessions of `service`, in the
    /// order of its routes; the default route's ("") is not a label.
    /// Rust std lists its ROM modules (`std::fs::read_dir("/rom")`) by them.
    pub fn labels<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        (0..MAX_SESSIONS).filter_map(move |index| {
            let record = self.grants.record(index);
            record.filter(|g| g.service == service && !g.label.is_empty()).map(|g| g.label)
        })
    }

    /// Closes the session of `service` that `label` selects: the server
    /// gets its resources back and the capability is dead from now on.
    pub fn close(&self, service: &str, label: &str) -> Result<(), SessionError> {
        let (service, label) = names(service, label)?;
        kernel::client(self.parent).close(service, label)
    }

    /// Raises that session's quota by `amount`; returns the new quota. The
    /// route allows `upgrade N` in all (`QuotaExceeded` beyond it, and for
    /// a route without one).
    pub fn upgrade(&self, service: &str, label: &str, amount: u32) -> Result<u32, SessionError> {
        let (service, label) = names(service, label)?;
        kernel::client(self.parent).upgrade(service, label, amount)
    }

    /// The LOG session: a client stub whose lines are prefixed with this
    /// component's label.
    pub fn log(&self) -> Result<LogClient, SessionError> {
        Ok(LogClient { log: kernel::client(self.session::<dyn Log>(ferrode_component::LOG, "")?) })
    }
}

fn names(
    service: &str,
    label: &str,
) -> Result<(heapless::String<16>, heapless::String<LABEL_BYTES>), SessionError> {
    let service = heapless::String::try_from(service).map_err(|_| SessionError::Denied)?;
    let label = heapless::String::try_from(label).map_err(|_| SessionError::Denied)?;
    Ok((service, label))
}

/// A LOG session's client side.
pub struct LogClient {
    log: ferrode_ipc::Client<dyn Log, kernel::Transport>,
}

impl LogClient {
    /// Writes a line (cut at [`LOG_LINE_BYTES`] bytes, at a character
    /// boundary: [`ferrode_component::log_line`]).
    pub fn write(&mut self, line: &str) -> Result<(), SessionError> {
        self.log.write(ferrode_component::log_line(&[line]))
    }

    /// Writes one line made of `parts`, one after the other (cut as
    /// [`write`](Self::write) cuts): a line with a few values in it, without
    /// linking `core::fmt` as [`write_fmt`](Self::write_fmt) does.
    pub fn write_parts(&mut self, parts: &[&str]) -> Result<(), SessionError> {
        self.log.write(ferrode_component::log_line(parts))
    }

    /// The session's quota: the longest line it takes, in bytes (up to
    /// [`LOG_LINE_BYTES`]; a longer line is refused with
    /// [`SessionError::QuotaExceeded`]).
    pub fn quota(&mut self) -> Result<u32, SessionError> {
        self.log.quota()
    }

    /// Formats and writes a line.
    pub fn write_fmt(&mut self, args: core::fmt::Arguments<'_>) -> Result<(), SessionError> {
        let mut text: heapless::String<LOG_LINE_BYTES> = heapless::String::new();
        // A line longer than the buffer is cut, as `write` cuts.
        let _ = core::fmt::Write::write_fmt(&mut text, args);
        self.log.write(text)
    }
}

#[doc(hidden)]
pub mod runtime {
    //! What `compose!` expands to call; not for direct use.

    use super::*;

    /// A thread's stack, with the board's guard below it (a page the MMU
    /// leaves out on PBX-A9, a region PMP locks on MicroBlaze V); the UTCB that
    /// goes with it is separate (its empty capability slots are not zero).
    /// Declared with [`thread_stack!`](crate::thread_stack), which puts it
    /// with the image's other stacks, records where it is and hands it out
    /// through its one [`Stack`]. All zero and in a `NOLOAD` section: the
    /// boot code zeroes the stack from its record, not the guard.
    #[repr(C)]
    pub struct Memory<const STACK: usize> {
        guard: crate::arch::StackGuard,
        bytes: core::cell::UnsafeCell<[u8; STACK]>,
    }

    // SAFETY: the guard is never accessed, and the bytes only through the
    // one `Stack` of this memory, whose flag hands them out once.
    unsafe impl<const STACK: usize> Sync for Memory<STACK> {}

    impl<const STACK: usize> Memory<STACK> {
        /// Unused memory; a stack the kernel would refuse fails the build.
        pub const fn new() -> Self {
            const {
                assert!(STACK >= kernel::MIN_STACK, "a thread stack is at least MIN_STACK bytes");
                // The boot code zeroes stacks by words; the kernel aligns
                // a stack's top to 16 bytes anyway.
                assert!(STACK.is_multiple_of(16), "a thread stack is a whole number of 16 bytes");
            };
            Self {
                guard: crate::arch::StackGuard::new(),
                bytes: core::cell::UnsafeCell::new([0; STACK]),
            }
        }

        /// Where this stack and its guard are, for the image's stack
        /// records (see `ferrode_hal::stacks`).
        pub const fn record(&'static self) -> ferrode_hal::StackRecord {
            let stack = self.bytes.get().cast_const().cast::<u8>();
            ferrode_hal::StackRecord {
                guard: core::ptr::from_ref(&self.guard).cast(),
                stack,
                end: stack.wrapping_add(STACK),
            }
        }
    }

    pub use ferrode_hal::StackRecord;

    /// A thread stack as [`thread_stack!`](crate::thread_stack) declares
    /// it: its [`Memory`], the flag that hands it out once, and the record
    /// of where it is.
    pub struct Stack<const STACK: usize> {
        memory: &'static Memory<STACK>,
        taken: &'static AtomicBool,
        record: &'static StackRecord,
    }

    impl<const STACK: usize> Stack<STACK> {
        /// The stack in `memory`, handed out once by `taken`; `record`
        /// describes it.
        ///
        /// # Safety
        ///
        /// No other `Stack` has `memory` or `taken`, and `taken` is false
        /// (`thread_stack!` makes all three for this one).
        pub const unsafe fn new(
            memory: &'static Memory<STACK>,
            taken: &'static AtomicBool,
            record: &'static StackRecord,
        ) -> Self {
            Self { memory, taken, record }
        }

        /// Starts a thread of `entrypoint`'s server on this stack and
        /// `utcb`, at the entrypoint's priority: a server's own helper
        /// thread (the Timer's alarm thread, a driver's interrupt thread).
        /// It makes its own signals (the kernel makes signals for the
        /// running component only).
        pub fn spawn_beside(
            &'static self,
            utcb: &'static UtcbCell,
            entrypoint: &BoardEntrypoint,
            name: &'static str,
            entry: kernel::ThreadEntry,
        ) -> Result<(), KernelError> {
            let k = kernel();
            let priority =
                k.thread_priority(entrypoint.thread()).ok_or(KernelError::InvalidThread)?;
            let (stack, utcb) = self.take(utcb)?;
            k.spawn(entrypoint.component(), name, priority, stack, utcb, entry, 0)?;
            Ok(())
        }

        /// The guard below the stack (empty where the board has none).
        pub fn guard(&self) -> core::ops::Range<usize> {
            self.record.guard()
        }

        /// The stack and `utcb`, once.
        #[allow(clippy::mut_from_ref, reason = "the taken flags hand them out once")]
        pub fn take(
            &'static self,
            utcb: &'static ConstStaticCell<ferrode_ipc::Utcb>,
        ) -> Result<(&'static mut [u8], &'static mut ferrode_ipc::Utcb), KernelError> {
            // The image keeps the record of a stack it uses: the platform
            // leaves its guard page out of the map.
            core::hint::black_box(self.record);
            if self.taken.swap(true, Ordering::AcqRel) {
                return Err(KernelError::InvalidThread);
            }
            // SAFETY: the flag was clear and is set now, and this is the
            // memory's only `Stack` (`new`'s contract): the only reference
            // to its bytes there will ever be.
            let stack = unsafe { &mut *self.memory.bytes.get() };
            let utcb = utcb.try_take().ok_or(KernelError::InvalidThread)?;
            Ok((stack, utcb))
        }
    }

    impl<const STACK: usize> Default for Memory<STACK> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// A component's UTCB.
    pub type UtcbCell = ConstStaticCell<ferrode_ipc::Utcb>;

    /// An unused UTCB.
    pub const fn utcb() -> UtcbCell {
        ConstStaticCell::new(ferrode_ipc::Utcb::new())
    }

    /// Where a component's grants live while it runs.
    pub struct GrantCell(Grants);

    // SAFETY: only the composer writes the cells. The session records,
    // which it may write while the component's threads run (serving one
    // of their parent calls, or for the parent hook), are read and written
    // whole with interrupts masked (`Grants::record`, `set_record`): on
    // the one core no thread runs in between. The rest is written before
    // the component's threads start, or read by the composer alone
    // (`upgradable`), or atomic (`server_ended`). `Cell` holds only
    // `Copy` values (no references into it).
    unsafe impl Sync for GrantCell {}

    impl GrantCell {
        /// Empty.
        pub const fn new() -> Self {
            Self(Grants::new())
        }

        /// The grants.
        pub fn get(&'static self) -> &'static Grants {
            &self.0
        }

        /// Records the component's parent capability, before it starts.
        fn set_parent(&'static self, parent: CapSel) {
            self.get().parent.set(Some(parent));
        }

        /// Forgets a closed session (the composer's thread, serving the
        /// component's own request).
        fn forget(&'static self, index: usize) {
            self.get().set_record(index, None);
            self.get().server_ended[index].store(false, Ordering::Relaxed);
        }

        /// Whether the server of session `index` has ended.
        pub(super) fn server_ended(&'static self, index: usize) -> bool {
            self.get().server_ended[index].load(Ordering::Relaxed)
        }

        /// Records a session (before the component starts, or for the
        /// parent hook, granting it a capability) and how far the
        /// component may upgrade it.
        fn grant(&'static self, granted: Granted, upgradable: u32) -> Result<(), KernelError> {
            let grants = self.get();
            let index = (0..MAX_SESSIONS)
                .find(|&index| grants.record(index).is_none())
                .ok_or(KernelError::QuotaExceeded)?;
            grants.set_record(index, Some(granted));
            grants.upgradable[index].set(upgradable);
            Ok(())
        }
    }

    impl Default for GrantCell {
        fn default() -> Self {
            Self::new()
        }
    }

    /// A client's `after`, from the declaration's optional name.
    pub const fn after(names: &[&'static str]) -> Option<&'static str> {
        match names {
            [name] => Some(*name),
            _ => None,
        }
    }

    /// Whether any of `flags` is set (for `compose!`'s constants).
    pub const fn any(flags: &[bool]) -> bool {
        let mut index = 0;
        while index < flags.len() {
            if flags[index] {
                return true;
            }
            index += 1;
        }
        false
    }

    /// The composer's record of one server component.
    #[derive(Clone, Copy)]
    pub struct Server {
        /// Its name.
        pub name: &'static str,
        /// Its root capability, in the composer's space.
        pub root: Capability<dyn Root>,
    }

    /// One route of the image's routing table, as `compose!` writes it.
    #[derive(Clone, Copy)]
    pub struct Route {
        /// The component asking.
        pub from: &'static str,
        /// The service.
        pub service: &'static str,
        /// The label the route applies to ("" for any).
        pub label: &'static str,
        /// The server.
        pub to: &'static str,
        /// The quota the session is asked with (0: the server's default).
        pub quota: u32,
        /// How much the client may raise that quota by, in all
        /// (`upgrade N`; 0: not at all).
        pub upgrade: u32,
    }

    /// Components an image may declare (clients started `after` another
    /// may reuse the kernel slots of components the parent hook destroyed,
    /// so this may exceed the kernel's [`kernel::MAX_COMPONENTS`]).
    pub const MAX_DECLARED: usize = 16;

    /// The composer's stack (the image's boot stack) unless a composition
    /// declares `parent_stack`. Measured peak under QEMU (echo-net and
    /// echo-net-gdb, boot and composer included): about 1.2 KiB in release
    /// and 1.4 KiB in debug images on both boards.
    pub const COMPOSER_STACK: usize = 8192;
    /// The least `parent_stack` a composition may declare.
    pub const MIN_COMPOSER_STACK: usize = 4096;

    /// A server component's quota unless its declaration says otherwise:
    /// room for its sessions' capabilities and signals, 16 objects, and
    /// three threads (the entrypoint and up to two of the server's own:
    /// the Timer's alarm thread, the NIC driver's data and interrupt
    /// threads).
    pub const fn server_quota(priority: u8) -> kernel::Quota {
        kernel::Quota {
            caps: 32,
            objects: 16,
            threads: 3,
            signals: MAX_SESSIONS as u8,
            ..kernel::Quota::at_priority(priority)
        }
    }

    /// A client component's quota unless its declaration says otherwise:
    /// room for a capability and a signal per session it may hold.
    pub const fn client_quota(priority: u8) -> kernel::Quota {
        kernel::Quota {
            caps: 32,
            signals: MAX_SESSIONS as u8,
            ..kernel::Quota::at_priority(priority)
        }
    }

    /// The composer's record of the components it created and the
    /// servers it started.
    pub struct Registry {
        servers: heapless::Vec<Server, MAX_DECLARED>,
        components:
            heapless::Vec<(&'static str, kernel::ComponentId, &'static GrantCell), MAX_DECLARED>,
        /// The clients' names in declaration order (bit `i` of `EXITED`).
        clients: heapless::Vec<&'static str, MAX_DECLARED>,
        /// The signal each server gets a copy of when the composer watches
        /// its servers ([`watch_servers`]).
        watch: Option<CapSel>,
    }

    impl Registry {
        /// Nothing created yet.
        pub const fn new() -> Self {
            Self {
                servers: heapless::Vec::new(),
                components: heapless::Vec::new(),
                clients: heapless::Vec::new(),
                watch: None,
            }
        }

        fn add(
            &mut self,
            name: &'static str,
            component: kernel::ComponentId,
            grants: &'static GrantCell,
        ) -> Result<(), KernelError> {
            self.components.push((name, component, grants)).map_err(|_| KernelError::QuotaExceeded)
        }

        /// Opens every session `from`'s routes name (in table order), from
        /// servers started already; `InvalidComponent` (no such component)
        /// for a route to a server that has ended.
        pub fn open_routes(&self, routes: &[Route], from: &'static str) -> Result<(), KernelError> {
            let &(_, component, grants) = self
                .components
                .iter()
                .find(|(name, ..)| *name == from)
                .ok_or(KernelError::InvalidThread)?;
            for route in routes.iter().filter(|route| route.from == from) {
                // The build checked that the route's server exists and
                // starts first: missing, it has ended.
                let server = self
                    .servers
                    .iter()
                    .find(|server| server.name == route.to)
                    .ok_or(KernelError::InvalidComponent)?;
                open_session(server, route, (from, component), grants)?;
            }
            Ok(())
        }
    }

    /// How many open session records name each slot of the composer's
    /// space (its copy of their session; low 16 bits), and the root they
    /// came from (its selector, high 16 bits); all ones for what the
    /// composer keeps for good: a root, a client's parent object, the
    /// watch's signal. A server may give several clients one session
    /// object (rpc-demo's give each client their one object): the kernel
    /// gives the composer one selector for it, which each of those
    /// records names, and which must stay the composer's until the last
    /// of them ends. Only the composer's thread uses it (opening and
    /// ending sessions).
    struct Named([AtomicU32; kernel::CAP_SLOTS]);

    static NAMED: Named = Named([const { AtomicU32::new(0) }; kernel::CAP_SLOTS]);

    impl Named {
        /// The count and root of `selector`'s slot, packed.
        fn slot(&self, selector: CapSel) -> Option<&AtomicU32> {
            self.0.get(selector.0 as usize)
        }

        /// Whether open records of sessions of a root other than `root`
        /// name `selector`.
        fn by_another(&self, selector: CapSel, root: CapSel) -> bool {
            self.slot(selector).is_some_and(|slot| {
                let named = slot.load(Ordering::Relaxed);
                named & 0xffff != 0 && named >> 16 != root.0
            })
        }

        /// `selector` is a server's root, a client's parent object or the
        /// watch's signal: the composer's for good, as if another root's
        /// records named it.
        fn mark_root(&self, selector: CapSel) {
            if let Some(slot) = self.slot(selector) {
                slot.store(u32::MAX, Ordering::Relaxed);
            }
        }

        /// One more record of `root`'s names `selector` (the first, if
        /// the capability is `fresh` to the composer).
        fn add(&self, selector: CapSel, root: CapSel, fresh: bool) {
            if let Some(slot) = self.slot(selector) {
                let before = if fresh { 0 } else { slot.load(Ordering::Relaxed) & 0xffff };
                slot.store(root.0 << 16 | (before + 1), Ordering::Relaxed);
            }
        }

        /// One record naming `selector` less (`all`: every one): whether
        /// none is left, so that the composer's copy may go.
        fn release(&self, selector: CapSel, all: bool) -> bool {
            let Some(slot) = self.slot(selector) else { return true };
            let named = slot.load(Ordering::Relaxed);
            let left = if all { 0 } else { (named & 0xffff).saturating_sub(1) };
            slot.store(named & !0xffff | left, Ordering::Relaxed);
            left == 0
        }
    }

    impl Default for Registry {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Server components' environments, for [`Env::own`].
    struct ServerEnvs(
        core::cell::RefCell<
            heapless::Vec<(kernel::ComponentId, &'static str, &'static Grants), MAX_DECLARED>,
        >,
    );

    // SAFETY: used only inside `without_interrupts` on the one core, so no
    // two threads (or a thread and a handler) see it at once.
    unsafe impl Sync for ServerEnvs {}

    static SERVER_ENVS: ServerEnvs = ServerEnvs(core::cell::RefCell::new(heapless::Vec::new()));

    pub(super) fn server_env(
        component: kernel::ComponentId,
    ) -> Option<(&'static str, &'static Grants)> {
        crate::arch::without_interrupts(|| {
            SERVER_ENVS
                .0
                .borrow()
                .iter()
                .find(|(id, ..)| *id == component)
                .map(|&(_, name, grants)| (name, grants))
        })
    }

    /// Creates a server component, opens the sessions its own routes name
    /// (a driver's IO_MEM and IRQ: the servers of those are started
    /// already), then starts its entrypoint; `root` manages the root object
    /// from the composer, whose space gets the capability.
    #[allow(clippy::too_many_arguments, reason = "one argument per item of the declaration")]
    pub fn start_server<const STACK: usize>(
        registry: &mut Registry,
        routes: &[Route],
        name: &'static str,
        quota: kernel::Quota,
        memory: (&'static Stack<STACK>, &'static UtcbCell),
        grants: &'static GrantCell,
        root: fn(BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError>,
    ) -> Result<(), KernelError> {
        let k = kernel();
        let priority = quota.priority;
        let component = k.create_component(name, quota)?;
        registry.add(name, component, grants)?;
        if let Some(signal) = registry.watch {
            // Never submitted by the composer: its end is what the watcher
            // waits for.
            k.delegate(k.current_component(), signal, component)?;
        }
        crate::arch::without_interrupts(|| {
            SERVER_ENVS.0.borrow_mut().push((component, name, grants.get())).map_err(|_| ())
        })
        .map_err(|()| KernelError::QuotaExceeded)?;
        registry.open_routes(routes, name)?;
        let (stack, utcb) = memory.0.take(memory.1)?;
        let entrypoint = BoardEntrypoint::new(k, component, name, priority, stack, utcb)?;
        let server = Server { name, root: root(entrypoint)? };
        NAMED.mark_root(server.root.selector());
        registry.servers.push(server).map_err(|_| KernelError::QuotaExceeded)
    }

    /// Creates a client component (its sessions are opened with
    /// [`Registry::open_routes`], its thread starts with [`start_client`]).
    pub fn create_client(
        registry: &mut Registry,
        name: &'static str,
        quota: kernel::Quota,
        grants: &'static GrantCell,
    ) -> Result<kernel::ComponentId, KernelError> {
        let component = kernel().create_component(name, quota)?;
        registry.add(name, component, grants)?;
        Ok(component)
    }

    /// Asks `server`'s root for a session of `route.service` for `client`
    /// (label `client` or `client -> label`), hands the capability to the
    /// client and records it in its grants.
    fn open_session(
        server: &Server,
        route: &Route,
        client: (&'static str, kernel::ComponentId),
        grants: &'static GrantCell,
    ) -> Result<(), KernelError> {
        let mut text: heapless::String<{ ferrode_component::LABEL_BYTES }> =
            heapless::String::new();
        // The build checked that names and labels fit (`check_routes`).
        let _ = text.push_str(client.0);
        if !route.label.is_empty() {
            let _ = text.push_str(" -> ").and_then(|()| text.push_str(route.label));
        }
        let session = kernel::client(server.root)
            .session(SessionArgs { label: text, quota: route.quota })
            .map_err(|_| {
                // The kernel error says only that there is no session;
                // the console says whose.
                crate::report::line(|out| {
                    for text in
                        ["composition: ", route.to, " refused ", client.0, "'s ", route.service]
                    {
                        out.text(text);
                    }
                    out.text(" session");
                });
                KernelError::InvalidCapability
            })?;
        let k = kernel();
        let composer = k.current_component();
        // Not a capability the composer holds already as a root, a
        // client's parent object, the signal it watches its servers with
        // (every server has a copy) or another server's open session
        // ([`Named`]): ending the session drops the composer's copy and
        // passes it to this server's root, which would take what the
        // composer or the other record still needs. An object the
        // composer held already otherwise is the server's own to share
        // (rpc-demo's servers give every client their one object, which
        // the composer made for them).
        // SAFETY: the composer thread's own UTCB, still holding the reply
        // its call just read; no other reference to it is live.
        let utcb = unsafe { &*k.current_utcb() };
        let selector = session.selector();
        let root = server.root.selector();
        let fresh = utcb.fresh_selectors().any(|fresh| fresh == selector);
        if !fresh && NAMED.by_another(selector, root) {
            crate::report::line(|out| {
                for text in ["composition: ", route.to, " answered ", client.0, "'s "] {
                    out.text(text);
                }
                out.text(route.service);
                out.text(" session with a capability it did not make");
            });
            return Err(KernelError::InvalidCapability);
        }
        let selector = k.delegate(composer, session.selector(), client.1)?;
        grants.grant(
            Granted {
                service: route.service,
                label: route.label,
                selector,
                parent_copy: session.selector(),
                root: server.root,
            },
            route.upgrade,
        )?;
        NAMED.add(session.selector(), root, fresh);
        Ok(())
    }

    ferrode_ipc::interface! {
        /// The composer's watch on its servers: its watcher thread calls
        /// the composer's object when one of them may have ended.
        pub trait Watch {
            /// A server ended, or one submitted its copy of the watch's
            /// signal (which says nothing: the composer asks the kernel).
            fn ended(&mut self) -> Result<(), SessionError>;
        }
    }

    /// The composer's watch object: notes the watcher's call for
    /// [`serve_parent`], which asks the kernel which servers ended.
    struct Watcher;

    /// Set by the watcher's call, cleared by the composer's sweep.
    static SERVERS_ENDED: AtomicBool = AtomicBool::new(false);

    impl Watch for Watcher {
        fn ended(&mut self) -> Result<(), SessionError> {
            SERVERS_ENDED.store(true, Ordering::Relaxed);
            Ok(())
        }
    }

    static WATCH_OBJECT: ConstStaticCell<Option<RpcObject<dyn Watch, Watcher>>> =
        ConstStaticCell::new(None);
    crate::thread_stack!(static WATCH_STACK: 4096);
    static WATCH_UTCB: UtcbCell = utcb();
    /// Registers `object` as served by the composer's own thread, in
    /// [`serve_parent`] (a client's parent object, the watch object);
    /// returns its capability in the composer's space.
    fn composer_object<I, S>(object: &'static mut RpcObject<I, S>) -> Result<CapSel, KernelError>
    where
        I: ?Sized + ferrode_ipc::Interface,
        RpcObject<I, S>: ferrode_ipc::Dispatch,
    {
        let k = kernel();
        let object: core::ptr::NonNull<dyn ferrode_ipc::Dispatch> =
            core::ptr::NonNull::from(object as &mut dyn ferrode_ipc::Dispatch);
        // SAFETY: a `&'static mut` given up to the kernel, dispatched only
        // by the composer's thread (`serve_parent`); the windows are
        // `I`'s own.
        let (_, selector) = unsafe { k.create_object(k.current_thread(), object, I::caps_window)? };
        Ok(selector)
    }

    /// Has the composer learn when a server ends, as Genode's parent learns
    /// of a child's end: a signal that each server started afterwards holds
    /// a copy of ([`start_server`]) and that the composer watches
    /// ([`Kernel::watch_submitters`]), and a thread of core, at the
    /// composer's priority, that waits on it and then calls the composer's
    /// watch object. The composer then asks the kernel which servers ended
    /// ([`Kernel::component_ended`]), tells the parent hook
    /// ([`Event::ServerEnded`]), reaps their threads and has their servers
    /// reclaim their sessions (`end_servers`). `compose!` sets it up only
    /// where that can matter: with a parent hook, or a client started
    /// `after` another (which may be given what the dead server held).
    ///
    /// A server that drops its copy is not watched any more (dropping is
    /// not news); one that submits it only has the composer look.
    ///
    /// [`Kernel::watch_submitters`]: ferrode_kernel::Kernel::watch_submitters
    /// [`Kernel::component_ended`]: ferrode_kernel::Kernel::component_ended
    pub fn watch_servers(registry: &mut Registry) -> Result<(), KernelError> {
        let k = kernel();
        let (_, signal) = k.create_signal()?;
        k.watch_submitters(signal).map_err(|_| KernelError::InvalidCapability)?;
        let object = WATCH_OBJECT.try_take().ok_or(KernelError::InvalidThread)?;
        let selector = composer_object(object.insert(RpcObject::new(Watcher)))?;
        let priority = k.thread_priority(k.current_thread()).ok_or(KernelError::InvalidThread)?;
        let (stack, utcb) = WATCH_STACK.take(&WATCH_UTCB)?;
        // Both selectors (below `kernel::CAP_SLOTS`) in the one argument.
        let argument = signal.0 as usize | (selector.0 as usize) << 16;
        k.spawn(k.current_component(), "watch", priority, stack, utcb, watch_main, argument)?;
        NAMED.mark_root(signal);
        registry.watch = Some(signal);
        Ok(())
    }

    /// The watcher thread: each time the watch's signal ends a wait (a
    /// server ended, or submitted its copy), it calls the composer, which
    /// serves the call once it is back in [`serve_parent`]. Its argument
    /// holds the watch's signal (low 16 bits) and the composer's watch
    /// object (high 16 bits), selectors in core's space.
    extern "C" fn watch_main(argument: usize) -> ! {
        let k = kernel();
        let signal = CapSel((argument & 0xffff) as u32);
        let mut composer =
            kernel::client(Capability::<dyn Watch>::from_selector(CapSel((argument >> 16) as u32)));
        loop {
            match k.wait_signal(signal) {
                Ok(_) | Err(TransportError::ServerDead) => {
                    let _ = composer.ended();
                }
                // Not the watch's signal any more: nothing to wait for.
                Err(_) => k.exit_current(),
            }
        }
    }

    /// The composer's sweep after the watcher's call: each server the
    /// kernel says has ended is shown to the parent hook
    /// ([`Event::ServerEnded`], its last look), forgotten, its threads
    /// reaped (their kernel slots come back, for the clients declared
    /// `after` others) and its own sessions reclaimed by their servers (a
    /// driver's IO_MEM and IRQ, a Timer's timeout), as for a client that
    /// exited. Its clients' calls to their sessions answer `ServerDead`;
    /// the composer settles those sessions and drops the root
    /// ([`settle_sessions`]).
    fn end_servers(registry: &mut Registry, hook: Option<Hook>) {
        let k = kernel();
        loop {
            let ended = registry.servers.iter().find_map(|server| {
                registry
                    .component(server.name)
                    .filter(|&(component, _)| k.component_ended(component) == Ok(true))
                    .map(|(component, grants)| (server.name, component, grants))
            });
            let Some((name, component, grants)) = ended else { return };
            call_hook(registry, hook, Grantee::Nobody, Event::ServerEnded(name));
            let root = registry.root(name);
            let reaped = forget_component(registry, component);
            let reclaimed = reclaim_sessions(grants);
            if let Some(root) = root {
                settle_sessions(registry, root);
            }
            crate::report::line(|out| {
                for text in ["composition: ", name, " has ended: "] {
                    out.text(text);
                }
                ferrode_report::dec(out, reaped);
                out.text(" threads reaped, ");
                ferrode_report::dec(out, reclaimed);
                out.text(" of its sessions reclaimed");
            });
        }
    }

    /// After server `root` ended: the composer lets go of everything that
    /// named it. Each live component's session of it keeps its record,
    /// marked as such (the client's `close` forgets it and hears
    /// that the server is gone, as the root's own answer would say), but
    /// the composer's copy of the session goes now, and then the root
    /// capability: no record names them any more, so their slots can
    /// serve other capabilities without a stale record reaching those.
    fn settle_sessions(registry: &Registry, root: Capability<dyn Root>) {
        let k = kernel();
        for &(_, _, grants) in &registry.components {
            for (index, slot) in grants.get().sessions.iter().enumerate() {
                // Settled before: its selectors are stale (maybe reused).
                if grants.server_ended(index) {
                    continue;
                }
                let Some(granted) = slot.get() else { continue };
                if granted.root.selector() != root.selector() {
                    continue;
                }
                NAMED.release(granted.parent_copy, true);
                let _ = k.drop_capability(granted.parent_copy);
                // The record stays as it is: the component's threads may
                // be reading it (it is theirs to close).
                grants.get().server_ended[index].store(true, Ordering::Relaxed);
            }
        }
        NAMED.release(root.selector(), true);
        let _ = k.drop_capability(root.selector());
    }

    /// One client's parent object: what it asks its parent reaches the
    /// composer as a request to this object.
    pub struct ParentSession {
        grants: &'static GrantCell,
        finished: &'static AtomicU32,
        status: &'static AtomicU32,
        /// The client's bit in [`EXITED`].
        bit: u32,
    }

    impl ParentSession {
        fn find(&self, service: &str, label: &str) -> Result<(usize, Granted), SessionError> {
            self.grants.get().find(service, label).ok_or(SessionError::Denied)
        }
    }

    impl Parent for ParentSession {
        fn close(
            &mut self,
            service: heapless::String<16>,
            label: heapless::String<LABEL_BYTES>,
        ) -> Result<(), SessionError> {
            let (index, granted) = self.find(&service, &label)?;
            end_granted(self.grants, index, granted, Ending::Close)
        }

        fn upgrade(
            &mut self,
            service: heapless::String<16>,
            label: heapless::String<LABEL_BYTES>,
            amount: u32,
        ) -> Result<u32, SessionError> {
            // Only as far as the route allows: the server spends on the
            // client what its quota says, and the composer, not the
            // client, decides how much that may be.
            let (index, granted) = self.find(&service, &label)?;
            if self.grants.server_ended(index) {
                return Err(SessionError::Transport(TransportError::ServerDead));
            }
            let upgradable = &self.grants.get().upgradable[index];
            let left = upgradable.get().checked_sub(amount).ok_or(SessionError::QuotaExceeded)?;
            let quota = kernel::client(granted.root)
                .upgrade(Capability::from_selector(granted.parent_copy), amount)?;
            upgradable.set(left);
            Ok(quota)
        }

        fn exit(&mut self, status: u32) -> Result<(), SessionError> {
            // Once per client: one that calls again (its runtime calls
            // once, then its thread ends) is refused, so that it cannot
            // count for the others and end the image early.
            if EXITED.fetch_or(self.bit, Ordering::Relaxed) & self.bit != 0 {
                return Err(SessionError::Denied);
            }
            if status != 0 {
                let _ =
                    self.status.compare_exchange(0, status, Ordering::Relaxed, Ordering::Relaxed);
            }
            self.finished.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    /// Parent objects, one per client component.
    pub type ParentObject = RpcObject<dyn Parent, ParentSession>;

    /// A client's parent object's storage.
    pub type ParentCell = ConstStaticCell<Option<ParentObject>>;

    /// Unused.
    pub const fn parent_cell() -> ParentCell {
        ConstStaticCell::new(None)
    }

    /// Exit statuses of the client components, and how many finished.
    /// Private, as [`STATUS`]: only the composer's parent objects count a
    /// client's exit, each once.
    static FINISHED: AtomicU32 = AtomicU32::new(0);
    /// The first non-zero exit status of a client component.
    static STATUS: AtomicU32 = AtomicU32::new(0);
    /// Bit `i` set: the client declared `i`-th has exited.
    static EXITED: AtomicU32 = AtomicU32::new(0);

    fn fail(status: u32) {
        if status != 0 {
            let _ = STATUS.compare_exchange(0, status, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Per kernel component slot, a client's parent capability as a
    /// selector in the client's own space, plus one; 0 for a component
    /// with no parent object (a server, a component a client created, a
    /// free slot). For the panic path: a client that panicked exits
    /// through its parent.
    static PARENTS: [AtomicU32; kernel::MAX_COMPONENTS] =
        [const { AtomicU32::new(0) }; kernel::MAX_COMPONENTS];

    /// Has a panic or a CPU fault of a component's thread end only that
    /// component (see `end_crashed_thread`); `compose!` calls it first.
    pub fn contain_panics() {
        crate::report::after_crash_is(end_crashed_thread);
    }

    /// A thread panicked (`status` is `PANIC`) or faulted (`FAULT`) and
    /// its report is out: if it is a component's (not core's: the
    /// composer, the idle thread) and ran as a thread does (`thread`: with
    /// interrupts enabled, not in the kernel, an interrupt handler or a
    /// critical section, whose state would be left half changed), only its
    /// component ends, with `status`, and the image runs on. The image
    /// still exits with the first failing status in the end.
    ///
    /// - A client exits through its parent with `status`: the composer
    ///   destroys it, reclaims its sessions and starts the clients
    ///   declared `after` it, as for any client that exits.
    /// - A server (any component with no parent object) ends as a whole,
    ///   as a client does: all its threads stop ([`Kernel::exit_component`]).
    ///   Its callers, the one it was serving and those queued, get
    ///   `ServerDead`, and so do later calls to any object it served. A
    ///   client waiting on a signal it gave the server learns it the same
    ///   way, if it watches its submitters ([`Kernel::watch_submitters`]):
    ///   a driver's data thread that panics does not leave its client
    ///   waiting for frames that never come, nor its other threads serving
    ///   half a device. The image runs on without it; where the composer
    ///   watches its servers ([`watch_servers`]) it also tells the parent
    ///   hook, reaps the server's threads and reclaims its sessions.
    ///
    /// The thread does not go on where it crashed, nor on the frames it
    /// left there (one that ran into the guard page below its stack has no
    /// room left): it starts over at the end of its own stack
    /// ([`Kernel::restart_current_stack`]), in [`crashed`], which ends the
    /// component.
    ///
    /// [`Kernel::exit_component`]: ferrode_kernel::Kernel::exit_component
    /// [`Kernel::watch_submitters`]: ferrode_kernel::Kernel::watch_submitters
    /// [`Kernel::restart_current_stack`]: ferrode_kernel::Kernel::restart_current_stack
    ///
    /// Returns (and the image ends) otherwise; for a crash with interrupts
    /// masked, the console says why.
    fn end_crashed_thread(status: u32, thread: bool) {
        if !thread {
            // No look into the kernel's state, which the crash may have
            // left half changed.
            crate::report::line(|out| {
                out.text("composition: the crash came with interrupts masked; the image ends");
            });
            return;
        }
        let k = kernel();
        if k.running_in_root() {
            return;
        }
        // SAFETY: the thread is moved onto the returned end of its stack
        // at once and never returns into its frames; it crashed in its own
        // code (with interrupts enabled, not the kernel's), so its stack
        // stayed within its bounds or the guard page below stopped it.
        let Some(top) = (unsafe { k.restart_current_stack() }) else { return };
        // SAFETY: the panic handler or the fault path, for a crash of this
        // thread's own code (`thread`), with the end of the thread's own
        // stack; `crashed` never returns.
        unsafe { crate::arch::land(top, crashed, status as usize) }
    }

    /// Where a component's crashed thread lands ([`end_crashed_thread`]),
    /// on a fresh stack with interrupts enabled: it ends its component
    /// with `status`.
    extern "C" fn crashed(status: usize) -> ! {
        // A thread that stopped for the debugger on the GDB monitor's
        // park has left it now.
        #[cfg(feature = "gdb")]
        super::gdb::leave_park();
        let status = status as u32;
        let k = kernel();
        let component = k.current_component();
        crate::report::line(|out| {
            out.text("composition: ");
            out.text(k.component_name(component).unwrap_or("?"));
            out.text(if status == crate::exit_code::PANIC { " panicked" } else { " faulted" });
            out.text("; it ends, the others run on");
        });
        fail(status);
        end_current(component, status)
    }

    /// `ferrode_board::exit(status)` on a component's thread: the
    /// component ends as [`end_crashed_thread`] ends it, with `status`.
    /// A client exits through its parent (whose composer counts `status`
    /// as its exit status); a server ends as a whole, and a non-zero
    /// `status` becomes the image's (the first failing one). Returns on
    /// core's threads (the composer, an image without components): their
    /// exit ends the image.
    ///
    /// A component that exits with interrupts masked would leave its
    /// critical section half done, which other components may share: the
    /// image ends then, with `FAILURE` (not the status it asked for).
    pub(crate) fn end_component(status: u32) {
        let k = kernel();
        if k.running_in_root() {
            return;
        }
        let component = k.current_component();
        if !crate::arch::interrupts_enabled() {
            crate::report::line(|out| {
                out.text("composition: ");
                out.text(k.component_name(component).unwrap_or("?"));
                out.text(" exited with interrupts masked; the image ends");
            });
            crate::end_image(crate::exit_code::FAILURE);
        }
        if PARENTS.get(component.index()).is_none_or(|p| p.load(Ordering::Relaxed) == 0) {
            fail(status);
        }
        end_current(component, status)
    }

    /// Ends `component`, the running thread's, with `status`: a client
    /// through its parent, any other component as a whole. Inlined into
    /// its two callers (`crashed` and `end_component`): hello, which links
    /// only the first, carries one copy.
    #[inline(always)]
    fn end_current(component: kernel::ComponentId, status: u32) -> ! {
        let k = kernel();
        let parent = PARENTS.get(component.index()).map_or(0, |p| p.load(Ordering::Relaxed));
        match parent.checked_sub(1) {
            Some(parent) => {
                // Answered only if the parent already had this client's
                // exit (it is destroyed otherwise, this thread with it).
                let _ = kernel::client(Capability::<dyn Parent>::from_selector(CapSel(parent)))
                    .exit(status);
            }
            // Refused only to core, which does not get here.
            None => drop(k.exit_component()),
        }
        k.exit_current()
    }

    /// Starts a client component's thread running `entry`, with a parent
    /// object served by the composer's own thread.
    ///
    /// # Safety
    ///
    /// Only the code `compose!` generates calls this, on the composer's
    /// thread, for the client declared `index`-th: the parent object it
    /// makes counts that client's exit, so a call for another index would
    /// let its caller declare that client exited (and have the composer
    /// destroy it).
    #[allow(clippy::too_many_arguments, reason = "one argument per item of the declaration")]
    pub unsafe fn start_client<const STACK: usize>(
        index: usize,
        name: &'static str,
        component: kernel::ComponentId,
        priority: u8,
        memory: (&'static Stack<STACK>, &'static UtcbCell),
        grants: &'static GrantCell,
        parent: &'static ParentCell,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), KernelError> {
        let k = kernel();
        let object = parent.try_take().ok_or(KernelError::InvalidThread)?.insert(RpcObject::new(
            ParentSession { grants, finished: &FINISHED, status: &STATUS, bit: 1 << index },
        ));
        let selector = composer_object(object)?;
        NAMED.mark_root(selector);
        let theirs = k.delegate(k.current_component(), selector, component)?;
        grants.set_parent(theirs);
        if let Some(parent) = PARENTS.get(component.index()) {
            parent.store(theirs.0 + 1, Ordering::Relaxed);
        }
        let (stack, utcb) = memory.0.take(memory.1)?;
        k.spawn(component, name, priority, stack, utcb, entry, 0)?;
        Ok(())
    }

    /// A client's `main` returned `status`: tell the parent and end.
    pub fn client_finished(env: &Env, status: u32) -> ! {
        let _ = kernel::client(env.parent).exit(status);
        kernel().exit_current()
    }

    /// One declared client, as `compose!` writes it: `create` makes the
    /// component and opens its routes, `start` starts its thread.
    pub struct ClientDecl {
        /// Its name.
        pub name: &'static str,
        /// The client whose exit starts it (`None`: at boot).
        pub after: Option<&'static str>,
        /// Creates the component and opens the sessions of its routes.
        pub create: fn(&mut Registry) -> Result<kernel::ComponentId, KernelError>,
        /// Starts its thread (with its declaration index).
        pub start: fn(kernel::ComponentId, usize) -> Result<(), KernelError>,
    }

    fn call_hook(registry: &mut Registry, hook: Option<Hook>, grantee: Grantee, event: Event) {
        if let Some(hook) = hook {
            fail(hook(&mut ParentEnv { registry, grantee }, event));
        }
    }

    /// The composer's work once the servers run: tells the hook
    /// ([`Event::Started`]), creates the clients started at boot, opens
    /// their sessions, tells the hook of each ([`Event::Starting`]),
    /// starts them, then serves their parent objects; when a client exits
    /// it tells the hook ([`Event::Exited`]), destroys it (its kernel
    /// slots, and those of anything it created, come back), has its
    /// servers reclaim its sessions and starts the clients declared
    /// `after` it the same way; one of those that cannot be started (a
    /// session refused) is reported on the console and counts as exited
    /// with `FAILURE`, without ending the others. When every client has
    /// exited it tells the hook ([`Event::Done`]) and returns the image's
    /// exit status (the first non-zero one of the clients and the hook).
    /// The last `exit` is not answered: the image ends. Without a hook,
    /// the last client to exit is not destroyed first: nothing would see
    /// it.
    ///
    /// # Safety
    ///
    /// Only the code `compose!` generates calls this, once, on the
    /// composer's thread, with the clients it declared.
    pub unsafe fn run(
        registry: &mut Registry,
        clients: &[ClientDecl],
        hook: Option<Hook>,
        watch: bool,
    ) -> Result<u32, KernelError> {
        for client in clients {
            registry.clients.push(client.name).map_err(|_| KernelError::QuotaExceeded)?;
        }
        call_hook(registry, hook, Grantee::Servers, Event::Started);
        let mut created: heapless::Vec<(usize, kernel::ComponentId), MAX_DECLARED> =
            heapless::Vec::new();
        for (index, client) in clients.iter().enumerate().filter(|(_, c)| c.after.is_none()) {
            let component = (client.create)(registry)?;
            created.push((index, component)).map_err(|_| KernelError::QuotaExceeded)?;
        }
        for &(index, component) in &created {
            let name = clients[index].name;
            call_hook(registry, hook, Grantee::Client(name), Event::Starting(name));
            (clients[index].start)(component, index)?;
        }
        serve_parent(registry, clients, hook, watch)
    }

    fn launch_after(
        registry: &mut Registry,
        clients: &[ClientDecl],
        hook: Option<Hook>,
        exited: &'static str,
    ) {
        for (index, client) in clients.iter().enumerate() {
            if client.after != Some(exited) {
                continue;
            }
            let started = (client.create)(registry).and_then(|component| {
                call_hook(
                    registry,
                    hook,
                    Grantee::Client(client.name),
                    Event::Starting(client.name),
                );
                (client.start)(component, index)
            });
            if let Err(error) = started {
                // The others run already: this one does not end them. It
                // counts as exited with FAILURE (`Event::Exited` follows,
                // then the clients declared after it start), and whatever
                // it was given is taken back.
                crate::report::line(|out| {
                    for text in ["composition: client ", client.name, " not started: "] {
                        out.text(text);
                    }
                    out.text(error.as_str());
                });
                if let Some((component, grants)) = registry.component(client.name)
                    && remove_component(registry, component).is_ok()
                {
                    reclaim_sessions(grants);
                }
                fail(crate::exit_code::FAILURE);
                registry.destroyed(client.name);
            }
        }
    }

    /// Reports a composition that could not be set up (`compose!`'s main);
    /// returns the image's exit status: the first failing one (a server
    /// whose thread panicked while the composer set up a session is
    /// `PANIC`), or `FAILURE`.
    ///
    /// # Safety
    ///
    /// Only the code `compose!` generates calls this, from the composer's
    /// `main`: it sets the image's exit status.
    pub unsafe fn composition_failed(error: KernelError) -> u32 {
        crate::report::line(|out| {
            out.text("composition failed: ");
            out.text(error.as_str());
        });
        fail(crate::exit_code::FAILURE);
        STATUS.load(Ordering::Relaxed)
    }

    /// Ends the sessions of a component that is gone (a client that
    /// exited, or one the parent hook destroyed), as Genode's parent does
    /// for a child: after [`remove_component`], so the component never
    /// runs again, each server's root is told to reclaim the session
    /// ([`Root::reclaim`]) and gets its resources back (a slot, a timeout,
    /// the device, the stream buffers and packets the client held), so
    /// the clients started `after` it can have them. Capabilities the
    /// parent hook granted it are not sessions and went with it.
    /// Returns how many its servers reclaimed.
    pub(super) fn reclaim_sessions(grants: &'static GrantCell) -> usize {
        let mut reclaimed = 0;
        for (index, slot) in grants.get().sessions.iter().enumerate() {
            // Sessions, not the hook's grants (no root); a session whose
            // server ended is only forgotten (`end_granted`).
            let session = |granted: &Granted| granted.root.is_valid() || grants.server_ended(index);
            if let Some(granted) = slot.get().filter(session) {
                reclaimed +=
                    usize::from(end_granted(grants, index, granted, Ending::Reclaim).is_ok());
            }
        }
        reclaimed
    }

    /// Removes element `at` of a table looked up by name or id, never by
    /// position: the last one takes its place (no shifting, and no
    /// `memmove` in every image).
    fn remove_at<T, const N: usize>(table: &mut heapless::Vec<T, N>, at: usize) {
        let last = table.len().saturating_sub(1);
        if at < last {
            let (head, tail) = table.split_at_mut(last);
            core::mem::swap(&mut head[at], &mut tail[0]);
        }
        if at <= last {
            table.pop();
        }
    }

    /// Destroys `component` (with the components it created), forgets it
    /// and reaps its threads and theirs; returns how many were reaped.
    /// Its sessions are then the caller's to reclaim
    /// ([`reclaim_sessions`]).
    pub(super) fn remove_component(
        registry: &mut Registry,
        component: kernel::ComponentId,
    ) -> Result<usize, KernelError> {
        kernel().destroy_component(component)?;
        Ok(forget_component(registry, component))
    }

    /// [`remove_component`]'s part after the kernel destroyed `component`
    /// (or it ended itself): forgets it and reaps its threads and those of
    /// the components it created; returns how many were reaped.
    fn forget_component(registry: &mut Registry, component: kernel::ComponentId) -> usize {
        let k = kernel();
        registry.remove(component);
        if let Some(parent) = PARENTS.get(component.index()) {
            parent.store(0, Ordering::Relaxed);
        }
        let mut reaped = 0;
        for index in 0..kernel::MAX_THREADS {
            let thread = kernel::ThreadId::from_index(index);
            // Its threads and those of the components it created, which
            // the kernel destroyed with it.
            if k.thread_component(thread).is_some_and(|c| k.component_within(c, component))
                && k.reap(thread).is_ok()
            {
                reaped += 1;
            }
        }
        reaped
    }

    /// How a session ends: closed for a live client, reclaimed for one
    /// that is gone ([`Root::reclaim`]).
    #[derive(Clone, Copy)]
    enum Ending {
        Close,
        Reclaim,
    }

    /// Asks the server's root to end session `index` of `grants` as
    /// `ending` says; once it did, drops the composer's copy and forgets
    /// the session.
    fn end_granted(
        grants: &'static GrantCell,
        index: usize,
        granted: Granted,
        ending: Ending,
    ) -> Result<(), SessionError> {
        if grants.server_ended(index) {
            // Settled when the server ended (`settle_sessions`): the
            // client hears what the server's root would have said.
            grants.forget(index);
            return Err(SessionError::Transport(TransportError::ServerDead));
        }
        let session = Capability::from_selector(granted.parent_copy);
        let mut root = kernel::client(granted.root);
        let ended = match ending {
            Ending::Close => root.close(session),
            Ending::Reclaim => root.reclaim(session),
        };
        // A server that has ended took the session with it: the composer's
        // copy goes too. A client closing it hears that the parent's call
        // failed (`Forwarded`: no server passes off the kernel's errors).
        // Unless another open session of the root's has the same object.
        if matches!(ended, Ok(()) | Err(SessionError::Transport(TransportError::ServerDead))) {
            if NAMED.release(granted.parent_copy, false) {
                let _ = kernel().drop_capability(granted.parent_copy);
            }
            grants.forget(index);
        }
        ended
    }

    fn serve_parent(
        registry: &mut Registry,
        clients: &[ClientDecl],
        hook: Option<Hook>,
        watch: bool,
    ) -> Result<u32, KernelError> {
        let k = kernel();
        let utcb = core::ptr::NonNull::new(k.current_utcb()).ok_or(KernelError::InvalidThread)?;
        let mut seen = 0u32;
        let mut object = k.wait();
        loop {
            // SAFETY: parent objects and the watch object are `&'static mut`
            // given to the kernel by `start_client` and `watch_servers` and
            // dispatched only here, on the composer's thread, one request at
            // a time; the UTCB is this thread's own with no reference to it
            // live.
            unsafe { kernel::serve_request(k, object, utcb) };
            if watch && SERVERS_ENDED.swap(false, Ordering::Relaxed) {
                end_servers(registry, hook);
            }
            // Until no client is left whose exit was not handled: a hook may
            // destroy a running client, which counts as its exit.
            loop {
                let unhandled = EXITED.load(Ordering::Relaxed) & !seen;
                if unhandled == 0 {
                    break;
                }
                for (index, client) in clients.iter().enumerate() {
                    if unhandled & (1 << index) != 0 {
                        seen |= 1 << index;
                        call_hook(registry, hook, Grantee::Nobody, Event::Exited(client.name));
                        // The last client to exit, with no hook to tell:
                        // the image ends now (nothing runs after `run`
                        // returns), so tearing it down would be work no
                        // one sees. With one client and no hook that is
                        // known when the image is built, and the teardown
                        // code is not linked (hello).
                        let finished = FINISHED.load(Ordering::Relaxed) as usize;
                        if hook.is_none() && (clients.len() == 1 || finished >= clients.len()) {
                            continue;
                        }
                        if let Some((component, grants)) = registry.component(client.name) {
                            // As Genode's parent does with a child that
                            // exited: its threads stop for good (one might
                            // run on after claiming its exit), its
                            // component and thread slots come back for the
                            // clients declared after it, and then its
                            // servers take back what it held.
                            if remove_component(registry, component).is_ok() {
                                reclaim_sessions(grants);
                            }
                        }
                        launch_after(registry, clients, hook, client.name);
                    }
                }
            }
            if FINISHED.load(Ordering::Relaxed) as usize >= clients.len() {
                call_hook(registry, hook, Grantee::Nobody, Event::Done);
                return Ok(STATUS.load(Ordering::Relaxed));
            }
            object = k.reply_and_wait();
        }
    }

    /// Whom the parent hook may grant capabilities to right now: only
    /// components that cannot be reading their grants.
    #[derive(Clone, Copy)]
    pub(super) enum Grantee {
        /// The servers, before any client exists (no server serves a
        /// request yet).
        Servers,
        /// The client about to start.
        Client(&'static str),
        /// No one (components are running).
        Nobody,
    }

    impl Registry {
        pub(super) fn component(
            &self,
            name: &str,
        ) -> Option<(kernel::ComponentId, &'static GrantCell)> {
            self.components.iter().find(|(n, ..)| *n == name).map(|&(_, id, grants)| (id, grants))
        }

        pub(super) fn is_server(&self, name: &str) -> bool {
            self.servers.iter().any(|server| server.name == name)
        }

        pub(super) fn root(&self, name: &str) -> Option<Capability<dyn Root>> {
            self.servers.iter().find(|server| server.name == name).map(|server| server.root)
        }

        /// A client that had not exited was destroyed: it counts as exited
        /// (status 0), so the clients declared after it start and the
        /// image can end.
        pub(super) fn destroyed(&self, name: &str) {
            if let Some(index) = self.clients.iter().position(|&client| client == name) {
                let bit = 1 << index;
                if EXITED.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
                    FINISHED.fetch_add(1, Ordering::Relaxed);
                }
            }
        }

        pub(super) fn remove(&mut self, component: kernel::ComponentId) {
            if let Some(at) = self.components.iter().position(|&(_, id, _)| id == component) {
                let name = self.components[at].0;
                remove_at(&mut self.components, at);
                if let Some(at) = self.servers.iter().position(|server| server.name == name) {
                    remove_at(&mut self.servers, at);
                }
            }
            crate::arch::without_interrupts(|| {
                let mut envs = SERVER_ENVS.0.borrow_mut();
                if let Some(at) = envs.iter().position(|&(id, ..)| id == component) {
                    remove_at(&mut envs, at);
                }
            });
        }

        /// Records a session the parent hook grants (not upgradable).
        pub(super) fn grant(
            grants: &'static GrantCell,
            granted: Granted,
        ) -> Result<(), KernelError> {
            grants.grant(granted, 0)
        }
    }
}

/// When the composition's parent hook (`compose!`'s `parent: hook`) runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Every server runs; no client exists yet. The hook may grant
    /// capabilities to servers.
    Started,
    /// The client is created and has its sessions; its thread starts when
    /// the hook returns. The hook may grant capabilities to it.
    Starting(&'static str),
    /// The client called `exit` (or the hook destroyed it). The hook's
    /// last look at it: afterwards the composer closes its sessions,
    /// destroys it and starts the clients declared `after` it.
    Exited(&'static str),
    /// The server ended (a thread of it panicked: it ended as a whole).
    /// The hook's last look at it: afterwards the composer forgets it,
    /// reaps its threads, has its sessions reclaimed and drops its root
    /// capability and the copies of its clients' sessions
    /// ([`ParentEnv::root`] and [`ParentEnv::session`] name them only
    /// until the hook returns). Its clients' calls to it answer
    /// `ServerDead`.
    ServerEnded(&'static str),
    /// Every client has exited; the image ends after the hook.
    Done,
}

/// The parent hook: runs on the composer's thread with its authority; a
/// non-zero return is an exit status, as a client's.
pub type Hook = fn(&mut ParentEnv<'_>, Event) -> u32;

/// The composer's authority, as its parent hook sees it: the components
/// it created (by declared name), its own copies of the sessions it
/// opened, and the kernel operations a creator may perform on its
/// children (delegate, take back, destroy and reap).
pub struct ParentEnv<'r> {
    registry: &'r mut runtime::Registry,
    grantee: runtime::Grantee,
}

impl ParentEnv<'_> {
    /// The composer's own component.
    pub fn composer(&self) -> kernel::ComponentId {
        kernel().current_component()
    }

    /// The component declared as `name`, if it exists (destroyed ones do
    /// not; clients declared `after` another exist once started).
    pub fn component(&self, name: &str) -> Option<kernel::ComponentId> {
        self.registry.component(name).map(|(id, _)| id)
    }

    /// Server `name`'s root, in the composer's space.
    pub fn root(&self, name: &str) -> Option<Capability<dyn Root>> {
        self.registry.root(name)
    }

    /// The composer's own copy of the session `client` got for `service`
    /// and `label` (its route's), as interface `I`.
    pub fn session<I: ?Sized>(
        &self,
        client: &str,
        service: &str,
        label: &str,
    ) -> Option<Capability<I>> {
        let (_, grants) = self.registry.component(client)?;
        let (index, granted) = grants.get().find(service, label)?;
        // A session whose server ended has no copy left.
        (!grants.server_ended(index)).then(|| Capability::from_selector(granted.parent_copy))
    }

    /// The selector `client`'s session for `service` and `label` has in
    /// the client's own space.
    pub fn client_selector(&self, client: &str, service: &str, label: &str) -> Option<CapSel> {
        let (_, grants) = self.registry.component(client)?;
        grants.get().find(service, label).map(|(_, g)| g.selector)
    }

    /// Copies `capability` from component `from`'s space into component
    /// `to`'s, where `to` finds it as `env.session(service, label)`.
    /// Allowed for servers at [`Event::Started`] and for the starting
    /// client at [`Event::Starting`] (no one else, so no component reads
    /// its grants while they change): otherwise `NoAuthority`.
    pub fn grant(
        &mut self,
        to: &str,
        service: &'static str,
        label: &'static str,
        from: kernel::ComponentId,
        capability: CapSel,
    ) -> Result<CapSel, KernelError> {
        let allowed = match self.grantee {
            runtime::Grantee::Servers => self.registry.is_server(to),
            runtime::Grantee::Client(name) => name == to,
            runtime::Grantee::Nobody => false,
        };
        let (component, grants) = self.registry.component(to).ok_or(KernelError::InvalidThread)?;
        if !allowed {
            return Err(KernelError::NoAuthority);
        }
        let selector = kernel().delegate(from, capability, component)?;
        runtime::Registry::grant(
            grants,
            Granted {
                service,
                label,
                selector,
                parent_copy: CapSel::INVALID,
                root: Capability::invalid(),
            },
        )?;
        Ok(selector)
    }

    /// Copies one of the composer's capabilities into `to`'s space (no
    /// grant recorded: the kernel's priority rule and quotas apply).
    pub fn delegate(&self, capability: CapSel, to: &str) -> Result<CapSel, KernelError> {
        let to = self.component(to).ok_or(KernelError::InvalidThread)?;
        kernel().delegate(self.composer(), capability, to)
    }

    /// Takes back every capability the composer handed `from` (sessions,
    /// its parent object, grants) and the copies made of them.
    pub fn take_back(&self, from: &str) -> Result<usize, KernelError> {
        let from = self.component(from).ok_or(KernelError::InvalidThread)?;
        kernel().take_back(self.composer(), from)
    }

    /// Destroys component `name` (its objects answer `ServerDead`) and
    /// reaps its threads; returns how many threads were reaped. Then the
    /// sessions it held are reclaimed by their servers, as when a client
    /// exits ([`Root::reclaim`]), so they get their resources back. A
    /// client destroyed before it
    /// exited counts as exited with status 0 (`Event::Exited` follows,
    /// and the clients declared after it start). A client that exited is
    /// destroyed by the composer after its `Event::Exited`: the hook acts
    /// on it then or not at all.
    pub fn destroy(&mut self, name: &str) -> Result<usize, KernelError> {
        let (component, grants) =
            self.registry.component(name).ok_or(KernelError::InvalidThread)?;
        let reaped = runtime::remove_component(self.registry, component)?;
        runtime::reclaim_sessions(grants);
        self.registry.destroyed(name);
        Ok(reaped)
    }
}

/// Declares a thread's stack: a static [`runtime::Memory`] of `bytes`
/// (at least the kernel's `MIN_STACK`, or the build fails), with
/// the board's guard page below it, and the record that tells the
/// platform and the host's tools where both are (see `ferrode_hal::stacks`).
///
/// On PBX-A9 the guard is a page the MMU leaves out, on MicroBlaze V a
/// page the platform locks with PMP (while entries last): a thread
/// that runs off this stack faults at once, and `cargo xtask run` names the
/// stack. Every stack is aligned to its guard's size, so a stack of a whole
/// number of guards wastes nothing. The kernel's guard words still catch
/// an overflow at the next switch or tick where no guard could be locked.
///
/// `compose!` declares each component's stack with it; use it for a thread
/// you spawn yourself ([`runtime::Stack::take`] gives the stack once):
///
/// ```ignore
/// ferrode_board::thread_stack!(static WORKER_STACK: 4096);
/// static WORKER_UTCB: ferrode_board::component::runtime::UtcbCell =
///     ferrode_board::component::runtime::utcb();
/// let (stack, utcb) = WORKER_STACK.take(&WORKER_UTCB)?;
/// ```
#[macro_export]
macro_rules! thread_stack {
    ($vis:vis static $name:ident: $bytes:expr) => {
        $vis static $name: $crate::component::runtime::Stack<{ $bytes }> = {
            // Each in a section of its own, so that the linker keeps the
            // stacks an image uses and their records, and only those (also
            // where a crate's statics share one object file).
            #[unsafe(link_section = concat!(
                ".ferrode_stacks.", module_path!(), "::", stringify!($name)
            ))]
            static MEMORY: $crate::component::runtime::Memory<{ $bytes }> =
                $crate::component::runtime::Memory::new();
            static TAKEN: ::core::sync::atomic::AtomicBool =
                ::core::sync::atomic::AtomicBool::new(false);
            #[unsafe(link_section = concat!(
                ".ferrode_stack_records.", module_path!(), "::", stringify!($name)
            ))]
            static RECORD: $crate::component::runtime::StackRecord = MEMORY.record();
            // SAFETY: MEMORY and TAKEN are this block's own: no other
            // `Stack` can have them.
            unsafe { $crate::component::runtime::Stack::new(&MEMORY, &TAKEN, &RECORD) }
        };
    };
}

/// Declares an image's composition: its components and the routes of their
/// session requests, checked at build time, and the app's entry that
/// creates it at boot and exits with the first failing client's status.
///
/// ```ignore
/// ferrode_board::compose! {
///     servers {
///         log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
///     }
///     clients {
///         hello: { priority: 2, stack: 4096, main: hello_main },
///     }
///     routes {
///         hello: "LOG" "" => log,
///     }
/// }
/// fn hello_main(env: ferrode_board::component::Env) -> u32 { 0 }
/// ```
///
/// A route `client: "SERVICE" "label" => server` gives `client` a session of
/// `SERVICE` from `server`, found with `env.session(SERVICE, label)`; an
/// empty label matches any request. `... => server quota N` asks for the
/// session with quota `N` (in the service's unit; 0 or none: the server's
/// default); `... upgrade M` after it lets the client raise that quota by
/// up to `M` in all through its parent ([`Env::upgrade`]; without it every
/// upgrade is refused with `QuotaExceeded`: a route's quota bounds what
/// the server spends on the client). The client closes a session through
/// its parent too ([`Env::close`]). Mistakes fail the build: a name that is
/// no component, a server that does not provide the service, a server below
/// its client's priority, two routes a label cannot tell apart, a priority
/// the kernel does not have (1 to [`kernel::PRIORITIES`] - 1).
///
/// Optional keys, after the required ones and in this order: `after:
/// other` for a client (created, given its sessions and started when
/// client `other` exits); `quota: { caps: 8, signals: 2 }` for a server
/// or client (fields of [`kernel::Quota`] over [`runtime::server_quota`]
/// or [`runtime::client_quota`]); and, after
/// `routes`, `parent_stack: bytes,` (the composer's stack: the boot
/// thread runs only the composer, so the image's
/// boot stack is [`runtime::COMPOSER_STACK`] bytes instead of the 64 KiB an
/// image without a composition gets; a hook that needs more raises it,
/// and one that overflows it is reported as thread `main`'s stack
/// overflow), then `parent: hook` (a [`Hook`], run on the composer's
/// thread at each [`Event`] with a [`ParentEnv`]). The build also fails
/// on a quota short of a slot per route and one more (a client's parent,
/// a server's copy of the composer's watch signal) or naming another
/// priority, a component with more than [`MAX_SESSIONS`] routes,
/// an `after` that is not a client declared earlier, and more components
/// alive at boot than the kernel's `MAX_COMPONENTS`.
#[macro_export]
macro_rules! compose {
    (
        servers { $($server:ident : { priority: $sprio:expr, stack: $sstack:expr, provides: $service:expr, root: $root:path $(, quota: { $($sqk:ident : $sqv:expr),* $(,)? })? $(,)? }),* $(,)? }
        clients { $($client:ident : { priority: $cprio:expr, stack: $cstack:expr, main: $main:path $(, after: $after:ident)? $(, quota: { $($cqk:ident : $cqv:expr),* $(,)? })? $(,)? }),* $(,)? }
        routes { $($from:ident : $rservice:literal $rlabel:literal => $to:ident $(quota $quota:literal)? $(upgrade $upgrade:literal)?),* $(,)? }
        $(parent_stack: $pstack:expr,)?
        $(parent: $hook:path $(,)?)?
    ) => {
        const __COMPONENTS: &[$crate::component::ComponentDecl] = &[
            $($crate::component::ComponentDecl { name: stringify!($server), priority: $sprio, provides: Some($service) },)*
            $($crate::component::ComponentDecl { name: stringify!($client), priority: $cprio, provides: None },)*
        ];
        const __ROUTE_DECLS: &[$crate::component::RouteDecl] = &[
            $($crate::component::RouteDecl { client: stringify!($from), service: $rservice, label: $rlabel, server: stringify!($to) },)*
        ];
        // Each route's own mistakes, named.
        $(
            const _: () = assert!(
                $crate::component::provides(__COMPONENTS, stringify!($to), $rservice),
                concat!("composition: route `", stringify!($from), ": \"", $rservice, "\" \"", $rlabel, "\" => ", stringify!($to), "`: `", stringify!($to), "` does not provide \"", $rservice, "\"")
            );
            const _: () = assert!(
                $crate::component::priority_ok(__COMPONENTS, stringify!($from), stringify!($to)),
                concat!("composition: route `", stringify!($from), ": \"", $rservice, "\" \"", $rlabel, "\" => ", stringify!($to), "`: the server runs below its client's priority (the kernel's priority rule)")
            );
            const _: () = assert!(
                $crate::component::start_order_ok(__COMPONENTS, stringify!($from), stringify!($to)),
                concat!("composition: route `", stringify!($from), ": \"", $rservice, "\" \"", $rlabel, "\" => ", stringify!($to), "`: a server's sessions come from servers declared before it")
            );
        )*
        // The table as a whole (duplicate names, routes a label cannot tell apart).
        const _: () = $crate::component::check_routes(__COMPONENTS, __ROUTE_DECLS);
        /// The routing table the composer opens sessions by.
        const __ROUTES: &[$crate::component::runtime::Route] = &[
            $($crate::component::runtime::Route { from: stringify!($from), service: $rservice, label: $rlabel, to: stringify!($to), quota: 0 $(+ $quota)?, upgrade: 0 $(+ $upgrade)? },)*
        ];

        // Each component's priority, within the kernel's levels.
        $(
            const _: () = assert!(
                $crate::component::priority_in_range($sprio, $crate::kernel::PRIORITIES),
                concat!("composition: server `", stringify!($server), "`: its priority is not one the kernel has (1 to kernel::PRIORITIES - 1; 0 is the idle thread's)")
            );
        )*
        $(
            const _: () = assert!(
                $crate::component::priority_in_range($cprio, $crate::kernel::PRIORITIES),
                concat!("composition: client `", stringify!($client), "`: its priority is not one the kernel has (1 to kernel::PRIORITIES - 1; 0 is the idle thread's)")
            );
        )*

        /// The composer's priority: the lowest server's. Every client must
        /// be at or below it (it serves their parent requests), every
        /// server at or above it (it holds their roots).
        const __PARENT_PRIORITY: u8 = {
            let mut lowest = $crate::kernel::PRIORITIES as u8 - 1;
            $(if $sprio < lowest { lowest = $sprio; })*
            lowest
        };
        $(
            const _: () = assert!(
                $cprio <= __PARENT_PRIORITY,
                concat!("composition: client `", stringify!($client), "` outranks the lowest server, so its parent (the composer) would be below it")
            );
        )*

        /// Each component's kernel quota: the default for its kind, with
        /// the fields its declaration names (`quota: { caps: 8, signals: 2 }`).
        #[allow(non_upper_case_globals, reason = "one quota per declared component, by name")]
        mod __quota {
            $(pub const $server: $crate::kernel::Quota = {
                #[allow(unused_mut, reason = "no fields declared")]
                let mut quota = $crate::component::runtime::server_quota($sprio);
                $($(quota.$sqk = $sqv;)*)?
                quota
            };)*
            $(pub const $client: $crate::kernel::Quota = {
                #[allow(unused_mut, reason = "no fields declared")]
                let mut quota = $crate::component::runtime::client_quota($cprio);
                $($(quota.$cqk = $cqv;)*)?
                quota
            };)*
        }
        $(
            const _: () = $crate::component::check_quota(
                __COMPONENTS, __ROUTE_DECLS, stringify!($server), __quota::$server.priority,
                __quota::$server.caps, $crate::kernel::CAP_SLOTS,
            );
        )*
        $(
            const _: () = $crate::component::check_quota(
                __COMPONENTS, __ROUTE_DECLS, stringify!($client), __quota::$client.priority,
                __quota::$client.caps, $crate::kernel::CAP_SLOTS,
            );
            const _: () = $crate::component::check_after(
                __COMPONENTS, stringify!($client), $crate::component::runtime::after(&[$(stringify!($after))?]),
            );
        )*
        // The image's size against the composer's and the kernel's tables.
        const _: () = $crate::component::check_counts(
            __COMPONENTS,
            &[$($crate::component::runtime::after(&[$(stringify!($after))?]).is_none()),*],
            $crate::component::runtime::MAX_DECLARED,
            $crate::kernel::MAX_COMPONENTS,
        );

        /// Each client component's `main`, resolved where the composition
        /// is written (the generated module below would see its own items).
        const __CLIENT_MAINS: &[fn($crate::component::Env) -> u32] = &[$($main),*];
        /// The parent hook, if declared.
        const __HOOK: Option<$crate::component::Hook> = {
            #[allow(unused_mut, reason = "no hook declared")]
            let mut hook: Option<$crate::component::Hook> = None;
            $(hook = Some($hook);)?
            hook
        };

        /// Whether the composer watches its servers
        /// ([`runtime::watch_servers`]): only where a server's end can
        /// matter, to a parent hook or to a client started later.
        const __WATCH: bool = __HOOK.is_some()
            || $crate::component::runtime::any(&[$($crate::component::runtime::after(&[$(stringify!($after))?]).is_some()),*]);

        #[allow(non_camel_case_types, dead_code, reason = "one variant per client, by position")]
        enum __Client { $($client),* }

        #[allow(non_snake_case, non_upper_case_globals, reason = "one item per declared component")]
        mod __composition {
            use super::*;
            use $crate::component::runtime;

            mod memory {
                use super::*;
                $($crate::thread_stack!(pub static $server: $sstack);)*
                $($crate::thread_stack!(pub static $client: $cstack);)*
            }
            mod utcb {
                use super::*;
                $(pub static $server: runtime::UtcbCell = runtime::utcb();)*
                $(pub static $client: runtime::UtcbCell = runtime::utcb();)*
            }
            mod grants {
                use super::*;
                $(pub static $server: runtime::GrantCell = runtime::GrantCell::new();)*
                $(pub static $client: runtime::GrantCell = runtime::GrantCell::new();)*
            }
            mod parents {
                use super::*;
                $(pub static $client: runtime::ParentCell = runtime::parent_cell();)*
            }
            mod entry {
                use super::*;
                $(
                    pub extern "C" fn $client(_: usize) -> ! {
                        let env = $crate::component::Env::new(stringify!($client), super::grants::$client.get());
                        let main = super::super::__CLIENT_MAINS[super::super::__Client::$client as usize];
                        let status = main(env);
                        runtime::client_finished(&$crate::component::Env::new(stringify!($client), super::grants::$client.get()), status)
                    }
                )*
            }
            mod create {
                use super::*;
                $(
                    pub fn $client(registry: &mut runtime::Registry) -> Result<$crate::kernel::ComponentId, $crate::kernel::KernelError> {
                        let component = runtime::create_client(registry, stringify!($client), __quota::$client, &grants::$client)?;
                        registry.open_routes(__ROUTES, stringify!($client))?;
                        Ok(component)
                    }
                )*
            }
            mod start {
                use super::*;
                $(
                    pub fn $client(component: $crate::kernel::ComponentId, index: usize) -> Result<(), $crate::kernel::KernelError> {
                        // SAFETY: the composer starts the client declared
                        // `index`-th, whose `start` this is (`run`).
                        unsafe {
                            runtime::start_client(
                                index,
                                stringify!($client),
                                component,
                                $cprio,
                                (&memory::$client, &utcb::$client),
                                &grants::$client,
                                &parents::$client,
                                entry::$client,
                            )
                        }
                    }
                )*
            }

            const CLIENTS: &[runtime::ClientDecl] = &[
                $(runtime::ClientDecl {
                    name: stringify!($client),
                    after: runtime::after(&[$(stringify!($after))?]),
                    create: create::$client,
                    start: start::$client,
                },)*
            ];

            pub fn compose() -> Result<u32, $crate::kernel::KernelError> {
                // The composer is every client's parent: it must not be
                // outranked by a client, nor outrank a server.
                $crate::kernel::init(__PARENT_PRIORITY)?;
                runtime::contain_panics();
                let mut registry = runtime::Registry::new();
                if __WATCH {
                    runtime::watch_servers(&mut registry)?;
                }
                $(runtime::start_server(&mut registry, __ROUTES, stringify!($server), __quota::$server, (&memory::$server, &utcb::$server), &grants::$server, $root)?;)*
                // SAFETY: the composition's one run, on the composer's
                // thread, with its declared clients.
                unsafe { runtime::run(&mut registry, CLIENTS, __HOOK, __WATCH) }
            }
        }

        $crate::entry!(__composed_main);

        /// The boot stack's size: the composer's (see `parent_stack`).
        const __COMPOSER_STACK: usize = {
            #[allow(unused_mut, reason = "no parent_stack declared")]
            let mut bytes = $crate::component::runtime::COMPOSER_STACK;
            $(bytes = $pstack;)?
            bytes
        };
        const _: () = assert!(
            __COMPOSER_STACK >= $crate::component::runtime::MIN_COMPOSER_STACK,
            "composition: parent_stack is smaller than the composer needs"
        );
        // The linker script sizes the boot stack (`.stack`) by this symbol.
        ::core::arch::global_asm!(
            ".globl __ferrode_stack_size",
            ".set __ferrode_stack_size, {bytes}",
            bytes = const __COMPOSER_STACK,
        );

        fn __composed_main() -> u32 {
            match __composition::compose() {
                Ok(status) => status,
                // SAFETY: the composer's `main`.
                Err(error) => unsafe { $crate::component::runtime::composition_failed(error) },
            }
        }
    };
}

// ----- the LOG service ------------------------------------------------------

/// LOG sessions one LOG server holds at once.
const LOG_SESSIONS: usize = 8;

/// A LOG session's state: its label and quota (the longest line it may
/// write). Its lines go to the console with their control characters as
/// `?` ([`ferrode_component::printable`]).
struct LogSlot {
    label: heapless::String<{ ferrode_component::LABEL_BYTES }>,
    quota: u32,
}

/// The LOG server's session table, shared by its root and its session
/// objects.
struct LogTable(core::cell::RefCell<[LogSlot; LOG_SESSIONS]>);

// SAFETY: only the LOG server's objects touch the table, and the kernel
// dispatches them all on the LOG entrypoint's one thread, one request at a
// time; the `RefCell` turns any other use into a panic, not a data race.
unsafe impl Sync for LogTable {}

static LOG_TABLE: LogTable = LogTable(core::cell::RefCell::new(
    [const { LogSlot { label: heapless::String::new(), quota: 0 } }; LOG_SESSIONS],
));

/// One LOG session object: its slot in the table.
struct LogSession {
    slot: usize,
}

impl Session for LogSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(LOG_TABLE.0.borrow()[self.slot].quota)
    }
}

impl Log for LogSession {
    fn write(&mut self, line: heapless::String<LOG_LINE_BYTES>) -> Result<(), SessionError> {
        let table = LOG_TABLE.0.borrow();
        let slot = &table[self.slot];
        if line.len() > slot.quota as usize {
            return Err(SessionError::QuotaExceeded);
        }
        // The line is the client's: its control characters show as `?`,
        // so it stays one line under its label (no line end in it starts
        // a line that passes for another component's).
        crate::report::line(|out| {
            for text in ["[", slot.label.as_str(), "] "] {
                out.text(text);
            }
            ferrode_component::printable(&line, |piece| out.text(piece));
        });
        Ok(())
    }
}

type LogObject = RpcObject<dyn Log, LogSession>;

static LOG_OBJECTS: [ConstStaticCell<Option<LogObject>>; LOG_SESSIONS] =
    [const { ConstStaticCell::new(None) }; LOG_SESSIONS];
static LOG_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, LogRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The LOG server's root: its sessions in a [`Pool`]; closing one lets its
/// object serve the next session under a new label and quota.
struct LogRoot(Pool<dyn Log, LOG_SESSIONS>);

impl Root for LogRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let quota = if args.quota == 0 {
            LOG_LINE_BYTES as u32
        } else {
            args.quota.min(LOG_LINE_BYTES as u32)
        };
        let (slot, cap) = self.0.open(&LOG_OBJECTS, |slot| LogSession { slot })?;
        let mut table = LOG_TABLE.0.borrow_mut();
        table[slot].label = args.label;
        table[slot].quota = quota;
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.0.close(session).map(drop)
    }

    fn upgrade(
        &mut self,
        session: Capability<dyn Session>,
        amount: u32,
    ) -> Result<u32, SessionError> {
        let slot = self.0.slot_of(session).ok_or(SessionError::UnknownSession)?;
        let mut table = LOG_TABLE.0.borrow_mut();
        let quota = table[slot].quota.saturating_add(amount).min(LOG_LINE_BYTES as u32);
        table[slot].quota = quota;
        Ok(quota)
    }
}

/// The LOG server's root, for `compose!`: `provides: "LOG", root:
/// ferrode_board::component::log_root`. Lines go to the board console,
/// prefixed with each session's label (`[hello] ...`, as Genode prints).
pub fn log_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    composer_only()?;
    let root = LogRoot(Pool::new(entrypoint));
    let root = LOG_ROOT.try_take().ok_or(KernelError::InvalidThread)?.write(RpcObject::new(root));
    entrypoint.manage(root)
}

/// A board service's root is the composer's to start: `compose!` calls
/// it on the composer's thread, and it takes the service's devices, its
/// interrupts or the console's labels with it (each SAFETY claim in the
/// services says they are theirs alone). A component that calls one
/// itself (say, in an image without that service) is refused.
fn composer_only() -> Result<(), KernelError> {
    if kernel().running_in_root() { Ok(()) } else { Err(KernelError::NoAuthority) }
}

// ----- the ROM service ------------------------------------------------------

/// ROM sessions one ROM server holds.
const ROM_SESSIONS: usize = 8;

/// A named read-only module.
pub type Module = (&'static str, &'static [u8]);

/// The module each ROM session slot reads, shared by the ROM root and its
/// session objects.
struct RomTable(core::cell::RefCell<[Option<&'static [u8]>; ROM_SESSIONS]>);

// SAFETY: only the ROM server's objects touch the table, and the kernel
// dispatches them all on the ROM entrypoint's one thread, one request at a
// time; the `RefCell` turns any other use into a panic, not a data race.
unsafe impl Sync for RomTable {}

// `None` (not `&[]`) for a free slot: all zero bytes, so the table is in `.bss`.
static ROM_TABLE: RomTable = RomTable(core::cell::RefCell::new([None; ROM_SESSIONS]));

/// One ROM session object: its slot (the module is in [`ROM_TABLE`]).
struct RomSession {
    slot: usize,
}

impl RomSession {
    fn module(&self) -> &'static [u8] {
        ROM_TABLE.0.borrow()[self.slot].unwrap_or_default()
    }
}

impl Session for RomSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Rom for RomSession {
    fn size(&mut self) -> Result<u32, SessionError> {
        Ok(self.module().len() as u32)
    }

    fn read(&mut self, offset: u32) -> Result<ferrode_ipc::Bytes<ROM_CHUNK>, SessionError> {
        let module = self.module();
        let start = (offset as usize).min(module.len());
        let end = (start + ROM_CHUNK).min(module.len());
        ferrode_ipc::Bytes::from_slice(module.get(start..end).unwrap_or_default())
            .map_err(|_| SessionError::QuotaExceeded)
    }
}

static ROM_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Rom, RomSession>>>; ROM_SESSIONS] =
    [const { ConstStaticCell::new(None) }; ROM_SESSIONS];
static ROM_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, RomRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The ROM server's root: its sessions in a [`Pool`], each reading the
/// module its label names (the route's label: `client: "ROM" "config" =>
/// rom`).
struct RomRoot {
    modules: &'static [Module],
    sessions: Pool<dyn Rom, ROM_SESSIONS>,
}

impl Root for RomRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        // The parent labels the request `client -> module`.
        let wanted = args.target();
        let module =
            self.modules.iter().find(|(name, _)| *name == wanted).ok_or(SessionError::Denied)?.1;
        let (slot, cap) = self.sessions.open(&ROM_OBJECTS, |slot| RomSession { slot })?;
        ROM_TABLE.0.borrow_mut()[slot] = Some(module);
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.sessions.close(session).map(drop)
    }

    fn upgrade(
        &mut self,
        _session: Capability<dyn Session>,
        _amount: u32,
    ) -> Result<u32, SessionError> {
        Ok(0)
    }
}

/// A ROM server's root over `modules`, for a root function of the app:
/// `fn rom(ep: BoardEntrypoint) -> ... { rom_root(ep, &MODULES) }`. A
/// session's label names its module; a label naming none is denied.
pub fn rom_root(
    entrypoint: BoardEntrypoint,
    modules: &'static [Module],
) -> Result<Capability<dyn Root>, KernelError> {
    composer_only()?;
    let root = ROM_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(RomRoot { modules, sessions: Pool::new(entrypoint) }));
    entrypoint.manage(root)
}

impl Env {
    /// The whole ROM module the route labelled `module` opened, read into
    /// `buffer`; returns the bytes read. A server that hands out more
    /// than the size it gave (a hostile one: the route decides who
    /// serves) gets only that size read.
    pub fn read_rom<'b>(
        &self,
        module: &str,
        buffer: &'b mut [u8],
    ) -> Result<&'b [u8], SessionError> {
        let mut rom = kernel::client(self.session::<dyn Rom>(ferrode_component::ROM, module)?);
        let size = rom.size()? as usize;
        if size > buffer.len() {
            return Err(SessionError::QuotaExceeded);
        }
        let mut at = 0;
        while at < size {
            let chunk = rom.read(at as u32)?;
            let count = chunk.len().min(size - at);
            if count == 0 {
                break;
            }
            buffer[at..at + count].copy_from_slice(&chunk.as_slice()[..count]);
            at += count;
        }
        Ok(&buffer[..at])
    }
}

// ----- the Timer service ----------------------------------------------------

/// Timer sessions one Timer server holds.
const TIMER_SESSIONS: usize = 12;

/// The shortest period of a periodic timeout for a session whose route
/// names no quota, in µs. One `trigger` call arms a periodic timeout for
/// good, and every period costs the Timer's alarm thread (at the Timer
/// server's priority, above its clients) an interrupt, a wake-up and a
/// signal: a one-tick period of the board's clock would keep it busy
/// without end and starve every component below it. A route that names
/// a quota (`=> timer quota 100`) sets the shortest period itself: the
/// composer chose to let that client ask for it. One-shot timeouts need
/// no floor: each costs the client a call of its own.
pub const TIMER_PERIOD_FLOOR_US: u32 = 1_000;

/// One Timer session's timeout.
#[derive(Clone, Copy)]
struct Timeout {
    /// The signal to submit (in the Timer component's space).
    signal: Option<CapSel>,
    /// The clock tick it is due at, if armed.
    due: Option<u64>,
    /// Ticks between periodic timeouts (0: one-shot).
    period: u64,
    /// The shortest timeout the session may ask for, in ticks (its quota).
    min_ticks: u64,
    /// The shortest period of a periodic timeout, in ticks: the quota, or
    /// [`TIMER_PERIOD_FLOOR_US`] without one.
    min_period: u64,
}

const NO_TIMEOUT: Timeout =
    Timeout { signal: None, due: None, period: 0, min_ticks: 0, min_period: 0 };

/// The Timer server's table, shared by its entrypoint (RPC) and its alarm
/// thread; every access runs with interrupts masked (single core: the two
/// threads never see it half-updated).
struct TimerTable(core::cell::RefCell<[Timeout; TIMER_SESSIONS]>);

// SAFETY: only the Timer component's two threads use it, and only inside
// `with_timers`, with interrupts masked on the one core.
unsafe impl Sync for TimerTable {}

static TIMERS: TimerTable = TimerTable(core::cell::RefCell::new([NO_TIMEOUT; TIMER_SESSIONS]));

fn with_timers<R>(f: impl FnOnce(&mut [Timeout; TIMER_SESSIONS]) -> R) -> R {
    crate::arch::without_interrupts(|| f(&mut TIMERS.0.borrow_mut()))
}

/// The kernel signal the board's alarm interrupt submits to the Timer
/// server's alarm thread (`u32::MAX`: no Timer server).
static ALARM_SIGNAL: AtomicU32 = AtomicU32::new(u32::MAX);
/// That signal's generation ([`signal_generation`]).
static ALARM_GENERATION: AtomicU32 = AtomicU32::new(0);

/// The generation of the signal capability at `selector` in the running
/// component's space (0 for none), which an interrupt handler passes to
/// [`kernel::Kernel::submit_from_interrupt`] with the signal's id: a
/// signal freed since is then left alone.
pub(crate) fn signal_generation(selector: CapSel) -> u32 {
    let k = kernel();
    match k.capability(k.current_component(), selector) {
        kernel::CapEntry::Signal { generation, .. } => generation,
        _ => 0,
    }
}

/// Called at every interrupt exit: if the Timer server is running and the
/// board's alarm has fired, wake its alarm thread. (Interrupt handlers only
/// submit signals.)
///
/// # Safety
///
/// As [`kernel::Kernel::submit_from_interrupt`]: only from the platform's
/// interrupt exit hook.
pub(crate) unsafe fn timer_interrupt() {
    let signal = ALARM_SIGNAL.load(Ordering::Relaxed);
    // SAFETY: the Timer service drives the board's alarm; this is its
    // interrupt step.
    if signal != u32::MAX && unsafe { crate::platform::devices::alarm() }.take_expired() {
        let generation = ALARM_GENERATION.load(Ordering::Relaxed);
        let signal = kernel::SignalId::from_index(signal as usize);
        // SAFETY: the caller's contract. The alarm thread's own signal:
        // badge 0.
        unsafe { kernel().submit_from_interrupt(signal, generation, 0) };
    }
}

/// Arms the board's alarm for the earliest due timeout.
fn program_alarm(timers: &[Timeout; TIMER_SESSIONS]) {
    // SAFETY: the Timer service drives the board's alarm (its alarm thread
    // and entrypoint arm it, under the timers' lock).
    let mut alarm = unsafe { crate::platform::devices::alarm() };
    match timers.iter().filter_map(|t| t.due).min() {
        Some(due) => {
            let now = crate::platform::devices::clock().now();
            alarm.arm_after(due.saturating_sub(now).max(1));
        }
        None => alarm.disarm(),
    }
}

/// The signal a client gave a server with `sigh`, as the server holds it:
/// only a copy of another component's signal. The kernel translates
/// whatever capability a client sends, and one the server holds already
/// arrives as the server's own selector: a session capability of its own,
/// or a signal it owns (the wait right). A server that kept such a
/// selector as the client's signal, and dropped it at the next `sigh` or
/// at close, would drop its own session or signal from under itself (and
/// leave the session's capability to whoever asked next). Servers an app
/// writes check the signals their clients give them with it too; it
/// returns the selector to keep and the signal's id.
pub fn client_signal(
    signal: Capability<dyn SignalSource>,
) -> Result<(CapSel, kernel::SignalId), SessionError> {
    client_signal_of(signal).map(|held| (held.selector, held.id))
}

/// A client's signal as a server holds it ([`client_signal_of`]).
pub(crate) struct HeldSignal {
    /// The server's selector for it.
    pub(crate) selector: CapSel,
    /// The signal.
    pub(crate) id: kernel::SignalId,
    /// What an interrupt handler passes to
    /// [`kernel::Kernel::submit_from_interrupt`] with the id: the
    /// signal's generation and the copy's badge.
    pub(crate) generation: u32,
    pub(crate) badge: u8,
}

/// [`client_signal`], with what an interrupt handler needs to submit it
/// as the capability would.
pub(crate) fn client_signal_of(
    signal: Capability<dyn SignalSource>,
) -> Result<HeldSignal, SessionError> {
    let k = kernel();
    match k.capability(k.current_component(), signal.selector()) {
        kernel::CapEntry::Signal { signal: id, wait: false, generation, badge } => {
            Ok(HeldSignal { selector: signal.selector(), id, generation, badge })
        }
        _ => Err(SessionError::UnknownSession),
    }
}

/// Whether no session in `timers` delivers to `signal`.
fn unused_signal(timers: &[Timeout; TIMER_SESSIONS], signal: CapSel) -> bool {
    timers.iter().all(|timeout| timeout.signal != Some(signal))
}

/// One Timer session object.
struct TimerSession {
    slot: usize,
}

fn micros_to_ticks(us: u64) -> u64 {
    us_to_ticks(us, crate::platform::devices::clock().tick_hz())
}

impl Session for TimerSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        let ticks = with_timers(|t| t[self.slot].min_ticks);
        Ok((ticks_to_ns(ticks, crate::platform::devices::clock().tick_hz()) / 1000) as u32)
    }
}

impl Timer for TimerSession {
    fn now_us(&mut self) -> Result<u64, SessionError> {
        let mut clock = crate::platform::devices::clock();
        Ok(ticks_to_ns(clock.now(), clock.tick_hz()) / 1000)
    }

    fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError> {
        let (signal, _) = client_signal(signal)?;
        let unused = with_timers(|t| {
            let previous = t[self.slot].signal.replace(signal);
            previous.filter(|&previous| unused_signal(t, previous))
        });
        if let Some(previous) = unused {
            // The signal this one replaces, which no other session uses.
            TIMER_SUBMITTING.drop_selector(previous);
        }
        Ok(())
    }

    fn trigger(&mut self, after_us: u64, periodic: bool) -> Result<(), SessionError> {
        let ticks = micros_to_ticks(after_us).max(1);
        with_timers(|t| {
            let timeout = &mut t[self.slot];
            if ticks < timeout.min_ticks || (periodic && ticks < timeout.min_period) {
                return Err(SessionError::QuotaExceeded);
            }
            if timeout.signal.is_none() {
                return Err(SessionError::UnknownSession);
            }
            // Saturating: `ticks` may be near `u64::MAX` for a timeout of
            // centuries on a clock faster than 1 GHz; such a timeout never
            // falls due rather than wrapping to one due now.
            timeout.due = Some(crate::platform::devices::clock().now().saturating_add(ticks));
            timeout.period = if periodic { ticks } else { 0 };
            program_alarm(t);
            Ok(())
        })
    }

    fn stop(&mut self) -> Result<(), SessionError> {
        with_timers(|t| {
            t[self.slot].due = None;
            program_alarm(t);
        });
        Ok(())
    }
}

static TIMER_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Timer, TimerSession>>>;
    TIMER_SESSIONS] = [const { ConstStaticCell::new(None) }; TIMER_SESSIONS];
static TIMER_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, TimerRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());
crate::thread_stack!(static TIMER_ALARM_MEMORY: 4096);
static TIMER_ALARM_UTCB: runtime::UtcbCell = runtime::utcb();
/// The alarm thread while it submits the due sessions' signals.
static TIMER_SUBMITTING: wake::Submitting = wake::Submitting::new();

/// The Timer server's root: its sessions in a [`Pool`]; a session's quota
/// is the shortest timeout (µs) it may ask for (0: one tick of the clock
/// for one-shot timeouts, [`TIMER_PERIOD_FLOOR_US`] for periodic ones).
/// Closing a session also disarms its timeout and drops the client's
/// signal, so a closed session never fires.
struct TimerRoot(Pool<dyn Timer, TIMER_SESSIONS>);

impl Root for TimerRoot {
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        let (slot, cap) = self.0.open(&TIMER_OBJECTS, |slot| TimerSession { slot })?;
        let min_ticks = micros_to_ticks(u64::from(args.quota));
        let min_period = match args.quota {
            0 => micros_to_ticks(u64::from(TIMER_PERIOD_FLOOR_US)),
            _ => min_ticks,
        };
        with_timers(|t| t[slot] = Timeout { min_ticks, min_period, ..NO_TIMEOUT });
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.0.close(session)?;
        let unused = with_timers(|t| {
            let signal = t[slot].signal;
            t[slot] = NO_TIMEOUT;
            program_alarm(t);
            signal.filter(|&signal| unused_signal(t, signal))
        });
        if let Some(signal) = unused {
            // The client's signal, copied to this server by `sigh`, which
            // no other session uses (a client may give one signal to
            // several sessions; the kernel keeps one copy of it here).
            TIMER_SUBMITTING.drop_selector(signal);
        }
        Ok(())
    }

    fn upgrade(
        &mut self,
        _session: Capability<dyn Session>,
        _amount: u32,
    ) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// A Timer session's client stub, as [`Env::timer`] gives it.
pub type TimerClient = ferrode_ipc::Client<dyn Timer, kernel::Transport>;

/// Sleeps at least `us` microseconds on `timer`'s one-shot timeout,
/// waiting on `signal` (the pair [`Env::timer`] gives), as Genode's
/// `Timer::Connection::usleep` does. A wake-up before the time is slept
/// on, the timeout armed again for what is left: one from a timeout of
/// the session that fell before this sleep began (its signal was already
/// submitted), or from another submitter of the signal. So a plain
/// `trigger` and `wait_signal` may return early; this does not. A time
/// left below the session's quota (the shortest timeout its route lets it
/// ask for) is slept as the quota: longer, never shorter.
pub fn sleep_us(timer: &mut TimerClient, signal: CapSel, us: u64) -> Result<(), SessionError> {
    let mut now = timer.now_us()?;
    let due = now.saturating_add(us);
    while now < due {
        match timer.trigger(due - now, false) {
            Err(SessionError::QuotaExceeded) => {
                let shortest = u64::from(timer.quota()?);
                timer.trigger(shortest.max(due - now), false)?;
            }
            armed => armed?,
        }
        kernel().wait_signal(signal)?;
        now = timer.now_us()?;
    }
    Ok(())
}

/// The Timer server's alarm thread: woken by the board's alarm interrupt,
/// submits every due session's signal and re-arms the alarm.
extern "C" fn timer_alarm_main(signal: usize) -> ! {
    let k = kernel();
    let signal = CapSel(signal as u32);
    loop {
        if k.wait_signal(signal).is_err() {
            k.exit_current();
        }
        // Counted from reading the due sessions' selectors to submitting
        // them: a session's end drops its signal only after (see
        // `wake::Submitting`).
        TIMER_SUBMITTING.during(|| {
            let due: heapless::Vec<CapSel, TIMER_SESSIONS> = with_timers(|t| {
                let now = crate::platform::devices::clock().now();
                // The due sessions in the order of their deadlines, so clients
                // woken by one alarm are told in the order their timeouts fell.
                let mut order: heapless::Vec<(u64, usize), TIMER_SESSIONS> = (0..TIMER_SESSIONS)
                    .filter_map(|i| t[i].due.filter(|&d| d <= now).map(|d| (d, i)))
                    .collect();
                // Insertion sort: at most TIMER_SESSIONS entries, and no
                // general-purpose sort linked into every image with a Timer.
                for sorted in 1..order.len() {
                    let mut at = sorted;
                    while at > 0 && order[at - 1] > order[at] {
                        order.swap(at - 1, at);
                        at -= 1;
                    }
                }
                let mut due = heapless::Vec::new();
                for (deadline, index) in order {
                    let timeout = &mut t[index];
                    if let Some(selector) = timeout.signal {
                        let _ = due.push(selector);
                    }
                    timeout.due = match timeout.period {
                        0 => None,
                        // A periodic timeout missed while late fires once.
                        period => Some(deadline.saturating_add(
                            ((now - deadline) / period + 1).saturating_mul(period),
                        )),
                    };
                }
                program_alarm(t);
                due
            });
            for selector in due {
                let _ = k.submit(selector);
            }
        });
    }
}

/// The Timer server's root, for `compose!`: `provides: "Timer", root:
/// ferrode_board::component::timer_root`. Also starts the server's alarm
/// thread in the Timer component, at the entrypoint's priority: it waits
/// for the board's alarm interrupt and submits the due sessions' signals.
/// The board's one alarm serves every session (one Timer server per image).
pub fn timer_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    composer_only()?;
    TIMER_ALARM_MEMORY.spawn_beside(
        &TIMER_ALARM_UTCB,
        &entrypoint,
        "timer-alarm",
        timer_alarm_start,
    )?;
    let root = TIMER_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(TimerRoot(Pool::new(entrypoint))));
    entrypoint.manage(root)
}

/// The alarm thread's start: makes its wake-up signal (owned by the Timer
/// component), publishes it to the interrupt path, and serves alarms.
extern "C" fn timer_alarm_start(_: usize) -> ! {
    let k = kernel();
    match k.create_signal() {
        Ok((id, selector)) => {
            ALARM_GENERATION.store(signal_generation(selector), Ordering::Relaxed);
            ALARM_SIGNAL.store(id.index() as u32, Ordering::Relaxed);
            timer_alarm_main(selector.0 as usize)
        }
        Err(_) => k.exit_current(),
    }
}

impl Env {
    /// A signal of this component for timeouts, and the Timer session of
    /// `label` told to deliver them there. The signal watches its
    /// submitters ([`Kernel::watch_submitters`]): should the Timer server
    /// end, a wait on it ends with `ServerDead`.
    ///
    /// [`Kernel::watch_submitters`]: ferrode_kernel::Kernel::watch_submitters
    pub fn timer(&self, label: &str) -> Result<(TimerClient, CapSel), SessionError> {
        let mut timer = kernel::client(self.session::<dyn Timer>(ferrode_component::TIMER, label)?);
        let (_, signal) = kernel().create_signal().map_err(|_| SessionError::QuotaExceeded)?;
        kernel().watch_submitters(signal)?;
        timer.sigh(Capability::from_selector(signal))?;
        Ok((timer, signal))
    }
}
