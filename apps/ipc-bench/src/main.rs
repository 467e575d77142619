//! ipc-bench: what an RPC costs, in guest instructions, against a direct
//! call doing the same work in the same image and run.
//!
//! Run by `cargo xtask bench ipc --board B` under QEMU `-icount shift=0`
//! (instructions retired are then exact). Prints one JSON object per
//! benchmark: `null_rpc`, `rpc_2in_1out`, `rpc_64_words`,
//! `rpc_cap_transfer`.
#![no_std]
#![no_main]

use core::hint::black_box;

use ferrode_board::kernel::{self, BoardEntrypoint, ConstStaticCell, KernelError, Quota, kernel};
use ferrode_board::{BOARD_NAME, arch, exit_code, print, println};
use ferrode_ipc::{Capability, RpcObject, TransportError, Utcb, Words};
use heapless::Vec;

ferrode_board::entry!(main);

ferrode_ipc::marshal! {
    /// The benchmark interface's error: only transport failures.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BenchError {
        /// The call itself failed.
        Transport(TransportError),
    }
}

ferrode_ipc::rpc_error!(BenchError::Transport);

/// Words in the largest request (the whole message area).
const BLOCK_WORDS: usize = 64;

/// The longest word vector `reverse` takes: with its length word and the
/// reply's result tag, the reply fills the UTCB's 64 words.
const ECHO_WORDS: usize = 62;

ferrode_ipc::interface! {
    /// The benchmarked methods.
    pub trait Bench {
        /// Nothing in, nothing out.
        fn null(&mut self) -> Result<(), BenchError>;
        /// Two words in, one out.
        fn add(&mut self, a: u32, b: u32) -> Result<u32, BenchError>;
        /// 64 words in (a raw word block), one out.
        fn block(&mut self, words: Words<BLOCK_WORDS>) -> Result<usize, BenchError>;
        /// A capability in, the same capability out.
        fn echo_capability(&mut self, capability: Capability<dyn Bench>) -> Result<Capability<dyn Bench>, BenchError>;
    }
}

ferrode_ipc::interface! {
    /// The sanity check's method, in an interface of its own: a method with
    /// large stack temporaries would enlarge the frame of the benchmarked
    /// interface's dispatcher, which every benchmarked request pays for.
    pub trait Reverse {
        /// Any number of words in, the same words reversed out (the check
        /// sends every length, so every copy path of the kernel runs).
        fn reverse(&mut self, words: Vec<usize, ECHO_WORDS>) -> Result<Vec<usize, ECHO_WORDS>, BenchError>;
        /// A full 64-word block in, a checksum of every word (and its
        /// position) out: the benchmarked `block` only looks at two words.
        fn checksum(&mut self, words: Words<BLOCK_WORDS>) -> Result<usize, BenchError>;
    }
}

/// What `Reverse::checksum` computes: every word, weighted by position.
fn checksum(words: &[usize; BLOCK_WORDS]) -> usize {
    words
        .iter()
        .enumerate()
        .fold(0usize, |sum, (index, word)| sum.wrapping_mul(31).wrapping_add(word ^ index))
}

/// The server; the same type serves the direct-call baseline.
struct BenchServer;

impl Bench for BenchServer {
    #[inline(never)]
    fn null(&mut self) -> Result<(), BenchError> {
        Ok(())
    }

    #[inline(never)]
    fn add(&mut self, a: u32, b: u32) -> Result<u32, BenchError> {
        Ok(a.wrapping_add(b))
    }

    #[inline(never)]
    fn block(&mut self, words: Words<BLOCK_WORDS>) -> Result<usize, BenchError> {
        Ok(words.0[0] ^ words.0[BLOCK_WORDS - 1])
    }

    #[inline(never)]
    fn echo_capability(
        &mut self,
        capability: Capability<dyn Bench>,
    ) -> Result<Capability<dyn Bench>, BenchError> {
        Ok(capability)
    }
}

/// The sanity check's server, on the same entrypoint.
struct ReverseServer;

impl Reverse for ReverseServer {
    fn reverse(
        &mut self,
        mut words: Vec<usize, ECHO_WORDS>,
    ) -> Result<Vec<usize, ECHO_WORDS>, BenchError> {
        words.reverse();
        Ok(words)
    }

