//! Core's Rtc service: the date, as the board's real-time clock keeps it
//! (PBX-A9: the PL031; the MicroBlaze V design has none, and its sessions
//! answer `Denied`). The platform reads the clock
//! (`devices::wall_clock_seconds`); no component needs its registers.

use core::mem::MaybeUninit;

use ferrode_component::{Root, Rtc, Session, SessionArgs, SessionError};
use ferrode_ipc::{Capability, RpcObject};

use super::Pool;
use crate::kernel::{BoardEntrypoint, ConstStaticCell, KernelError};
use crate::platform::devices;

/// Rtc sessions the server holds at once.
const RTC_SESSIONS: usize = 4;

/// One Rtc session: every session reads the same clock.
struct RtcSession;

impl Session for RtcSession {
    fn quota(&mut self) -> Result<u32, SessionError> {
        Ok(0)
    }
}

impl Rtc for RtcSession {
    fn seconds(&mut self) -> Result<u64, SessionError> {
        devices::wall_clock_seconds().ok_or(SessionError::Denied)
    }
}

static RTC_OBJECTS: [ConstStaticCell<Option<RpcObject<dyn Rtc, RtcSession>>>; RTC_SESSIONS] =
    [const { ConstStaticCell::new(None) }; RTC_SESSIONS];
static RTC_ROOT: ConstStaticCell<MaybeUninit<RpcObject<dyn Root, RtcRoot>>> =
    ConstStaticCell::new(MaybeUninit::uninit());

/// The Rtc server's root: its sessions in a [`Pool`].
struct RtcRoot(Pool<dyn Rtc, RTC_SESSIONS>);

impl Root for RtcRoot {
    fn session(&mut self, _args: SessionArgs) -> Result<Capability<dyn Session>, SessionError> {
        self.0.open(&RTC_OBJECTS, |_| RtcSession).map(|(_, cap)| cap)
    }

    fn close(&mut self, session: Capability<dyn Session>) -> Result<(), SessionError> {
        self.0.close(session).map(drop)
    }

    fn upgrade(&mut self, _: Capability<dyn Session>, _: u32) -> Result<u32, SessionError> {
        Ok(0)
    }
}

/// The Rtc server's root, for `compose!`: `provides: "Rtc", root:
/// ferrode_board::component::rtc_root`. On a board without a real-time
/// clock its sessions open, and asking one the date is `Denied`.
pub fn rtc_root(entrypoint: BoardEntrypoint) -> Result<Capability<dyn Root>, KernelError> {
    super::composer_only()?;
    let root = RTC_ROOT
        .try_take()
        .ok_or(KernelError::InvalidThread)?
        .write(RpcObject::new(RtcRoot(Pool::new(entrypoint))));
    entrypoint.manage(root)
}
