//! What echo-net and echo-net-gdb share around smoltcp: the Timer and NIC
//! sessions, which raise one signal of the client's, and the sleep on that
//! signal until frames move or smoltcp's next deadline falls due.

use ferrode_board::component::{Env, LogClient, NicClient, NicPhy};
use ferrode_board::kernel;
use ferrode_component::{SessionError, Timer};
use ferrode_ipc::{CapSel, Capability, Client, TransportError};
use ferrode_net::smoltcp::time::Duration;

/// The Timer session and the signal that wakes the main loop.
pub struct Wakeup {
    timer: Client<dyn Timer, kernel::Transport>,
    signal: CapSel,
    /// When the armed Timer timeout falls due (clock ns), if one is armed.
    armed_until: Option<u64>,
}

/// Makes the loop's signal and opens the Timer and NIC sessions (label
/// "") that raise it: the NIC when frames arrive or sent ones are
/// acknowledged, the Timer when a timeout falls due. `Env::nic` makes the
/// signal watch its submitters, both: should either server end (a panic
/// in the NIC driver's data thread ends the driver), the wait ends with
/// `ServerDead` instead of never. A failure is logged.
pub fn open(env: &Env, log: &mut LogClient) -> Option<(Wakeup, NicClient, NicPhy)> {
    let k = kernel::kernel();
    let Ok((_, signal)) = k.create_signal() else {
        let _ = log.write("no signal for the main loop");
        return None;
    };
    let sessions = env.session::<dyn Timer>(ferrode_component::TIMER, "").and_then(|timer| {
        let mut timer = kernel::client(timer);
        timer.sigh(Capability::from_selector(signal))?;
        Ok::<_, SessionError>((timer, env.nic("", signal)?))
    });
    match sessions {
        Ok((timer, (nic, phy))) => Some((Wakeup { timer, signal, armed_until: None }, nic, phy)),
        Err(error) => {
            let _ = log.write_fmt(format_args!("no Timer or NIC session: {}", error));
            None
        }
    }
}

impl Wakeup {
    /// Makes sure the loop wakes `delay` after `now_ns` (clock ns), smoltcp's
    /// next deadline; `false` for a zero delay (poll again, do not sleep).
    ///
    /// The Timer session is asked again only when the deadline is earlier
    /// than the timeout already armed (or none is armed): a later or no
    /// deadline leaves the armed one, whose wake-up then finds nothing
    /// due, which costs less than an RPC per round.
    pub fn arm(&mut self, now_ns: u64, delay: Option<Duration>) -> bool {
        match delay {
            Some(Duration::ZERO) => return false,
            Some(delay) => {
                let due = now_ns + delay.total_micros() * 1_000;
                if self.armed_until.is_none_or(|armed| due < armed || armed <= now_ns) {
                    let _ = self.timer.trigger(delay.total_micros().max(1), false);
                    self.armed_until = Some(due);
                }
            }
            None => {}
        }
        true
    }

    /// Sleeps until the signal is raised (frames, acknowledgements or the
    /// timeout); a raise that came while the loop ran returns at once.
    pub fn wait(&self) -> Result<(), TransportError> {
        kernel::kernel().wait_signal(self.signal).map(drop)
    }
}
