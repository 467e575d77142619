use ferrode_component::{ComponentDecl, check_counts};

// The composer, one server and three clients started at boot need five of
// the kernel's four component slots.
const _: () = check_counts(
    &[
        ComponentDecl { name: "log", priority: 4, provides: Some("LOG") },
        ComponentDecl { name: "a", priority: 2, provides: None },
        ComponentDecl { name: "b", priority: 2, provides: None },
        ComponentDecl { name: "c", priority: 2, provides: None },
    ],
    &[true, true, true],
    16,
    4,
);

fn main() {}
