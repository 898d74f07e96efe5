//! Figures (method §5) as PNG and SVG, drawn with plotters. Text uses DejaVu Sans embedded in the
//! binary (`assets/fonts`, Bitstream Vera license), so figures render on a headless machine
//! with no fonts installed.

pub mod boundary;
pub mod figures;
pub mod trajectories;
pub mod variants;

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::plot("the embedded font could not be loaded"))
    }
}

/// Colors for up to ten series (then they repeat).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One labelled set of points.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: usize,
    /// Join the points with a line (else markers only).
    pub line: bool,
    /// Per point, the seed spread `(lowest, highest)` drawn as an error bar (empty: none).
    pub spread: Vec<(f64, f64)>,
    /// Per point, whether the cell is censored (some run did not converge): drawn hollow
    /// (empty: none is).
    pub censored: Vec<bool>,
}

/// A scatter/line plot with a log x axis and a log or linear y axis.
#[derive(Clone, Debug)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub series: Vec<Series>,
}

fn plot_err<E: std::fmt::Display>(e: E) -> Error {
    Error::plot(format!("drawing a figure: {e}"))
}

fn bounds(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let v: Vec<f64> = values
        .filter(|x| x.is_finite() && (!log || *x > 0.0))
        .collect();
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        return None;
    }
    Some(if log {
        let (lo, hi) = if hi / lo < 1.5 {
            (lo / 1.5, hi * 1.5)
        } else {
            (lo, hi)
        };
        (lo / 1.3, hi * 1.3)
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad, hi + pad)
    })
}

fn draw_plot<DB: DrawingBackend>(p: &Plot, area: DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    let pts = || p.series.iter().flat_map(|s| s.points.iter().copied());
    let (Some(x), Some(y)) = (
        bounds(pts().map(|q| q.0), true),
        bounds(pts().map(|q| q.1), p.log_y),
    ) else {
        return Err(Error::plot(format!(
            "figure `{}` has no points to draw",
            p.title
        )));
    };
    let mut builder = ChartBuilder::on(&area);
    let chart = builder
        .caption(&p.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70);
    macro_rules! finish {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(p.x_label.as_str())
                .y_desc(p.y_label.as_str())
                .x_label_formatter(&|v| tick_label(*v))
                .y_label_formatter(&|v| {
                    if p.log_y {
                        tick_label(*v)
                    } else {
                        format!("{v:.2}")
                    }
                })
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(plot_err)?;
            for s in &p.series {
                let color = PALETTE[s.color % PALETTE.len()];
                if s.line && s.points.len() > 1 {
                    chart
                        .draw_series(LineSeries::new(
                            s.points.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(plot_err)?;
                }
                let bars = s
                    .points
                    .iter()
                    .zip(&s.spread)
                    .filter(|(_, (lo, hi))| lo.is_finite() && hi > lo)
                    .map(|(&(x, _), &(lo, hi))| {
                        PathElement::new(vec![(x, lo), (x, hi)], color.mix(0.6).stroke_width(1))
                    });
                chart.draw_series(bars).map_err(plot_err)?;
                let censored = |k: usize| s.censored.get(k).copied().unwrap_or(false);
                chart
                    .draw_series(s.points.iter().enumerate().map(|(k, &q)| {
                        if censored(k) {
                            Circle::new(q, 4, color.stroke_width(1))
                        } else {
                            Circle::new(q, 3, color.filled())
                        }
                    }))
                    .map_err(plot_err)?
                    .label(s.label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 13))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(plot_err)?;
        }};
    }
    let x_axis = (x.0..x.1).log_scale().with_key_points(log_ticks(x.0, x.1));
    if p.log_y {
        let y_axis = (y.0..y.1).log_scale().with_key_points(log_ticks(y.0, y.1));
        finish!(chart.build_cartesian_2d(x_axis, y_axis).map_err(plot_err)?);
    } else {
        finish!(
            chart
                .build_cartesian_2d(x_axis, y.0..y.1)
                .map_err(plot_err)?
        );
    }
    area.present().map_err(plot_err)?;
    Ok(())
}

/// Labelled ticks of a log axis over `[lo, hi]`: 1, 2 and 5 times the powers of ten inside it
/// (plotters' own choice can leave a range under two decades with a single label).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut ticks: Vec<f64> = (first..=last)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .filter(|&t| t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9))
        .collect();
    // Many decades: keep the powers of ten only.
    if ticks.len() > 12 {
        ticks.retain(|t| (t.log10() - t.log10().round()).abs() < 1e-9);
    }
    ticks
}