    fn checksum(&mut self, words: Words<BLOCK_WORDS>) -> Result<usize, BenchError> {
        Ok(checksum(&words.0))
    }
}

const ITERATIONS: u32 = 1000;

static EP_STACK: ConstStaticCell<[u8; 8192]> = ConstStaticCell::new([0; 8192]);
static EP_UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());
static SERVER: ConstStaticCell<RpcObject<dyn Bench, BenchServer>> =
    ConstStaticCell::new(RpcObject::new(BenchServer));
static REVERSER: ConstStaticCell<RpcObject<dyn Reverse, ReverseServer>> =
    ConstStaticCell::new(RpcObject::new(ReverseServer));

/// Average instructions of `body` over [`ITERATIONS`] runs (loop included).
/// Each body is an `#[inline(always)]` closure: whether the compiler
/// inlines a closure into its loop depends on the size of everything in
/// it, down to cold error paths, and a call per iteration (about 15
/// instructions on PBX-A9) is no part of an RPC's cost.
#[inline(never)]
fn measure(mut body: impl FnMut()) -> u32 {
    body(); // warm up: first-touch effects stay out of the figure
    let start = arch::instructions_retired();
    for _ in 0..ITERATIONS {
        body();
    }
    let end = arch::instructions_retired();
    end.wrapping_sub(start) / ITERATIONS
}

/// Prints one JSON line; `extra` values are in hundredths, printed as
/// decimals.
fn report(bench: &str, rpc: u32, direct: u32, extra: &[(&str, u32)]) {
    print!(
        "{{\"board\":\"{}\",\"bench\":\"{}\",\"instructions\":{},\"direct_call_instructions\":{}",
        BOARD_NAME, bench, rpc, direct
    );
    for (name, value) in extra {
        print!(",\"{}\":{}.{:02}", name, value / 100, value % 100);
    }
    println!("}}");
}

fn main() -> u32 {
    match run() {
        Ok(true) => exit_code::SUCCESS,
        Ok(false) => exit_code::FAILURE,
        Err(error) => {
            println!("ipc-bench: set-up failed: {}", error);
            exit_code::FAILURE
        }
    }
}

