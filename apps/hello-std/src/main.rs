//! Rust std on Ferrode: an ordinary `fn main()` run by the client component
//! `app`, beside the LOG and Timer services it reaches through std.
//!
//! `println!` and `eprintln!` reach the console as LOG lines labelled
//! `[app]`, stdin comes from the Terminal driver on the console UART, the
//! environment from the ROM module `env`;
//! `Vec`, `String`, `Box` and `HashMap` allocate from the RAM
//! after the image; `Instant` and `thread::sleep` use the Timer session;
//! files are the image's ROM modules, under `/rom/`; three threads sleep,
//! count under a `Mutex` and report over a channel; what Ferrode does not
//! offer (writing files) is an error, not a crash. The exit status is
//! `main`'s.
//!
//! Its command line picks what else it shows (`cargo xtask run --app
//! hello-std -- panic`): `stdin` reads lines from the console UART through
//! the Terminal driver component until Ctrl-D, `panic` panics (std's
//! message reaches the LOG and the image exits with 101), `deadlock` locks a `Mutex` it holds, which
//! with no other thread can never be freed (the component ends, saying so,
//! instead of hanging), `deadlock-threads` joins a thread that waits for
//! a lock `main` holds (the same end), `thread-panic` panics in a thread
//! (the component ends: 101), `fault` executes an undefined instruction in
//! a thread (the component ends: 102), `oom` asks for more memory than the
//! board has (std reports the failed allocation and aborts: 101).

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

ferrode_board::compose! {
    servers {
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 4, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        rom: { priority: 4, stack: 4096, provides: "ROM", root: rom_root },
        terminal: { priority: 4, stack: 4096, provides: "Terminal", root: ferrode_board::component::terminal_root },
    }
    // `cargo xtask stacks --app hello-std`: main peaks at about 2.4 KiB.
    clients {
        // Four threads: main and three it spawns at once.
        app: { priority: 3, stack: 16384, main: ferrode_board::hermit::std_main, quota: { threads: 4 } },
    }
    routes {
        terminal: "IO_MEM" "console-uart" => io_mem,
        terminal: "IRQ" "console-uart" => irq,
        // Lines of up to 140 bytes (the LOG's own limit is 160): std's
        // longer ones go out in pieces.
        app: "LOG" "" => log quota 140,
        app: "Timer" "" => timer,
        app: "ROM" "motd" => rom,
        app: "ROM" "zeds" => rom,
        app: "ROM" "env" => rom,
        app: "Terminal" "" => terminal,
    }
}

/// The image's ROM modules: std reads them as files under `/rom/`.
static MODULES: [ferrode_board::component::Module; 3] = [
    ("motd", b"Files are ROM modules here.\nThis is the second line.\n"),
    // The environment: KEY=VALUE lines.
    ("env", b"GREETING=hello from the env module\n# a comment line\nROUNDS=3\n"),
    // Larger than one ROM read (192 bytes): std reads it in pieces.
    ("zeds", &[b'z'; 1000]),
];

fn rom_root(
    entrypoint: ferrode_board::kernel::BoardEntrypoint,
) -> Result<ferrode_ipc::Capability<dyn ferrode_component::Root>, ferrode_board::kernel::KernelError>
{
    ferrode_board::component::rom_root(entrypoint, &MODULES)
}

