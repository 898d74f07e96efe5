//! Issue #24, "Done when": a sweep over a user-defined net on a user-chosen data set runs,
//! collects, analyzes and plots with no Rust written, from the example in
//! `docs/examples/own-net/` (a `[net]` residual CNN on digits saved by NumPy).

use std::path::Path;

mod common;
use common::ok;

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/own-net/sweep.toml")
}

#[test]
fn the_own_net_example_runs_collects_analyzes_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("r");
    let r = results.to_str().unwrap();
    let out = ok(&[
        "sweep",
        "run",
        example().to_str().unwrap(),
        "--results",
        r,
        "--quiet",
    ]);
    assert!(out.contains("ran 30:") && out.contains("0 failed"), "{out}");

    // Every result records the net's layers and the data file it read.
    let runs: Vec<_> = std::fs::read_dir(results.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(runs.len(), 30);
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&runs[0]).unwrap()).unwrap();
    let layers = &first["config"]["net"]["layers"];
    assert_eq!(layers.as_array().unwrap().len(), 7);
    assert_eq!(layers[2]["residual"][0]["conv"]["out"], "2h");
    assert_eq!(
        first["derived"]["input_shape"],
        serde_json::json!([14, 14, 1])
    );
    assert!(
        first["derived"]["data_files"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("digits14.npz")
    );

    let csv = tmp.path().join("own.csv");
    ok(&["collect", r, "--out", csv.to_str().unwrap()]);
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.lines().count(), 31, "a header and 30 rows");
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    assert!(header.contains(&"net") && header.contains(&"positive"));
    assert!(header.contains(&"weight_change.3.1.conv"), "{header:?}");

    let analysis = ok(&["analyze", r]);
    assert!(
        analysis.contains(" (7 layers) h=2, numpy +0+1+2+3+4, alpha=32768"),
        "{analysis}"
    );
    let exponents = std::fs::read_to_string(results.join("analysis/exponents.csv")).unwrap();
    assert_eq!(exponents.lines().count(), 2, "{exponents}");
    ok(&["plot", r]);
    let pngs: Vec<_> = std::fs::read_dir(results.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(pngs.len() >= 4, "{pngs:?}");
    for png in pngs {
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    }
}

/// The net is part of a run's identity: another list, or another width where sizes are in
/// units of h, plans other runs; the same list written another way plans the same ones.
#[test]
fn the_net_is_part_of_the_run_id() {
    let text = std::fs::read_to_string(example()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        example().with_file_name("digits14.npz"),
        tmp.path().join("digits14.npz"),
    )
    .unwrap();
    let ids = |name: &str, text: &str| -> Vec<String> {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = ok(&["sweep", "plan", path.to_str().unwrap(), "--show", "3"]);
        out.lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|w| w.len() == 16)
            .map(str::to_string)
            .collect()
    };
    let base = ids("a.toml", &text);
    assert_eq!(base.len(), 3);
    let respelled = text.replace(
        "{ conv = { out = \"2h\", k = 3 } }, \"phi\",\n  { residual",
        "{ conv = { k = 3, out = \"2h\", stride = 1, bias = false } }, \"phi\",\n  { residual",
    );
    assert_ne!(respelled, text);
    assert_eq!(ids("b.toml", &respelled), base);
    let other = text.replace("{ maxpool = 2 },", "");
    assert_ne!(ids("c.toml", &other), base);
    let wider = text.replace("width = 2 ", "width = 3 ");
    assert_ne!(ids("d.toml", &wider), base);
}
