use ferrode_component::{ComponentDecl, RouteDecl, check_quota};

// A client with eleven routes: the composer records at most ten sessions
// per component, so the eleventh could be opened at its server but never
// granted (and, for a client started `after` another, never closed).
const COMPONENTS: &[ComponentDecl] = &[
    ComponentDecl { name: "rom", priority: 4, provides: Some("ROM") },
    ComponentDecl { name: "app", priority: 2, provides: None },
];
const fn route(label: &'static str) -> RouteDecl {
    RouteDecl { client: "app", service: "ROM", label, server: "rom" }
}
const ROUTES: &[RouteDecl] = &[
    route("m0"),
    route("m1"),
    route("m2"),
    route("m3"),
    route("m4"),
    route("m5"),
    route("m6"),
    route("m7"),
    route("m8"),
    route("m9"),
    route("m10"),
];
const _: () = check_quota(COMPONENTS, ROUTES, "app", 2, 32, 32);

fn main() {}
