//! What every Ferrode image must do under QEMU.
//!
//! A [`Case`] names a board and an app; `cargo xtask test` builds that image
//! and hands it to [`Case::execute`].

use std::path::Path;
use std::time::Duration;

use crate::boards::{self, Board, RunOptions};
use crate::harness::{self, Outcome};

/// How a case decides pass or fail.
pub enum Check {
    /// Boot, wait for exit, then the console must contain `lines` in order
    /// and the exit status must be `status`.
    Console {
        /// Lines (substrings) expected in this order.
        lines: Vec<String>,
        /// Expected exit status.
        status: i32,
    },
    /// A scripted test that drives QEMU itself (serial input, network).
    Scripted(fn(&Scripted<'_>) -> Result<(), Failure>),
}

/// What a scripted case is given.
pub struct Scripted<'a> {
    /// The board.
    pub board: &'static Board,
    /// The built image.
    pub image: &'a Path,
    /// The case's options (command line, forwards, ...).
    pub options: &'a RunOptions,
    /// The case's timeout.
    pub timeout: Duration,
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
    /// Kill QEMU after this long (wall clock).
    pub timeout: Duration,
    /// The pass/fail rule.
    pub check: Check,
}

/// A case that boots `app args...` and checks console lines and exit status.
pub fn console_case(board: &'static Board, app: &'static str, args: &[&str], lines: &[&str], status: i32) -> Case {
    let mut words = vec![app.to_string()];
    words.extend(args.iter().map(|word| word.to_string()));
    let name = if args.is_empty() { format!("{app} on {}", board.name) } else { format!("{} on {}", words.join(" "), board.name) };
    Case {
        name,
        board,
        app,
        options: RunOptions { args: words, ..Default::default() },
        timeout: Duration::from_secs(60),
        check: Check::Console { lines: lines.iter().map(|line| line.to_string()).collect(), status },
    }
}

mod boot;

/// All QEMU cases, in the order they run. Each area of Ferrode keeps its
/// cases in its own module.
pub fn all() -> Vec<Case> {
    let mut cases = boot::cases();
    cases.extend(ipc::cases());
    cases.extend(pbx::cases());
    cases.extend(mbv::cases());
    cases
}

mod echo_net;
mod ipc;
mod mbv;
mod pbx;

/// A board by name (the names are fixed in [`boards::BOARDS`]).
pub fn board(name: &str) -> &'static Board {
    boards::find(name).expect("board name from the board table")
}

impl Case {
    /// Runs the case against the built `image`.
    pub fn execute(&self, image: &Path) -> Result<Outcome, Failure> {
        match &self.check {
            Check::Console { lines, status } => {
                let args = self.board.qemu_args(image, &self.options);
                let outcome = harness::run(self.board.qemu, &args, self.timeout)
                    .map_err(|error| Failure { message: error.to_string(), console: String::new() })?;
                let fail = |message: String| Failure { message, console: outcome.console.clone() };
                if outcome.timed_out {
                    return Err(fail(format!("timed out after {:?}", self.timeout)));
                }
                let wanted: Vec<&str> = lines.iter().map(String::as_str).collect();
                if let Some(missing) = harness::missing_in_order(&outcome.console, &wanted) {
                    return Err(fail(format!("console lacks {missing:?}")));
                }
                if outcome.status != Some(*status) {
                    return Err(fail(format!("exit status {:?}, expected {status}", outcome.status)));
                }
                Ok(outcome)
            }
            Check::Scripted(script) => {
                let started = std::time::Instant::now();
                script(&Scripted { board: self.board, image, options: &self.options, timeout: self.timeout })?;
                Ok(Outcome { console: String::new(), status: Some(0), timed_out: false, elapsed: started.elapsed() })
            }
        }
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
    fn every_board_boots_hello() {
        for board in boards::BOARDS {
            assert!(all().iter().any(|case| case.app == "hello" && case.board == board), "{}", board.name);
        }
    }
}
