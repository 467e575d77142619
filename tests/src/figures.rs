//! Figures, their budgets and their history.
//!
//! A figure is a number an image is measured by: guest instructions under
//! QEMU `-icount` (exact and repeatable for a given image), or bytes of a
//! release image. Figures are named `area.name` (`ipc.null_rpc`,
//! `boot.hello.instructions_to_main`, `size.hello.text`); with the board in
//! front (`realview-pbx-a9.ipc.null_rpc`) a name is a key of the budget
//! file ([`BUDGET_FILE`]), which `cargo xtask test` checks every figure it
//! measured against, and of the history ([`HISTORY_FILE`]) that `cargo
//! xtask bench` appends to.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Figures by name, without the board.
pub type Figures = BTreeMap<String, f64>;

/// The budget file, relative to the workspace root.
pub const BUDGET_FILE: &str = "tests/budgets.toml";

/// The benchmark history, relative to the workspace root: one JSON object
/// ([`HistoryRecord`]) per line.
pub const HISTORY_FILE: &str = "docs/bench/history.jsonl";

/// The benchmarks ipc-bench prints, with the figure names they become.
const IPC_BENCHES: [(&str, &str); 4] = [
    ("null_rpc", "ipc.null_rpc"),
    ("rpc_2in_1out", "ipc.rpc_2in_1out"),
    ("rpc_64_words", "ipc.rpc_64_words"),
    ("rpc_cap_transfer", "ipc.cap_transfer"),
];

/// The figures in ipc-bench's console output (one JSON object per
/// benchmark). Every benchmark must be there once, for `board`, with
/// whole, non-zero instruction counts, the RPC dearer than the direct call,
/// and `rpc_64_words` with its per-word figures.
pub fn ipc_figures(console: &str, board: &str) -> Result<Figures, String> {
    let mut figures = Figures::new();
    let mut seen = BTreeMap::new();
    for line in console.lines().filter(|line| line.trim_start().starts_with('{')) {
        let value: serde_json::Value = serde_json::from_str(line.trim())
            .map_err(|error| format!("not JSON: {line}: {error}"))?;
        let text =
            |key: &str| value.get(key).and_then(serde_json::Value::as_str).map(str::to_string);
        let count = |key: &str| -> Result<u64, String> {
            value
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .filter(|count| *count > 0)
                .ok_or_else(|| format!("`{key}` is not a positive whole number in {line}"))
        };
        let bench = text("bench").ok_or_else(|| format!("no \"bench\" in {line}"))?;
        if text("board").as_deref() != Some(board) {
            return Err(format!("expected board {board:?} in {line}"));
        }
        let Some((_, name)) = IPC_BENCHES.iter().find(|(printed, _)| *printed == bench) else {
            return Err(format!("unknown benchmark {bench:?} in {line}"));
        };
        if seen.insert(bench.clone(), ()).is_some() {
            return Err(format!("benchmark {bench:?} printed twice"));
        }
        let (rpc, direct) = (count("instructions")?, count("direct_call_instructions")?);
        if rpc <= direct {
            return Err(format!(
                "{bench}: the RPC ({rpc}) is not dearer than the direct call ({direct})"
            ));
        }
        figures.insert((*name).to_string(), rpc as f64);
        figures.insert(format!("{name}_direct"), direct as f64);
        if bench == "rpc_64_words" {
            for (key, figure) in [
                ("instructions_per_extra_word", "ipc.per_extra_word"),
                ("raw_instructions_per_extra_word", "ipc.raw_per_extra_word"),
            ] {
                let per_word = value
                    .get(key)
                    .and_then(serde_json::Value::as_f64)
                    .filter(|per_word| *per_word > 0.0)
                    .ok_or_else(|| format!("`{key}` is not a positive number in {line}"))?;
                figures.insert(figure.to_string(), per_word);
            }
        }
    }
    let missing: Vec<&str> = IPC_BENCHES
        .iter()
        .map(|(bench, _)| *bench)
        .filter(|bench| !seen.contains_key(*bench))
        .collect();
    if !missing.is_empty() {
        return Err(format!("ipc-bench printed no figures for {}", missing.join(", ")));
    }
    Ok(figures)
}

/// The budgets: the largest value each figure may have, by
/// `board.area.name` key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Budgets(pub BTreeMap<String, f64>);

