//! Rebuilds this crate, and with it relinks every image, when a linker
//! script changes: cargo does not track the scripts `cargo xtask build`
//! hands the linker, so an edited script would otherwise leave the images
//! linked by the old one.

fn main() {
    for script in ["sections.x", "realview-pbx-a9.x", "microblaze-v.x"] {
        println!("cargo:rerun-if-changed=../../linker/{script}");
    }
}