fn run() -> Result<bool, KernelError> {
    let k = kernel();
    kernel::init(1)?;
    let server_component = k.create_component("bench-server", Quota::at_priority(3))?;
    let stack = EP_STACK.try_take().ok_or(KernelError::InvalidThread)?;
    let utcb = EP_UTCB.try_take().ok_or(KernelError::InvalidThread)?;
    let entrypoint = BoardEntrypoint::new(k, server_component, "bench-ep", 3, stack, utcb)?;
    let object = SERVER.try_take().ok_or(KernelError::InvalidThread)?;
    // Managed from root: the capabilities land in root's space.
    let capability: Capability<dyn Bench> = entrypoint.manage(object)?;
    let mut client = kernel::client(capability);
    let reverser = REVERSER.try_take().ok_or(KernelError::InvalidThread)?;
    let reverser: Capability<dyn Reverse> = entrypoint.manage(reverser)?;
    let mut reverser = kernel::client(reverser);
    let mut direct = BenchServer;
    arch::start_instruction_counter();
    let probe = arch::instructions_retired();
    core::hint::black_box(probe);
    if arch::instructions_retired() == probe {
        println!(
            "ipc-bench: the instruction counter does not count (QEMU needs -icount: use cargo xtask bench ipc)"
        );
        return Ok(false);
    }
    // Opaque to the compiler once, here; the loops below pass it as it is
    // (a black_box per iteration would add a 64-word copy to both figures).
    let block = black_box(Words([0x5555_5555usize; BLOCK_WORDS]));
    // Sanity: the RPC path gives the direct results.
    let sane = client.null() == Ok(())
        && client.add(40, 2) == Ok(42)
        && client.block(block) == Ok(0)
        && client.echo_capability(capability) == Ok(capability);
    if !sane {
        println!("ipc-bench: RPC results differ from direct calls");
        return Ok(false);
    }
    // Every word of a full request arrives, in place.
    let mut distinct = [0usize; BLOCK_WORDS];
    for (index, word) in distinct.iter_mut().enumerate() {
        *word = index.wrapping_mul(0x0101_0101).wrapping_add(0x1234_5678);
    }
    if reverser.checksum(Words(distinct)) != Ok(checksum(&distinct)) {
        println!("ipc-bench: a 64-word request did not arrive intact");
        return Ok(false);
    }
    for length in 0..=ECHO_WORDS {
        let words: Vec<usize, ECHO_WORDS> =
            (0..length).map(|i| i.wrapping_mul(0x9e37_79b9) ^ length).collect();
        let mut expected = words.clone();
        expected.reverse();
        if reverser.reverse(words) != Ok(expected) {
            println!("ipc-bench: {} words did not come back reversed", length);
            return Ok(false);
        }
    }

    // The measured loops keep each result opaque (`black_box`) but do not
    // branch on it, so the figures are the RPC's alone; each loop is then
    // run again, unmeasured, with every result checked. The kernel is
    // deterministic: a call that failed while measured fails here too, so
    // a failing RPC cannot pass for a fast one.
    let mut failed = 0u32;
    let mut verify = |ok: &mut dyn FnMut() -> bool| {
        for _ in 0..ITERATIONS {
            failed += u32::from(!ok());
        }
    };
    let null_rpc = measure(
        #[inline(always)]
        || {
            let _ = black_box(client.null());
        },
    );
    let null_direct = measure(
        #[inline(always)]
        || {
            let _ = black_box(black_box(&mut direct).null());
        },
    );
    report("null_rpc", null_rpc, null_direct, &[]);

    verify(&mut || client.null() == Ok(()));
    let add_rpc = measure(
        #[inline(always)]
        || {
            let _ = black_box(client.add(black_box(40), black_box(2)));
        },
    );
    let add_direct = measure(
        #[inline(always)]
        || {
            let _ = black_box(black_box(&mut direct).add(black_box(40), black_box(2)));
        },
    );
    report("rpc_2in_1out", add_rpc, add_direct, &[]);

    verify(&mut || client.add(40, 2) == Ok(42));
    let block_rpc = measure(
        #[inline(always)]
        || {
            let _ = black_box(client.block(block));
        },
    );
    let block_direct = measure(
        #[inline(always)]
        || {
            let _ = black_box(black_box(&mut direct).block(block));
        },
    );
    // What each extra message word costs the RPC, in hundredths: the
    // RPC's overhead over the direct call at 64 words, minus its overhead
    // at none. (Both calls take the 64-word block by value, so whatever
    // passing it costs a Rust call is in both figures and cancels out.)
    let overhead_64 = block_rpc.saturating_sub(block_direct);
    let overhead_0 = null_rpc.saturating_sub(null_direct);
    let per_word = overhead_64.saturating_sub(overhead_0) * 100 / BLOCK_WORDS as u32;
    // The plain difference to the null RPC, for comparison.
    let raw_per_word = block_rpc.saturating_sub(null_rpc) * 100 / BLOCK_WORDS as u32;
    report(
        "rpc_64_words",
        block_rpc,
        block_direct,
        &[
            ("instructions_per_extra_word", per_word),
            ("raw_instructions_per_extra_word", raw_per_word),
        ],
    );

    verify(&mut || client.block(block) == Ok(0));
    let cap_rpc = measure(
        #[inline(always)]
        || {
            let _ = black_box(client.echo_capability(black_box(capability)));
        },
    );
    let cap_direct = measure(
        #[inline(always)]
        || {
            let _ = black_box(black_box(&mut direct).echo_capability(black_box(capability)));
        },
    );
    report("rpc_cap_transfer", cap_rpc, cap_direct, &[]);
    verify(&mut || client.echo_capability(capability) == Ok(capability));

    if failed != 0 {
        println!("ipc-bench: {} benchmarked RPCs failed", failed);
        return Ok(false);
    }
    println!("ipc-bench: every benchmarked RPC succeeded ({} checked calls of each)", ITERATIONS);
    Ok(true)
}
