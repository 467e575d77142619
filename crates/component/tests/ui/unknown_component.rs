use ferrode_component::{ComponentDecl, RouteDecl, check_routes};

const _: () = check_routes(
    &[ComponentDecl { name: "log", priority: 4, provides: Some("LOG") }],
    &[RouteDecl { client: "ghost", service: "LOG", label: "", server: "log" }],
);

fn main() {}
