//! Shared test helpers: the numpy reference file, fresh seeds, the shared GPU.
#![allow(dead_code)]

use descent::gpu::{AdapterChoice, GpuSolver, SOFTWARE_ADAPTER_HINT};
use serde_json::Value;
use std::sync::OnceLock;

/// numpy's reference values (tests/fixtures/article.json, copied from shared/reference).
pub fn reference() -> Value {
    let text = include_str!("../../fixtures/article.json");
    serde_json::from_str(text).expect("fixture is valid JSON")
}

pub fn pair(v: &Value) -> [f64; 2] {
    [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()]
}

/// A seed that changes every run (set DESCENT_TEST_SEED to replay one); printed so a
/// failure can be reproduced.
pub fn fresh_seed(tag: &str) -> u64 {
    let seed = std::env::var("DESCENT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{tag}: DESCENT_TEST_SEED={seed}");
    seed
}

/// The one GPU solver all tests share. No adapter is a failure, not a skip: CI installs
/// lavapipe, and a machine without one is told how to get it.
pub fn gpu() -> &'static GpuSolver {
    static GPU: OnceLock<GpuSolver> = OnceLock::new();
    GPU.get_or_init(|| {
        GpuSolver::new(&AdapterChoice::Auto)
            .unwrap_or_else(|e| panic!("GPU tests need an adapter: {e}\n{SOFTWARE_ADAPTER_HINT}"))
    })
}

/// The shared adapter as the SKIPPED lines name it: "name [backend]".
pub fn adapter_name() -> String {
    let info = &gpu().context().info;
    format!("{} [{}]", info.name, info.backend)
}

/// Whether the shared adapter runs f64 shaders. When it does not (wgpu's GL backend, most
/// non-Vulkan adapters), says so on stderr for `test`: a skipped part is never silent.
pub fn has_f64(test: &str) -> bool {
    if gpu().context().has(wgpu::Features::SHADER_F64) {
        return true;
    }
    eprintln!(
        "SKIPPED: {} has no SHADER_F64 (f64 part of {test})",
        adapter_name()
    );
    false
}

/// Every kernel × reduction the shared adapter can run.
pub fn variants() -> Vec<descent::gpu::GpuOptions> {
    use descent::gpu::{GpuOptions, KernelChoice, Reduction};
    let mut reductions = vec![Reduction::Tree];
    if gpu().context().has(wgpu::Features::SUBGROUP) {
        reductions.push(Reduction::Subgroup);
    }
    let mut v = Vec::new();
    for kernel in [KernelChoice::Resident, KernelChoice::Multi] {
        for &r in &reductions {
            v.push(GpuOptions {
                kernel,
                reduction: Some(r),
            });
        }
    }
    v
}

/// The larger of `a` and `b`, NaN if either is. `f64::max` returns the other operand for a
/// NaN, so a fold with it drops NaNs: a NaN loss history would compare as a perfect match.
/// Every comparison folds with this instead, so an assertion `diff < tol` fails on NaN.
pub fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The smaller of `a` and `b`, NaN if either is (see [`nan_max`]).
pub fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// max_i |a_i − b_i| / max(1, |b_i|); NaN if any value is NaN or the lengths differ, so
/// that `max_rel_diff(a, b) < tol` fails for both.
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::NAN;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, nan_max)
}

/// max_i |v_i| (0 for none); NaN if any value is NaN.
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| nan_max(m, x.abs()))
}

/// Bad input as the CLI must report it: a non-zero exit that is not a panic, nothing on
/// stdout, and exactly one non-empty stderr line containing `needle`.
pub fn one_error_line(out: &std::process::Output, what: &str, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what} should fail");
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {err}");
    assert!(
        out.stdout.is_empty(),
        "{what} printed to stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: {err}");
    assert!(err.contains(needle), "{what}: wanted {needle:?} in {err}");
}

/// Write `content` to `dir/name` and return the path as a string.
pub fn write_file(dir: &std::path::Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// The first epoch whose `n_iter_no_change` decision (scikit-learn's rule: a stall when
/// J > best − `loss_tol`) lies within `margin`·max(|J|, 1) of its threshold in `history`.
/// Two runs whose sums round differently (the GPU's tree against the CPU's blocks, in f32)
/// may decide such an epoch differently, and then follow different schedules: they can
/// only be compared up to it. `None` when every decision is clear (or there is no rule).
pub fn first_borderline_stall(
    history: &[f64],
    stall_limit: Option<usize>,
    loss_tol: f64,
    margin: f64,
) -> Option<usize> {
    stall_limit?;
    let mut best = f64::INFINITY;
    for (epoch, &j) in history.iter().enumerate() {
        if (j - (best - loss_tol)).abs() <= margin * j.abs().max(1.0) {
            return Some(epoch);
        }
        best = best.min(j);
    }
    None
}

/// A GPU run and a CPU run of the same fit agree: the same epochs run and stop reason, loss
/// histories and weights within `tol` (relative). Where a stall decision of the CPU's history
/// is within `tol` of its threshold ([`first_borderline_stall`]), only the histories up to
/// and including that epoch are compared, and the note says so.
pub fn assert_runs_agree(
    gpu: &descent::Fit,
    cpu: &descent::Fit,
    cfg: &descent::GdConfig,
    tol: f64,
    what: &str,
) {
    let (gl, cl) = (
        gpu.loss_history.as_deref().expect("GPU loss history"),
        cpu.loss_history.as_deref().expect("CPU loss history"),
    );
    let stall = cfg.stall_limit();
    if let Some(b) = first_borderline_stall(cl, stall, cfg.loss_tol, tol) {
        eprintln!("NOTE: {what}: the stall decision of epoch {b} is within rounding of its threshold; compared epochs 0..={b}");
        assert!(gl.len() > b, "{what}: the GPU ran {} epochs", gl.len());
        let dl = max_rel_diff(&gl[..=b], &cl[..=b]);
        assert!(dl < tol, "{what}: loss {dl:e} before epoch {b}");
        return;
    }
    assert_eq!(gpu.epochs_run, cpu.epochs_run, "{what}");
    assert_eq!(gpu.stalled, cpu.stalled, "{what}");
    let dl = max_rel_diff(gl, cl);
    assert!(dl < tol, "{what}: loss {dl:e}");
    let dw = max_rel_diff(&gpu.weights, &cpu.weights);
    assert!(dw < tol, "{what}: weights {dw:e}");
}

/// A regression problem, or (for the logistic loss) its signs as 0/1 labels with a share
/// of them flipped so the classes overlap and the unpenalised optimum is finite.
pub fn problem(loss: descent::Loss, n: usize, p: usize, seed: u64) -> descent::Dataset {
    let (ds, _) = descent::data::synthetic(&descent::data::Synthetic {
        n,
        p,
        true_weights: None,
        sigma: 0.5,
        seed,
    })
    .unwrap();
    match loss {
        descent::Loss::Squared => ds,
        descent::Loss::Logistic => {
            let mean = ds.targets.mean().unwrap();
            let labels = ds
                .targets
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    let above = t > mean;
                    // Every 7th label flipped: overlapping classes.
                    if (above as usize + (i % 7 == 0) as usize) % 2 == 1 {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            descent::Dataset::with_names(ds.features, labels, ds.feature_names).unwrap()
        }
    }
}
