//! The routing table of an image and its build-time checks.

/// A component as the routing table sees it.
#[derive(Clone, Copy, Debug)]
pub struct ComponentDecl {
    /// Its name (unique in the image).
    pub name: &'static str,
    /// Its priority (the highest of its threads).
    pub priority: u8,
    /// The service it provides, if any.
    pub provides: Option<&'static str>,
}

/// One route: sessions of `service` that `client` asks for with a label
/// equal to `label` (any label, if empty) go to `server`.
#[derive(Clone, Copy, Debug)]
pub struct RouteDecl {
    /// The component asking.
    pub client: &'static str,
    /// The service asked for.
    pub service: &'static str,
    /// The session label the route applies to ("" for any).
    pub label: &'static str,
    /// The component that provides the service.
    pub server: &'static str,
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn find(components: &[ComponentDecl], name: &str) -> Option<usize> {
    let mut i = 0;
    while i < components.len() {
        if str_eq(components[i].name, name) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether component `server` provides `service` (for per-route build-time
/// messages that name the route).
pub const fn provides(components: &[ComponentDecl], server: &str, service: &str) -> bool {
    match find(components, server) {
        Some(index) => match components[index].provides {
            Some(provided) => str_eq(provided, service),
            None => false,
        },
        None => false,
    }
}

/// Whether `server` runs at least at `client`'s priority (the kernel's
/// priority rule for the session capability the route hands out).
pub const fn priority_ok(components: &[ComponentDecl], client: &str, server: &str) -> bool {
    match (find(components, client), find(components, server)) {
        (Some(client), Some(server)) => components[server].priority >= components[client].priority,
        _ => false,
    }
}

/// Whether a component may run at `priority` in a kernel of `levels`
/// priority levels: 1 to `levels - 1` (0 is the idle thread's, and the
/// kernel refuses a component at 0 or past its levels at run time).
pub const fn priority_in_range(priority: u8, levels: usize) -> bool {
    priority != 0 && (priority as usize) < levels
}

/// Whether a route from `client` to `server` can be opened in declaration
/// order: a server that is itself a client (a driver component asking for
/// IO_MEM and IRQ) gets its sessions before its own root starts, so its
/// servers must be declared (and started) before it.
pub const fn start_order_ok(components: &[ComponentDecl], client: &str, server: &str) -> bool {
    match (find(components, client), find(components, server)) {
        (Some(client), Some(server)) => components[client].provides.is_none() || server < client,
        _ => false,
    }
}

/// Checks an image's routing table; panics (at build time, in a `const`)
/// with a message naming the mistake:
///
/// - a component declared twice;
/// - a route from or to a component that does not exist;
/// - a route to a component that does not provide the service;
/// - a route whose server runs below its client's priority (the kernel
///   refuses such a capability: Ferrode's priority rule);
/// - two routes of one client to one service that a label cannot tell
///   apart (the second would never be taken).
pub const fn check_routes(components: &[ComponentDecl], routes: &[RouteDecl]) {
    let mut i = 0;
    while i < components.len() {
        let mut j = i + 1;
        while j < components.len() {
            if str_eq(components[i].name, components[j].name) {
                panic!("composition: a component name is declared twice");
            }
            j += 1;
        }
        i += 1;
    }
    let mut r = 0;
    while r < routes.len() {
        let route = routes[r];
        let Some(client) = find(components, route.client) else {
            panic!("composition: a route names a client component that does not exist");
        };
        // The label the parent makes for the server: `client -> label`.
        let label_bytes = if route.label.is_empty() {
            route.client.len()
        } else {
            route.client.len() + 4 + route.label.len()
        };
        if label_bytes > crate::LABEL_BYTES {
            panic!(
                "composition: a route's session label (`client -> label`) is longer than LABEL_BYTES (32 bytes)"
            );
        }
        let Some(server) = find(components, route.server) else {
            panic!("composition: a route names a server component that does not exist");
        };
        match components[server].provides {
            Some(service) if str_eq(service, route.service) => {}
            _ => panic!(
                "composition: a route leads to a component that does not provide the service"
            ),
        }
        if components[client].provides.is_some() && server >= client {
            panic!(
                "composition: a server's route leads to a server declared after it (declare the servers it uses first)"
            );
        }
        if components[server].priority < components[client].priority {
            panic!(
                "composition: a route leads to a server of lower priority than its client (the priority rule)"
            );
        }
        let mut s = 0;
        while s < r {
            let other = routes[s];
            if str_eq(other.client, route.client)
                && str_eq(other.service, route.service)
                && (other.label.is_empty() || str_eq(other.label, route.label))
            {
                panic!(
                    "composition: two routes of one client to one service without labels to tell them apart"
                );
            }
            s += 1;
        }
        r += 1;
    }
}

/// Checks a component's declared quota (at build time): it keeps the
/// component's declared priority, fits the kernel's capability space
/// (`cap_slots`), and has a slot for each session its routes open and
/// one more (a client's parent capability, a server's copy of the
/// composer's watch signal); and the component has no more
/// routes than the composer records sessions for it
/// ([`MAX_SESSIONS`](crate::MAX_SESSIONS): a session beyond them would be
/// opened at its server and never handed over, nor ever closed). Panics
/// naming the mistake.
pub const fn check_quota(
    components: &[ComponentDecl],
    routes: &[RouteDecl],
    name: &str,
    priority: u8,
    caps: u8,
    cap_slots: usize,
) {
    let Some(index) = find(components, name) else {
        panic!("composition: a quota names a component that does not exist");
    };
    if components[index].priority != priority {
        panic!("composition: a component's quota names a priority other than its declared one");
    }
    if caps as usize > cap_slots {
        panic!(
            "composition: a component's quota has more capability slots than the kernel's space"
        );
    }
    let mut sessions = 0;
    let mut r = 0;
    while r < routes.len() {
        if str_eq(routes[r].client, name) {
            sessions += 1;
        }
        r += 1;
    }
    // A client's parent capability, or a server's copy of the composer's
    // watch signal.
    let needed = sessions + 1;
    if sessions > crate::MAX_SESSIONS {
        panic!(
            "composition: a component has more routes than the sessions the composer records for it (MAX_SESSIONS, 10)"
        );
    }
    if (caps as usize) < needed {
        panic!(
            "composition: a component's quota has fewer capability slots than its sessions (and parent) need"
        );
    }
}

/// Checks a client's `after` (at build time): it names a client declared
/// before this one (so every chain of starts ends at one started at boot).
pub const fn check_after(components: &[ComponentDecl], client: &str, after: Option<&str>) {
    let Some(after) = after else { return };
    let Some(client) = find(components, client) else {
        panic!("composition: `after` is declared for a component that does not exist");
    };
    match find(components, after) {
        Some(earlier) if earlier < client && components[earlier].provides.is_none() => {}
        _ => panic!("composition: a client's `after` must name a client declared before it"),
    }
}

/// Checks an image's size (at build time): at most `max_declared`
/// components, and the composer, the servers and the clients started at
/// boot (`at_boot[i]` for the `i`-th client) fit the kernel's
/// `max_components` slots. (Clients started `after` another are created
/// then, when the parent hook may have destroyed components.)
pub const fn check_counts(
    components: &[ComponentDecl],
    at_boot: &[bool],
    max_declared: usize,
    max_components: usize,
) {
    if components.len() > max_declared {
        panic!("composition: more components than the composer can record");
    }
    let mut live = 1;
    let mut i = 0;
    while i < components.len() {
        if components[i].provides.is_some() {
            live += 1;
        }
        i += 1;
    }
    let mut c = 0;
    while c < at_boot.len() {
        if at_boot[c] {
            live += 1;
        }
        c += 1;
    }
    if live > max_components {
        panic!(
            "composition: the composer, the servers and the clients started at boot exceed the kernel's component slots"
        );
    }
}

/// The route a session request takes: the first route of `client` to
/// `service` whose label is empty or equals `label`; `None` (denied) if
/// there is none.
pub fn route_for<'a>(
    routes: &'a [RouteDecl],
    client: &str,
    service: &str,
    label: &str,
) -> Option<&'a RouteDecl> {
    routes.iter().find(|route| {
        route.client == client
            && route.service == service
            && (route.label.is_empty() || route.label == label)
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    const COMPONENTS: &[ComponentDecl] = &[
        ComponentDecl { name: "log", priority: 4, provides: Some("LOG") },
        ComponentDecl { name: "log-b", priority: 4, provides: Some("LOG") },
        ComponentDecl { name: "app", priority: 2, provides: None },
        ComponentDecl { name: "low", priority: 1, provides: Some("Timer") },
    ];

    fn panics(routes: &'static [RouteDecl]) -> std::string::String {
        let result = std::panic::catch_unwind(|| check_routes(COMPONENTS, routes));
        let error = result.expect_err("the check must refuse this table");
        error.downcast_ref::<&str>().map(|s| std::string::String::from(*s)).unwrap_or_default()
    }

    #[test]
    fn priorities_run_from_one_to_below_the_levels() {
        assert!(!priority_in_range(0, 8), "0 is the idle thread's");
        assert!(priority_in_range(1, 8));
        assert!(priority_in_range(7, 8));
        assert!(!priority_in_range(8, 8));
        assert!(!priority_in_range(u8::MAX, 8));
    }

    #[test]
    fn a_server_gets_its_sessions_only_from_servers_declared_before_it() {
        // "log-b" (a server) may use "log" (declared before it), not the
        // other way round; a client may use any server.
        const ROUTES: &[RouteDecl] =
            &[RouteDecl { client: "log", service: "LOG", label: "", server: "log-b" }];
        assert!(start_order_ok(COMPONENTS, "log-b", "log"));
        assert!(!start_order_ok(COMPONENTS, "log", "log-b"));
        assert!(start_order_ok(COMPONENTS, "app", "log-b"));
        assert!(panics(ROUTES).contains("declared after it"));
    }

    #[test]
    fn a_good_table_passes_and_labels_pick_the_server() {
        const ROUTES: &[RouteDecl] = &[
            RouteDecl { client: "app", service: "LOG", label: "b", server: "log-b" },
            RouteDecl { client: "app", service: "LOG", label: "", server: "log" },
        ];
        const _: () = check_routes(COMPONENTS, ROUTES);
        assert_eq!(route_for(ROUTES, "app", "LOG", "b").map(|r| r.server), Some("log-b"));
        assert_eq!(route_for(ROUTES, "app", "LOG", "a").map(|r| r.server), Some("log"));
        assert!(route_for(ROUTES, "app", "Timer", "").is_none(), "no route: denied");
        assert!(route_for(ROUTES, "log", "LOG", "").is_none());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            panics(&[RouteDecl { client: "ghost", service: "LOG", label: "", server: "log" }])
                .contains("client component that does not exist")
        );
        assert!(
            panics(&[RouteDecl { client: "app", service: "LOG", label: "", server: "ghost" }])
                .contains("server component that does not exist")
        );
        assert!(
            panics(&[RouteDecl { client: "app", service: "NIC", label: "", server: "log" }])
                .contains("does not provide the service")
        );
        assert!(
            panics(&[RouteDecl { client: "app", service: "Timer", label: "", server: "low" }])
                .contains("lower priority")
        );
        assert!(
            panics(&[
                RouteDecl { client: "app", service: "LOG", label: "", server: "log" },
                RouteDecl { client: "app", service: "LOG", label: "", server: "log-b" },
            ])
            .contains("without labels")
        );
        // "app -> " and 26 bytes of label: 33 bytes, one too many.
        assert!(
            panics(&[RouteDecl {
                client: "app",
                service: "LOG",
                label: "abcdefghijklmnopqrstuvwxyz",
                server: "log"
            }])
            .contains("longer than LABEL_BYTES")
        );
        const _: () = check_routes(
            COMPONENTS,
            &[RouteDecl {
                client: "app",
                service: "LOG",
                label: "abcdefghijklmnopqrstuvwxy",
                server: "log",
            }],
        );
    }

    /// The message a check panics with (it must panic).
    fn refusal(check: impl FnOnce() + std::panic::UnwindSafe) -> std::string::String {
        let error = std::panic::catch_unwind(check).expect_err("the check must refuse this");
        error.downcast_ref::<&str>().map(|s| std::string::String::from(*s)).unwrap_or_default()
    }

    /// "log-b", a server, uses "log" (declared before it, at its own
    /// priority); "app" has two sessions.
    const ROUTES: &[RouteDecl] = &[
        RouteDecl { client: "app", service: "LOG", label: "b", server: "log-b" },
        RouteDecl { client: "app", service: "LOG", label: "", server: "log" },
        RouteDecl { client: "log-b", service: "LOG", label: "", server: "log" },
    ];

    #[test]
    fn a_server_may_run_at_its_client_s_priority() {
        assert!(priority_ok(COMPONENTS, "log-b", "log"));
        assert!(priority_ok(COMPONENTS, "app", "log"));
        assert!(!priority_ok(COMPONENTS, "app", "low"));
        assert!(!priority_ok(COMPONENTS, "ghost", "log"));
        assert!(!priority_ok(COMPONENTS, "app", "ghost"));
        check_routes(COMPONENTS, ROUTES);
    }

    #[test]
    fn a_server_provides_only_its_own_service() {
        assert!(provides(COMPONENTS, "log", "LOG"));
        assert!(provides(COMPONENTS, "low", "Timer"));
        assert!(!provides(COMPONENTS, "log", "Timer"));
        assert!(!provides(COMPONENTS, "app", "LOG"), "a client provides nothing");
        assert!(!provides(COMPONENTS, "ghost", "LOG"));
    }

    #[test]
    fn a_server_cannot_get_a_session_of_its_own() {
        assert!(!start_order_ok(COMPONENTS, "log", "log"));
        assert!(
            panics(&[RouteDecl { client: "log", service: "LOG", label: "", server: "log" }])
                .contains("declared after it")
        );
    }

    #[test]
    fn a_component_name_declared_twice_is_refused() {
        for twice in [
            &[COMPONENTS[0], COMPONENTS[2], COMPONENTS[0]][..],
            &[COMPONENTS[2], COMPONENTS[0], COMPONENTS[0]][..],
        ] {
            assert!(refusal(|| check_routes(twice, &[])).contains("declared twice"));
        }
    }

    #[test]
    fn a_route_after_an_unlabelled_one_of_its_service_is_refused() {
        // The first takes every label: the second would never be taken.
        assert!(
            panics(&[
                RouteDecl { client: "app", service: "LOG", label: "", server: "log" },
                RouteDecl { client: "app", service: "LOG", label: "b", server: "log-b" },
            ])
            .contains("without labels")
        );
    }

    #[test]
    fn a_quota_holds_the_sessions_and_the_parent_of_its_component() {
        // "app": two sessions and its parent capability; "log-b", a server:
        // its one session and the composer's watch signal.
        check_quota(COMPONENTS, ROUTES, "app", 2, 3, 32);
        check_quota(COMPONENTS, ROUTES, "app", 2, 32, 32);
        check_quota(COMPONENTS, ROUTES, "log-b", 4, 2, 32);
        check_quota(COMPONENTS, ROUTES, "log", 4, 1, 32);
        check_quota(COMPONENTS, ROUTES, "low", 1, 1, 32);
        for (name, priority, caps) in [("app", 2, 2), ("log-b", 4, 1), ("log", 4, 0)] {
            assert!(
                refusal(|| check_quota(COMPONENTS, ROUTES, name, priority, caps, 32))
                    .contains("fewer capability slots"),
                "{name} with {caps}"
            );
        }
        assert!(
            refusal(|| check_quota(COMPONENTS, ROUTES, "app", 2, 33, 32))
                .contains("more capability slots than the kernel's space")
        );
        assert!(
            refusal(|| check_quota(COMPONENTS, ROUTES, "app", 3, 3, 32))
                .contains("priority other than its declared one")
        );
        assert!(
            refusal(|| check_quota(COMPONENTS, ROUTES, "ghost", 2, 3, 32))
                .contains("does not exist")
        );
    }

    #[test]
    fn a_component_has_at_most_max_sessions_routes() {
        const LABELS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
        const fn routes(count: usize) -> [RouteDecl; 11] {
            let mut routes =
                [RouteDecl { client: "app", service: "LOG", label: "", server: "log" }; 11];
            let mut r = 0;
            while r < routes.len() {
                routes[r].label = LABELS[r];
                if r >= count {
                    routes[r].client = "log-b";
                }
                r += 1;
            }
            routes
        }
        const MAX: [RouteDecl; 11] = routes(crate::MAX_SESSIONS);
        const TOO_MANY: [RouteDecl; 11] = routes(crate::MAX_SESSIONS + 1);
        check_quota(COMPONENTS, &MAX, "app", 2, 32, 32);
        assert!(
            refusal(|| check_quota(COMPONENTS, &TOO_MANY, "app", 2, 32, 32))
                .contains("more routes than the sessions")
        );
    }

    #[test]
    fn after_names_a_client_declared_before() {
        const CLIENTS: &[ComponentDecl] = &[
            ComponentDecl { name: "log", priority: 4, provides: Some("LOG") },
            ComponentDecl { name: "first", priority: 2, provides: None },
            ComponentDecl { name: "second", priority: 2, provides: None },
        ];
        check_after(CLIENTS, "second", Some("first"));
        check_after(CLIENTS, "second", None);
        check_after(CLIENTS, "ghost", None);
        for (client, after) in
            [("first", "second"), ("second", "second"), ("second", "log"), ("second", "ghost")]
        {
            assert!(
                refusal(|| check_after(CLIENTS, client, Some(after)))
                    .contains("must name a client declared before it"),
                "{client} after {after}"
            );
        }
        assert!(
            refusal(|| check_after(CLIENTS, "ghost", Some("first")))
                .contains("a component that does not exist")
        );
    }

    #[test]
    fn the_composer_servers_and_boot_clients_fit_the_kernel() {
        // The composer, three servers and "app" if started at boot.
        check_counts(COMPONENTS, &[true], 4, 5);
        check_counts(COMPONENTS, &[false], 4, 4);
        assert!(
            refusal(|| check_counts(COMPONENTS, &[true], 4, 4))
                .contains("exceed the kernel's component slots")
        );
        assert!(
            refusal(|| check_counts(COMPONENTS, &[false], 4, 3))
                .contains("exceed the kernel's component slots")
        );
        assert!(
            refusal(|| check_counts(COMPONENTS, &[false], 3, 8))
                .contains("more components than the composer can record")
        );
    }

    #[test]
    fn a_label_names_its_target_after_the_last_arrow() {
        assert_eq!(crate::label_target("echo-net -> uart"), "uart");
        assert_eq!(crate::label_target("a -> b -> c"), "c");
        assert_eq!(crate::label_target("echo-net"), "");
        assert_eq!(crate::label_target("x -> "), "");
        assert_eq!(crate::label_target(" -> y"), "y");
        assert_eq!(crate::label_target("é -> ü"), "ü");
        assert_eq!(crate::label_target(""), "");
    }
}