impl Budgets {
    /// Reads the budget file's text: TOML, one table per board and area
    /// (`[realview-pbx-a9.ipc]`, `[microblaze-v.size.hello]`), numbers as
    /// values.
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table =
            text.parse().map_err(|error| format!("{BUDGET_FILE} is not valid TOML: {error}"))?;
        let mut budgets = BTreeMap::new();
        flatten(&table, "", &mut budgets)?;
        Ok(Self(budgets))
    }
}

fn flatten(
    table: &toml::Table,
    prefix: &str,
    into: &mut BTreeMap<String, f64>,
) -> Result<(), String> {
    for (key, value) in table {
        let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(inner) => flatten(inner, &name, into)?,
            toml::Value::Integer(number) => {
                into.insert(name, *number as f64);
            }
            toml::Value::Float(number) => {
                into.insert(name, *number);
            }
            other => return Err(format!("{BUDGET_FILE}: {name} = {other} is not a number")),
        }
    }
    Ok(())
}

/// The outcome of checking one figure against its budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetCheck {
    /// `board.area.name`.
    pub key: String,
    /// The measured figure, if it was measured.
    pub figure: Option<f64>,
    /// Its budget, if it has one.
    pub budget: Option<f64>,
}

impl BudgetCheck {
    /// True when the figure was measured, has a budget and stays within it.
    pub fn passed(&self) -> bool {
        matches!((self.figure, self.budget), (Some(figure), Some(budget)) if figure <= budget)
    }

    /// The progress line: `figure <= budget`, or why it failed and how to
    /// change the budget deliberately.
    pub fn describe(&self) -> String {
        let (table, leaf) = self.key.rsplit_once('.').unwrap_or(("", &self.key));
        match (self.figure, self.budget) {
            (Some(figure), Some(budget)) if figure <= budget => {
                let slack = if budget > 0.0 { (budget - figure) / budget * 100.0 } else { 0.0 };
                let mut line = format!("{} (budget {})", number(figure), number(budget));
                if slack > 10.0 {
                    let _ = write!(
                        line,
                        "; {slack:.0}% under budget: consider lowering it in {BUDGET_FILE}"
                    );
                }
                line
            }
            (Some(figure), Some(budget)) => format!(
                "{} exceeds its budget {}. If the increase is deliberate, set `{leaf} = {}` under `[{table}]` in \
                 {BUDGET_FILE} and say why in the commit message",
                number(figure),
                number(budget),
                number(figure)
            ),
            (Some(figure), None) => format!(
                "{} has no budget. Add `{leaf} = {}` (or a little more) under `[{table}]` in {BUDGET_FILE}",
                number(figure),
                number(figure)
            ),
            (None, _) => format!(
                "has a budget in {BUDGET_FILE} but was not measured: its case failed (see above), or is gone (then \
                 remove the entry deliberately)"
            ),
        }
    }
}

/// A figure as it is written in the budget file and in messages: whole
/// numbers without a fraction, others with two decimals.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.2}") }
}

/// Checks every measured figure (`board.area.name` keys) that has a budget
/// or should have one. `complete` says every figure was measured (no test
/// filter), so a budget without a figure is reported too. Figures not named
/// by [`is_budgeted`] are informational and skipped.
pub fn check_budgets(
    budgets: &Budgets,
    measured: &BTreeMap<String, f64>,
    complete: bool,
) -> Vec<BudgetCheck> {
    let mut keys: Vec<&String> = measured.keys().filter(|key| is_budgeted(key)).collect();
    if complete {
        keys.extend(budgets.0.keys().filter(|key| !measured.contains_key(*key)));
    }
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| BudgetCheck {
            key: key.clone(),
            figure: measured.get(key).copied(),
            budget: budgets.0.get(key).copied(),
        })
        .collect()
}

