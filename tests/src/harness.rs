//! Boots an image in QEMU with a timeout and captures its serial console.
//!
//! Every wait here is bounded. Durations given to [`Running::wait_for`],
//! [`Running::finish`] and [`run`] are nominal: they are multiplied by
//! [`time_scale`] (the `FERRODE_TIME_SCALE` environment variable, default
//! 1), the one setting for slow machines. [`with_hard_limit`] runs a whole
//! test case under a hard limit: when it passes, every QEMU the case
//! started (through [`spawn`] or [`run`]) is killed and the case reported
//! with the consoles captured so far, however the case's own code is stuck.

pub mod defmt;
pub mod symbolize;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable that scales every time limit (a positive
/// number; `FERRODE_TIME_SCALE=3` gives every case three times as long).
pub const TIME_SCALE_VARIABLE: &str = "FERRODE_TIME_SCALE";

/// The factor from [`TIME_SCALE_VARIABLE`]; 1 when unset or not a positive
/// number.
pub fn time_scale() -> f64 {
    std::env::var(TIME_SCALE_VARIABLE)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|scale| scale.is_finite() && *scale > 0.0)
        .unwrap_or(1.0)
}

/// `nominal` multiplied by [`time_scale`].
pub fn scaled(nominal: Duration) -> Duration {
    nominal.mul_f64(time_scale())
}

/// Locks a mutex, also after another thread panicked holding it (the data
/// here, console text and a child process, stays usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Everything the image printed on its console (CR LF turned into LF).
    pub console: String,
    /// The console's bytes as they came (defmt frames are binary; see
    /// [`defmt`]).
    pub raw: Vec<u8>,
    /// QEMU's exit status (the image's semihosting exit code), or `None` if
    /// QEMU was killed.
    pub status: Option<i32>,
    /// The run hit its timeout and was killed.
    pub timed_out: bool,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// For a run killed at its timeout, where the guest was
    /// ([`Running::guest_state`]; also at the end of `console`).
    pub guest_state: Option<String>,
}

/// Console text shared between the reader thread and the test.
#[derive(Default)]
struct Console {
    text: Mutex<(String, bool)>,
    raw: Mutex<Vec<u8>>,
    changed: Condvar,
}

impl Console {
    /// The whole text once the reader thread saw the output end (and
    /// added QEMU's stderr), or what it has after `wait` at most: for a
    /// process just killed, whose last output may still be in the pipe.
    fn text_at_end(&self, wait: Duration) -> String {
        let guard = lock(&self.text);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, wait, |(_, ended)| !*ended)
            .unwrap_or_else(PoisonError::into_inner);
        guard.0.clone()
    }
}

/// How long a killed process's console is waited for (its reader thread
/// takes what was left in the pipe, and QEMU's stderr).
const CONSOLE_END_WAIT: Duration = Duration::from_secs(2);

/// A QEMU process with its console being captured.
pub struct Running {
    child: Arc<Mutex<Child>>,
    /// QEMU's QMP socket (QEMU processes only).
    monitor: Option<PathBuf>,
    /// The program run.
    program: String,
    stdin: Option<ChildStdin>,
    console: Arc<Console>,
    started: Instant,
    reader: Option<thread::JoinHandle<()>>,
}

/// Starts `program args...` with stdin piped and stdout captured.
pub fn spawn(program: &str, args: &[String]) -> io::Result<Running> {
    Ok(start(program, args, false)?.0)
}

/// [`spawn`], but QEMU's stderr (e.g. its `-d` log) is the caller's to
/// read rather than added to the console.
pub fn spawn_with_stderr(program: &str, args: &[String]) -> io::Result<(Running, ChildStderr)> {
    let (running, stderr) = start(program, args, true)?;
    Ok((running, stderr.expect("stderr is piped")))
}

