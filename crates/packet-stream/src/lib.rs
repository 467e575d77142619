//! Packet streams: bulk data between two components through a shared buffer.
//!
//! Genode's packet-stream protocol, in one image. A *source* allocates
//! packets in a shared buffer, fills them in place and submits their
//! descriptors; the *sink* takes them, reads or writes them in place and
//! acknowledges them; the source gets the slot back and reuses it. Small
//! control calls go over RPC; the bytes go through here, never copied by
//! the stream itself.
//!
//! ```text
//!             submit ring (descriptors)
//!   Source ─────────────────────────────▶ Sink
//!     ▲  owns the allocator                │ checks every descriptor
//!     └────────────────────────────────────┘
//!           acknowledgement ring
//!        both point into one buffer, cut into equal slots
//! ```
//!
//! - [`PacketStream`] is the control block (two rings of `QUEUE`
//!   [`Descriptor`]s, the ownership of up to `SLOTS` slots), all-zero when
//!   new so a `static` of it lands in `.bss`. [`PacketStream::split`] lends
//!   it the buffer and returns a [`Source`] and a [`Sink`], one each.
//! - **Back-pressure, not loss.** A full ring hands the packet back
//!   ([`Refused::Full`]); an exhausted buffer is [`AllocError::Exhausted`];
//!   a slot comes back only through an acknowledgement.
//! - **Neither end trusts the other.** The sink checks every descriptor
//!   (inside the buffer, inside one slot, and naming a slot that was
//!   submitted and not yet taken) before it makes a view; the source checks
//!   every acknowledgement the same way (the slot must be acknowledged,
//!   not merely outstanding in its memory). A bad descriptor is dropped and
//!   counted and the stream goes on ([`ReceiveError::Rejected`],
//!   [`Invalid`]). [`Source::submit_descriptor`] and
//!   [`Sink::acknowledge_descriptor`] let a test (or a hostile peer) put
//!   anything in the rings.
//! - **Sound by construction.** Each slot has an owner state shared by the
//!   two ends (at the source, submitted, at the sink, acknowledged); each
//!   state is left only by one end, and the packet handles
//!   ([`SourcePacket`], [`SinkPacket`]) exist only for slots their end
//!   owns, so the `&mut [u8]` views they give never overlap, whatever
//!   descriptors the rings carry. Ownership of a slot moves with its
//!   descriptor. The shared states lie in memory the peer can write, so
//!   neither end takes them on their word: each also keeps its own record
//!   (the source, the slots it has in flight; the sink, the slots it
//!   holds), and a slot is taken or given back only if both agree. Whether
//!   an end still holds packets (which refuses a restart or a replacement)
//!   is decided from its own record alone.
//! - **Nothing held for good.** A packet the sink cannot acknowledge (a
//!   full acknowledgement ring, which a hostile source can fake by writing
//!   its index) is given up with [`Sink::discard`], not dropped: a dropped
//!   one would stay held and refuse every later restart of the stream.
//! - **Signals on transitions.** Each end raises the other's signals
//!   through [`Notify`] ([`ToSink`], [`ToSource`]: Genode's four): only when
//!   a ring goes from empty to non-empty or from full to not full. An end
//!   that finds nothing to do waits on both of its signals at once (one
//!   signal receiver), drains, and tries again; a source waiting for room
//!   must keep taking acknowledgements, or it and a sink waiting for room
//!   to acknowledge would wait for each other. A source that takes
//!   acknowledgements whenever it needs a slot can have "acknowledgement
//!   available" left out while it has a free one
//!   ([`Source::signal_acknowledgements_when_exhausted`]; a flag in the
//!   control block, set and cleared by [`Source::reclaim`] with a second
//!   look, so no wakeup is lost): both ends of a NIC session do, which
//!   spares a wakeup per frame.
//!
//! The rings use loads and stores with Acquire/Release and a fence, no
//! read-modify-write atomics: the crate builds for `armv7a-none-eabi` and
//! `riscv32imac-unknown-none-elf` and would run on an RV32 without the A
//! extension.
//!
//! # Testing
//!
//! `cargo test -p ferrode-packet-stream`: 100,000 packets between two
//! threads that wait only on signals (a lost wakeup fails the test), every
//! kind of malformed descriptor on both rings, and a proptest of honest and
//! hostile operations against a reference model. The same tests run under
//! Miri (fewer packets and cases there), with Stacked and Tree Borrows:
//! `cargo +nightly miri test -p ferrode-packet-stream` (add
//! `MIRIFLAGS=-Zmiri-tree-borrows`; needs `rustup component add miri
//! --toolchain nightly`).
//!
//! # Sizing
//!
//! Slots of the largest packet (a NIC: 1536 or 2048 bytes for a 1514-byte
//! frame). `QUEUE` at least `SLOTS` keeps the acknowledgement ring from
//! ever being full for well-behaved ends; a smaller submit ring than the
//! buffer has slots is fine (a source may hold filled packets while the ring
//! is full).
//!
//! # A NIC driver and its client
//!
//! A Nic session has two streams: *transmit* (client is the source, driver
//! the sink) and *receive* (driver is the source, client the sink). The
//! driver copies a received frame from its FIFO straight into a slot; the
//! client parses it in place.
//!
//! ```
//! use ferrode_packet_stream::{NoNotify, PacketStream, ReceiveError, ToSink, ToSource};
//! # use std::collections::VecDeque;
//!
//! // Per direction: 8 slots of 1536 bytes, rings of 8 descriptors. In an
//! // image these are statics (`.bss`) lent to the two components.
//! let mut tx_stream = PacketStream::<8, 8>::new();
//! let mut rx_stream = PacketStream::<8, 8>::new();
//! let mut tx_buffer = [0u8; 8 * 1536];
//! let mut rx_buffer = [0u8; 8 * 1536];
//! // The component framework would pass kernel signals here.
//! let (mut client_tx, mut driver_tx) = tx_stream
//!     .split(&mut tx_buffer, 1536, ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default())
//!     .unwrap();
//! let (mut driver_rx, mut client_rx) = rx_stream
//!     .split(&mut rx_buffer, 1536, ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default())
//!     .unwrap();
//! # let mut wire_out: VecDeque<Vec<u8>> = VecDeque::new();
//! # let mut wire_in: VecDeque<Vec<u8>> = VecDeque::from([vec![0xab; 60]]);
//!
//! // Client, sending: build the frame in the slot (smoltcp's TxToken
//! // would write here), submit it.
//! let mut frame = client_tx.alloc(42).unwrap();
//! frame.payload_mut().fill(0x5a);
//! client_tx.submit(frame).unwrap(); // Err(Refused::Full(frame)) is back-pressure
//!
//! // Driver, woken by "packet available": transmit every valid frame,
//! // straight from the slot into the MAC's FIFO, and acknowledge it.
//! loop {
//!     match driver_tx.try_take() {
//!         Ok(frame) => {
//!             wire_out.push_back(frame.payload().to_vec()); // device.transmit(frame.payload())
//!             driver_tx.acknowledge(frame).unwrap();
//!         }
//!         Err(ReceiveError::Rejected { .. }) => continue, // counted, the driver goes on
//!         Err(ReceiveError::Empty) => break,               // wait for the next signal
//!     }
//! }
//!
//! // Driver, on its receive interrupt: copy the frame from the FIFO into a
//! // slot (device.receive(slot)), trim it to the frame's length, submit.
//! assert_eq!(driver_tx.rejected_descriptors(), 0); // a count the driver can report
//! driver_rx.reclaim(); // first take back the slots the client has finished with
//! let mut slot = driver_rx.alloc(driver_rx.slot_size()).unwrap();
//! let received = wire_in.pop_front().unwrap();
//! slot.payload_mut()[..received.len()].copy_from_slice(&received);
//! slot.set_len(received.len()).unwrap();
//! driver_rx.submit(slot).unwrap();
//!
//! // Client, woken by "packet available": parse in place (smoltcp's
//! // RxToken reads here), acknowledge; the client's own sent slots come back.
//! let frame = client_rx.try_take().unwrap();
//! assert_eq!(frame.payload(), &[0xab; 60][..]);
//! client_rx.acknowledge(frame).unwrap();
//! assert_eq!(client_tx.reclaim(), 1);
//! assert_eq!(wire_out.pop_front().unwrap(), vec![0x5a; 42]);
//! ```
#![no_std]

mod descriptor;
mod error;
mod marks;
mod notify;
mod ring;
mod sink;
mod source;
mod stream;

pub use descriptor::{Descriptor, Invalid};
pub use error::{AllocError, ReceiveError, Refused, RestartError};
pub use notify::{NoNotify, Notify, ToSink, ToSource};
pub use sink::Sink;
pub use source::Source;
pub use stream::{ConfigError, PacketStream, SinkPacket, SourcePacket};
