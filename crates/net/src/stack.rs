//! A smoltcp interface, its sockets, the device and the clock in one value.

use ferrode_hal::Monotonic;
use smoltcp::iface::{Config, Interface, PollResult, SocketSet, SocketStorage};
#[cfg(any(test, feature = "dhcp"))]
use smoltcp::socket::dhcpv4;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};

use crate::NetDevice;

/// How the interface gets its IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Config {
    /// A fixed address and, optionally, a default gateway.
    Static {
        /// Address and prefix length.
        address: Ipv4Cidr,
        /// Default route.
        gateway: Option<Ipv4Address>,
    },
    /// Ask a DHCP server (takes one socket slot; cargo feature `dhcp`,
    /// so images with a fixed address link no DHCP client).
    #[cfg(any(test, feature = "dhcp"))]
    Dhcp,
}

impl Ipv4Config {
    /// QEMU's user network (slirp): guest 10.0.2.15/24, gateway 10.0.2.2.
    pub const QEMU_USER: Self = Self::Static {
        address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24),
        gateway: Some(Ipv4Address::new(10, 0, 2, 2)),
    };
}

/// smoltcp's timestamp for `ns` nanoseconds on a monotonic clock.
pub const fn instant_from_ns(ns: u64) -> Instant {
    Instant::from_micros_const((ns / 1_000) as i64)
}

/// A network stack: device, interface, sockets and clock.
pub struct Stack<'a, D, C> {
    device: D,
    interface: Interface,
    sockets: SocketSet<'a>,
    clock: C,
    #[cfg(any(test, feature = "dhcp"))]
    dhcp: Option<smoltcp::iface::SocketHandle>,
    /// The DNS servers DHCP named, first ones first.
    #[cfg(any(test, feature = "dhcp"))]
    dns_servers: [Option<Ipv4Address>; DNS_SERVERS],
}

/// How many of the DNS servers DHCP names a stack keeps.
#[cfg(any(test, feature = "dhcp"))]
pub const DNS_SERVERS: usize = 3;

impl<'a, D: NetDevice, C: Monotonic> Stack<'a, D, C> {
    /// Brings the interface up on `device` (a [`crate::Phy`] over a NIC
    /// driver, or a [`crate::StreamPhy`] over a NIC session) with the
    /// device's MAC address.
    /// `socket_storage` holds every socket the application adds (plus one
    /// for DHCP).
    pub fn new(
        device: D,
        clock: C,
        ipv4: Ipv4Config,
        socket_storage: &'a mut [SocketStorage<'a>],
    ) -> Self {
        let mut device = device;
        let mut clock = clock;
        let mac = device.mac_address();
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        // TCP initial sequence numbers and DHCP transaction IDs come from
        // this seed: mix in the station address and the boot time.
        let now_ns = clock.now_ns();
        config.random_seed =
            u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5a, 0xa5])
                ^ now_ns;
        let interface = Interface::new(config, &mut device, instant_from_ns(now_ns));
        let mut stack = Self {
            device,
            interface,
            sockets: SocketSet::new(socket_storage),
            clock,
            #[cfg(any(test, feature = "dhcp"))]
            dhcp: None,
            #[cfg(any(test, feature = "dhcp"))]
            dns_servers: [None; DNS_SERVERS],
        };
        match ipv4 {
            Ipv4Config::Static { address, gateway } => stack.set_ipv4(address, gateway),
            #[cfg(any(test, feature = "dhcp"))]
            Ipv4Config::Dhcp => stack.dhcp = Some(stack.sockets.add(dhcpv4::Socket::new())),
        }
        stack
    }

    /// Replaces the interface's IPv4 address and default route.
    pub fn set_ipv4(&mut self, address: Ipv4Cidr, gateway: Option<Ipv4Address>) {
        self.interface.update_ip_addrs(|addresses| {
            addresses.clear();
            // Capacity is at least one address; the list was just cleared.
            let _ = addresses.push(IpCidr::Ipv4(address));
        });
        let routes = self.interface.routes_mut();
        routes.remove_default_ipv4_route();
        if let Some(gateway) = gateway {
            // Fails only if the route table is full; it was just emptied.
            let _ = routes.add_default_ipv4_route(gateway);
        }
    }

    /// The interface's IPv4 address, once it has one.
    pub fn ipv4_address(&self) -> Option<Ipv4Address> {
        self.interface.ipv4_addr()
    }

    /// The DNS servers the DHCP server named (none before it answered, or
    /// with a fixed address).
    #[cfg(any(test, feature = "dhcp"))]
    pub fn dhcp_dns_servers(&self) -> impl Iterator<Item = Ipv4Address> + '_ {
        self.dns_servers.iter().flatten().copied()
    }

    /// Moves frames between the device and the sockets, runs timers and
    /// DHCP. Returns true if socket state may have changed (read them).
    pub fn poll(&mut self) -> bool {
        let now = self.now();
        let result = self.interface.poll(now, &mut self.device, &mut self.sockets);
        #[cfg(any(test, feature = "dhcp"))]
        if let Some(handle) = self.dhcp {
            let event = self.sockets.get_mut::<dhcpv4::Socket<'_>>(handle).poll();
            match event {
                Some(dhcpv4::Event::Configured(config)) => {
                    let (address, router) = (config.address, config.router);
                    let mut servers = config.dns_servers.iter().copied();
                    let servers = core::array::from_fn(|_| servers.next());
                    self.dns_servers = servers;
                    self.set_ipv4(address, router);
                }
                Some(dhcpv4::Event::Deconfigured) => {
                    self.dns_servers = [None; DNS_SERVERS];
                    self.interface.update_ip_addrs(|addresses| addresses.clear());
                    self.interface.routes_mut().remove_default_ipv4_route();
                }
                None => {}
            }
        }
        result == PollResult::SocketStateChanged
    }

    /// How long until the stack needs [`Stack::poll`] again if no frame
    /// arrives (`None`: not until a frame arrives).
    pub fn poll_delay(&mut self) -> Option<Duration> {
        let now = self.now();
        self.interface.poll_delay(now, &self.sockets)
    }

    /// The current time on the stack's clock.
    pub fn now(&mut self) -> Instant {
        Instant::from_micros_const(self.clock.now_us() as i64)
    }

    /// The sockets, to add, read and write them.
    pub fn sockets(&mut self) -> &mut SocketSet<'a> {
        &mut self.sockets
    }

    /// The smoltcp device (for a [`crate::Phy`], through it the Ethernet
    /// device).
    pub fn device(&mut self) -> &mut D {
        &mut self.device
    }

    /// The interface and the sockets together, e.g. to `connect` a TCP
    /// socket (which needs the interface's context).
    pub fn interface_and_sockets(&mut self) -> (&mut Interface, &mut SocketSet<'a>) {
        (&mut self.interface, &mut self.sockets)
    }

    /// The clock.
    pub fn clock(&mut self) -> &mut C {
        &mut self.clock
    }
}
