//! End to end over the loopback transport: inheritance, declared errors,
//! capability arguments and returns, transport failures.

mod common;

use common::*;
use ferrode_ipc::{
    Bytes, Capability, Client, Interface, Loopback, RpcObject, TransportError, Utcb, label,
};

#[test]
fn labels_name_the_declaring_interface_and_the_position() {
    assert_eq!(<dyn Base as Interface>::METHODS, 2);
    assert_eq!(<dyn Calculator as Interface>::METHODS, 5);
    assert_eq!(<dyn Scientific as Interface>::METHODS, 1);
    assert_eq!(<dyn Counter as Interface>::METHODS, 1);
    let ids = [
        <dyn Base as Interface>::ID,
        <dyn Calculator as Interface>::ID,
        <dyn Scientific as Interface>::ID,
        <dyn Counter as Interface>::ID,
    ];
    for (index, id) in ids.iter().enumerate() {
        assert!(*id != 0 && *id < 1 << 16);
        assert!(!ids[..index].contains(id), "interface ids differ");
    }
    assert_eq!(label::<dyn Calculator>(1), ((ids[1] as usize) << 16) | 1);
}

#[test]
fn receive_windows_follow_the_declared_types() {
    let set_counter = label::<dyn Calculator>(2);
    let counter = label::<dyn Calculator>(3);
    assert_eq!(<dyn Calculator as Interface>::caps_window(set_counter, false), 1);
    assert_eq!(<dyn Calculator as Interface>::caps_window(set_counter, true), 0);
    assert_eq!(<dyn Calculator as Interface>::caps_window(counter, false), 0);
    assert_eq!(<dyn Calculator as Interface>::caps_window(counter, true), 1);
    // Inherited labels are answered by the base; foreign ones take none.
    assert_eq!(<dyn Scientific as Interface>::caps_window(set_counter, false), 1);
    assert_eq!(<dyn Counter as Interface>::caps_window(set_counter, false), 0);
    assert_eq!(<dyn Calculator as Interface>::caps_window(usize::MAX, false), 0);
}

#[test]
fn a_capability_of_the_wrong_interface_is_refused_before_any_method_runs() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<1>::new(&mut utcb);
    let capability = kernel.manage(&mut calculator).unwrap();
    // The holder believes it holds a counter.
    let wrong = Capability::<dyn Counter>::from_selector(capability.selector());
    let mut client = Client::new(&mut kernel, wrong);
    assert_eq!(client.increment(1), Err(CalcError::Transport(TransportError::WrongInterface)));
    // A base interface's capability to a derived object is fine.
    let mut client = Client::new(client.into_transport(), capability.upcast::<dyn Base>());
    assert_eq!(client.ping(), Ok(()));
}

#[test]
fn a_transport_error_returned_by_a_server_arrives_as_forwarded() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<1>::new(&mut utcb);
    let capability = kernel.manage(&mut calculator).unwrap();
    let mut client = Client::new(&mut kernel, capability);
    // `divide` by i64::MIN is where the test server pretends a nested call
    // of its own failed with ServerDead.
    assert_eq!(client.divide(1, i64::MIN), Err(CalcError::Transport(TransportError::Forwarded)));
}

#[test]
fn client_stub_reaches_the_server_and_back() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut counter_object = RpcObject::<dyn Counter, _>::new(CounterServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<4>::new(&mut utcb);
    let calculator_cap = kernel.manage(&mut calculator).unwrap();
    let counter_cap = kernel.manage(&mut counter_object).unwrap();

    let mut client = Client::new(&mut kernel, calculator_cap);
    assert_eq!(client.add(2, 40), Ok(42));
    assert_eq!(client.add(u32::MAX, 1), Err(CalcError::Overflow { a: u32::MAX, b: 1 }));
    assert_eq!(client.divide(-9, 2), Ok(-4));
    assert_eq!(client.divide(1, 0), Err(CalcError::DivideByZero));
    // Inherited methods through the derived stub.
    assert_eq!(client.ping(), Ok(()));
    assert_eq!(client.name().unwrap().as_str(), "calculator");
    // A capability argument, then the same capability returned.
    assert_eq!(client.counter(), Ok(Capability::invalid()));
    assert_eq!(client.set_counter(counter_cap), Ok(true));
    let returned = client.counter().unwrap();
    assert_eq!(returned, counter_cap);
    let data = Bytes::<200>::from_slice(&[7; 150]).unwrap();
    assert_eq!(client.checksum(data), Ok(7 * 150));

    let transport = client.into_transport();
    let mut counter = Client::new(transport, returned);
    assert_eq!(counter.increment(5), Ok(5));
    assert_eq!(counter.increment(1 << 40), Ok(5 + (1 << 40)));
    assert_eq!(calculator.server().pings, 1);
    assert_eq!(counter_object.server().value, 5 + (1 << 40));
}