/// The figures of the block benchmark's JSON line (sd-card's `bench`
/// mode, or sd-direct; the line may follow a LOG label): instructions per
/// block read and written, `block.read_instructions_per_block` and
/// `block.write_instructions_per_block` through the Block session, with
/// `direct_` before `read` for the baseline that calls the driver.
pub fn block_figures(console: &str, board: &str) -> Result<Figures, String> {
    let line = console
        .lines()
        .filter_map(|line| line.find('{').map(|at| &line[at..]))
        .find(|line| line.contains("\"bench\":\"block\""))
        .ok_or("no block benchmark line")?;
    let value: serde_json::Value =
        serde_json::from_str(line.trim()).map_err(|error| format!("not JSON: {line}: {error}"))?;
    let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str);
    let count = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .filter(|count| *count > 0)
            .ok_or_else(|| format!("`{key}` is not a positive whole number in {line}"))
    };
    if text("board") != Some(board) {
        return Err(format!("expected board {board:?} in {line}"));
    }
    if value.get("ok").and_then(serde_json::Value::as_bool) != Some(true) {
        return Err(format!("a request failed: {line}"));
    }
    let prefix = match text("path") {
        Some("session") => "",
        Some("direct") => "direct_",
        other => return Err(format!("unknown path {other:?} in {line}")),
    };
    let blocks = count("blocks")? as f64;
    let mut figures = Figures::new();
    for what in ["read", "write"] {
        let per_block = count(&format!("{what}_instructions"))? as f64 / blocks;
        figures.insert(
            format!("block.{prefix}{what}_instructions_per_block"),
            (per_block * 100.0).round() / 100.0,
        );
    }
    Ok(figures)
}

/// Whether a figure (`board.area.name`) must have a budget: the RPC costs,
/// instructions per echoed byte (echo-net, its direct baseline, net-std),
/// boot instructions and release sizes.
pub fn is_budgeted(key: &str) -> bool {
    let Some((_board, figure)) = key.split_once('.') else { return false };
    matches!(
        figure,
        "ipc.null_rpc"
            | "ipc.rpc_2in_1out"
            | "ipc.rpc_64_words"
            | "ipc.per_extra_word"
            | "ipc.cap_transfer"
    ) || figure == "net.instructions_per_byte"
        || figure == "net.direct_instructions_per_byte"
        || figure == "net.session_over_direct"
        || figure == "net.std_instructions_per_byte"
        || figure == "net.axi_instructions_per_byte"
        || (figure.starts_with("block.")
            && (figure.ends_with("_instructions_per_block") || figure.ends_with("_over_direct")))
        || (figure.starts_with("boot.") && figure.ends_with(".instructions_to_main"))
        || (figure.starts_with("size.")
            && [".text", ".data", ".bss", ".stack"].iter().any(|end| figure.ends_with(end)))
}

/// Figures computed from others measured in the same run: per board, the
/// ratio of echo-net's instructions per echoed byte through its NIC session
/// to the direct-driver baseline's (`net.session_over_direct`), of
/// net-std's through std::net to echo-net's (`net.std_over_session`), of
/// echo-net-axi's over the AXI Ethernet to echo-net's over the EthernetLite
/// (`net.axi_over_session`, MicroBlaze V), and
/// of sd-card's instructions per block read and written through its Block
/// session to sd-direct's (`block.read_session_over_direct`,
/// `block.write_session_over_direct`).
pub fn derive(measured: &mut BTreeMap<String, f64>) {
    let ratios = [
        ("net", "session_over_direct", "instructions_per_byte", "direct_instructions_per_byte"),
        ("net", "std_over_session", "std_instructions_per_byte", "instructions_per_byte"),
        ("net", "axi_over_session", "axi_instructions_per_byte", "instructions_per_byte"),
        (
            "block",
            "read_session_over_direct",
            "read_instructions_per_block",
            "direct_read_instructions_per_block",
        ),
        (
            "block",
            "write_session_over_direct",
            "write_instructions_per_block",
            "direct_write_instructions_per_block",
        ),
    ];
    for (area, ratio, over, under) in ratios {
        let boards: Vec<String> = measured
            .keys()
            .filter_map(|key| key.strip_suffix(&format!(".{area}.{under}")))
            .map(String::from)
            .collect();
        for board in boards {
            let over = measured.get(&format!("{board}.{area}.{over}")).copied();
            let under = measured.get(&format!("{board}.{area}.{under}")).copied();
            if let (Some(over), Some(under)) = (over, under)
                && under > 0.0
            {
                let value = (over / under * 1000.0).round() / 1000.0;
                measured.insert(format!("{board}.{area}.{ratio}"), value);
            }
        }
    }
}

/// One `cargo xtask bench` run on one board, as kept in [`HISTORY_FILE`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// When the run was made (seconds since 1970, UTC).
    pub unix_time: u64,
    /// The commit measured (`git rev-parse HEAD`).
    pub commit: String,
    /// The commit's first line.
    pub subject: String,
    /// The working tree had uncommitted changes.
    pub dirty: bool,
    /// `rustc --version`.
    pub rustc: String,
    /// The QEMU version line.
    pub qemu: String,
    /// The board.
    pub board: String,
    /// Every figure measured, by name (without the board).
    pub figures: Figures,
}

