//! What every Ferrode image must do under QEMU.
//!
//! A [`Case`] names a board and an app; [`plan`] says which profile each
//! runs in (release, the build `flash` and `bench` use, for every case;
//! debug as well where debug assertions add something); `cargo xtask test`
//! builds the image and hands it to [`Case::execute`], which runs the case
//! under a hard time limit ([`harness::with_hard_limit`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::boards::{self, Board, RunOptions};
use crate::figures::Figures;
use crate::harness;

/// The cargo profile an image is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// `opt-level = 1`, debug assertions and overflow checks on.
    Debug,
    /// What ships: `opt-level = "s"`, fat LTO, one codegen unit, the
    /// hand-written fast paths.
    Release,
}

impl Profile {
    /// `debug` or `release`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Release => "release",
        }
    }
}

/// Apps whose cases run in debug as well as in release: debug assertions
/// in the kernel, IPC and the board's start-up code only fire there, and
/// debug frames are larger (uart-echo's Terminal driver and nic-reopen's
/// second client once ran off their stacks in debug builds only; a
/// contained crash runs on the exception mode's or the fault stack and
/// starts the thread over on its own).
pub const DEBUG_TOO: &[&str] =
    &["hello", "crash", "contained", "rpc-demo", "ipc-bench", "uart-echo", "nic-reopen"];

/// One case in one profile.
pub struct Run {
    /// The case.
    pub case: Case,
    /// The profile its image is built with.
    pub profile: Profile,
}

impl Run {
    /// The name on the progress line and for filters: the case's name and
    /// the profile, e.g. `hello on microblaze-v [release]`.
    pub fn name(&self) -> String {
        format!("{} [{}]", self.case.name, self.profile.name())
    }
}

/// Every case in release, and those of [`DEBUG_TOO`] apps again in debug
/// (after all release runs).
pub fn plan() -> Vec<Run> {
    let mut runs: Vec<Run> =
        all().into_iter().map(|case| Run { case, profile: Profile::Release }).collect();
    runs.extend(
        all()
            .into_iter()
            .filter(|case| DEBUG_TOO.contains(&case.app))
            .map(|case| Run { case, profile: Profile::Debug }),
    );
    runs
}