fn main() -> std::process::ExitCode {
    println!("Hello from Rust std on Ferrode ({})!", ferrode_board::BOARD_NAME);
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("arguments: {args:?}");
    let rounds: u32 = std::env::var("ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    println!(
        "environment: {} variables, GREETING={:?}, ROUNDS + 1 = {}, HOME={:?}",
        std::env::vars().count(),
        std::env::var("GREETING"),
        rounds + 1,
        std::env::var("HOME").ok()
    );
    match args.first().map(String::as_str) {
        Some("panic") => panic!("asked to panic"),
        Some("fault") => {
            // A CPU fault in a thread of the program: the component ends
            // (every thread of it), the others run on.
            println!("a thread is about to fault");
            let _ = thread::spawn(|| ferrode_board::arch::undefined_instruction()).join();
            println!("the fault did not end the program");
        }
        Some("stdin") => {
            println!("reading stdin, Ctrl-D ends");
            let (mut lines, mut bytes) = (0, 0);
            for line in std::io::stdin().lines() {
                let line = line.expect("stdin reads");
                lines += 1;
                bytes += line.len();
                println!("stdin line {lines}: {line:?}");
            }
            println!("stdin: {lines} lines, {bytes} bytes, then the end");
            return std::process::ExitCode::SUCCESS;
        }
        Some("oom") => {
            let huge: Vec<u8> = Vec::with_capacity(1 << 30);
            println!("a 1 GiB Vec? {}", huge.capacity());
        }
        Some("deadlock-threads") => {
            // Main holds the lock and joins a thread that waits for it.
            let lock = Arc::new(Mutex::new(0));
            let _held = lock.lock();
            let waiter = Arc::clone(&lock);
            let _ = thread::spawn(move || *waiter.lock().unwrap() += 1).join();
            println!("joined a thread that waits for main?");
        }
        Some("thread-panic") => {
            let worker = thread::Builder::new().name(String::from("worker"));
            let _ = worker.spawn(|| panic!("asked to panic in a thread")).unwrap().join();
            println!("joined a thread that panicked?");
        }
        Some("deadlock") => {
            let lock = std::sync::Mutex::new(0);
            let _held = lock.lock();
            let _again = lock.lock();
            println!("locked twice?");
        }
        _ => {}
    }

    let mut words: HashMap<&str, usize> = HashMap::new();
    for word in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *words.entry(word).or_default() += 1;
    }
    let mut counted: Vec<(&str, usize)> = words.into_iter().collect();
    counted.sort();
    println!("word counts: {counted:?}");

    // 150 digits: more than the LOG route's quota, so two lines.
    println!("{}", "0123456789".repeat(15));

    let squares: Vec<u64> = (1..=10u64).map(|n| n * n).collect();
    let boxed: Box<[u64]> = squares.into_boxed_slice();
    println!("sum of the first ten squares: {}", boxed.iter().sum::<u64>());

    // The heap is the RAM after the image: 32 MiB fit, written at both ends.
    let mut big = vec![0u8; 32 << 20];
    let last = big.len() - 1;
    big[0] = 1;
    big[last] = 2;
    println!("a 32 MiB Vec: {} bytes, ends {} and {}", big.len(), big[0], big[last]);
    drop(big);

    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(10));
    let slept = start.elapsed();
    let early = slept < Duration::from_millis(10);
    println!("slept 10 ms: {}", if early { "TOO EARLY" } else { "not early" });

    match std::fs::read_to_string("/rom/motd") {
        Ok(text) => {
            println!("/rom/motd: {} bytes, last line {:?}", text.len(), text.lines().last())
        }
        Err(error) => println!("/rom/motd: {error}"),
    }
    let mut motd = std::fs::File::open("/rom/motd").expect("the ROM route is there");
    let mut tail = String::new();
    let _ = motd.seek(SeekFrom::End(-25)).and_then(|_| motd.read_to_string(&mut tail));
    println!("its last 25 bytes: {tail:?}");
    match std::fs::read("/rom/zeds") {
        Ok(zeds) => {
            println!("/rom/zeds: {} bytes, all z: {}", zeds.len(), zeds.iter().all(|b| *b == b'z'))
        }
        Err(error) => println!("/rom/zeds: {error}"),
    }
    // `/rom` lists a file per ROM route.
    match std::fs::read_dir("/rom") {
        Ok(entries) => {
            let listing: Vec<String> = entries
                .map(|entry| {
                    let entry = entry?;
                    let kind = if entry.file_type()?.is_file() { "file" } else { "not a file" };
                    let size = entry.metadata()?.len();
                    Ok(format!("{} ({kind}, {size} bytes)", entry.file_name().display()))
                })
                .collect::<std::io::Result<_>>()
                .unwrap_or_else(|error: std::io::Error| vec![error.to_string()]);
            println!("/rom lists {}", listing.join(", "));
        }
        Err(error) => println!("/rom: {error}"),
    }
    let outcome =
        |result: std::io::Result<String>| result.unwrap_or_else(|error| error.to_string());
    let is_dir = std::fs::metadata("/rom").map(|metadata| metadata.is_dir().to_string());
    println!("/rom is a directory: {}", outcome(is_dir));
    let read = std::fs::read("/rom").map(|bytes| format!("{} bytes", bytes.len()));
    let listed =
        std::fs::read_dir("/rom/motd").map(|entries| format!("{} entries", entries.count()));
    println!("reading /rom: {}; listing /rom/motd: {}", outcome(read), outcome(listed));
    let elsewhere = std::fs::read_dir("/etc").map(|entries| format!("{} entries", entries.count()));
    println!("listing /etc: {}", outcome(elsewhere));
    for path in ["/rom/missing", "/etc/hostname"] {
        match std::fs::read(path) {
            Ok(_) => println!("{path}: read?"),
            Err(error) => println!("{path}: {error}"),
        }
    }
    match std::fs::write("/rom/motd", "overwritten") {
        Ok(()) => println!("wrote a ROM module?"),
        Err(error) => println!("writing: {error}"),
    }
    let removed = std::fs::remove_file("/rom/motd").map(|()| String::from("removed?"));
    let made = std::fs::create_dir("/rom/new").map(|()| String::from("made?"));
    println!("removing a module: {}; making a directory: {}", outcome(removed), outcome(made));
    threads();
    eprintln!("to stderr, without a line end at first...");
    eprint!("and the rest");
    eprintln!(" of the line");
    print!("an unfinished line goes out at exit");

    if early { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS }
}

