//! Boots an image in QEMU with a timeout and captures its serial console.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Everything the image printed on its console (CR LF turned into LF).
    pub console: String,
    /// QEMU's exit status (the image's semihosting exit code), or `None` if
    /// QEMU was killed.
    pub status: Option<i32>,
    /// The run hit its timeout and was killed.
    pub timed_out: bool,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

/// Console text shared between the reader thread and the test.
#[derive(Default)]
struct Console {
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A QEMU process with its console being captured.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    console: Arc<Console>,
    started: Instant,
    reader: Option<thread::JoinHandle<()>>,
}

/// Starts `program args...` with stdin piped and stdout captured.
pub fn spawn(program: &str, args: &[String]) -> io::Result<Running> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| io::Error::new(error.kind(), format!("cannot start {program}: {error}")))?;
    let stdin = child.stdin.take();
    let console = Arc::new(Console::default());
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let sink = Arc::clone(&console);
    let reader = thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buffer[..n]).replace('\r', "");
                    let mut guard = sink.text.lock().unwrap();
                    guard.0.push_str(&text);
                    sink.changed.notify_all();
                }
            }
        }
        // QEMU's own complaints (bad options, missing machine) matter too.
        let mut errors = String::new();
        let _ = stderr.read_to_string(&mut errors);
        let mut guard = sink.text.lock().unwrap();
        if !errors.trim().is_empty() {
            guard.0.push_str("\n[qemu stderr] ");
            guard.0.push_str(errors.trim());
            guard.0.push('\n');
        }
        guard.1 = true;
        sink.changed.notify_all();
    });
    Ok(Running { child, stdin, console, started: Instant::now(), reader: Some(reader) })
}

impl Running {
    /// The console text so far.
    pub fn console(&self) -> String {
        self.console.text.lock().unwrap().0.clone()
    }

    /// Waits until the console contains `needle` (returns true), or the
    /// timeout passes or QEMU ends (returns false).
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.console.text.lock().unwrap();
        loop {
            if guard.0.contains(needle) {
                return true;
            }
            let now = Instant::now();
            if guard.1 || now >= deadline {
                return false;
            }
            guard = self.console.changed.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    /// Sends bytes to the guest's serial port.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.stdin {
            Some(stdin) => {
                stdin.write_all(bytes)?;
                stdin.flush()
            }
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed")),
        }
    }

    /// Waits for QEMU to exit on its own, killing it after `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let mut timed_out = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = self.child.kill();
                    break self.child.wait().ok().and_then(|status| status.code());
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(_) => break None,
            }
        };
        drop(self.stdin.take());
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Outcome { console: self.console(), status: if timed_out { None } else { status }, timed_out, elapsed: self.started.elapsed() }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave an emulator behind, whatever the test did.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs QEMU to completion (or `timeout`) and returns what happened.
pub fn run(program: &str, args: &[String], timeout: Duration) -> io::Result<Outcome> {
    Ok(spawn(program, args)?.finish(timeout))
}

/// Checks that `lines` appear in `console` in this order; returns the first
/// one missing.
pub fn missing_in_order<'a>(console: &str, lines: &[&'a str]) -> Option<&'a str> {
    let mut rest = console;
    for line in lines {
        match rest.find(line) {
            Some(at) => rest = &rest[at + line.len()..],
            None => return Some(line),
        }
    }
    None
}

/// Where a failing test's console log is kept.
pub fn log_path(log_dir: &Path, test_name: &str) -> PathBuf {
    let file: String = test_name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    log_dir.join(format!("{file}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_must_appear_in_order() {
        let console = "boot\nHello\nbye\n";
        assert_eq!(missing_in_order(console, &["boot", "bye"]), None);
        assert_eq!(missing_in_order(console, &["bye", "boot"]), Some("boot"));
        assert_eq!(missing_in_order(console, &["nothing"]), Some("nothing"));
    }

    #[test]
    fn captures_output_and_exit_status_of_a_process() {
        let outcome = run("sh", &["-c".into(), "printf 'a\\r\\nb\\n'; exit 3".into()], Duration::from_secs(10)).unwrap();
        assert_eq!(outcome.console, "a\nb\n");
        assert_eq!(outcome.status, Some(3));
        assert!(!outcome.timed_out);
    }

    #[test]
    fn a_hung_process_is_killed_at_the_timeout() {
        let outcome = run("sleep", &["30".into()], Duration::from_millis(200)).unwrap();
        assert!(outcome.timed_out);
        assert_eq!(outcome.status, None);
    }

    #[test]
    fn wait_for_and_send_talk_to_the_process() {
        let mut running = spawn("sh", &["-c".into(), "echo ready; read line; echo got:$line".into()]).unwrap();
        assert!(running.wait_for("ready", Duration::from_secs(10)));
        running.send(b"ping\n").unwrap();
        assert!(running.wait_for("got:ping", Duration::from_secs(10)));
        assert_eq!(running.finish(Duration::from_secs(10)).status, Some(0));
    }

    #[test]
    fn log_names_are_file_safe() {
        assert_eq!(log_path(Path::new("/l"), "hello on microblaze-v"), PathBuf::from("/l/hello_on_microblaze-v.log"));
    }
}