#[test]
fn derived_capability_upcasts_to_its_bases() {
    let mut scientific = RpcObject::<dyn Scientific, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<2>::new(&mut utcb);
    let capability: Capability<dyn Scientific> = kernel.manage(&mut scientific).unwrap();

    let mut client = Client::new(&mut kernel, capability);
    assert_eq!(client.square(-3), Ok(9));
    assert_eq!(client.add(1, 2), Ok(3));
    let mut base = client.upcast::<dyn Base>();
    assert_eq!(base.ping(), Ok(()));
    let as_calculator: Capability<dyn Calculator> = capability.upcast();
    let mut calculator = Client::new(base.into_transport(), as_calculator);
    assert_eq!(calculator.add(20, 22), Ok(42));
    assert_eq!(scientific.server().pings, 1);
}

#[test]
fn calls_through_invalid_or_revoked_capabilities_fail() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<2>::new(&mut utcb);
    let capability = kernel.manage(&mut calculator).unwrap();

    let mut invalid = Client::new(&mut kernel, Capability::<dyn Calculator>::invalid());
    assert_eq!(invalid.ping(), Err(CalcError::Transport(TransportError::InvalidCapability)));
    let foreign = Capability::<dyn Calculator>::from_selector(ferrode_ipc::CapSel(1));
    let mut unmanaged = Client::new(invalid.into_transport(), foreign);
    assert_eq!(unmanaged.ping(), Err(CalcError::Transport(TransportError::InvalidCapability)));

    let kernel = unmanaged.into_transport();
    assert_eq!(kernel.calls(), 0, "no refused call reached the server");
    let mut live = Client::new(kernel, capability);
    assert_eq!(live.add(1, 1), Ok(2));
    let kernel = live.into_transport();
    assert_eq!(kernel.calls(), 1);
    kernel.dissolve(capability.selector());
    let mut revoked = Client::new(kernel, capability);
    assert_eq!(revoked.add(1, 1), Err(CalcError::Transport(TransportError::ServerDead)));
    assert_eq!(revoked.into_transport().calls(), 1);
}

#[test]
fn sending_a_capability_the_sender_does_not_hold_fails() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<2>::new(&mut utcb);
    let capability = kernel.manage(&mut calculator).unwrap();
    let bogus = Capability::<dyn Counter>::from_selector(ferrode_ipc::CapSel(77));

    let mut client = Client::new(&mut kernel, capability);
    assert_eq!(
        client.set_counter(bogus),
        Err(CalcError::Transport(TransportError::InvalidCapability))
    );
    assert_eq!(client.counter(), Ok(Capability::invalid()), "the bad request never arrived");
}

#[test]
fn only_the_used_words_are_copied() {
    let mut calculator = RpcObject::<dyn Calculator, _>::new(CalculatorServer::default());
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<1>::new(&mut utcb);
    let capability = kernel.manage(&mut calculator).unwrap();
    {
        use ferrode_ipc::Transport;
        // SAFETY: the loopback's own client UTCB, no other reference live.
        unsafe { (*kernel.utcb().as_ptr()).words = [0xfeed; 64] };
    }
    let mut client = Client::new(&mut kernel, capability);
    assert_eq!(client.add(1, 2), Ok(3));
    let kernel = client.into_transport();
    let server: &Utcb = kernel.server_utcb();
    assert_eq!(server.word_count, 2, "reply: Ok tag and the sum");
    assert_eq!(&server.words[..2], &[0, 3]);
    assert_ne!(server.words[2], 0xfeed, "word 2 was not part of the request");
    assert_eq!(server.badge, capability.selector().0 as usize);
}