fn start(
    program: &str,
    args: &[String],
    keep_stderr: bool,
) -> io::Result<(Running, Option<ChildStderr>)> {
    // Every QEMU gets a QMP socket, so that a case that gives up on its
    // guest can say where the guest was ([`Running::report`]).
    let monitor = is_qemu(program).then(monitor_path);
    let mut qemu_args = args.to_vec();
    if let Some(path) = &monitor {
        qemu_args.extend(["-qmp".into(), format!("unix:{},server=on,wait=off", path.display())]);
    }
    let mut child = Command::new(program)
        .args(&qemu_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            io::Error::new(error.kind(), format!("cannot start {program}: {error}"))
        })?;
    let stdin = child.stdin.take();
    let console = Arc::new(Console::default());
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (stderr, kept) = if keep_stderr { (None, Some(stderr)) } else { (Some(stderr), None) };
    // QEMU's stderr is drained while it runs: a full pipe blocks QEMU's main
    // loop in write(2) (slirp reports every datagram it cannot deliver
    // there during a flood), and with it the guest's network and timers.
    let errors = stderr.map(|stderr| thread::spawn(move || drain_stderr(stderr)));
    let sink = Arc::clone(&console);
    let child = Arc::new(Mutex::new(child));
    WATCH.with(|watch| {
        if let Some(watch) = watch.borrow().as_ref() {
            lock(&watch.processes).push((Arc::clone(&child), Arc::clone(&console)));
        }
    });
    let reader = thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    lock(&sink.raw).extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&buffer[..n]).replace('\r', "");
                    let mut guard = lock(&sink.text);
                    guard.0.push_str(&text);
                    sink.changed.notify_all();
                }
            }
        }
        // QEMU's own complaints (bad options, missing machine) matter too.
        let errors = errors.and_then(|errors| errors.join().ok()).unwrap_or_default();
        let mut guard = lock(&sink.text);
        if !errors.trim().is_empty() {
            guard.0.push_str("\n[qemu stderr] ");
            guard.0.push_str(errors.trim());
            guard.0.push('\n');
        }
        guard.1 = true;
        sink.changed.notify_all();
    });
    Ok((
        Running {
            child,
            stdin,
            console,
            started: Instant::now(),
            reader: Some(reader),
            monitor,
            program: program.to_string(),
        },
        kept,
    ))
}

/// The most of QEMU's stderr a console keeps (the start, where a bad
/// option or a missing machine is reported); the rest is counted.
const STDERR_KEPT: usize = 16 * 1024;

/// Reads `stderr` until QEMU closes it, keeping the first [`STDERR_KEPT`]
/// bytes and counting the rest.
fn drain_stderr(mut stderr: ChildStderr) -> String {
    let mut kept = Vec::new();
    let mut skipped = 0usize;
    let mut buffer = [0u8; 4096];
    loop {
        match stderr.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = STDERR_KEPT.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buffer[..room]);
                skipped += n - room;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if skipped > 0 {
        text.push_str(&format!("\n... ({skipped} more bytes of QEMU's stderr not kept)"));
    }
    text
}

impl Running {
    /// The console text so far.
    pub fn console(&self) -> String {
        lock(&self.console.text).0.clone()
    }

    /// The console's bytes so far, as they came (see [`Outcome::raw`]).
    pub fn raw_console(&self) -> Vec<u8> {
        lock(&self.console.raw).clone()
    }

    /// The console so far, followed by where the guest is now (see
    /// [`Running::guest_state`]): what a case that gives up on its guest
    /// reports.
    pub fn report(&self) -> String {
        let mut console = self.console();
        if let Some(state) = self.guest_state() {
            console.push_str(&state);
        }
        console
    }

    /// For a QEMU still running: its CPU's registers (QMP's `info
    /// registers`) sampled three times 50 ms apart, under a summary line
    /// that starts with [`GUEST_STATE`] (the symbolizer adds the source
    /// lines of its `pc` and `lr`/`ra`); or why the monitor did not
    /// answer, which itself says QEMU's main loop is stuck. `None` for a
    /// process that is not QEMU or has ended.
    pub fn guest_state(&self) -> Option<String> {
        let path = self.monitor.as_ref()?;
        if self.has_ended() {
            return None;
        }
        let sampled = Qmp::connect(path).and_then(|mut qmp| {
            let mut samples = Vec::new();
            for index in 0..3 {
                if index > 0 {
                    thread::sleep(Duration::from_millis(50));
                }
                samples.push(qmp.human("info registers")?);
            }
            // The board's interrupt controller and console UART.
            let probes = crate::boards::BOARDS
                .iter()
                .find(|board| board.qemu == self.program)
                .map_or(&[][..], |board| board.hang_probes);
            let mut devices = String::new();
            for (label, command) in probes {
                let read = qmp.human(command)?;
                devices.push_str(&format!("{label}: {}\n", read.trim().replace('\n', " ")));
            }
            Ok((samples, devices))
        });
        Some(match sampled {
            Ok((samples, devices)) => {
                let first = samples.first().map(String::as_str).unwrap_or_default();
                format!("\n{}\n{}\n{devices}", summary(&samples), core_registers(first))
            }
            Err(error) => format!(
                "\n{GUEST_STATE} QEMU's monitor did not answer ({error}): its main loop is stuck\n"
            ),
        })
    }

