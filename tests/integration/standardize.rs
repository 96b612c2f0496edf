//! Standardization reads the stored features through a column transform instead of copying
//! them. Every backend must fit such a view exactly as it fits a z-scored copy built here,
//! bit for bit: the same weights and the same loss at every epoch, in f32 and f64, from f64
//! and f32 storage, full batch (the fused kernel's block buffers and threads) and in
//! mini-batches (its per-row loads).

use crate::common;
use descent::data::Scaling;
use descent::gpu::AdapterChoice;
use descent::model::{Loss, Model, Penalty, PenaltyKind};
use descent::{make_solver, Backend, Dataset, GdConfig, Precision, Solver};
use ndarray::{Array1, Array2};

/// Offset, scaled columns (the case standardization is for), stored as f64 or f32, and
/// their means and standard deviations computed here.
fn offset_table(
    loss: Loss,
    n: usize,
    p: usize,
    f32_storage: bool,
    seed: u64,
) -> (Dataset, Scaling) {
    let base = common::problem(loss, n, p, seed);
    let x = base.features.to_f64();
    let mut raw = Array2::<f64>::zeros((n, p));
    for ((i, j), v) in raw.indexed_iter_mut() {
        *v = 1_000.0 * (j as f64 + 1.0) + 40.0 * x[(i, j)];
    }
    let ds = if f32_storage {
        Dataset::new(raw.mapv(|v| v as f32), base.targets.clone()).unwrap()
    } else {
        Dataset::new(raw, base.targets.clone()).unwrap()
    };
    let col = |j| ds.features.column(j);
    let means: Vec<f64> = (0..p).map(|j| col(j).sum::<f64>() / n as f64).collect();
    let stds: Vec<f64> = (0..p)
        .map(|j| (col(j).map(|v| (v - means[j]).powi(2)).sum::<f64>() / n as f64).sqrt())
        .collect();
    (ds, Scaling { means, stds })
}

/// The z-scored copy, formed as the transform promises: (x − mean)/std in f64.
fn copied(ds: &Dataset, s: &Scaling) -> Dataset {
    let x = ds.features.to_f64();
    let z = Array2::from_shape_fn(x.dim(), |(i, j)| (x[(i, j)] - s.means[j]) / s.stds[j]);
    Dataset::new(z, ds.targets.clone()).unwrap()
}

fn cfg(loss: Loss, precision: Precision, batch: Option<usize>) -> GdConfig {
    GdConfig {
        model: Model {
            loss,
            penalty: Penalty::new(PenaltyKind::L2, Some(1e-3), None).unwrap(),
        },
        precision,
        mu: 0.05,
        epochs: 12,
        batch_size: batch,
        record_loss: true,
        ..GdConfig::default()
    }
}

fn assert_same_fit(
    solver: &dyn Solver,
    view: &Dataset,
    copy: &Dataset,
    cfg: &GdConfig,
    what: &str,
) {
    let a = solver.fit(view, cfg).unwrap();
    let b = solver.fit(copy, cfg).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.weights), bits(&b.weights), "{what}: weights");
    assert_eq!(
        a.loss_history.as_deref().map(bits),
        b.loss_history.as_deref().map(bits),
        "{what}: loss history"
    );
    assert_eq!(a.epochs_run, b.epochs_run, "{what}");
    assert!(a.weights.iter().all(|w| w.is_finite()), "{what}");
}

fn each_case(backend: Backend, solver: &dyn Solver, n: usize, f64_ok: bool) {
    let seed = common::fresh_seed("standardize_view");
    for loss in [Loss::Squared, Loss::Logistic] {
        for f32_storage in [false, true] {
            // Full batch on all n rows; mini-batches (per-row loads, 47 batches an epoch) on
            // the first 3 000.
            for (rows, batch) in [(n, None), (n.min(3_000), Some(64))] {
                let (ds, scaling) = offset_table(loss, rows, 12, f32_storage, seed);
                let view = ds.standardized(scaling.clone()).unwrap();
                assert!(view.features.slice::<f64>().is_none());
                assert!(view.features.slice::<f32>().is_none());
                let copy = copied(&ds, &scaling);
                for precision in [Precision::F64, Precision::F32] {
                    if precision == Precision::F64 && !f64_ok {
                        continue;
                    }
                    let what = format!(
                        "{backend} {precision} {loss:?} f32 storage {f32_storage} batch {batch:?}"
                    );
                    assert_same_fit(solver, &view, &copy, &cfg(loss, precision, batch), &what);
                }
            }
        }
    }
}

/// n = 40 000 rows of 12 columns: more than one block of 16 384 rows, and enough work per
/// epoch that `fused` splits rows over threads.
#[test]
fn every_cpu_backend_fits_a_standardized_view_as_a_z_scored_copy() {
    for backend in [Backend::Naive, Backend::Ndarray, Backend::Fused] {
        let solver = make_solver(backend, &AdapterChoice::Auto).unwrap();
        let n = if backend == Backend::Fused {
            40_000
        } else {
            3_000
        };
        each_case(backend, solver.as_ref(), n, true);
    }
}

#[test]
fn the_gpu_fits_a_standardized_view_as_a_z_scored_copy() {
    let f64_ok = common::has_f64("the_gpu_fits_a_standardized_view_as_a_z_scored_copy");
    each_case(Backend::Gpu, common::gpu(), 1_000, f64_ok);
}

/// The view shares the stored values (nothing copied) and reads them transformed everywhere.
#[test]
fn a_standardized_view_shares_its_values_and_reads_them_transformed() {
    let (ds, s) = offset_table(Loss::Squared, 50, 3, true, 7);
    let view = ds.standardized(s.clone()).unwrap();
    let copy = copied(&ds, &s);
    assert_eq!(
        view.features.stored::<f32>().map(<[f32]>::as_ptr),
        ds.features.slice::<f32>().map(<[f32]>::as_ptr)
    );
    assert_eq!(view.features.to_f64(), copy.features.to_f64());
    assert!(view.features.iter().eq(copy.features.iter()));
    assert!((0..3).all(|j| view.features.column(j).eq(copy.features.column(j))));
    assert_eq!(
        view.features.rows_f64(10..20),
        copy.features.rows_f64(10..20)
    );
    assert_eq!(view.features.get(4, 2), copy.features.get(4, 2));
    let mut rows = Vec::new();
    view.features.for_each_row(|_, r| rows.extend_from_slice(r));
    assert!(rows.iter().copied().eq(copy.features.iter()));
    let picked = view.features.select_columns(&[2, 0]);
    assert_eq!(
        picked.to_f64(),
        copy.features.select_columns(&[2, 0]).to_f64()
    );
    assert_eq!(view.targets, Array1::from(copy.targets.to_vec()));
}
