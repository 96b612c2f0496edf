//! The CLI's human tables: formatting only, no computation (the JSON the CLI and Python
//! share lives in the library's `report`).

use super::flags::Flags;
use descent::report::{article, round_trip};
use descent::reproduce::ReproduceReport;
use descent::solver::Fit;
use descent::Coefficients;

fn seconds(fit: &Fit) -> f64 {
    fit.timings.total().as_secs_f64()
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

/// w1, the first feature's weight for the first output (NaN without features): the
/// article's second column.
fn first_weight(c: &Coefficients) -> f64 {
    c.column_weights(0).next().unwrap_or(f64::NAN)
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
            round_trip(f.weights.intercept(0)),
            round_trip(first_weight(&f.weights)),
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
        round_trip(r.ols.intercept(0)),
        round_trip(first_weight(&r.ols))
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
pub fn adapters_table(list: &[descent::gpu::AdapterSummary]) -> String {
    if list.is_empty() {
        return format!(
            "no GPU adapter found; {}\n",
            descent::gpu::SOFTWARE_ADAPTER_HINT
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

/// Where the data came from, for the summary's first line.
pub fn source_line(s: &descent::data::SourceInfo) -> String {
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
pub fn fit_summary(o: &descent::fitting::FitOutcome) -> String {
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
    // One output per model today: the table lists `[w0, w1..wp]` of the first.
    let weights: Vec<String> = f.weights.column(0).iter().map(|v| round_trip(*v)).collect();
    let ref_name = o.reference_kind.name();
    let reference: Vec<String> = match &o.reference {
        Some(w) => w.column(0).iter().map(|v| round_trip(*v)).collect(),
        None => vec!["-".to_string(); weights.len()],
    };
    let (name_w, w_w, o_w) = (
        width(&names, "term"),
        width(&weights, "weight"),
        width(&reference, ref_name),
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
            reference[i]
        ));
    }
    let m = &o.model;
    let model_line = if *m == descent::model::Model::LEAST_SQUARES {
        String::new()
    } else {
        let mut line = format!("\nloss: {}   penalty: {}", m.loss, m.penalty.kind);
        if m.penalty.kind != descent::model::PenaltyKind::None {
            line.push_str(&format!("   alpha: {}", round_trip(m.penalty.alpha)));
        }
        if m.penalty.kind == descent::model::PenaltyKind::ElasticNet {
            line.push_str(&format!("   l1_ratio: {}", round_trip(m.penalty.l1_ratio)));
        }
        line
    };
    let quality = match (o.mse, o.r2, o.accuracy, o.log_loss) {
        (Some(mse), Some(r2), _, _) => {
            let reference = match (o.reference_mse, o.reference_r2) {
                (Some(m), Some(r)) => format!("   ({ref_name}: MSE {m:.6e}, R² {r:.6})"),
                _ => String::new(),
            };
            format!("MSE: {mse:.6e}   R²: {r2:.6}{reference}")
        }
        (_, _, Some(acc), Some(ll)) => format!("accuracy: {acc:.6}   log-loss: {ll:.6e}"),
        _ => String::new(),
    };
    // The article's model's objective is its MSE, already shown.
    let objective = if *m == descent::model::Model::LEAST_SQUARES {
        String::new()
    } else {
        let r = o
            .reference_objective
            .map_or(String::new(), |j| format!("   ({ref_name}: {j:.9e})"));
        format!("\nobjective J: {:.9e}{r}", o.objective)
    };
    let check = match (o.reference_kind, o.distance_to_reference) {
        _ if o.check == descent::fitting::Check::None => {
            "check: none (nothing was verified; --check reference or kkt to verify)".into()
        }
        _ if o.check == descent::fitting::Check::Kkt => match o.objective_gap_bound {
            Some(b) => format!(
                "KKT residual: {:.3e}   proven: J − J* ≤ {b:.3e}, distance to the optimum ≤ \
                 {:.3e}",
                o.kkt_residual,
                o.distance_bound.unwrap_or(f64::NAN)
            ),
            None => format!(
                "KKT residual: {:.3e} (no bound on J − J*: that needs the squared loss with \
                 an L2 part)",
                o.kkt_residual
            ),
        },
        (descent::reference::ReferenceKind::Ols, _)
            if *m == descent::model::Model::LEAST_SQUARES =>
        {
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
    if let Some(note) = &o.reference_note {
        out.push_str(&format!("note: {}\n", note.render(&Flags)));
    }
    for w in &o.warnings {
        out.push_str(&format!("warning: {}\n", w.message.render(&Flags)));
    }
    out
}

/// `descent compare`'s table: one row per optimizer.
pub fn compare_table(runs: &[(&str, descent::fitting::FitOutcome)]) -> String {
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
            out.push_str(&format!("warning: {name}: {}\n", w.message.render(&Flags)));
        }
    }
    out
}