    /// Runs a QEMU monitor command (`eject -f sd0`, `change sd0 card.img
    /// raw`: what a person at the board would do) and returns its output.
    /// An error for a process that is not QEMU, a monitor that does not
    /// answer, or a command it refuses.
    pub fn monitor(&self, command: &str) -> io::Result<String> {
        let path = self.monitor.as_ref().ok_or_else(|| io::Error::other("not QEMU: no monitor"))?;
        Qmp::connect(path)?.human(command)
    }

    /// Whether QEMU has ended (its console is closed).
    pub fn has_ended(&self) -> bool {
        lock(&self.console.text).1
    }

    /// Waits until the console contains `needle` (returns true), or the
    /// (nominal, see [`time_scale`]) timeout passes or QEMU ends (returns
    /// false).
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + scaled(timeout);
        let mut guard = lock(&self.console.text);
        loop {
            if guard.0.contains(needle) {
                return true;
            }
            let now = Instant::now();
            if guard.1 || now >= deadline {
                return false;
            }
            guard = self
                .console
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sends SIGINT to the process (gdb then stops its target and goes on
    /// with its next command).
    pub fn interrupt(&self) -> io::Result<()> {
        let pid = lock(&self.child).id();
        let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
        // SAFETY: `kill` only sends a signal, to our own child, which has
        // not been reaped (the `Child` is only waited for in `finish`).
        if unsafe { libc::kill(pid, libc::SIGINT) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
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

    /// Waits for QEMU to exit on its own, killing it after the (nominal,
    /// see [`time_scale`]) `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + scaled(timeout);
        let mut timed_out = false;
        let mut guest_state = None;
        let status = loop {
            let mut child = lock(&self.child);
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    drop(child);
                    // Where the guest was when it was given up on.
                    guest_state = self.guest_state();
                    if let Some(state) = &guest_state {
                        lock(&self.console.text).0.push_str(state);
                    }
                    let mut child = lock(&self.child);
                    let _ = child.kill();
                    break child.wait().ok().and_then(|status| status.code());
                }
                Ok(None) => {
                    drop(child);
                    thread::sleep(Duration::from_millis(20));
                }
                Err(_) => break None,
            }
        };
        drop(self.stdin.take());
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Outcome {
            console: self.console(),
            raw: lock(&self.console.raw).clone(),
            status: if timed_out { None } else { status },
            timed_out,
            elapsed: self.started.elapsed(),
            guest_state,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave an emulator behind, whatever the test did.
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
        if let Some(path) = &self.monitor {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The line that starts a guest-state report ([`Running::report`]); the
/// symbolizer adds source lines under it, as under a fault report.
pub const GUEST_STATE: &str = "[qemu] guest state when given up on:";

/// How long the monitor may take to answer one command.
const MONITOR_WAIT: Duration = Duration::from_secs(2);

/// Whether `program` is a QEMU system emulator (which gets a QMP socket).
fn is_qemu(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("qemu-system-"))
}

/// A QMP socket path of this process no other run uses.
fn monitor_path() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("ferrode-qmp-{}-{number}.sock", std::process::id()))
}

/// One QMP session: the greeting read and capabilities negotiated.
struct Qmp {
    stream: std::os::unix::net::UnixStream,
    input: io::BufReader<std::os::unix::net::UnixStream>,
}

impl Qmp {
    fn connect(path: &Path) -> io::Result<Self> {
        let stream = std::os::unix::net::UnixStream::connect(path)?;
        stream.set_read_timeout(Some(MONITOR_WAIT))?;
        stream.set_write_timeout(Some(MONITOR_WAIT))?;
        let mut qmp = Self { input: io::BufReader::new(stream.try_clone()?), stream };
        qmp.answer()?; // the greeting
        qmp.execute(r#"{"execute":"qmp_capabilities"}"#)?;
        Ok(qmp)
    }

    /// Sends one command and returns its `return` value (events that come
    /// first are skipped).
    fn execute(&mut self, command: &str) -> io::Result<serde_json::Value> {
        self.stream.write_all(command.as_bytes())?;
        self.stream.write_all(b"\n")?;
        loop {
            let answer = self.answer()?;
            if let Some(value) = answer.get("return") {
                return Ok(value.clone());
            }
            if let Some(error) = answer.get("error") {
                return Err(io::Error::other(error.to_string()));
            }
        }
    }

    /// A human monitor command's output.
    fn human(&mut self, command: &str) -> io::Result<String> {
        let request = serde_json::json!({
            "execute": "human-monitor-command",
            "arguments": { "command-line": command },
        });
        let value = self.execute(&request.to_string())?;
        Ok(value.as_str().unwrap_or_default().replace('\r', ""))
    }

    fn answer(&mut self) -> io::Result<serde_json::Value> {
        let mut line = String::new();
        if io::BufRead::read_line(&mut self.input, &mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_str(&line).map_err(io::Error::other)
    }
}

/// A CPU register from `info registers` output: `R15=0000abcd` (Arm) or
/// `pc       0000abcd` / `x1/ra    0000abcd` (RISC-V).
fn register(dump: &str, names: &[&str]) -> Option<u64> {
    let words: Vec<&str> = dump.split_whitespace().collect();
    for (index, word) in words.iter().enumerate() {
        for name in names {
            let value = match word.strip_prefix(name) {
                Some(rest) if rest.starts_with('=') => &rest[1..],
                Some("") => words.get(index + 1).copied().unwrap_or_default(),
                _ => continue,
            };
            if let Ok(value) = u64::from_str_radix(value, 16) {
                return Some(value);
            }
        }
    }
    None
}

/// The core registers of an `info registers` dump: without the Arm FPU's
/// `s00=`... lines that follow them.
fn core_registers(dump: &str) -> String {
    let lines: Vec<&str> = dump
        .lines()
        .take_while(|line| !line.starts_with("s00="))
        .filter(|line| !line.trim().is_empty())
        .collect();
    lines.join("\n")
}

/// The summary line of a guest-state report from `info registers` output
/// taken a few times in a row: the program counter, the link register
/// (`lr` on Arm, `ra` on RISC-V) and the stack pointer of the first
/// sample, and every program counter seen, which tells a guest spinning
/// in a loop from one asleep (waiting for an interrupt).
fn summary(samples: &[String]) -> String {
    let first = samples.first().map(String::as_str).unwrap_or_default();
    let riscv = register(first, &["pc"]).is_some();
    let (link, names): (&str, &[&str]) = if riscv { ("ra", &["x1/ra"]) } else { ("lr", &["R14"]) };
    let mut line = String::from(GUEST_STATE);
    if let Some(pc) = register(first, &["R15", "pc"]) {
        line.push_str(&format!(" pc={pc:#x}"));
    }
    if let Some(address) = register(first, names) {
        line.push_str(&format!(" {link}={address:#x}"));
    }
    if let Some(sp) = register(first, &["R13", "x2/sp"]) {
        line.push_str(&format!(" sp={sp:#x}"));
    }
    let pcs: Vec<String> = samples
        .iter()
        .filter_map(|dump| register(dump, &["R15", "pc"]))
        .map(|pc| format!("{pc:#x}"))
        .collect();
    line.push_str(&format!(" (pc in {} samples 50 ms apart: {})", pcs.len(), pcs.join(" ")));
    line
}

/// Boots `image` on `board` halted, with QEMU's GDB server on a free local
/// port, and starts gdb-multiarch on it in batch mode with the image's
/// symbols: no init file, pager, styles or confirmations, `target remote`,
/// then `commands` (as `cargo xtask gdb` sets gdb up, but scripted).
/// Returns QEMU and gdb, or why not and QEMU's console so far.
pub fn gdb_batch(
    board: &crate::boards::Board,
    image: &Path,
    options: &crate::boards::RunOptions,
    commands: &[String],
) -> Result<(Running, Running), (String, String)> {
    let port =
        free_port().map_err(|error| (format!("no free local port: {error}"), String::new()))?;
    let options = crate::boards::RunOptions { gdb: Some(port), ..options.clone() };
    let qemu = spawn(board.qemu, &board.qemu_args(image, &options))
        .map_err(|error| (error.to_string(), String::new()))?;
    if !wait_for_port(port, Duration::from_secs(20), || !qemu.has_ended()) {
        return Err((format!("QEMU's GDB server did not come up on port {port}"), qemu.console()));
    }
    let mut args: Vec<String> = ["-q", "-batch", "-nx"].map(String::from).to_vec();
    args.push(image.display().to_string());
    let setup = ["set pagination off", "set style enabled off", "set confirm off"];
    let target = format!("target remote 127.0.0.1:{port}");
    for command in
        setup.iter().copied().chain([target.as_str()]).chain(commands.iter().map(String::as_str))
    {
        args.extend(["-ex".to_string(), command.to_string()]);
    }
    let gdb = spawn("gdb-multiarch", &args).map_err(|error| (error.to_string(), qemu.console()))?;
    Ok((qemu, gdb))
}

/// A local TCP port that was free a moment ago (the system picks it), for a
/// QEMU GDB server or a port forward.
pub fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Waits until something accepts connections on the local `port` (QEMU's
/// GDB server once QEMU is up): true then, false after the (nominal, see
/// [`time_scale`]) `timeout` or once `running` (the process that should
/// listen) has ended. The probe connection is closed at once; QEMU's GDB
/// server then waits for the next one.
pub fn wait_for_port(port: u16, timeout: Duration, mut running: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + scaled(timeout);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if !running() || Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Runs QEMU to completion (or the nominal `timeout`) and returns what
/// happened.
pub fn run(program: &str, args: &[String], timeout: Duration) -> io::Result<Outcome> {
    Ok(spawn(program, args)?.finish(timeout))
}

/// A process started under [`with_hard_limit`], with its console.
type Watched = (Arc<Mutex<Child>>, Arc<Console>);

/// The processes a job under [`with_hard_limit`] started.
#[derive(Default)]
struct Watch {
    processes: Mutex<Vec<Watched>>,
}

thread_local! {
    /// The watch of the job running on this thread, if any.
    static WATCH: RefCell<Option<Arc<Watch>>> = const { RefCell::new(None) };
}

/// A job that passed its hard limit.
#[derive(Debug)]
pub struct LimitReached {
    /// The limit (scaled).
    pub limit: Duration,
    /// The consoles of the processes it started, oldest first.
    pub console: String,
}

/// Runs `job` on a thread of its own; if it has not returned after the
/// nominal `limit` (scaled, see [`time_scale`]), kills every process it
/// started through [`spawn`] or [`run`] and returns their consoles. The
/// job's thread is then left to end on its own (its waits end when QEMU
/// does).
pub fn with_hard_limit<T: Send + 'static>(
    limit: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LimitReached> {
    let limit = scaled(limit);
    let watch = Arc::new(Watch::default());
    let (sender, receiver) = mpsc::channel();
    let watch_for_job = Arc::clone(&watch);
    let spawned = thread::Builder::new().name("ferrode-case".into()).spawn(move || {
        WATCH.with(|current| *current.borrow_mut() = Some(watch_for_job));
        let _ = sender.send(job());
    });
    let result = match spawned {
        Ok(_) => receiver.recv_timeout(limit),
        Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
    };
    match result {
        Ok(value) => Ok(value),
        Err(_) => {
            let mut console = String::new();
            for (child, output) in lock(&watch.processes).iter() {
                let mut child = lock(child);
                let _ = child.kill();
                let _ = child.wait();
                console.push_str(&output.text_at_end(CONSOLE_END_WAIT));
            }
            Err(LimitReached { limit, console })
        }
    }
}

/// The last `lines` lines of `text` (trailing newlines dropped), for
/// failure reports.
pub fn tail(text: &str, lines: usize) -> &str {
    let trimmed = text.trim_end_matches('\n');
    let mut start = trimmed.len();
    for _ in 0..lines {
        match trimmed[..start].rfind('\n') {
            Some(at) => start = at,
            None => return trimmed,
        }
    }
    trimmed.get(start + 1..).unwrap_or("")
}

/// The host's clock, in seconds since 1970-01-01 UTC (0 for a clock set
/// before then): what QEMU's real-time clocks (PBX-A9's PL031 and DS1338)
/// start from.
pub fn host_unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
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

/// Whether `outcome` is a run that printed `lines` in this order and
/// exited with status 0; `Err` says which line is missing, or the status.
pub fn printed_in_order_and_succeeded(outcome: &Outcome, lines: &[&str]) -> Result<(), String> {
    if let Some(line) = missing_in_order(&outcome.console, lines) {
        return Err(format!("missing, or out of order: {line:?}"));
    }
    if outcome.status != Some(0) {
        return Err(format!("exit status {:?}", outcome.status));
    }
    Ok(())
}

/// Where a failing test's console log is kept.
pub fn log_path(log_dir: &Path, test_name: &str) -> PathBuf {
    let file: String = test_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
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
        let outcome = run(
            "sh",
            &["-c".into(), "printf 'a\\r\\nb\\n'; exit 3".into()],
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(outcome.console, "a\nb\n");
        assert_eq!(outcome.status, Some(3));
        assert!(!outcome.timed_out);
    }

    #[test]
    fn a_process_that_fills_its_stderr_is_not_blocked() {
        // Far more than a pipe holds (64 KiB), before the console line: a
        // harness that read stderr only at the end would stall the process
        // in write(2) and time out here.
        let outcome = run(
            "sh",
            &["-c".into(), "head -c 300000 /dev/zero | tr '\\0' x >&2; echo ready".into()],
            Duration::from_secs(20),
        )
        .unwrap();
        assert!(!outcome.timed_out);
        assert!(outcome.console.starts_with("ready\n"), "{:.200}", outcome.console);
        assert!(outcome.console.contains("more bytes of QEMU's stderr not kept"));
    }

    #[test]
    fn a_hung_process_is_killed_at_the_timeout() {
        let outcome = run("sleep", &["30".into()], Duration::from_millis(200)).unwrap();
        assert!(outcome.timed_out);
        assert_eq!(outcome.status, None);
    }

    #[test]
    fn wait_for_and_send_talk_to_the_process() {
        let mut running =
            spawn("sh", &["-c".into(), "echo ready; read line; echo got:$line".into()]).unwrap();
        assert!(running.wait_for("ready", Duration::from_secs(10)));
        running.send(b"ping\n").unwrap();
        assert!(running.wait_for("got:ping", Duration::from_secs(10)));
        assert_eq!(running.finish(Duration::from_secs(10)).status, Some(0));
    }

    #[test]
    fn a_stuck_job_is_stopped_at_its_hard_limit_and_its_processes_killed() {
        let result = with_hard_limit(Duration::from_millis(300), || {
            let running = spawn("sh", &["-c".into(), "echo booted; sleep 30".into()]).unwrap();
            // A script stuck in a loop of its own, not in a harness wait.
            loop {
                thread::sleep(Duration::from_millis(50));
                if running.has_ended() {
                    return "ended";
                }
            }
        });
        // Returning at all proves the limit: the job itself never returns
        // before its process ends, which the limit's kill brings about.
        let reached = result.unwrap_err();
        assert!(reached.console.contains("booted"), "{:?}", reached.console);
        assert_eq!(with_hard_limit(Duration::from_secs(10), || 7).unwrap(), 7);
    }

    /// What the reader thread adds after the process was killed (the rest
    /// of the pipe, QEMU's stderr) is part of the console reported.
    #[test]
    fn a_killed_processs_console_is_taken_once_its_reader_saw_the_end() {
        let console = Arc::new(Console::default());
        lock(&console.text).0.push_str("booted\n");
        let reader = Arc::clone(&console);
        let late = thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            let mut guard = lock(&reader.text);
            guard.0.push_str("the last line\n");
            guard.1 = true;
            reader.changed.notify_all();
        });
        assert_eq!(console.text_at_end(Duration::from_secs(10)), "booted\nthe last line\n");
        late.join().unwrap();
        // A reader that never ends is not waited for beyond the bound.
        let open = Console::default();
        let started = Instant::now();
        assert_eq!(open.text_at_end(Duration::from_millis(50)), "");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_listening_port_is_found_and_a_closed_one_given_up_on() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(wait_for_port(port, Duration::from_secs(10), || true));
        drop(listener);
        // Nothing listens any more and the "process" has ended: no wait.
        assert!(!wait_for_port(port, Duration::from_secs(10), || false));
        assert_ne!(free_port().unwrap(), 0);
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\nb\nc", 5), "a\nb\nc");
        assert_eq!(tail("a\nb\n", 0), "");
    }

    #[test]
    fn log_names_are_file_safe() {
        assert_eq!(
            log_path(Path::new("/l"), "hello on microblaze-v"),
            PathBuf::from("/l/hello_on_microblaze-v.log")
        );
    }

    const ARM_DUMP: &str = "CPU#0\nR00=00000000 R01=00000001 R02=70114a84 R03=00000153\n\
        R12=70114a80 R13=70114a70 R14=70100284 R15=70105764\nPSR=00000173 ---- T svc32\n\
        s00=00000000 s01=00000000 d00=0000000000000000\nFPSCR: 00000000\n";
    const RISCV_DUMP: &str = "CPU#0\n pc       8000618a\n mhartid  00000000\n\
        x0/zero  00000000 x1/ra    800001d2 x2/sp    80014340 x3/gp    8000e32c\n";

    #[test]
    fn registers_are_read_from_both_boards_dumps() {
        assert_eq!(register(ARM_DUMP, &["R15"]), Some(0x7010_5764));
        assert_eq!(register(ARM_DUMP, &["R14"]), Some(0x7010_0284));
        assert_eq!(register(RISCV_DUMP, &["pc"]), Some(0x8000_618a));
        assert_eq!(register(RISCV_DUMP, &["x1/ra"]), Some(0x8000_01d2));
        assert_eq!(register(RISCV_DUMP, &["R15"]), None);
        // R1 is not R15's prefix match.
        assert_eq!(register(ARM_DUMP, &["R1"]), None);
    }

    #[test]
    fn a_guest_state_summary_names_pc_link_and_every_pc_sampled() {
        let moved = ARM_DUMP.replace("R15=70105764", "R15=70105770");
        let line = summary(&[ARM_DUMP.to_string(), moved]);
        assert_eq!(
            line,
            format!(
                "{GUEST_STATE} pc=0x70105764 lr=0x70100284 sp=0x70114a70 \
                 (pc in 2 samples 50 ms apart: 0x70105764 0x70105770)"
            )
        );
        let line = summary(&[RISCV_DUMP.to_string()]);
        assert!(line.contains(" pc=0x8000618a ra=0x800001d2 sp=0x80014340 "), "{line}");
        assert_eq!(
            core_registers(ARM_DUMP),
            "CPU#0\nR00=00000000 R01=00000001 R02=70114a84 R03=00000153\n\
             R12=70114a80 R13=70114a70 R14=70100284 R15=70105764\nPSR=00000173 ---- T svc32"
        );
    }

    /// QEMU with no image (the CPU runs whatever is at its reset vector,
    /// which is all this needs), once its monitor socket is there; and the
    /// socket's path.
    fn bare_qemu() -> (Running, PathBuf) {
        let args: Vec<String> =
            ["-M", "realview-pbx-a9", "-display", "none", "-monitor", "none", "-serial", "stdio"]
                .map(String::from)
                .to_vec();
        let running = spawn("qemu-system-arm", &args).expect("QEMU starts");
        let path = running.monitor.clone().expect("QEMU gets a monitor");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !path.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        (running, path)
    }

    #[test]
    fn a_running_qemu_reports_its_guests_registers() {
        let (running, path) = bare_qemu();
        let state = running.guest_state().expect("a running QEMU has a state");
        assert!(state.contains(&format!("{GUEST_STATE} pc=0x")), "{state}");
        assert!(state.contains("(pc in 3 samples"), "{state}");
        assert!(state.contains("R15="), "{state}");
        // The board's device registers, read without side effects.
        assert!(state.contains("UART0 FR: 0000000010009018:"), "{state}");
        assert!(state.contains("GICC RPR HPPIR: 000000001f000114:"), "{state}");
        drop(running);
        assert!(!path.exists(), "the socket is removed with its QEMU");
        // Not QEMU: no monitor, no state.
        let other = spawn("sh", &["-c".into(), "sleep 5".into()]).unwrap();
        assert_eq!(other.guest_state(), None);
    }

    #[test]
    fn a_qemu_whose_main_loop_is_stuck_is_reported_as_such() {
        let (running, _) = bare_qemu();
        let pid = libc::pid_t::try_from(lock(&running.child).id()).unwrap();
        // SAFETY: stops our own child (killed when `running` drops).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
        let state = running.guest_state().expect("a stopped QEMU has not ended");
        assert!(state.contains("QEMU's monitor did not answer"), "{state}");
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }
}
