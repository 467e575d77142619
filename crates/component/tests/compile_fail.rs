//! Composition mistakes fail the build with a message naming the mistake.

#[test]
fn composition_mistakes_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
