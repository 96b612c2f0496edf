//! Files written by the CLI: atomically (temporary file in the target directory, then
//! rename), so a failure never leaves a partial file behind.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &str, bytes: &[u8]) -> Result<()> {
    let target = Path::new(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(path, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.persist(target).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The loss history as `epoch,mse` lines.
pub fn loss_csv(loss: &[f64]) -> String {
    let mut out = String::from("epoch,mse\n");
    for (i, l) in loss.iter().enumerate() {
        out.push_str(&format!("{},{l:e}\n", i + 1));
    }
    out
}

/// An SVG line plot of the loss history (log scale when it spans decades).
pub fn loss_svg(loss: &[f64], title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        let plot_err = |e: &dyn std::fmt::Display| Error::Io {
            path: "plot".into(),
            message: e.to_string(),
        };
        root.fill(&WHITE).map_err(|e| plot_err(&e))?;
        let positive: Vec<f64> = loss.iter().copied().filter(|v| *v > 0.0).collect();
        let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = loss.iter().copied().fold(0.0, f64::max).max(lo);
        let x_max = loss.len().max(2) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..x_max, (lo.max(1e-300)..hi * 1.05).log_scale())
            .map_err(|e| plot_err(&e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("MSE")
            .draw()
            .map_err(|e| plot_err(&e))?;
        chart
            .draw_series(LineSeries::new(
                loss.iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(i, v)| (i as f64 + 1.0, *v)),
                &BLUE,
            ))
            .map_err(|e| plot_err(&e))?;
        root.present().map_err(|e| plot_err(&e))?;
    }
    Ok(svg)
}