/// A transport that answers every call with one scripted reply, marked as
/// the kernel marks a delivery that added capabilities, and records what
/// the stub asked it to discard.
struct Scripted {
    /// Leaked, and reached only through this pointer (as a kernel's UTCB
    /// is), so the copies the stub gets stay valid across `call`.
    utcb: core::ptr::NonNull<Utcb>,
    reply: fn(&mut Utcb),
    discarded: Vec<u32>,
}

// SAFETY: the UTCB is leaked (valid for ever), reached only through
// `utcb`, and referenced here only inside `call` and `discard_fresh_caps`,
// when the stub holds no reference to it.
unsafe impl ferrode_ipc::Transport for Scripted {
    fn utcb(&mut self) -> core::ptr::NonNull<Utcb> {
        self.utcb
    }

    fn call(&mut self, _: ferrode_ipc::CapSel) -> Result<(), TransportError> {
        // SAFETY: as above.
        (self.reply)(unsafe { self.utcb.as_mut() });
        Ok(())
    }

    fn discard_fresh_caps(&mut self) {
        // SAFETY: as above.
        self.discarded.push(unsafe { self.utcb.as_ref() }.fresh_caps());
    }
}

/// Calls `Calculator::counter` (whose Ok carries one capability) once,
/// answered by `reply`; returns the result and what was discarded.
fn counter_answered_by(reply: fn(&mut Utcb)) -> (Result<(), CalcError>, Vec<u32>) {
    let utcb = core::ptr::NonNull::from(Box::leak(Box::new(Utcb::new())));
    let mut transport = Scripted { utcb, reply, discarded: Vec::new() };
    let target = Capability::<dyn Calculator>::from_selector(ferrode_ipc::CapSel(1));
    let result = Client::new(&mut transport, target).counter().map(|_| ());
    (result, transport.discarded)
}

/// A reply carrying a new capability in `caps[0]`, after `words`.
fn with_fresh_capability(utcb: &mut Utcb, words: &[usize]) {
    utcb.error = 0;
    utcb.word_count = words.len() as u32;
    utcb.words[..words.len()].copy_from_slice(words);
    utcb.cap_count = 1;
    utcb.caps[0] = ferrode_ipc::CapSel(7);
    utcb.fresh = 1;
}

#[test]
fn a_reply_that_does_not_decode_has_its_new_capabilities_discarded() {
    // Ok, then a word too many: the capability it brought is discarded.
    let (result, discarded) = counter_answered_by(|utcb| with_fresh_capability(utcb, &[0, 9]));
    assert_eq!(result, Err(CalcError::Transport(TransportError::WrongLength)));
    assert_eq!(discarded, [1]);
    // A tag that is neither Ok nor Err: discarded too.
    let (result, discarded) = counter_answered_by(|utcb| with_fresh_capability(utcb, &[7]));
    assert_eq!(result, Err(CalcError::Transport(TransportError::InvalidValue)));
    assert_eq!(discarded, [1]);
    // Well formed: the capability is the client's.
    let (result, discarded) = counter_answered_by(|utcb| with_fresh_capability(utcb, &[0]));
    assert_eq!(result, Ok(()));
    assert!(discarded.is_empty());
    // An error reply (the kernel's) and a method's Err bring nothing (the
    // kernel delivers no capability with them): nothing to discard.
    let (result, discarded) = counter_answered_by(|utcb| {
        utcb.error = TransportError::ServerDead.code();
        utcb.word_count = 0;
        utcb.cap_count = 0;
    });
    assert_eq!(result, Err(CalcError::Transport(TransportError::ServerDead)));
    assert!(discarded.is_empty());
}

/// A reply whose words say `Err(CalcError::Transport(code))`, with no
/// error code: what a server that bypasses `serve_method` can send.
fn forged_transport_error(utcb: &mut Utcb, code: TransportError) {
    utcb.error = 0;
    utcb.cap_count = 0;
    utcb.word_count = 3;
    // Err, the `Transport` variant (position 2), the code.
    utcb.words[..3].copy_from_slice(&[1, 2, code.code() as usize]);
}

