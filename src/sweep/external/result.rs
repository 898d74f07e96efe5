//! What an external trainer reports (docs/external-trainer.md, "Result"), checked and turned
//! into the [`RunResult`] every other part of the tool reads: the analysis cannot tell an
//! external run from a built-in one.

use crate::config::RunConfig;
use crate::train::result::{
    Counters, Derived, LayerObservables, Observables, RunResult, SCHEMA, Status, Timing, json_f64,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `schema` an external trainer writes.
pub const REPORT_SCHEMA: &str = "sgd-regimes/external-result/1";

/// The result file of an external trainer, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    schema: String,
    run_id: String,
    status: Status,
    #[serde(default)]
    status_detail: Option<String>,
    /// `t*`: required for a converged run, `final.t` then.
    #[serde(default)]
    t_star: Option<f64>,
    #[serde(default)]
    n_params: Option<usize>,
    #[serde(rename = "final")]
    final_state: ReportedObservables,
    #[serde(default)]
    trajectory: Vec<ReportedObservables>,
}

/// Observables as a trainer writes them: the required ones, the optional ones, and any further
/// numbers (its own observables).
#[derive(Deserialize)]
struct ReportedObservables {
    t: f64,
    step: u64,
    #[serde(with = "json_f64")]
    train_loss: f64,
    #[serde(with = "json_f64")]
    train_error: f64,
    unfitted: usize,
    #[serde(with = "json_f64")]
    test_error: f64,
    #[serde(with = "json_f64")]
    weight_change: f64,
    #[serde(default = "nan", with = "json_f64")]
    test_loss: f64,
    #[serde(default = "nan", with = "json_f64")]
    weight_norm: f64,
    #[serde(default = "nan", with = "json_f64")]
    weight_distance: f64,
    #[serde(default)]
    w_1: Option<f64>,
    #[serde(default)]
    w_perp: Option<f64>,
    #[serde(default)]
    layers: Vec<LayerObservables>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

fn nan() -> f64 {
    f64::NAN
}

impl ReportedObservables {
    fn into_observables(self, at: &str) -> Result<Observables, String> {
        let mut extra = BTreeMap::new();
        for (name, v) in self.extra {
            match v {
                serde_json::Value::Null => {}
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(x) if x.is_finite() => {
                        extra.insert(name, x);
                    }
                    _ => return Err(format!("{at}.{name} is not a finite number")),
                },
                other => {
                    return Err(format!(
                        "{at}.{name} is {}; extra observables must be numbers (or null)",
                        kind_of(&other)
                    ));
                }
            }
        }
        if !(self.t.is_finite() && self.t >= 0.0) {
            return Err(format!(
                "{at}.t must be a finite time >= 0 (got {})",
                self.t
            ));
        }
        Ok(Observables {
            t: self.t,
            step: self.step,
            train_loss: self.train_loss,
            train_error: self.train_error,
            unfitted: self.unfitted,
            test_loss: self.test_loss,
            test_error: self.test_error,
            weight_norm: self.weight_norm,
            weight_distance: self.weight_distance,
            weight_change: self.weight_change,
            w_1: self.w_1,
            w_perp: self.w_perp,
            layers: self.layers,
            extra,
        })
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
        _ => "a number",
    }
}

/// What the runner knows of a run besides the report: its config and id, and what it measured.
pub struct Context<'a> {
    pub config: &'a RunConfig,
    pub run_id: &'a str,
    /// Shape of one input and where the points came from, when the runner wrote the data.
    pub data: Option<([usize; 3], String, Vec<crate::data::fingerprint::DataFile>)>,
    pub timing: Timing,
}

