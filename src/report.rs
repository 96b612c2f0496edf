//! The JSON reports the CLI prints and Python returns. Formatting only: no computation
//! happens here (the CLI's human tables are in `src/cli/tables.rs`).

use crate::coefficients::Coefficients;
use crate::names::{Library, Vocabulary};
use crate::reproduce::ReproduceReport;
pub use crate::scalar::round_trip;
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
/// The shortest decimal that reads back as exactly `v` (Rust's float formatting), in
/// scientific notation when plain digits would be long.
/// How a run's weights compare with the article's printed ones, bit for bit.
fn seconds(fit: &Fit) -> f64 {
    fit.timings.total().as_secs_f64()
}

/// Coefficients as the reports carry them: one output's `[w0, w1..wp]` as a flat list (the
/// form every report has had); K outputs as `{"intercepts": [K], "weights": [p × [K]]}`.
pub fn coefficients_json(c: &Coefficients) -> Value {
    if c.outputs() == 1 {
        return json!(c.column(0));
    }
    let rows: Vec<&[f64]> = (0..c.features()).map(|j| c.weights_of(j)).collect();
    json!({ "intercepts": c.intercepts(), "weights": rows })
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
        "weights": coefficients_json(&fit.weights),
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
        "ols": coefficients_json(&r.ols),
        "reference": r.reference,
        "reference_weights": r.reference_weights.as_ref().map(coefficients_json),
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

/// The `fit --json` object (also what `--out` writes), its messages (warnings, the note on
/// a missing reference) naming settings by their neutral names: [`fit_json_in`] with
/// [`Library`].
pub fn fit_json(o: &crate::fitting::FitOutcome) -> Value {
    fit_json_in(o, &Library)
}

/// The `fit --json` object with the settings its messages name written in `vocabulary`'s
/// words: the CLI's flags for `descent fit --json`, Python's keyword arguments for
/// `fit_report_`. `ols_mse`, `ols_r2` and `ols_note` hold the reference's figures whatever
/// the reference (OLS or ridge; the note for any): they keep their first names, and
/// `reference_mse`, `reference_r2` and `reference_note` repeat them under names that say so.
pub fn fit_json_in(o: &crate::fitting::FitOutcome, vocabulary: &dyn Vocabulary) -> Value {
    let f = &o.fit;
    let note = o.reference_note.as_ref().map(|n| n.render(vocabulary));
    let is_ols = o.reference_kind == crate::reference::ReferenceKind::Ols;
    let mut v = json!({
        "weights": coefficients_json(&f.weights),
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
        "reference_weights": o.reference.as_ref().map(coefficients_json),
        "reference_objective": o.reference_objective,
        "distance_to_reference": o.distance_to_reference,
        "kkt_residual": o.kkt_residual,
        "check": o.check,
        "objective_gap_bound": o.objective_gap_bound,
        "distance_bound": o.distance_bound,
        "stages": o.stages,
        "ols": o.reference.as_ref().filter(|_| is_ols).map(coefficients_json),
        "ols_note": note,
        "reference_note": note,
        "warnings": o.warnings.iter().map(|w| json!({
            "kind": w.kind,
            "message": w.message.render(vocabulary),
        })).collect::<Vec<_>>(),
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
            "ols_mse": o.reference_mse,
            "ols_r2": o.reference_r2,
            "reference_mse": o.reference_mse,
            "reference_r2": o.reference_r2,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_output_reports_as_the_flat_list_k_outputs_by_feature() {
        let one = Coefficients::single(vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(coefficients_json(&one), json!([1.0, 2.0, 3.0]));
        let two = Coefficients::from_flat(2, 2, vec![1.0, 2.0, 10.0, 20.0, 11.0, 21.0]).unwrap();
        assert_eq!(
            coefficients_json(&two),
            json!({"intercepts": [1.0, 2.0], "weights": [[10.0, 20.0], [11.0, 21.0]]})
        );
    }
}
