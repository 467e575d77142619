use ferrode_component::{ComponentDecl, check_after};

// `first` may not start after `second`, declared after it (a cycle would
// start neither).
const COMPONENTS: &[ComponentDecl] = &[
    ComponentDecl { name: "first", priority: 2, provides: None },
    ComponentDecl { name: "second", priority: 2, provides: None },
];
const _: () = check_after(COMPONENTS, "first", Some("second"));

fn main() {}
