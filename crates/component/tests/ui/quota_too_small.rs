use ferrode_component::{ComponentDecl, RouteDecl, check_quota};

// A client with two routes needs three capability slots (its sessions and
// its parent object); its declared quota has two.
const COMPONENTS: &[ComponentDecl] = &[
    ComponentDecl { name: "log", priority: 4, provides: Some("LOG") },
    ComponentDecl { name: "timer", priority: 4, provides: Some("Timer") },
    ComponentDecl { name: "app", priority: 2, provides: None },
];
const ROUTES: &[RouteDecl] = &[
    RouteDecl { client: "app", service: "LOG", label: "", server: "log" },
    RouteDecl { client: "app", service: "Timer", label: "", server: "timer" },
];
const _: () = check_quota(COMPONENTS, ROUTES, "app", 2, 2, 32);

fn main() {}