/// Reads the history file's text (blank lines skipped).
pub fn parse_history(text: &str) -> Result<Vec<HistoryRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| format!("{HISTORY_FILE} line {}: {error}", index + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPC: &str = "boot\n\
        {\"board\":\"b\",\"bench\":\"null_rpc\",\"instructions\":486,\"direct_call_instructions\":12}\n\
        {\"board\":\"b\",\"bench\":\"rpc_2in_1out\",\"instructions\":500,\"direct_call_instructions\":14}\n\
        {\"board\":\"b\",\"bench\":\"rpc_64_words\",\"instructions\":700,\"direct_call_instructions\":100,\"instructions_per_extra_word\":1.84,\"raw_instructions_per_extra_word\":3.34}\n\
        {\"board\":\"b\",\"bench\":\"rpc_cap_transfer\",\"instructions\":600,\"direct_call_instructions\":15}\n";

    #[test]
    fn ipc_figures_are_numbers_checked_for_sense() {
        let figures = ipc_figures(IPC, "b").unwrap();
        assert_eq!(figures["ipc.null_rpc"], 486.0);
        assert_eq!(figures["ipc.cap_transfer_direct"], 15.0);
        assert_eq!(figures["ipc.per_extra_word"], 1.84);
        // Keys alone are not enough: a value that is not a count fails.
        let broken = IPC.replace("\"instructions\":486", "\"instructions\":\"486\"");
        assert!(ipc_figures(&broken, "b").unwrap_err().contains("instructions"));
        let missing: String = IPC
            .lines()
            .filter(|line| !line.contains("cap_transfer"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(ipc_figures(&missing, "b").unwrap_err().contains("rpc_cap_transfer"));
        let cheap =
            IPC.replace("\"direct_call_instructions\":12", "\"direct_call_instructions\":600");
        assert!(ipc_figures(&cheap, "b").unwrap_err().contains("not dearer"));
        assert!(ipc_figures(IPC, "other").is_err());
    }

    #[test]
    fn the_std_over_session_ratio_is_derived_where_both_were_measured() {
        let mut measured: BTreeMap<String, f64> = [
            ("pbx.net.instructions_per_byte".to_string(), 55.0),
            ("pbx.net.std_instructions_per_byte".to_string(), 66.0),
            ("mbv.net.std_instructions_per_byte".to_string(), 80.0),
        ]
        .into_iter()
        .collect();
        derive(&mut measured);
        assert_eq!(measured.get("pbx.net.std_over_session"), Some(&1.2));
        assert_eq!(measured.get("mbv.net.std_over_session"), None);
    }

    #[test]
    fn block_figures_come_from_the_benchmark_line() {
        let session = "[disk] the card holds 2048 blocks\n[disk] {\"board\":\"pbx\",\"bench\":\"block\",\
            \"path\":\"session\",\"blocks\":256,\"read_instructions\":1090696,\
            \"write_instructions\":1193542,\"ok\":true}\n";
        let figures = block_figures(session, "pbx").unwrap();
        assert_eq!(figures.get("block.read_instructions_per_block"), Some(&4260.53));
        assert_eq!(figures.get("block.write_instructions_per_block"), Some(&4662.27));
        let direct = session.replace("[disk] ", "").replace("session", "direct");
        let figures = block_figures(&direct, "pbx").unwrap();
        assert_eq!(figures.get("block.direct_read_instructions_per_block"), Some(&4260.53));
        assert!(block_figures(session, "mbv").is_err());
        assert!(block_figures(&session.replace("true", "false"), "pbx").is_err());
        assert!(block_figures(&session.replace("session", "other"), "pbx").is_err());
        assert!(block_figures(&session.replace(":256", ":0"), "pbx").is_err());
        assert!(block_figures("nothing here", "pbx").is_err());
        let mut measured: BTreeMap<String, f64> = [
            ("pbx.block.read_instructions_per_block".to_string(), 110.0),
            ("pbx.block.direct_read_instructions_per_block".to_string(), 100.0),
            ("pbx.block.write_instructions_per_block".to_string(), 120.0),
        ]
        .into_iter()
        .collect();
        derive(&mut measured);
        assert_eq!(measured.get("pbx.block.read_session_over_direct"), Some(&1.1));
        assert_eq!(measured.get("pbx.block.write_session_over_direct"), None);
        assert!(is_budgeted("pbx.block.read_session_over_direct"));
        assert!(is_budgeted("pbx.block.direct_write_instructions_per_block"));
        assert!(!is_budgeted("pbx.block.other"));
    }

    #[test]
    fn the_session_over_direct_ratio_is_derived_per_board() {
        let mut measured: BTreeMap<String, f64> = [
            ("pbx.net.instructions_per_byte".to_string(), 55.0),
            ("pbx.net.direct_instructions_per_byte".to_string(), 44.0),
            ("mbv.net.instructions_per_byte".to_string(), 80.0),
        ]
        .into_iter()
        .collect();
        derive(&mut measured);
        assert_eq!(measured.get("pbx.net.session_over_direct"), Some(&1.25));
        assert_eq!(measured.get("pbx.net.std_over_session"), None, "no std figure measured");
        // No baseline measured: no ratio (and its budget reports it missing).
        assert_eq!(measured.get("mbv.net.session_over_direct"), None);
        assert!(is_budgeted("pbx.net.session_over_direct"));
        assert!(is_budgeted("pbx.net.direct_instructions_per_byte"));
        assert!(is_budgeted("microblaze-v.net.session_over_direct"));
        assert!(is_budgeted("microblaze-v.net.direct_instructions_per_byte"));
        assert!(is_budgeted("microblaze-v.net.instructions_per_byte"));
        assert!(!is_budgeted("microblaze-v.net.sleeps"));
    }

    #[test]
    fn budgets_flatten_to_board_area_name() {
        let budgets = Budgets::parse(
            "[b.ipc]\nnull_rpc = 500\nper_extra_word = 2.0\n[b.size.hello]\ntext = 10\n",
        )
        .unwrap();
        assert_eq!(budgets.0["b.ipc.null_rpc"], 500.0);
        assert_eq!(budgets.0["b.ipc.per_extra_word"], 2.0);
        assert_eq!(budgets.0["b.size.hello.text"], 10.0);
        assert!(Budgets::parse("[b.ipc]\nnull_rpc = \"x\"\n").is_err());
    }

    #[test]
    fn a_figure_over_budget_fails_and_says_how_to_update() {
        let budgets =
            Budgets::parse("[b.ipc]\nnull_rpc = 500\nrpc_2in_1out = 520\ncap_transfer = 1\n")
                .unwrap();
        let measured: BTreeMap<String, f64> = [
            ("b.ipc.null_rpc", 501.0),
            ("b.ipc.rpc_2in_1out", 500.0),
            ("b.size.hello.text", 9.0),
            ("b.ipc.null_rpc_direct", 3.0),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
        let checks = check_budgets(&budgets, &measured, true);
        let keys: Vec<&str> = checks.iter().map(|check| check.key.as_str()).collect();
        assert_eq!(
            keys,
            ["b.ipc.cap_transfer", "b.ipc.null_rpc", "b.ipc.rpc_2in_1out", "b.size.hello.text"]
        );
        let passed: Vec<bool> = checks.iter().map(BudgetCheck::passed).collect();
        assert_eq!(passed, [false, false, true, false]);
        let over = checks[1].describe();
        assert!(
            over.contains("501 exceeds its budget 500")
                && over.contains("`null_rpc = 501` under `[b.ipc]`"),
            "{over}"
        );
        assert!(checks[3].describe().contains("has no budget"));
        assert!(checks[0].describe().contains("not measured"));
        // With a test filter, unmeasured budgets are not failures.
        assert_eq!(check_budgets(&budgets, &measured, false).len(), 3);
    }

    #[test]
    fn history_lines_round_trip() {
        let record = HistoryRecord {
            unix_time: 1,
            commit: "abc".into(),
            subject: "s".into(),
            dirty: false,
            rustc: "rustc 1.95.0".into(),
            qemu: "QEMU 10.0.2".into(),
            board: "b".into(),
            figures: [("ipc.null_rpc".to_string(), 486.0)].into_iter().collect(),
        };
        let line = serde_json::to_string(&record).unwrap();
        assert_eq!(
            parse_history(&format!("{line}\n\n{line}\n")).unwrap(),
            [record.clone(), record]
        );
    }
}
