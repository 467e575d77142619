//! The I2c service: the board's I2C bus as a driver component (PBX-A9: the
//! SBCon's bus, with the DS1338 on it; the MicroBlaze V design has no I2C
//! controller, and sessions are denied there). Its route `i2c: "IO_MEM"
//! "i2c" => io_mem` grants it the bus's registers; it takes them at its
//! first session, and the platform clears the bus then and times its
//! edges on the board's clock (`devices::i2c_port`).
//!
//! A session reaches one device: its quota is the device's 7-bit address,
//! as its route grants it (`clock: "I2c" "rtc" => i2c quota 0x68`), one of
//! 0x08..=0x77 (I2C reserves the others), never one another open session
//! has. A client never names an address: every transfer goes to its
//! session's device, so a component reaches only the devices its routes
//! grant, and two components never interleave their accesses to one
//! part. Transfers run one at a time on the server's entrypoint thread,
//! each one whole bus transaction.
//!
//! The client side, [`I2cClient`], is embedded-hal's `I2c`: a part's driver
//! written for any bus (`ferrode-ds1338`) runs unchanged in a client
//! component.

use core::cell::RefCell;
use core::mem::MaybeUninit;
use core::ops::RangeInclusive;

use embedded_hal::i2c::{ErrorKind, I2c as _, NoAcknowledgeSource, Operation};
use ferrode_component::i2c::TransferError;
use ferrode_component::{I2C_CHUNK, I2c, I2cFault, Root, Session, SessionArgs, SessionError};
use ferrode_ipc::{Bytes, Capability, RpcObject};

use super::{Env, Pool};
use crate::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError};
use crate::platform::devices;

/// I2c sessions the server holds at once.
const I2C_SESSIONS: usize = 4;

/// The 7-bit addresses a session may be granted: I2C reserves 0x00-0x07
/// (general call, START byte, other buses' modes) and 0x78-0x7f (10-bit
/// addressing and future use).
const DEVICE_ADDRESSES: RangeInclusive<u32> = 0x08..=0x77;

/// The bus as the platform drives it.
type Bus = devices::I2cBus;

/// The server's state: the bus once taken, and each session slot's device.
struct State {
    bus: Option<Bus>,
    addresses: [Option<u8>; I2C_SESSIONS],
}

struct BusCell(RefCell<State>);

// SAFETY: only the I2c server's entrypoint thread touches the state (its
// root's and its sessions' requests, one at a time); the `RefCell` turns
// any other use into a panic, not a race.
unsafe impl Sync for BusCell {}

static I2C_STATE: BusCell =
    BusCell(RefCell::new(State { bus: None, addresses: [None; I2C_SESSIONS] }));

/// Takes the bus over on the first session: asks the component's IO_MEM
/// session for its window (the route must grant "i2c") and has the
/// platform build the bus over it.
fn take_bus() -> Result<(), SessionError> {
    if I2C_STATE.0.borrow().bus.is_some() {
        return Ok(());
    }
    let window = super::devices::granted_window("i2c")?;
    // SAFETY: this is the I2c driver component, and `window` is what its
    // IO_MEM session for "i2c" granted it.
    let bus = unsafe { devices::i2c_port(&window) }.ok_or(SessionError::Denied)?;
    I2C_STATE.0.borrow_mut().bus = Some(bus);
    Ok(())
}

/// What a bus error tells a client.
fn fault(kind: ErrorKind) -> I2cFault {
    match kind {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data) => I2cFault::NoAcknowledgeData,
        ErrorKind::NoAcknowledge(_) => I2cFault::NoAcknowledgeAddress,
        ErrorKind::ArbitrationLoss => I2cFault::ArbitrationLoss,
        _ => I2cFault::Bus,
    }
}

/// One I2c session: the device it reaches.
struct I2cSession {
    address: u8,
}

impl Session for I2cSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(u32::from(self.address))
    }
}

impl I2c for I2cSession {
    fn transfer(
        &mut self,
        write: Bytes<I2C_CHUNK>,
        read: u32,
    ) -> Result<Result<Bytes<I2C_CHUNK>, I2cFault>, SessionError> {
        let Some(read) = usize::try_from(read).ok().filter(|&read| read <= I2C_CHUNK) else {
            return Ok(Err(I2cFault::TooLong));
        };
        let mut state = I2C_STATE.0.borrow_mut();
        let bus = state.bus.as_mut().ok_or(SessionError::Denied)?;
        let mut data = [0u8; I2C_CHUNK];
        let done = match read {
            0 => bus.write(self.address, &write),
            _ if write.is_empty() => bus.read(self.address, &mut data[..read]),
            _ => bus.write_read(self.address, &write, &mut data[..read]),
        };
        Ok(match done {
            Ok(()) => Bytes::from_slice(&data[..read]).map_err(|_| I2cFault::TooLong),
            Err(error) => {
                let fault = fault(embedded_hal::i2c::Error::kind(&error));
                if fault == I2cFault::Bus {
                    // A device holds a line low (a transfer cut short):
                    // clear the bus for the next transfer, whoever's.
                    let _ = bus.recover();
                }
                Err(fault)
            }
        })
    }
}

static I2C_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn I2c, I2cSession>>>; I2C_SESSIONS] =
    [const { ConstStaticCell::new(None) }; I2C_SESSIONS];