/// A tick of a log axis as a reader writes it: a plain number from 0.001 to 99,999 (`0.005`,
/// `20`, `1000`), a power-of-ten form outside (`1e-5`, `2e6`).
pub fn tick_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decade = v.abs().log10().floor();
    if (-3.0..5.0).contains(&decade) {
        format!("{v:.*}", (-decade).max(0.0) as usize)
    } else {
        format!("{v:.0e}")
    }
}

/// `stem` + `.ext`: stems hold labels such as `alpha_0.001`, whose dots are not extensions
/// (`Path::with_extension` would cut the name there and let figures overwrite each other).
pub fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Write `plot` as `stem.png` and `stem.svg`, each atomically (`io::replace_via`).
/// `None` (with a note on stderr, and no file written) when the plot has no point to draw: a
/// group whose runs all diverged has no curve, and the other figures are still wanted.
pub fn save_plot(plot: &Plot, stem: &Path) -> Result<Option<PathBuf>> {
    if plot.series.iter().all(|s| s.points.is_empty()) {
        eprintln!(
            "note: figure `{}` skipped: no converged run to draw",
            plot.title
        );
        return Ok(None);
    }
    save_figure(
        stem,
        (800, 560),
        |area| draw_plot(plot, area),
        |area| draw_plot(plot, area),
    )
    .map(Some)
}

/// Draw one figure as `stem.png` and `stem.svg`: each is rendered in memory, then written
/// atomically (`io::write_atomic`), so a failed write (a full disk) is an I/O error naming the
/// file rather than the plotting library's dump of its backend state. `png` and `svg` are the
/// same drawing function, given once per backend type.
pub fn save_figure(
    stem: &Path,
    (width, height): (u32, u32),
    png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
    svg: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<PathBuf> {
    use image::ImageEncoder;
    register_font()?;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    png(BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area())?;
    let mut encoded = Vec::new();
    image::codecs::png::PngEncoder::new(&mut encoded)
        .write_image(&pixels, width, height, image::ColorType::Rgb8)
        .map_err(|e| Error::plot(format!("encoding a PNG figure: {e}")))?;
    let png_path = with_suffix(stem, "png");
    crate::io::write_atomic(&png_path, &encoded)?;
    let mut text = String::new();
    svg(SVGBackend::with_string(&mut text, (width, height)).into_drawing_area())?;
    crate::io::write_atomic(&with_suffix(stem, "svg"), text.as_bytes())?;
    Ok(png_path)
}

#[cfg(test)]
mod tests {
    use super::log_ticks;

    #[test]
    fn dots_in_figure_names_are_kept() {
        let p = super::with_suffix(
            std::path::Path::new("out/fc_alpha_0.001_B_16__dw_raw"),
            "png",
        );
        assert_eq!(
            p,
            std::path::Path::new("out/fc_alpha_0.001_B_16__dw_raw.png")
        );
    }

    #[test]
    fn ticks_read_as_plain_numbers_or_powers_of_ten() {
        let labels: Vec<String> = [
            1e-5, 2e-4, 0.001, 0.005, 0.02, 0.5, 1.0, 5.0, 20.0, 1000.0, 16384.0, 1e5, 2e6,
        ]
        .iter()
        .map(|&v| super::tick_label(v))
        .collect();
        assert_eq!(
            labels,
            [
                "1e-5", "2e-4", "0.001", "0.005", "0.02", "0.5", "1", "5", "20", "1000", "16384",
                "1e5", "2e6"
            ]
        );
    }

    #[test]
    fn log_ticks_label_every_decade_and_short_ranges() {
        assert_eq!(log_ticks(1.9e-3, 3.9e-2), [2e-3, 5e-3, 1e-2, 2e-2]);
        assert_eq!(log_ticks(1.0, 10.0), [1.0, 2.0, 5.0, 10.0]);
        // Ten decades: powers of ten only.
        let t = log_ticks(1e-6, 1e4);
        assert_eq!(t.len(), 11);
        assert!((t[0] - 1e-6).abs() < 1e-18 && (t[10] - 1e4).abs() < 1e-8);
    }
}