#[test]
fn a_server_cannot_forge_a_transport_error_in_its_reply() {
    // A server's own transport error reaches its client as `Forwarded`,
    // so that `ServerDead` or `InvalidCapability` in the client's result
    // always comes from the kernel, never from the server it called. A
    // hostile server writing the words itself must not get around that.
    for code in [
        TransportError::ServerDead,
        TransportError::InvalidCapability,
        TransportError::Deadlock,
        TransportError::CapabilitySpaceFull,
    ] {
        let utcb = core::ptr::NonNull::from(Box::leak(Box::new(Utcb::new())));
        let reply: fn(&mut Utcb) = match code {
            TransportError::ServerDead => |u| forged_transport_error(u, TransportError::ServerDead),
            TransportError::InvalidCapability => {
                |u| forged_transport_error(u, TransportError::InvalidCapability)
            }
            TransportError::Deadlock => |u| forged_transport_error(u, TransportError::Deadlock),
            _ => |u| forged_transport_error(u, TransportError::CapabilitySpaceFull),
        };
        let mut transport = Scripted { utcb, reply, discarded: Vec::new() };
        let target = Capability::<dyn Calculator>::from_selector(ferrode_ipc::CapSel(1));
        let result = Client::new(&mut transport, target).add(1, 2);
        assert_eq!(
            result,
            Err(CalcError::Transport(TransportError::Forwarded)),
            "a forged {code:?} in a reply"
        );
    }
    // `Forwarded` itself, and the server's domain errors, pass as sent.
    let utcb = core::ptr::NonNull::from(Box::leak(Box::new(Utcb::new())));
    let mut transport = Scripted {
        utcb,
        reply: |u| forged_transport_error(u, TransportError::Forwarded),
        discarded: Vec::new(),
    };
    let target = Capability::<dyn Calculator>::from_selector(ferrode_ipc::CapSel(1));
    assert_eq!(
        Client::new(&mut transport, target).add(1, 2),
        Err(CalcError::Transport(TransportError::Forwarded))
    );
}

ferrode_ipc::interface! {
    /// One method a server must write, one with a default body.
    pub trait Doubler {
        /// Twice `x`.
        fn double(&mut self, x: u32) -> Result<u32, CalcError>;
        /// Four times `x`, through `double` unless the server says better.
        fn quadruple(&mut self, x: u32) -> Result<u32, CalcError> {
            let twice = self.double(x)?;
            self.double(twice)
        }
    }
}

/// Writes only the required method, counting the calls.
#[derive(Default)]
struct Plain(u32);

impl Doubler for Plain {
    fn double(&mut self, x: u32) -> Result<u32, CalcError> {
        self.0 += 1;
        Ok(x * 2)
    }
}

/// Overrides the default.
#[derive(Default)]
struct Clever;

impl Doubler for Clever {
    fn double(&mut self, x: u32) -> Result<u32, CalcError> {
        Ok(x * 2)
    }

    fn quadruple(&mut self, x: u32) -> Result<u32, CalcError> {
        Ok(x << 2)
    }
}

#[test]
fn a_method_with_a_default_body_is_served_by_it_unless_overridden() {
    let mut plain = RpcObject::<dyn Doubler, _>::new(Plain::default());
    {
        let mut utcb = Utcb::new();
        let mut kernel = Loopback::<1>::new(&mut utcb);
        let capability = kernel.manage(&mut plain).unwrap();
        let mut client = Client::new(&mut kernel, capability);
        assert_eq!(client.quadruple(5), Ok(20));
        assert_eq!(client.double(5), Ok(10));
    }
    // The default ran in the server, through `double`: three doublings.
    assert_eq!(plain.server().0, 3);
    let mut clever = RpcObject::<dyn Doubler, _>::new(Clever);
    let mut utcb = Utcb::new();
    let mut kernel = Loopback::<1>::new(&mut utcb);
    let capability = kernel.manage(&mut clever).unwrap();
    assert_eq!(Client::new(&mut kernel, capability).quadruple(5), Ok(20));
}