static I2C_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, I2cRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The I2c server's root: a session per granted device address.
struct I2cRoot(Pool<dyn I2c, I2C_SESSIONS>);

impl Root for I2cRoot {
    /// `Denied` for a quota that is no device address, for an address
    /// another session has, and on a board without the bus.
    fn session(&mut self, args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        if !DEVICE_ADDRESSES.contains(&args.quota) {
            return Err(SessionError::Denied);
        }
        let address = args.quota as u8;
        take_bus()?;
        if I2C_STATE.0.borrow().addresses.contains(&Some(address)) {
            return Err(SessionError::Denied);
        }
        let (slot, cap) = self.0.open(&I2C_OBJECTS, |_| I2cSession { address })?;
        I2C_STATE.0.borrow_mut().addresses[slot] = Some(address);
        Ok(cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        let slot = self.0.close(session)?;
        I2C_STATE.0.borrow_mut().addresses[slot] = None;
        Ok(())
    }

    /// A session's device never changes.
    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Err(SessionError::QuotaExceeded)
    }
}

/// The I2c driver component's root, for `compose!`: `provides: "I2c",
/// root: ferrode_board::component::i2c_root`, with the route `i2c: "IO_MEM"
/// "i2c" => io_mem` (the bus's registers). A transfer busy-waits between
/// the bus's edges (a 10-byte transfer takes about a millisecond at
/// 100 kHz): give it a priority no higher than the work it may hold up.
pub fn i2c_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    let root = I2C_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(I2cRoot(Pool::new(entrypoint))));
    entrypoint.manage(root)
}

// ----- the client -----------------------------------------------------------

/// An I2c session as embedded-hal's `I2c` bus (from [`Env::i2c`]): a
/// part's driver takes it as it would take the bus itself, and reaches
/// only the session's device.
pub struct I2cClient {
    session: ferrode_ipc::Client<dyn I2c, kernel::Transport>,
    address: u8,
}

/// How an [`I2cClient`] transaction failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum I2cClientError {
    /// The bus said so.
    Fault(I2cFault),
    /// The session or the call failed (the server is gone, say).
    Session(SessionError),
    /// The transaction named another address than the session's device.
    NotThisDevice(u8),
    /// A transaction the service does not carry: a write after a read.
    /// Writes, then reads, are one transfer.
    Unsupported,
    /// More than [`I2C_CHUNK`] bytes written, or read, in one transaction.
    TooLong,
}

impl core::fmt::Display for I2cClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Fault(fault) => write!(f, "{fault}"),
            Self::Session(error) => write!(f, "{error}"),
            Self::NotThisDevice(address) => {
                write!(f, "{address:#04x} is not the device of this I2c session")
            }
            Self::Unsupported => f.write_str("a write after a read is not one I2c transfer"),
            Self::TooLong => f.write_str("more bytes than one I2c transfer carries"),
        }
    }
}

impl embedded_hal::i2c::Error for I2cClientError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Fault(I2cFault::NoAcknowledgeAddress) => {
                ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
            }
            Self::Fault(I2cFault::NoAcknowledgeData) => {
                ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)
            }
            Self::Fault(I2cFault::ArbitrationLoss) => ErrorKind::ArbitrationLoss,
            Self::Fault(I2cFault::Bus) => ErrorKind::Bus,
            _ => ErrorKind::Other,
        }
    }
}

impl I2cClient {
    /// The 7-bit address of the session's device.
    pub fn address(&self) -> u8 {
        self.address
    }
}

impl embedded_hal::i2c::ErrorType for I2cClient {
    type Error = I2cClientError;
}

impl embedded_hal::i2c::I2c for I2cClient {
    /// One transfer: the writes (adjacent, so sent back to back), then the
    /// reads (one run, acknowledged up to its last byte). A transaction
    /// with no operations sends nothing.
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), I2cClientError> {
        if address != self.address {
            return Err(I2cClientError::NotThisDevice(address));
        }
        if operations.is_empty() {
            return Ok(());
        }
        let (write, read) =
            ferrode_component::i2c::transfer_of(operations).map_err(|error| match error {
                TransferError::Unsupported => I2cClientError::Unsupported,
                TransferError::TooLong => I2cClientError::TooLong,
            })?;
        let write = Bytes::from_slice(&write).map_err(|_| I2cClientError::TooLong)?;
        let data = self
            .session
            .transfer(write, read as u32)
            .map_err(I2cClientError::Session)?
            .map_err(I2cClientError::Fault)?;
        // A server that answered another length than asked: a broken
        // transfer, as a bus error.
        if !ferrode_component::i2c::scatter(&data, operations) {
            return Err(I2cClientError::Fault(I2cFault::Bus));
        }
        Ok(())
    }
}

impl Env {
    /// The I2c session the route labelled `label` opened, as embedded-hal's
    /// `I2c` bus to its one device.
    pub fn i2c(&self, label: &str) -> Result<I2cClient, SessionError> {
        let mut session = kernel::client(self.session::<dyn I2c>(ferrode_component::I2C, label)?);
        let address = u8::try_from(session.quota()?).map_err(|_| SessionError::Denied)?;
        Ok(I2cClient { session, address })
    }
}