/// How a case decides pass or fail.
#[derive(Clone)]
pub enum Check {
    /// Boot, wait for exit, then the console must contain `lines` in order
    /// and the exit status must be `status`.
    Console {
        /// Lines (substrings) expected in this order.
        lines: Vec<String>,
        /// Lines expected instead of `lines` in a debug build, where the
        /// console says more (a panic's message and location).
        debug_lines: Option<Vec<String>>,
        /// Expected exit status.
        status: i32,
    },
    /// A scripted test that drives QEMU itself (serial input, network).
    Scripted(fn(&Scripted<'_>) -> Result<(), Failure>),
    /// A scripted test that measures figures (instruction counts), which
    /// `cargo xtask test` checks against the budgets.
    Measured(fn(&Scripted<'_>) -> Result<Figures, Failure>),
}

/// What a scripted case is given.
pub struct Scripted<'a> {
    /// The board.
    pub board: &'static Board,
    /// The built image.
    pub image: &'a Path,
    /// The case's options (command line, forwards, ...).
    pub options: &'a RunOptions,
    /// The case's timeout, nominal: the harness's waits and the network
    /// clients scale what they are given by [`harness::time_scale`], and
    /// the whole case is stopped at this limit, scaled.
    pub timeout: Duration,
    /// The app.
    pub app: &'a str,
}

/// Why a case failed, with the console to keep as its log.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// The console output of the run.
    pub console: String,
}

/// One QEMU test.
pub struct Case {
    /// Unique name, printed on the progress line.
    pub name: String,
    /// The board it runs on.
    pub board: &'static Board,
    /// The app image it boots.
    pub app: &'static str,
    /// Command line and QEMU options.
    pub options: RunOptions,
    /// The case's hard time limit (wall clock, nominal: multiplied by
    /// [`harness::time_scale`]). A console case's QEMU is killed then; a
    /// scripted case is stopped and every QEMU it started killed.
    pub timeout: Duration,
    /// The pass/fail rule.
    pub check: Check,
}

/// A case that boots `app args...` and checks console lines and exit status.
pub fn console_case(
    board: &'static Board,
    app: &'static str,
    args: &[&str],
    lines: &[&str],
    status: i32,
) -> Case {
    let mut words = vec![app.to_string()];
    words.extend(args.iter().map(|word| word.to_string()));
    let name = if args.is_empty() {
        format!("{app} on {}", board.name)
    } else {
        format!("{} on {}", words.join(" "), board.name)
    };
    Case {
        name,
        board,
        app,
        options: RunOptions { args: words, ..Default::default() },
        timeout: Duration::from_secs(60),
        check: Check::Console {
            lines: lines.iter().map(|line| line.to_string()).collect(),
            debug_lines: None,
            status,
        },
    }
}

mod boot;

/// All QEMU cases, in the order they run. Each area of Ferrode keeps its
/// cases in its own module.
pub fn all() -> Vec<Case> {
    let mut cases = boot::cases();
    cases.extend(ipc::cases());
    cases.extend(measure::cases());
    cases.extend(pbx::cases());
    cases.extend(mbv::cases());
    cases.extend(irq::cases());
    cases.extend(flash::cases());
    cases.extend(gdb::cases());
    cases.extend(gdb_monitor::cases());
    cases.extend(defmt::cases());
    cases.extend(linked::cases());
    cases.extend(stacks::cases());
    cases.extend(profile::cases());
    cases.extend(std_net::cases());
    cases
}

mod defmt;
mod echo_net;
mod flash;
mod gdb;
mod gdb_monitor;
mod ipc;
mod irq;
mod linked;
mod measure;

pub use measure::boot_to_main;
mod mbv;
mod pbx;
mod profile;
mod stacks;
mod std_net;

/// What uart-echo's second Terminal client prints once the echo exited,
/// in order: that its session starts without the input the echo left
/// unread ([`ECHO_LEFT_UNREAD`]), a line through its own Terminal session
/// (free again only because the composer closed the echo's), then its LOG
/// line.
pub(crate) const NEXT_TERMINAL_CLIENT: [&str; 3] = [
    "[next] no input uart_echo left unread",
    "the Terminal serves its next client",
    "[next] the session uart_echo left is mine",
];

/// What the uart-echo cases send once the echo printed its count: input
/// for the echo's session, which the echo waits for and leaves unread
/// (`LEFT_UNREAD` bytes), so that no later client may read it.
pub(crate) const ECHO_LEFT_UNREAD: &[u8] = b"secret";

/// A board by name (the names are fixed in [`boards::BOARDS`]).
pub fn board(name: &str) -> &'static Board {
    boards::find(name).expect("board name from the board table")
}

/// What a passing case measured.
#[derive(Debug, Default)]
pub struct Passed {
    /// Figures by name (without the board), for the budgets.
    pub figures: Figures,
}

/// Extra time a console case's own timeout gets before the hard limit, so
/// that the case reports its own (more specific) failure first.
const GRACE: Duration = Duration::from_secs(5);

impl Case {
    /// Runs the case against `image`, built in `profile`, under its hard
    /// time limit.
    pub fn execute(&self, image: &Path, profile: Profile) -> Result<Passed, Failure> {
        let (board, mut options, timeout, check, app) =
            (self.board, self.options.clone(), self.timeout, self.check.clone(), self.app);
        // The NIC the app's design has, where it names one.
        if options.nic_model.is_none() {
            options.nic_model = crate::boards::app_nic_model(app);
        }
        let image: PathBuf = image.to_path_buf();
        let job = move || execute(board, app, &image, profile, &options, timeout, &check);
        match harness::with_hard_limit(timeout + GRACE, job) {
            Ok(result) => result,
            Err(reached) => Err(Failure {
                message: format!(
                    "hard time limit of {:.1} s reached; QEMU killed ({}={})",
                    reached.limit.as_secs_f64(),
                    harness::TIME_SCALE_VARIABLE,
                    harness::time_scale()
                ),
                console: reached.console,
            }),
        }
    }
}

fn execute(
    board: &'static Board,
    app: &str,
    image: &Path,
    profile: Profile,
    options: &RunOptions,
    timeout: Duration,
    check: &Check,
) -> Result<Passed, Failure> {
    let scripted = Scripted { board, image, options, timeout, app };
    match check {
        Check::Console { lines, debug_lines, status } => {
            let args = board.qemu_args(image, options);
            let outcome = harness::run(board.qemu, &args, timeout)
                .map_err(|error| Failure { message: error.to_string(), console: String::new() })?;
            // defmt frames decoded (images with a `.defmt` table), fault and
            // panic reports with their source lines (image DWARF).
            let console = harness::defmt::decode(image, &outcome.raw);
            let mut console = harness::symbolize::annotate(image, &console);
            console.push_str(outcome.guest_state.as_deref().unwrap_or_default());
            let fail = |message: String| Failure { message, console: console.clone() };
            if outcome.timed_out {
                return Err(fail(format!(
                    "timed out after {:.0} s",
                    harness::scaled(timeout).as_secs_f64()
                )));
            }
            let lines = match (profile, debug_lines) {
                (Profile::Debug, Some(debug_lines)) => debug_lines,
                _ => lines,
            };
            let wanted: Vec<&str> = lines.iter().map(String::as_str).collect();
            if let Some(missing) = harness::missing_in_order(&console, &wanted) {
                return Err(fail(format!("console lacks {missing:?}")));
            }
            if outcome.status != Some(*status) {
                return Err(fail(format!("exit status {:?}, expected {status}", outcome.status)));
            }
            Ok(Passed::default())
        }
        Check::Scripted(script) => script(&scripted).map(|()| Passed::default()),
        Check::Measured(script) => script(&scripted).map(|figures| Passed { figures }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique() {
        let cases = all();
        let mut names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate case names");
    }

    #[test]
    fn every_case_runs_in_release_and_some_in_debug_too() {
        let runs = plan();
        for case in all() {
            assert!(
                runs.iter()
                    .any(|run| run.case.name == case.name && run.profile == Profile::Release),
                "{}",
                case.name
            );
        }
        assert!(runs.iter().any(|run| run.profile == Profile::Debug && run.case.app == "rpc-demo"));
        let names: std::collections::BTreeSet<String> = runs.iter().map(Run::name).collect();
        assert_eq!(names.len(), runs.len(), "duplicate run names");
    }

    #[test]
    fn a_case_that_hangs_is_stopped_with_its_console() {
        fn hangs(script: &Scripted<'_>) -> Result<(), Failure> {
            let running =
                harness::spawn("sh", &["-c".into(), format!("echo {} up; sleep 60", script.app)])
                    .unwrap();
            while !running.has_ended() {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(())
        }
        let case = Case {
            name: "hangs".into(),
            board: board("realview-pbx-a9"),
            app: "stuck",
            options: RunOptions::default(),
            timeout: Duration::from_millis(100),
            check: Check::Scripted(hangs),
        };
        let failure = case.execute(Path::new("/nonexistent"), Profile::Release).unwrap_err();
        assert!(failure.message.contains("hard time limit"), "{}", failure.message);
        assert!(failure.console.contains("stuck up"), "{:?}", failure.console);
    }

    #[test]
    fn every_board_boots_hello() {
        for board in boards::BOARDS {
            assert!(
                all().iter().any(|case| case.app == "hello" && case.board == board),
                "{}",
                board.name
            );
        }
    }
}
