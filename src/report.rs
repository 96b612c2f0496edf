//! Human tables and JSON for the CLI. Formatting only: no computation happens here.

use crate::reproduce::ReproduceReport;
use crate::solver::Fit;
use serde_json::{json, Value};

/// The article's published figures (Intel Core i7-4790K), for the reference lines.
pub mod article {
    pub const PURE_PYTHON_S: f64 = 18.65;
    pub const NUMPY_S: f64 = 0.32;
    pub const TENSORFLOW_CPU_S: f64 = 1.20;
    pub const GD_WEIGHTS: [f64; 2] = [2.959859852416156, 2.0329649630002757];
    pub const OLS_WEIGHTS: [f64; 2] = [2.99536719, 2.00288672];
}

/// Seconds in a readable unit.
pub fn human_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// The shortest decimal that reads back as exactly `v` (Rust's float formatting), in
/// scientific notation when plain digits would be long.
pub fn round_trip(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-4..1e16).contains(&a) || !v.is_finite() {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// How a run's weights compare with the article's printed ones, bit for bit.
pub fn vs_article(weights: &[f64]) -> String {
    let ulps = weights
        .iter()
        .zip(article::GD_WEIGHTS)
        .map(|(a, b)| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs())
        .max()
        .unwrap_or(u64::MAX);
    match ulps {
        0 => "bit-exact".into(),
        u if u < 1 << 20 => format!("{u} ulp"),
        _ => "differs".into(),
    }
}

fn seconds(fit: &Fit) -> f64 {
    fit.timings.total().as_secs_f64()
}

/// One run as the reproduce JSON's `runs` entry.
pub fn run_json(fit: &Fit) -> Value {
    let t = &fit.timings;
    json!({
        "backend": fit.backend,
        "precision": fit.precision,
        "device": fit.device,
        "seconds": seconds(fit),
        "setup_seconds": t.setup.as_secs_f64(),
        "solve_seconds": t.solve.as_secs_f64(),
        "readback_seconds": t.readback.as_secs_f64(),
        "device_solve_seconds": t.device_solve.map(|d| d.as_secs_f64()),
        "epochs_run": fit.epochs_run,
        "weights": fit.weights,
        "max_abs_diff_vs_ols": fit.max_abs_diff_vs_ols,
    })
}

/// The `reproduce --json` object.
pub fn reproduce_json(r: &ReproduceReport) -> Value {
    let w = &r.workload;
    json!({
        "workload": {
            "name": w.name, "n": w.n, "features": w.features, "epochs": w.epochs,
            "mu": w.mu, "seed": w.seed, "sigma": w.sigma,
            "batch_size": w.batch_size, "shuffle_seed": w.shuffle_seed,
        },
        "ols": r.ols,
        "reference": r.reference,
        "reference_weights": r.reference_weights,
        "reference_objective": r.reference_objective,
        "max_abs_diff_between_backends": r.max_abs_diff_between_backends,
        "runs": r
            .runs
            .iter()
            .zip(&r.checks)
            .map(|(f, c)| {
                let mut v = run_json(f);
                v["objective"] = json!(c.objective);
                v["max_abs_diff_vs_reference"] = json!(c.max_abs_diff_vs_reference);
                v
            })
            .collect::<Vec<_>>(),
        "skipped": r.skipped,
    })
}

/// The article-style table.
pub fn reproduce_table(r: &ReproduceReport) -> String {
    let w = &r.workload;
    let batches = match w.batch_size {
        Some(b) => format!(", batch size = {b}, shuffle seed = {}", w.shuffle_seed),
        None => String::new(),
    };
    let mut out = format!(
        "workload {}: N = {}, features = {}, epochs = {}, mu = {}, seed = {}{batches}, {}\n\n",
        w.name, w.n, w.features, w.epochs, w.mu, w.seed, r.precision
    );
    let base = r.runs.iter().find(|f| f.backend == "ndarray").map(seconds);
    // Only the article's own workload is compared with its printed weights.
    let article_cmp = w.name == "seed";
    out.push_str(&format!(
        "{:<10} {:>5} {:>11} {:>22} {:>22} {:>13} {:>10}{}  {}\n",
        "backend",
        "prec",
        "time",
        "w0",
        "w1",
        "max|w-w_OLS|",
        "vs ndarray",
        if article_cmp { "   vs article" } else { "" },
        "device"
    ));
    for f in &r.runs {
        let rel = base.map_or("-".to_string(), |b| format!("{:.2}x", b / seconds(f)));
        out.push_str(&format!(
            "{:<10} {:>5} {:>11} {:>22} {:>22} {:>13.3e} {:>10}{}  {}\n",
            f.backend,
            f.precision.as_str(),
            human_time(seconds(f)),
            round_trip(f.weights[0]),
            round_trip(f.weights.get(1).copied().unwrap_or(f64::NAN)),
            f.max_abs_diff_vs_ols.unwrap_or(f64::NAN),
            rel,
            if article_cmp {
                format!(" {:>13}", vs_article(&f.weights))
            } else {
                String::new()
            },
            f.device,
        ));
    }
    out.push_str(&format!(
        "{:<10} {:>5} {:>11} {:>22} {:>22}\n",
        "OLS",
        "f64",
        "-",
        round_trip(r.ols[0]),
        round_trip(r.ols.get(1).copied().unwrap_or(f64::NAN))
    ));
    for s in &r.skipped {
        out.push_str(&format!("{} skipped: {}\n", s.backend, s.reason));
    }
    if w.name == "seed" {
        out.push_str(&format!(
            "\narticle (Intel i7-4790K): pure Python {} s, NumPy {} s, TensorFlow CPU {} s; \
             GD {:?}, OLS {:?}\n\
             vs article: ulps between each weight and the article's printed GD weights \
             (bit-exact = same f64)\n",
            article::PURE_PYTHON_S,
            article::NUMPY_S,
            article::TENSORFLOW_CPU_S,
            article::GD_WEIGHTS,
            article::OLS_WEIGHTS
        ));
    }
    out.push_str("time = setup + solve + read-back; data generation excluded.\n");
    out
}

/// `descent adapters` as a table.
pub fn adapters_table(list: &[crate::gpu::AdapterSummary]) -> String {
    if list.is_empty() {
        return format!(
            "no GPU adapter found; {}\n",
            crate::gpu::SOFTWARE_ADAPTER_HINT
        );
    }
    let mut out = String::new();
    for a in list {
        out.push_str(&format!(
            "[{}] {} — {} {} — driver: {} {}\n    f64: {}, subgroups: {} ({}..{}), timestamps: {}, \
             max storage binding: {} MiB, max buffer: {} MiB, workgroup storage: {} KiB\n",
            a.index,
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.driver_info,
            yes(a.shader_f64),
            yes(a.subgroups),
            a.min_subgroup_size,
            a.max_subgroup_size,
            yes(a.timestamp_query),
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroup_storage_size >> 10,
        ));
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The `fit --json` object (also what `--out` writes).
pub fn fit_json(o: &crate::fitting::FitOutcome) -> Value {
    let f = &o.fit;
    let is_ols = o.reference_kind == crate::reference::ReferenceKind::Ols;
    let mut v = json!({
        "weights": f.weights,
        "feature_names": o.feature_names,
        "epochs_run": f.epochs_run,
        "converged": f.converged,
        "stalled": f.stalled,
        "optimizer": o.optimizer,
        "schedule": o.schedule,
        "loss": o.model.loss,
        "penalty": o.model.penalty.kind,
        "alpha": o.model.penalty.alpha,
        "l1_ratio": o.model.penalty.l1_ratio,
        "mu": o.mu,
        "standardized": o.standardized,
        "objective": o.objective,
        "reference": o.reference_kind,
        "reference_weights": o.reference,
        "reference_objective": o.reference_objective,
        "distance_to_reference": o.distance_to_reference,
        "kkt_residual": o.kkt_residual,
        "ols": if is_ols { o.reference.clone() } else { None },
        "ols_note": o.ols_note,
        "warnings": o.warnings,
        "seconds": seconds(f),
        "backend": f.backend,
        "precision": f.precision,
        "device": f.device,
    });
    // Measures that belong to one loss only are present for that loss only.
    let extra = match o.model.loss {
        crate::model::Loss::Squared => json!({
            "mse": o.mse,
            "r2": o.r2,
            "ols_mse": o.ols_mse,
            "ols_r2": o.ols_r2,
        }),
        crate::model::Loss::Logistic => json!({
            "accuracy": o.accuracy,
            "log_loss": o.log_loss,
        }),
    };
    for (k, val) in extra.as_object().expect("object") {
        v[k] = val.clone();
    }
    if o.model == crate::model::Model::LEAST_SQUARES {
        v["max_abs_diff_vs_ols"] = json!(f.max_abs_diff_vs_ols);
    }
    v
}

/// Where the data came from, for the summary's first line.
pub fn source_line(s: &crate::data::SourceInfo) -> String {
    let delim = match s.delimiter {
        Some('\t') => ", tab-separated".to_string(),
        Some(',') => ", comma-separated".to_string(),
        Some(';') => ", semicolon-separated".to_string(),
        Some(c) => format!(", '{c}'-separated"),
        None => String::new(),
    };
    format!(
        "data: {} ({}{}{}, {} rows, {} columns)\n\n",
        if s.path == "-" { "<stdin>" } else { &s.path },
        s.format,
        delim,
        if s.delimiter_detected && s.delimiter.is_some() {
            " (detected)"
        } else {
            ""
        },
        s.rows,
        s.columns
    )
}

/// The human summary of a fit. Weights are printed with round-trip digits, so a reader can
/// compare them bit for bit with another run.
pub fn fit_summary(o: &crate::fitting::FitOutcome) -> String {
    let f = &o.fit;
    let names: Vec<String> = std::iter::once("(intercept)".to_string())
        .chain(o.feature_names.iter().cloned())
        .collect();
    // Columns as wide as their longest entry (header included), so long names never shift
    // the numbers.
    let width = |cells: &[String], header: &str| {
        cells
            .iter()
            .map(|c| c.chars().count())
            .fold(header.len(), usize::max)
    };
    let weights: Vec<String> = f.weights.iter().map(|v| round_trip(*v)).collect();
    let ref_name = match o.reference_kind {
        crate::reference::ReferenceKind::Ols => "OLS",
        crate::reference::ReferenceKind::Ridge => "ridge",
        crate::reference::ReferenceKind::Newton => "Newton",
        crate::reference::ReferenceKind::Kkt => "KKT",
    };
    let ols: Vec<String> = match &o.reference {
        Some(w) => w.iter().map(|v| round_trip(*v)).collect(),
        None => vec!["-".to_string(); weights.len()],
    };
    let (name_w, w_w, o_w) = (
        width(&names, "term"),
        width(&weights, "weight"),
        width(&ols, ref_name),
    );
    let mut out = String::new();
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    out.push_str(&format!(
        "{}  {:>w_w$}  {:>o_w$}\n",
        pad("term", name_w),
        "weight",
        ref_name
    ));
    for (i, name) in names.iter().enumerate() {
        out.push_str(&format!(
            "{}  {:>w_w$}  {:>o_w$}\n",
            pad(name, name_w),
            weights[i],
            ols[i]
        ));
    }
    let m = &o.model;
    let model_line = if *m == crate::model::Model::LEAST_SQUARES {
        String::new()
    } else {
        let mut line = format!("\nloss: {}   penalty: {}", m.loss, m.penalty.kind);
        if m.penalty.kind != crate::model::PenaltyKind::None {
            line.push_str(&format!("   alpha: {}", round_trip(m.penalty.alpha)));
        }
        if m.penalty.kind == crate::model::PenaltyKind::ElasticNet {
            line.push_str(&format!("   l1_ratio: {}", round_trip(m.penalty.l1_ratio)));
        }
        line
    };
    let quality = match (o.mse, o.r2, o.accuracy, o.log_loss) {
        (Some(mse), Some(r2), _, _) => {
            let reference = match (o.ols_mse, o.ols_r2) {
                (Some(m), Some(r)) => format!("   ({ref_name}: MSE {m:.6e}, R² {r:.6})"),
                _ => String::new(),
            };
            format!("MSE: {mse:.6e}   R²: {r2:.6}{reference}")
        }
        (_, _, Some(acc), Some(ll)) => format!("accuracy: {acc:.6}   log-loss: {ll:.6e}"),
        _ => String::new(),
    };
    // The article's model's objective is its MSE, already shown.
    let objective = if *m == crate::model::Model::LEAST_SQUARES {
        String::new()
    } else {
        let r = o
            .reference_objective
            .map_or(String::new(), |j| format!("   ({ref_name}: {j:.9e})"));
        format!("\nobjective J: {:.9e}{r}", o.objective)
    };
    let check = match (o.reference_kind, o.distance_to_reference) {
        (crate::reference::ReferenceKind::Ols, _) if *m == crate::model::Model::LEAST_SQUARES => {
            format!(
                "max |w − w_OLS|: {}",
                f.max_abs_diff_vs_ols
                    .map_or("- (no OLS reference)".to_string(), |d| format!("{d:.3e}"))
            )
        }
        (_, Some(d)) => format!(
            "distance to the {ref_name} reference: {d:.3e} (relative)   KKT residual: {:.3e}",
            o.kkt_residual
        ),
        (_, None) => format!("KKT residual: {:.3e}", o.kkt_residual),
    };
    out.push_str(&format!(
        "\nepochs run: {}{}   mu: {}{}{model_line}\n{quality}{objective}\n{check}\n\
         time: {} (setup {}, solve {})   backend: {} {}   device: {}\n",
        f.epochs_run,
        match (f.converged, o.tol) {
            _ if f.stalled => " (stopped: the loss stopped improving)",
            (true, _) => " (converged: gradient norm below tol)",
            (false, Some(_)) => " (not converged: gradient norm still above tol)",
            (false, None) => " (every epoch run: no --tol given)",
        },
        round_trip(o.mu),
        if o.standardized {
            "   (features standardized)"
        } else {
            ""
        },
        human_time(seconds(f)),
        human_time(f.timings.setup.as_secs_f64()),
        human_time(f.timings.solve.as_secs_f64()),
        f.backend,
        f.precision,
        f.device,
    ));
    if let Some(note) = &o.ols_note {
        out.push_str(&format!("note: {note}\n"));
    }
    for w in &o.warnings {
        out.push_str(&format!("warning: {}\n", w.message));
    }
    out
}

/// `descent compare`'s table: one row per optimizer.
pub fn compare_table(runs: &[(&str, crate::fitting::FitOutcome)]) -> String {
    let mut out = format!(
        "{:<10} {:>10} {:>10} {:>18} {:>12} {:>12} {:>10}\n",
        "optimizer", "epochs", "stopped", "objective J", "distance", "KKT", "time"
    );
    for (name, o) in runs {
        let f = &o.fit;
        let stopped = if f.stalled {
            "stalled"
        } else if f.converged {
            "tol"
        } else {
            "epochs"
        };
        out.push_str(&format!(
            "{:<10} {:>10} {:>10} {:>18.9e} {:>12} {:>12.3e} {:>10}\n",
            name,
            f.epochs_run,
            stopped,
            o.objective,
            o.distance_to_reference
                .map_or("-".to_string(), |d| format!("{d:.3e}")),
            o.kkt_residual,
            human_time(seconds(f)),
        ));
    }
    if let Some((_, o)) = runs.first() {
        out.push_str(&format!(
            "\nreference: {} (distance is relative, max_j |w_j − r_j| / max_j |r_j|)\n",
            o.reference_kind.as_str()
        ));
    }
    for (name, o) in runs {
        for w in &o.warnings {
            out.push_str(&format!("warning: {name}: {}\n", w.message));
        }
    }
    out
}
