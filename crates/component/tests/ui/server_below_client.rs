use ferrode_component::{ComponentDecl, RouteDecl, check_routes};

const _: () = check_routes(
    &[
        ComponentDecl { name: "log", priority: 1, provides: Some("LOG") },
        ComponentDecl { name: "app", priority: 2, provides: None },
    ],
    &[RouteDecl { client: "app", service: "LOG", label: "", server: "log" }],
);

fn main() {}
