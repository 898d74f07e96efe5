//! The figures of method §5 for an analyzed set of runs: raw and collapsed curves, test error vs
//! dw, training error vs time, perceptron panels, and phase diagrams.

use super::{Plot, Series, plot_err, save_plot};
use crate::analysis::Analysis;
use crate::analysis::curves::Observable;
use crate::analysis::exponents::{GroupExponents, ObservableFit};
use crate::analysis::phase::{Instability, PhaseDiagram};
use crate::config::ModelKind;
use crate::error::Result;
use crate::train::result::RunResult;
use crate::train::result::Status;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// A file-name form of a label.
pub fn slug(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn law_text(f: &ObservableFit) -> String {
    match &f.law {
        Some(l) => match l.gamma {
            Some(g) => format!("delta = {}, gamma = {}", l.delta.show(), g.show()),
            None => format!("delta = {}", l.delta.show()),
        },
        None => "no noise-dominated branch".into(),
    }
}

/// One series per curve (per P) of `f`, each point `(T, median)` mapped by `map(P, T, y)`.
fn per_p(f: &ObservableFit, map: impl Fn(usize, f64, f64) -> (f64, f64)) -> Vec<Series> {
    f.curves
        .iter()
        .enumerate()
        .map(|(k, c)| Series {
            label: format!("P = {}", c.p),
            points: c
                .points()
                .into_iter()
                .map(|(t, y)| map(c.p, t, y))
                .collect(),
            color: k,
            line: true,
            spread: c
                .cells
                .iter()
                .map(|cell| {
                    let (lo, hi) = cell.spread();
                    (map(c.p, cell.t, lo).1, map(c.p, cell.t, hi).1)
                })
                .collect(),
            censored: c.cells.iter().map(|cell| cell.censored()).collect(),
        })
        .collect()
}

fn raw(group: &str, f: &ObservableFit) -> Plot {
    Plot {
        title: format!("{}: {}", f.obs.name(), law_text(f)),
        x_label: "temperature T = eta / B".into(),
        y_label: format!("{} (median over seeds)", f.obs.name()),
        log_y: f.obs != Observable::TestError,
        series: per_p(f, |_, t, y| (t, y)),
    }
    .with_subtitle(group)
}

fn collapsed(group: &str, f: &ObservableFit) -> Option<Plot> {
    let c = f.collapse.as_ref()?;
    let a = c.a.value;
    Some(
        Plot {
            title: format!(
                "{} / plateau vs T P^a: a = {} (cost {:.3})",
                f.obs.name(),
                c.a.show(),
                c.cost
            ),
            x_label: format!("T P^a (a = {a:.3})"),
            y_label: format!("{} / low-T value", f.obs.name()),
            log_y: true,
            series: per_p(f, |p, t, y| {
                (t * (p as f64).powf(a), y / f.plateau_of(p).unwrap_or(1.0))
            }),
        }
        .with_subtitle(group),
    )
}

impl Plot {
    pub(crate) fn with_subtitle(mut self, group: &str) -> Self {
        self.title = format!("{} | {group}", self.title);
        self
    }
}

fn scaled(group: &str, f: &ObservableFit, exponent: f64, name: &str) -> Plot {
    Plot {
        title: format!("{} P^(-{exponent:.3}) vs T", f.obs.name()),
        x_label: "temperature T".into(),
        y_label: format!("{} / P^{exponent:.3}", f.obs.name()),
        log_y: true,
        series: per_p(f, |p, t, y| (t, y / (p as f64).powf(exponent))),
    }
    .with_subtitle(&format!("{group} ({name})"))
}

/// `y P^beta` against `T P^a`: the test-error collapse of a lazy network (method §5), with the
/// fitted height factor (`beta = 0` draws the unscaled heights).
fn shifted(group: &str, f: &ObservableFit, a: f64, beta: f64, title: String) -> Plot {
    Plot {
        title,
        x_label: format!("T P^a (a = {a:.3})"),
        y_label: if beta == 0.0 {
            format!("{} (median, seed range)", f.obs.name())
        } else {
            format!("{} x P^{beta:.3}", f.obs.name())
        },
        log_y: beta != 0.0,
        series: per_p(f, |p, t, y| {
            let pf = p as f64;
            (t * pf.powf(a), y * pf.powf(beta))
        }),
    }
    .with_subtitle(group)
}

/// Test error against dw, one color per P (points are medians at each T).
fn test_error_vs_dw(group: &str, g: &GroupExponents) -> Option<Plot> {
    let te = g.others.iter().find(|f| f.obs == Observable::TestError)?;
    let series: Vec<Series> = g
        .main
        .curves
        .iter()
        .enumerate()
        .filter_map(|(k, c)| {
            let e = te.curves.iter().find(|x| x.p == c.p)?;
            let pairs: Vec<(
                &crate::analysis::curves::Cell,
                &crate::analysis::curves::Cell,
            )> = c
                .cells
                .iter()
                .filter_map(|cell| Some((cell, e.cells.iter().find(|x| x.t == cell.t)?)))
                .collect();
            Some(Series {
                label: format!("P = {}", c.p),
                points: pairs
                    .iter()
                    .map(|(d, e)| (d.median(), e.median()))
                    .collect(),
                color: k,
                line: true,
                spread: pairs.iter().map(|(_, e)| e.spread()).collect(),
                censored: pairs.iter().map(|(d, _)| d.censored()).collect(),
            })
        })
        .collect();
    Some(
        Plot {
            title: "test error vs weight change (bars: seed range of the test error)".into(),
            x_label: g.main.obs.name().into(),
            y_label: "test error".into(),
            log_y: false,
            series,
        }
        .with_subtitle(group),
    )
}

/// Training error against time for each P, at the group's median temperature (lowest seed).
fn train_error_vs_time(group: &str, runs: &[&RunResult]) -> Option<Plot> {
    let mut temps: Vec<f64> = runs.iter().map(|r| r.config.temperature_value()).collect();
    temps.sort_by(f64::total_cmp);
    temps.dedup();
    let t = *temps.get(temps.len() / 2)?;
    let mut ps: Vec<usize> = runs.iter().map(|r| r.config.p).collect();
    ps.sort();
    ps.dedup();
    let series: Vec<Series> = ps
        .iter()
        .enumerate()
        .filter_map(|(k, &p)| {
            let r = runs
                .iter()
                .filter(|r| r.config.p == p && r.config.temperature_value() == t)
                .min_by_key(|r| r.config.seed_init)?;
            let points: Vec<(f64, f64)> = r
                .trajectory
                .iter()
                .filter(|o| o.t > 0.0)
                .map(|o| (o.t, o.train_error))
                .collect();
            (!points.is_empty()).then(|| Series {
                label: format!("P = {p}"),
                points,
                color: k,
                line: true,
                ..Default::default()
            })
        })
        .collect();
    (!series.is_empty()).then(|| {
        Plot {
            title: format!("training error vs time at T = {t:.3e}"),
            x_label: "time t".into(),
            y_label: "training error".into(),
            log_y: false,
            series,
        }
        .with_subtitle(group)
    })
}

fn color_of(v: f64, lo: f64, hi: f64) -> RGBColor {
    // A viridis-like ramp: dark blue (low error) to yellow (high error).
    let stops = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    } * (stops.len() - 1) as f64;
    let k = (x.floor() as usize).min(stops.len() - 2);
    let f = x - k as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(
        mix(stops[k].0, stops[k + 1].0),
        mix(stops[k].1, stops[k + 1].1),
        mix(stops[k].2, stops[k + 1].2),
    )
}