/// Check the report `text` of run `cx.run_id` and make it a [`RunResult`]; the error says what
/// is wrong, in one line.
pub fn parse_report(text: &str, cx: &Context) -> Result<RunResult, String> {
    let report: Report = serde_json::from_str(text).map_err(|e| {
        let e = e.to_string();
        format!("the result is not valid ({e}); docs/external-trainer.md gives its fields")
    })?;
    if report.schema != REPORT_SCHEMA {
        return Err(format!(
            "the result's schema is {:?}; this version reads {REPORT_SCHEMA:?}",
            report.schema
        ));
    }
    if report.run_id != cx.run_id {
        return Err(format!(
            "the result names run {:?}, not this run {}; write SGD_REGIMES_RUN_ID into run_id",
            report.run_id, cx.run_id
        ));
    }
    let final_state = report.final_state.into_observables("final")?;
    if report.status == Status::Converged {
        let Some(t_star) = report.t_star.filter(|t| t.is_finite()) else {
            return Err(
                "a converged result needs t_star (the time the training loss reached zero)".into(),
            );
        };
        if t_star != final_state.t {
            return Err(format!(
                "t_star = {t_star} but final.t = {}; a converged run's final observables are at t*",
                final_state.t
            ));
        }
        if final_state.train_loss != 0.0 || final_state.unfitted != 0 {
            return Err(format!(
                "status converged with final.train_loss = {} and final.unfitted = {}; converged means every training point fitted (loss exactly 0)",
                final_state.train_loss, final_state.unfitted
            ));
        }
    }
    let mut trajectory = report
        .trajectory
        .into_iter()
        .enumerate()
        .map(|(k, o)| o.into_observables(&format!("trajectory[{k}]")))
        .collect::<Result<Vec<_>, _>>()?;
    // The final state ends the trajectory, as in a built-in result (compared by time: NaN
    // fields make observables unequal to themselves).
    if trajectory
        .last()
        .is_none_or(|o| (o.t, o.step) != (final_state.t, final_state.step))
    {
        trajectory.push(final_state.clone());
    }
    let cfg = cx.config;
    let (input_shape, data_source, data_files) = cx.data.clone().unwrap_or_else(|| {
        (
            cfg.input_shape(),
            "read by the external trainer".into(),
            vec![],
        )
    });
    Ok(RunResult {
        schema: SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        config: cfg.clone(),
        derived: Derived {
            temperature: cfg.temperature_value(),
            lr: cfg.learning_rate(),
            margin: cfg.margin(),
            n_params: report.n_params.unwrap_or(0),
            input_shape,
            data_source,
            data_files,
        },
        status: report.status,
        status_detail: report
            .status_detail
            .unwrap_or_else(|| format!("{} (reported by the external trainer)", report.status)),
        counters: Counters {
            steps_simulated: final_state.step,
            ..Counters::default()
        },
        final_state,
        stopping_point: None,
        trajectory,
        timing: cx.timing.clone(),
        adopted_from: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RunConfig {
        RunConfig {
            lr: Some(0.5),
            ..RunConfig::default()
        }
        .normalized()
        .unwrap()
    }

    const GOOD: &str = r#"{"schema": "sgd-regimes/external-result/1", "run_id": "abc",
        "status": "converged", "t_star": 12.5, "n_params": 10,
        "final": {"t": 12.5, "step": 25, "train_loss": 0, "train_error": 0, "unfitted": 0,
                  "test_error": 0.25, "weight_change": 0.01, "rank": 3, "note": null}}"#;

    fn parse(text: &str) -> Result<RunResult, String> {
        let c = cfg();
        parse_report(
            text,
            &Context {
                config: &c,
                run_id: "abc",
                data: None,
                timing: Timing::default(),
            },
        )
    }

    #[test]
    fn a_good_report_becomes_a_result_with_its_extras() {
        let r = parse(GOOD).unwrap();
        assert_eq!(r.status, Status::Converged);
        assert_eq!((r.final_state.t, r.final_state.step), (12.5, 25));
        assert!(r.final_state.test_loss.is_nan());
        assert_eq!(r.final_state.extra, BTreeMap::from([("rank".into(), 3.0)]));
        assert_eq!(r.derived.n_params, 10);
        assert_eq!(r.derived.lr, 0.5);
        assert_eq!(r.trajectory.len(), 1);
        assert_eq!(r.trajectory[0].step, 25);
        // It reads back as any result does.
        let back: RunResult = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(back.final_state.extra, r.final_state.extra);
    }

    #[test]
    fn bad_reports_say_what_is_wrong() {
        let cases = [
            (GOOD.replace("\"abc\"", "\"xyz\""), "names run \"xyz\""),
            (
                GOOD.replace("external-result/1", "x/9"),
                "schema is \"sgd-regimes/x/9\"",
            ),
            (
                GOOD.replace("\"test_error\": 0.25,", ""),
                "missing field `test_error`",
            ),
            (GOOD.replace("\"t_star\": 12.5,", ""), "needs t_star"),
            (
                GOOD.replace("\"t_star\": 12.5", "\"t_star\": 12"),
                "final.t = 12.5",
            ),
            (
                GOOD.replace("\"unfitted\": 0", "\"unfitted\": 2"),
                "final.unfitted = 2",
            ),
            (
                GOOD.replace("\"rank\": 3", "\"rank\": \"big\""),
                "final.rank is a string",
            ),
            (
                GOOD.replace("converged", "sleeping"),
                "unknown variant `sleeping`",
            ),
            (
                GOOD.replace("\"n_params\"", "\"n_parms\""),
                "unknown field `n_parms`",
            ),
            ("{".to_string(), "not valid"),
        ];
        for (text, want) in cases {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(want), "{want}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        // A budget run needs no t_star and may have unfitted points.
        let budget = GOOD
            .replace("converged", "budget")
            .replace("\"unfitted\": 0", "\"unfitted\": 2");
        assert_eq!(parse(&budget).unwrap().status, Status::Budget);
    }
}
