//! A run is a pure function of its config (method §1), and changes to the trainer keep it so:
//! each `tests/golden/NAME.toml` was run by an earlier version, which wrote `NAME.json`
//! (`sgd-regimes train --config NAME.toml --out NAME.json`), and today's trainer must give the
//! same result field by field, bit for bit, except the wall times and the version string. The
//! set covers every model and every status (converged, diverged, stalled, budget), gradient
//! descent (B = P), gelu, and a trajectory in each file.
//!
//! The files were written before the trainer was reshaped for issue #13 (validated config,
//! pluggable loss and dynamics); regenerate them only for a change that is meant to alter
//! results, and say so in the commit.

use serde_json::Value;
use sgd_regimes::config::RunConfig;
use sgd_regimes::train::{Options, run};
use std::path::Path;

/// The result without what legitimately differs between two runs of one config.
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().expect("a result is a JSON object");
    o.remove("timing");
    o.remove("version");
    v
}

/// The first place where `a` and `b` differ, as a JSON pointer with both values.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (u, v) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(u, v, &format!("{at}/{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{at}: now {a}, recorded {b}")),
    }
}

#[test]
fn runs_recorded_by_an_earlier_version_are_reproduced_bit_for_bit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 10, "{names:?}");
    let mut statuses = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        let cfg = RunConfig::from_toml(&text, name).unwrap();
        let now = comparable(serde_json::to_value(run(&cfg, Options::default()).unwrap()).unwrap());
        let recorded: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let recorded = comparable(recorded);
        statuses.push(recorded["status"].as_str().unwrap().to_string());
        if let Some(d) = first_difference(&now, &recorded, "") {
            failures.push(format!("{name}: {d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for status in ["converged", "diverged", "stalled", "budget"] {
        assert!(
            statuses.iter().any(|s| s == status),
            "no {status} run in the set"
        );
    }
}

#[test]
fn gradient_descent_is_sgd_with_the_whole_training_set_as_batch_step_for_step() {
    let text = "model = \"fc\"\ndepth = 2\nwidth = 16\np = 128\np_test = 128\nalpha = 32768.0\nlr = 1.0\ncheckpoints_per_decade = 10\n";
    let gd = RunConfig::from_toml(&format!("{text}dynamics = \"gd\"\nbatch = 4\n"), "gd").unwrap();
    let sgd = RunConfig::from_toml(&format!("{text}batch = 128\n"), "sgd").unwrap();
    assert_eq!(gd.normalized().unwrap(), sgd.normalized().unwrap());
    let [a, b] = [gd, sgd]
        .map(|c| comparable(serde_json::to_value(run(&c, Options::default()).unwrap()).unwrap()));
    assert_eq!(first_difference(&a, &b, ""), None);
    // Every trajectory point, step by step, is the same; and it is gradient descent: B = P.
    assert!(a["trajectory"].as_array().unwrap().len() > 10);
    assert_eq!(a["config"]["batch"], 128);
    assert_eq!(a["status"], "converged");
}
