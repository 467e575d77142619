//! The applications in `apps/` and which boards each supports.

use std::fs;
use std::path::{Path, PathBuf};

use ferrode_tests::boards::{self, Board};

/// The workspace root (the parent of `xtask/`) of the checkout this run is
/// for. `cargo run` (the `cargo xtask` alias) sets `CARGO_MANIFEST_DIR` at
/// run time to the xtask package of the checkout it was started in; the
/// compile-time value is only the fallback, because a target directory
/// shared by two checkouts may hold an xtask built for the other one.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().map(Path::to_path_buf).unwrap_or(manifest_dir)
}

/// An application crate.
#[derive(Debug)]
pub struct App {
    /// Package name (the directory name in `apps/`).
    pub name: String,
    /// Boards it declares a feature for.
    pub boards: Vec<&'static Board>,
    /// Built against Rust std (`[package.metadata.ferrode] std = true`):
    /// for the board's `std_target`, with the pinned nightly's
    /// `-Zbuild-std`.
    pub std: bool,
}

/// Every app in `apps/`, sorted by name. An app supports a board when its
/// Cargo.toml declares a feature with the board's name.
pub fn all() -> Vec<App> {
    let mut apps = Vec::new();
    let Ok(entries) = fs::read_dir(workspace_root().join("apps")) else { return apps };
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else { continue };
        let features = feature_names(&text);
        let boards = boards::BOARDS
            .iter()
            .filter(|board| features.iter().any(|f| f == board.name))
            .collect();
        let std = uses_std(&text);
        apps.push(App { name: entry.file_name().to_string_lossy().into_owned(), boards, std });
    }
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    apps
}

/// Feature names declared in a manifest's `[features]` table.
fn feature_names(manifest: &str) -> Vec<String> {
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().trim_matches('"').to_string());
        }
    }
    names
}

/// Whether a manifest says `std = true` in `[package.metadata.ferrode]`.
fn uses_std(manifest: &str) -> bool {
    boards::ferrode_metadata(manifest, "std") == Some("true")
}

/// Whether the app named `name` is built against Rust std.
pub fn is_std(name: &str) -> bool {
    fs::read_to_string(workspace_root().join("apps").join(name).join("Cargo.toml"))
        .is_ok_and(|text| uses_std(&text))
}

/// Resolves `board` and `app`, with errors that list the valid names.
pub fn resolve(board: &str, app: &str) -> Result<(&'static Board, App), String> {
    let board = boards::find(board)?;
    let apps = all();
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    let names = names.join(", ");
    let Some(found) = apps.into_iter().find(|a| a.name == app) else {
        return Err(format!("unknown app `{app}`; valid apps: {names}"));
    };
    if !found.boards.contains(&board) {
        let supported: Vec<&str> = found.boards.iter().map(|b| b.name).collect();
        return Err(format!(
            "app `{app}` does not support board `{}`; it supports: {}",
            board.name,
            supported.join(", ")
        ));
    }
    Ok((board, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_read_from_the_features_table_only() {
        let manifest = "[package]\nname = \"x\"\n[features]\nrealview-pbx-a9 = [\"a\"]\nmicroblaze-v = []\n[dependencies]\nfoo = \"1\"\n";
        assert_eq!(feature_names(manifest), ["realview-pbx-a9", "microblaze-v"]);
    }

    #[test]
    fn std_apps_are_marked_in_their_metadata_only() {
        let manifest =
            "[package]\nname = \"x\"\n[package.metadata.ferrode]\nstd = true # over hermit-abi\n";
        assert!(uses_std(manifest));
        assert!(!uses_std("[package.metadata.ferrode]\nstd = false\n"));
        assert!(!uses_std("[features]\nstd = true\n"), "a feature named std is not the marker");
        assert!(!uses_std("[package]\nname = \"x\"\n"));
        assert!(is_std("hello-std") && !is_std("hello"));
    }

    #[test]
    fn the_tcp_echo_apps_are_those_whose_code_serves_the_echo_port() {
        // The list `profile --tcp-echo` and `bench net` go by, against the
        // apps' sources: an app serves TCP echo when it opens
        // `ferrode_net::echo::Echo` on `echo::PORT`, or (in std) binds a
        // `TcpListener` to port 7 and echoes it in its `bench` mode. The
        // source is main.rs with the files it `include!`s (echo-net's
        // app.rs, which echo-net-axi builds too).
        let source = |main: &Path| -> Option<String> {
            let mut text = fs::read_to_string(main).ok()?;
            let included: Vec<String> = text
                .split("include!(\"")
                .skip(1)
                .filter_map(|rest| rest.split_once('"').map(|(path, _)| path.to_string()))
                .collect();
            for path in included {
                text.push_str(&fs::read_to_string(main.parent()?.join(path)).ok()?);
            }
            Some(text)
        };
        let serving: Vec<String> = all()
            .into_iter()
            .filter(|app| {
                let main = workspace_root().join("apps").join(&app.name).join("src/main.rs");
                source(&main).is_some_and(|text| {
                    text.contains("echo::PORT)")
                        || (text.contains("TcpListener::bind((Ipv4Addr::UNSPECIFIED, PORT))")
                            && text.contains("const PORT: u16 = 7;")
                            && text.contains("bench::serve(listener)"))
                })
            })
            .map(|app| app.name)
            .collect();
        let listed: Vec<&str> = ferrode_tests::net::TCP_ECHO_APPS.map(|(name, _)| name).to_vec();
        assert_eq!(serving, listed);
    }

    #[test]
    fn hello_supports_both_boards_and_unknowns_list_choices() {
        let (board, app) = resolve("microblaze-v", "hello").unwrap();
        assert_eq!((board.name, app.name.as_str()), ("microblaze-v", "hello"));
        let error = resolve("realview-pbx-a9", "nosuch").unwrap_err();
        assert!(error.contains("valid apps:") && error.contains("hello"), "{error}");
        let error = resolve("nosuch", "hello").unwrap_err();
        assert!(error.contains("valid boards: realview-pbx-a9, microblaze-v"), "{error}");
    }
}