fn draw_phase<DB: DrawingBackend>(
    d: &PhaseDiagram,
    area: DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    let edges = |v: &[f64]| -> Vec<f64> {
        let mut e = vec![v[0] / (v.get(1).map_or(2.0, |x| (x / v[0]).sqrt()))];
        e.extend(v.windows(2).map(|w| (w[0] * w[1]).sqrt()));
        e.push(
            v[v.len() - 1]
                * (if v.len() > 1 {
                    (v[v.len() - 1] / v[v.len() - 2]).sqrt()
                } else {
                    2.0
                }),
        );
        e
    };
    let (xe, ye) = (edges(&d.alphas), edges(&d.temperatures));
    let errs: Vec<f64> = d.cells.iter().filter_map(|c| c.test_error).collect();
    let (lo, hi) = errs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let k = d.k().map_or("-".into(), |k| k.show());
    // The diagram on the left, its colour bar (median test error) on the right.
    let (main, bar) = area.split_horizontally(area.dim_in_pixel().0.saturating_sub(105));
    if lo.is_finite() && hi > lo {
        draw_colour_bar(&bar, lo, hi)?;
    }
    let mut chart = ChartBuilder::on(&main)
        .caption(
            format!(
                "P = {}: median test error by cell; T_max ~ alpha^k, k = {k}",
                d.p
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (xe[0]..xe[xe.len() - 1]).log_scale(),
            (ye[0]..ye[ye.len() - 1]).log_scale(),
        )
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("alpha")
        .y_desc("temperature T")
        .x_label_formatter(&|v| super::tick_label(*v))
        .y_label_formatter(&|v| super::tick_label(*v))
        .label_style(("sans-serif", 13))
        .disable_mesh()
        .draw()
        .map_err(plot_err)?;
    // Cells first, then the markers as one labelled series per kind.
    let (mut crosses, mut rings, mut dots) = (vec![], vec![], vec![]);
    for c in &d.cells {
        let i = d.alphas.iter().position(|a| *a == c.alpha).unwrap_or(0);
        let j = d.temperatures.iter().position(|t| *t == c.t).unwrap_or(0);
        let rect = [(xe[i], ye[j]), (xe[i + 1], ye[j + 1])];
        let unstable = c.unstable(Instability::Diverged);
        let fill = match (unstable, c.test_error) {
            (true, _) | (false, None) => RGBColor(200, 200, 200),
            (false, Some(e)) => color_of(e, lo, hi),
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(rect, fill.filled())))
            .map_err(plot_err)?;
        let center = ((xe[i] * xe[i + 1]).sqrt(), (ye[j] * ye[j + 1]).sqrt());
        if unstable {
            crosses.push(center);
        } else if c.count(Status::Stalled) * 2 > c.runs {
            rings.push(center);
        } else if c.converged() < c.runs {
            // Censored: some seeds did not converge (budget, or a minority diverged/stalled).
            dots.push(center);
        }
    }
    if !crosses.is_empty() {
        chart
            .draw_series(
                crosses
                    .iter()
                    .map(|&q| Cross::new(q, 5, BLACK.stroke_width(2))),
            )
            .map_err(plot_err)?
            .label("diverged (majority of seeds)")
            .legend(|(x, y)| Cross::new((x + 8, y), 5, BLACK.stroke_width(2)));
    }
    if !rings.is_empty() {
        chart
            .draw_series(
                rings
                    .iter()
                    .map(|&q| Circle::new(q, 4, BLACK.stroke_width(2))),
            )
            .map_err(plot_err)?
            .label("stalled (majority of seeds)")
            .legend(|(x, y)| Circle::new((x + 8, y), 4, BLACK.stroke_width(2)));
    }
    if !dots.is_empty() {
        chart
            .draw_series(dots.iter().map(|&q| Circle::new(q, 2, BLACK.filled())))
            .map_err(plot_err)?
            .label("some seeds not converged")
            .legend(|(x, y)| Circle::new((x + 8, y), 2, BLACK.filled()));
    }
    let opt: Vec<(f64, f64)> = d.t_opt.iter().map(|&(a, t, _)| (a, t)).collect();
    if !opt.is_empty() {
        chart
            .draw_series(
                opt.iter()
                    .map(|&p| TriangleMarker::new(p, 6, MAGENTA.filled())),
            )
            .map_err(plot_err)?
            .label("T_opt(alpha): lowest test error")
            .legend(|(x, y)| TriangleMarker::new((x + 8, y), 6, MAGENTA.filled()));
    }
    if d.t_max.points.len() > 1 {
        chart
            .draw_series(LineSeries::new(
                d.t_max.points.iter().copied(),
                RED.stroke_width(3),
            ))
            .map_err(plot_err)?
            .label("T_max(alpha) (blow-ups)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_err)?;
    area.present().map_err(plot_err)?;
    Ok(())
}

/// A vertical bar of the colours of [`color_of`] from `lo` (bottom) to `hi`, labelled in test
/// error.
fn draw_colour_bar<DB: DrawingBackend>(
    bar: &DrawingArea<DB, plotters::coord::Shift>,
    lo: f64,
    hi: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(bar)
        .margin_top(42)
        .margin_bottom(57)
        .margin_left(14)
        .margin_right(4)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_x_axis()
        .disable_mesh()
        .y_desc("test error")
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.3}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .draw()
        .map_err(plot_err)?;
    let steps = 64;
    let at = |i: usize| lo + (hi - lo) * i as f64 / steps as f64;
    chart
        .draw_series((0..steps).map(|i| {
            let fill = color_of(0.5 * (at(i) + at(i + 1)), lo, hi);
            Rectangle::new([(0.0, at(i)), (1.0, at(i + 1))], fill.filled())
        }))
        .map_err(plot_err)?;
    Ok(())
}

fn save_phase(d: &PhaseDiagram, stem: &Path) -> Result<PathBuf> {
    super::save_figure(
        stem,
        (800, 600),
        |area| draw_phase(d, area),
        |area| draw_phase(d, area),
    )
}

/// For runs that differ only in the batch size: dw against T, one curve per B, at the largest P
/// all batch sizes share. Equal T = eta/B should give equal curves (method §5).
fn batch_checks(results: &[RunResult]) -> Vec<(String, Plot)> {
    let mut families: std::collections::BTreeMap<String, Vec<&RunResult>> = Default::default();
    for r in results {
        let key = crate::analysis::curves::label(
            &crate::config::RunConfig {
                batch: 0,
                ..r.config.clone()
            },
            true,
        );
        families.entry(key).or_default().push(r);
    }
    let mut plots = Vec::new();
    for (key, runs) in families {
        let mut batches: Vec<usize> = runs.iter().map(|r| r.config.batch).collect();
        batches.sort();
        batches.dedup();
        let common_p = runs
            .iter()
            .map(|r| r.config.p)
            .filter(|&p| {
                batches
                    .iter()
                    .all(|&b| runs.iter().any(|r| r.config.batch == b && r.config.p == p))
            })
            .max();
        let (true, Some(p)) = (batches.len() >= 2, common_p) else {
            continue;
        };
        let series: Vec<Series> = batches
            .iter()
            .enumerate()
            .filter_map(|(k, &b)| {
                let sub: Vec<RunResult> = runs
                    .iter()
                    .filter(|r| r.config.batch == b && r.config.p == p)
                    .map(|r| (*r).clone())
                    .collect();
                let curve = crate::analysis::curves::curves(&sub, Observable::WeightChange)
                    .into_iter()
                    .next()?;
                Some(Series {
                    label: format!("B = {b}"),
                    points: curve.points(),
                    color: k,
                    line: true,
                    ..Default::default()
                })
            })
            .collect();
        let group = key.replace(", B=0", "");
        plots.push((
            slug(&group),
            Plot {
                title: format!("equal T = eta/B, different B (P = {p})"),
                x_label: "temperature T".into(),
                y_label: "dw (median over seeds)".into(),
                log_y: true,
                series,
            }
            .with_subtitle(&group),
        ));
    }
    plots
}

/// Draw every figure for `analysis` of `results` into `out`; returns the PNG paths.
pub fn all_figures(analysis: &Analysis, results: &[RunResult], out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| crate::Error::io(out, e))?;
    let mut written = Vec::new();
    for g in &analysis.groups {
        let s = slug(&g.label);
        let stem = |name: &str| out.join(format!("{s}__{name}"));
        let mut fits: Vec<&ObservableFit> = vec![&g.main, &g.tstar];
        fits.extend(g.others.iter());
        for f in fits {
            if f.curves.is_empty() {
                continue;
            }
            written.extend(save_plot(
                &raw(&g.label, f),
                &stem(&format!("{}_raw", f.obs.slug())),
            )?);
            // A lazy network's test error is collapsed with its height factor below.
            let height = f.obs == Observable::TestError && g.test_collapse.is_some();
            if let (false, Some(p)) = (height, collapsed(&g.label, f)) {
                written.extend(save_plot(
                    &p,
                    &stem(&format!("{}_collapsed", f.obs.slug())),
                )?);
            }
        }
        if g.model != ModelKind::Perceptron {
            if let Some(gamma) = g.gamma() {
                written.extend(save_plot(
                    &scaled(&g.label, &g.main, gamma.value, "fitted gamma"),
                    &stem("dw_scaled"),
                )?);
            }
            if let Some(b) = g.b {
                written.extend(save_plot(
                    &scaled(&g.label, &g.tstar, b.value, "fitted b"),
                    &stem("tstar_scaled"),
                )?);
            }
            let te = g.others.iter().find(|f| f.obs == Observable::TestError);
            if let (Some(c), Some(te)) = (&g.test_collapse, te) {
                let (a, beta) = (c.a.value, c.beta.value);
                written.extend(save_plot(
                    &shifted(
                        &g.label,
                        te,
                        a,
                        0.0,
                        format!("test error vs T P^a, a = {}", c.a.show()),
                    ),
                    &stem("test_error_vs_TPa"),
                )?);
                written.extend(save_plot(
                    &shifted(
                        &g.label,
                        te,
                        a,
                        beta,
                        format!(
                            "test error P^beta vs T P^a: a = {}, beta = {} (cost {:.3})",
                            c.a.show(),
                            c.beta.show(),
                            c.cost
                        ),
                    ),
                    &stem("test_error_collapsed"),
                )?);
            }
        }
        if g.model == ModelKind::Perceptron {
            let chi = results
                .iter()
                .find(|r| crate::analysis::curves::label(&r.config, true) == g.label)
                .and_then(|r| r.config.chi)
                .unwrap_or(0.0);
            written.extend(save_plot(
                &scaled(&g.label, &g.main, 1.0 / (1.0 + chi), "1/(1+chi)"),
                &stem("w1_scaled"),
            )?);
            if let Some(b) = g.b {
                written.extend(save_plot(
                    &scaled(&g.label, &g.tstar, b.value, "fitted b"),
                    &stem("tstar_scaled"),
                )?);
            }
        } else if let Some(p) = test_error_vs_dw(&g.label, g) {
            written.extend(save_plot(&p, &stem("test_error_vs_dw"))?);
        }
        let runs: Vec<&RunResult> = results
            .iter()
            .filter(|r| crate::analysis::curves::label(&r.config, true) == g.label)
            .collect();
        if let Some(p) = train_error_vs_time(&g.label, &runs) {
            written.extend(save_plot(&p, &stem("train_error_vs_time"))?);
        }
    }
    for (s, p) in batch_checks(results) {
        written.extend(save_plot(&p, &out.join(format!("{s}__batch_check")))?);
    }
    for d in &analysis.phases {
        written.push(save_phase(
            d,
            &out.join(format!("{}__phase_P{}", slug(&d.label), d.p)),
        )?);
    }
    Ok(written)
}
