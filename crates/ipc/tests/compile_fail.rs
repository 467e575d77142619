//! RPCs that could overflow the UTCB, or whose errors carry capabilities,
//! and interfaces implemented by hand without `unsafe`,
//! do not compile.

#[test]
#[cfg_attr(miri, ignore = "compiles the cases with rustc, which Miri cannot run")]
fn oversized_rpcs_and_hand_made_interfaces_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
