//! Links defmt's `defmt.x` (the `.defmt` table) after the board's script.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
