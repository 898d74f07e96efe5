//! Decision boundaries in two dimensions (the paper's Fig. 5): one panel per trained net, its
//! sign of `F(x)` as a light background over the plane, the learnt boundary `F(x) = 0` where
//! that sign changes, the true boundary `x_1 = 0`, and the training points by label.

use super::plot_err;
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One trained net on the plane.
pub struct BoundaryPanel {
    pub title: String,
    /// `F` on an `n x n` grid over `[-extent, extent]^2`, row-major with `x_2` slowest.
    pub f: Vec<f32>,
    pub n: usize,
    pub extent: f64,
    /// Training points `(x_1, x_2, y)`.
    pub points: Vec<(f64, f64, f32)>,
}

fn draw<DB: DrawingBackend>(
    panels: &[BoundaryPanel],
    columns: usize,
    caption: &str,
    area: DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_err)?;
    let area = area.titled(caption, ("sans-serif", 20)).map_err(plot_err)?;
    let rows = panels.len().div_ceil(columns);
    for (panel, cell) in panels.iter().zip(area.split_evenly((rows, columns))) {
        let e = panel.extent;
        let mut chart = ChartBuilder::on(&cell)
            .caption(&panel.title, ("sans-serif", 12))
            .margin(6)
            .x_label_area_size(28)
            .y_label_area_size(34)
            .build_cartesian_2d(-e..e, -e..e)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x_1")
            .y_desc("x_2")
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(plot_err)?;
        let (n, h) = (panel.n, 2.0 * e / panel.n as f64);
        let at = |i: usize, j: usize| panel.f[j * n + i];
        let side = |v: f32| {
            if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            }
        };
        // The background as one rectangle per run of equal sign along each row (small SVGs).
        let mut runs = Vec::new();
        for j in 0..n {
            let mut start = 0;
            for i in 1..=n {
                if i == n || side(at(i, j)) != side(at(start, j)) {
                    runs.push((start, i, j, side(at(start, j))));
                    start = i;
                }
            }
        }
        chart
            .draw_series(runs.into_iter().map(|(i0, i1, j, sign)| {
                let (x0, x1, y) = (-e + i0 as f64 * h, -e + i1 as f64 * h, -e + j as f64 * h);
                let color = match sign {
                    1 => RGBColor(214, 228, 247),
                    -1 => RGBColor(250, 222, 205),
                    _ => RGBColor(235, 235, 235),
                };
                Rectangle::new([(x0, y), (x1, y + h)], color.filled())
            }))
            .map_err(plot_err)?;
        // The learnt boundary: cells whose sign differs from the right or the upper neighbour.
        let edge: Vec<(f64, f64)> = (0..n * n)
            .filter(|&k| {
                let (i, j) = (k % n, k / n);
                let s = side(at(i, j));
                (i + 1 < n && side(at(i + 1, j)) != s) || (j + 1 < n && side(at(i, j + 1)) != s)
            })
            .map(|k| {
                (
                    -e + ((k % n) as f64 + 1.0) * h,
                    -e + ((k / n) as f64 + 0.5) * h,
                )
            })
            .collect();
        chart
            .draw_series(edge.iter().map(|&p| Circle::new(p, 1, BLACK.filled())))
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, -e), (0.0, e)],
                RGBColor(0, 140, 0).stroke_width(2),
            ))
            .map_err(plot_err)?;
        for (y, color) in [
            (1.0f32, RGBColor(31, 119, 180)),
            (-1.0, RGBColor(214, 39, 40)),
        ] {
            chart
                .draw_series(
                    panel
                        .points
                        .iter()
                        .filter(|p| p.2 == y)
                        .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
                )
                .map_err(plot_err)?;
        }
    }
    area.present().map_err(plot_err)?;
    Ok(())
}

/// Draw `panels` in `columns` columns as `stem.png` and `stem.svg`; returns the PNG path.
pub fn save_boundaries(
    panels: &[BoundaryPanel],
    columns: usize,
    caption: &str,
    stem: &Path,
) -> Result<PathBuf> {
    let rows = panels.len().div_ceil(columns) as u32;
    let size = (300 * columns as u32, 300 * rows + 40);
    super::save_figure(
        stem,
        size,
        |area| draw(panels, columns, caption, area),
        |area| draw(panels, columns, caption, area),
    )
}
