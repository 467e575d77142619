//! Feature gating that shows: an image links only the services and drivers
//! its composition uses. Read from the image's symbol table, so a crate
//! that creeps into an image it has no business in fails the case.

use object::{Object, ObjectSymbol};

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;

/// Crates by the symbol-name prefix their code carries (mangled or not).
const NETWORK: &[(&str, &str)] = &[
    ("smoltcp", "smoltcp"),
    ("ferrode_net", "ferrode-net"),
    ("ferrode_packet_stream", "ferrode-packet-stream"),
    ("ferrode_lan9118", "the LAN9118 driver"),
    ("emaclite", "the EthernetLite driver"),
];

/// The crates of `NETWORK` that `image` links (by the names of its
/// function symbols).
fn network_crates(image: &std::path::Path) -> Result<Vec<&'static str>, String> {
    let bytes = std::fs::read(image).map_err(|error| format!("{}: {error}", image.display()))?;
    let file = object::File::parse(&*bytes).map_err(|error| format!("not an ELF: {error}"))?;
    let mut found = Vec::new();
    for symbol in file.symbols() {
        if symbol.kind() != object::SymbolKind::Text {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        for &(prefix, crate_name) in NETWORK {
            if name.contains(prefix) && !found.contains(&crate_name) {
                found.push(crate_name);
            }
        }
    }
    Ok(found)
}

fn failure(message: String) -> Failure {
    Failure { message, console: String::new() }
}

/// hello (LOG only) links no network code.
fn hello_links_no_network(s: &Scripted<'_>) -> Result<(), Failure> {
    let found = network_crates(s.image).map_err(failure)?;
    if found.is_empty() {
        Ok(())
    } else {
        Err(failure(format!("hello links {}", found.join(", "))))
    }
}

/// echo-net (a NIC session and smoltcp) links the stack, the streams and
/// its board's driver: the check above can see them.
fn echo_net_links_the_network(s: &Scripted<'_>) -> Result<(), Failure> {
    let found = network_crates(s.image).map_err(failure)?;
    let driver = if s.board.name == "realview-pbx-a9" {
        "the LAN9118 driver"
    } else {
        "the EthernetLite driver"
    };
    let missing: Vec<&str> = ["smoltcp", "ferrode-net", "ferrode-packet-stream", driver]
        .into_iter()
        .filter(|name| !found.contains(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(failure(format!("echo-net's symbols show no {}", missing.join(", "))))
    }
}

/// The cases, on both boards.
pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for board in [board("realview-pbx-a9"), board("microblaze-v")] {
        for (app, what, check) in [
            (
                "hello",
                "links no network stack, packet stream or NIC driver",
                hello_links_no_network as fn(&Scripted<'_>) -> Result<(), Failure>,
            ),
            (
                "echo-net",
                "links smoltcp, the packet streams and its NIC driver",
                echo_net_links_the_network,
            ),
        ] {
            cases.push(Case {
                name: format!("{app} {what} on {}", board.name),
                board,
                app,
                options: RunOptions::default(),
                timeout: std::time::Duration::from_secs(30),
                check: Check::Scripted(check),
            });
        }
    }
    cases
}