thread_local! {
    /// Each thread's own.
    static MINE: Cell<u32> = const { Cell::new(0) };
}

/// Three threads that sleep 20, 10 and 30 ms, count under a `Mutex` and
/// send their number over a channel, so they report in the order they
/// wake (a timeout armed for the third must not put off the second's);
/// each sets its thread-local and returns it. A fourth at once is over
/// the component's thread quota.
fn threads() {
    let counter = Arc::new(Mutex::new(0));
    let (sender, receiver) = mpsc::channel();
    let handles: Vec<_> = (0..3u32)
        .map(|n| {
            let (counter, sender) = (Arc::clone(&counter), sender.clone());
            thread::spawn(move || {
                thread::sleep(Duration::from_millis([20, 10, 30][n as usize]));
                *counter.lock().unwrap() += 1;
                sender.send(n).unwrap();
                MINE.set(10 + n);
                MINE.get()
            })
        })
        .collect();
    match thread::Builder::new().spawn(|| ()) {
        Ok(_) => println!("threads: a fourth at once?"),
        Err(error) => println!("threads: a fourth at once: {error}"),
    }
    drop(sender);
    let order: Vec<u32> = receiver.iter().collect();
    let mine: Vec<u32> = handles.into_iter().map(|handle| handle.join().unwrap()).collect();
    let counted = *counter.lock().unwrap();
    println!(
        "threads: woke in order {order:?}, counted {counted}, thread-locals {mine:?}, main's {}",
        MINE.get()
    );
    // Their slots are free again.
    let again =
        thread::spawn(|| thread::current().id()).join().map(|id| id != thread::current().id());
    println!("threads: another after them: {again:?}");
    // Ping-pong: a number goes back and forth 100 times, each side adding
    // one, the turn changing hands at every message.
    let (to_worker, from_main) = mpsc::channel::<u32>();
    let (to_main, from_worker) = mpsc::channel::<u32>();
    let worker = thread::spawn(move || {
        for n in from_main {
            if to_main.send(n + 1).is_err() {
                break;
            }
        }
    });
    let mut n = 0;
    for _ in 0..100 {
        to_worker.send(n).unwrap();
        n = from_worker.recv().unwrap() + 1;
    }
    drop(to_worker);
    let joined = worker.join().is_ok();
    println!("threads: ping-pong, 100 rounds: {n}, the worker joined: {joined}");
    // A Condvar's waiter, woken once main sets the flag; a parked thread,
    // unparked; scoped threads writing into main's array.
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let waiter = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            let (lock, ready) = &*pair;
            let mut go = lock.lock().unwrap();
            while !*go {
                go = ready.wait(go).unwrap();
            }
        })
    };
    *pair.0.lock().unwrap() = true;
    pair.1.notify_one();
    let woke = waiter.join().is_ok();
    let parked = thread::spawn(|| {
        thread::park();
        1
    });
    parked.thread().unpark();
    let unparked = parked.join().is_ok_and(|one| one == 1);
    let mut written = [0u32; 2];
    thread::scope(|scope| {
        for (n, slot) in (1..).zip(written.iter_mut()) {
            scope.spawn(move || *slot = n * 10);
        }
    });
    println!(
        "threads: a Condvar woke its waiter: {woke}; unparked: {unparked}; scoped threads wrote {written:?}"
    );
    // What an ended thread had (its kernel thread, stack and signal) is
    // there for the next: many more than the quota, one after another.
    let lifetimes = (0..20).filter(|_| thread::spawn(|| ()).join().is_ok()).count();
    println!("threads: 20 spawned and joined one after another: {lifetimes} ran");
    // A thread nobody joins gives its stack back once it has ended: one
    // of three quarters of the largest block the heap has, after which
    // that much fits again.
    let fits = |size: usize| Vec::<u8>::new().try_reserve_exact(size).is_ok();
    let (mut fit, mut over) = (0usize, 1usize << 30);
    while over - fit > 4096 {
        let middle = fit + (over - fit) / 2;
        if fits(middle) { fit = middle } else { over = middle }
    }
    let stack = fit / 4 * 3;
    let (done, ended) = mpsc::channel::<u32>();
    let detached = thread::Builder::new().stack_size(stack).spawn(move || {
        let _ = done.send(0);
    });
    let back = detached.is_ok() && ended.recv().is_ok() && fits(stack);
    println!("threads: a detached thread's stack of 3/4 of the heap is back: {back}");
}
