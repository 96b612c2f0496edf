//! criterion: every backend over N ∈ {1e3, 1e4, 1e5, 1e6} × p ∈ {1, 16} at fixed epochs.
//! The GPU is measured twice: `gpu_solve` (data already on the device: reset, epochs,
//! read-back of the weights) and `gpu_end_to_end` (upload + solve + read-back).
//! The `logistic` group runs the `reproduce --workload logistic` model (logistic loss, L2
//! α = 1e-4, mu = 3.9, the same generator) at N = 1e5, p = 32 for 10 epochs on every backend
//! in f64 and f32 (the GPU solve-only, f64 where the adapter has it).
//! The `minibatch_logistic` group runs the `reproduce --workload minibatch` fit (the same data
//! and model by mini-batch SGD: B = 256, mu = 0.02, shuffle seed 444, 10 epochs) on the CPU
//! backends and the GPU (solve-only) in f64 and f32, at N = 1e5 unless DESCENT_BENCH_MAX_N
//! asks for more (up to the workload's 1e6).
//!
//! The adapter follows wgpu's conventions (WGPU_ADAPTER_NAME, WGPU_BACKEND). On a CPU
//! adapter such as lavapipe the GPU groups stop at N = 1e5 so `cargo bench` stays within
//! minutes; DESCENT_BENCH_MAX_N overrides the largest N for every group.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use descent::cpu::{Fused, Naive, NdarrayGd};
use descent::data::{synthetic, Dataset, Synthetic};
use descent::gpu::{AdapterChoice, GpuSolver};
use descent::reproduce::{Workload, WorkloadKind};
use descent::{GdConfig, Precision, Solver};
use std::hint::black_box;
use std::time::Duration;

const EPOCHS: usize = 20;
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const FEATURES: [usize; 2] = [1, 16];

fn problem(n: usize, p: usize) -> Dataset {
    synthetic(&Synthetic {
        n,
        p,
        true_weights: None,
        sigma: 0.1,
        seed: 444,
    })
    .expect("valid synthetic problem")
    .0
}

fn config(p: usize, precision: Precision) -> GdConfig {
    GdConfig {
        mu: 0.5 / (1.0 + p as f64 * (p as f64 + 1.0) / 4.0),
        epochs: EPOCHS,
        precision,
        ..GdConfig::default()
    }
}

/// The largest N a group runs: DESCENT_BENCH_MAX_N, else `default`, else (when `cargo test`
/// runs this file once as a smoke test, without `--bench`) at most 10⁴: every group and
/// backend still runs, in seconds instead of a minute of CI.
fn max_n(default: usize) -> usize {
    let smoke = !std::env::args().any(|a| a == "--bench");
    std::env::var("DESCENT_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { default.min(10_000) } else { default })
}

fn cpu_groups(c: &mut Criterion) {
    let solvers: [(&str, &dyn Solver); 3] = [
        ("naive", &Naive),
        ("ndarray", &NdarrayGd),
        ("fused", &Fused),
    ];
    for (name, solver) in solvers {
        let mut group = c.benchmark_group(name);
        for &p in &FEATURES {
            for &n in SIZES.iter().filter(|&&n| n <= max_n(1_000_000)) {
                let ds = problem(n, p);
                let cfg = config(p, Precision::F64);
                group.throughput(Throughput::Elements((n * EPOCHS) as u64));
                group.bench_with_input(BenchmarkId::new(format!("f64/p{p}"), n), &ds, |b, ds| {
                    b.iter(|| black_box(solver.fit(ds, &cfg).expect("cpu fit")))
                });
            }
        }
        group.finish();
    }
}

fn gpu_groups(c: &mut Criterion) {
    let gpu = match GpuSolver::new(&AdapterChoice::Auto) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("gpu benches skipped: {e}");
            return;
        }
    };
    let info = &gpu.context().info;
    let software = info.device_type == "Cpu";
    let limit = max_n(if software { 100_000 } else { 1_000_000 });
    eprintln!(
        "gpu benches on {} ({}), N up to {limit}",
        info.name, info.backend
    );
    for precision in [Precision::F32, Precision::F64] {
        if precision == Precision::F64 && !info.shader_f64 {
            continue;
        }
        let mut solve = c.benchmark_group("gpu_solve");
        for &p in &FEATURES {
            for &n in SIZES.iter().filter(|&&n| n <= limit) {
                let ds = problem(n, p);
                let cfg = config(p, precision);
                let prepared = gpu.prepare(&ds, &cfg).expect("gpu upload");
                solve.throughput(Throughput::Elements((n * EPOCHS) as u64));
                solve.bench_function(BenchmarkId::new(format!("{precision}/p{p}"), n), |b| {
                    b.iter(|| black_box(prepared.solve().expect("gpu solve")))
                });
            }
        }
        solve.finish();
        let mut e2e = c.benchmark_group("gpu_end_to_end");
        for &p in &FEATURES {
            for &n in SIZES.iter().filter(|&&n| n <= limit) {
                let ds = problem(n, p);
                let cfg = config(p, precision);
                e2e.throughput(Throughput::Elements((n * EPOCHS) as u64));
                e2e.bench_with_input(
                    BenchmarkId::new(format!("{precision}/p{p}"), n),
                    &ds,
                    |b, ds| b.iter(|| black_box(gpu.fit(ds, &cfg).expect("gpu fit"))),
                );
            }
        }
        e2e.finish();
    }
}

const LOGISTIC_N: usize = 100_000;
const LOGISTIC_EPOCHS: usize = 10;

fn logistic_group(c: &mut Criterion) {
    let mut w = Workload::named(WorkloadKind::Logistic);
    w.n = max_n(LOGISTIC_N).min(LOGISTIC_N);
    let ds = w.dataset().expect("logistic workload data");
    let cfg = |precision| GdConfig {
        model: w.model,
        mu: w.mu,
        epochs: LOGISTIC_EPOCHS,
        precision,
        ..GdConfig::default()
    };
    let gpu = GpuSolver::new(&AdapterChoice::Auto)
        .map_err(|e| eprintln!("logistic gpu bench skipped: {e}"))
        .ok();
    let mut group = c.benchmark_group("logistic");
    group.throughput(Throughput::Elements((w.n * LOGISTIC_EPOCHS) as u64));
    let solvers: [(&str, &dyn Solver); 3] = [
        ("naive", &Naive),
        ("ndarray", &NdarrayGd),
        ("fused", &Fused),
    ];
    for precision in [Precision::F64, Precision::F32] {
        let cfg = cfg(precision);
        for (name, solver) in solvers {
            let id = BenchmarkId::new(format!("{name}/{precision}/p{}", w.features), w.n);
            group.bench_function(id, |b| {
                b.iter(|| black_box(solver.fit(&ds, &cfg).expect("cpu fit")))
            });
        }
        let Some(gpu) = &gpu else { continue };
        if precision == Precision::F64 && !gpu.context().info.shader_f64 {
            continue;
        }
        match gpu.prepare(&ds, &cfg) {
            Ok(prepared) => {
                let id = BenchmarkId::new(format!("gpu_solve/{precision}/p{}", w.features), w.n);
                group.bench_function(id, |b| {
                    b.iter(|| black_box(prepared.solve().expect("gpu solve")))
                });
            }
            Err(e) => eprintln!("logistic gpu {precision} skipped: {e}"),
        }
    }
    group.finish();
}

const MINIBATCH_N: usize = 100_000;

fn minibatch_logistic_group(c: &mut Criterion) {
    let mut w = Workload::named(WorkloadKind::Minibatch);
    // The default keeps `cargo bench` quick; DESCENT_BENCH_MAX_N=1000000 is the full workload.
    w.n = max_n(MINIBATCH_N).min(w.n);
    let ds = w.dataset().expect("minibatch workload data");
    let gpu = GpuSolver::new(&AdapterChoice::Auto)
        .map_err(|e| eprintln!("minibatch gpu bench skipped: {e}"))
        .ok();
    let mut group = c.benchmark_group("minibatch_logistic");
    group.throughput(Throughput::Elements((w.n * w.epochs) as u64));
    let solvers: [(&str, &dyn Solver); 3] = [
        ("naive", &Naive),
        ("ndarray", &NdarrayGd),
        ("fused", &Fused),
    ];
    for precision in [Precision::F64, Precision::F32] {
        let cfg = GdConfig {
            model: w.model,
            mu: w.mu,
            epochs: w.epochs,
            batch_size: w.batch_size,
            shuffle_seed: w.shuffle_seed,
            precision,
            ..GdConfig::default()
        };
        let id = |name: &str| {
            BenchmarkId::new(
                format!(
                    "{name}/{precision}/p{}/B{}",
                    w.features,
                    w.batch_size.unwrap_or(w.n)
                ),
                w.n,
            )
        };
        for (name, solver) in solvers {
            group.bench_function(id(name), |b| {
                b.iter(|| black_box(solver.fit(&ds, &cfg).expect("cpu fit")))
            });
        }
        let Some(gpu) = &gpu else { continue };
        if precision == Precision::F64 && !gpu.context().info.shader_f64 {
            continue;
        }
        match gpu.prepare(&ds, &cfg) {
            Ok(prepared) => group.bench_function(id("gpu_solve"), |b| {
                b.iter(|| black_box(prepared.solve().expect("gpu solve")))
            }),
            Err(e) => {
                eprintln!("minibatch gpu {precision} skipped: {e}");
                continue;
            }
        };
    }
    group.finish();
}

fn quick() -> Criterion {
    // Small samples keep a full `cargo bench` within minutes on a 2-core machine.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = cpu_groups, gpu_groups, logistic_group, minibatch_logistic_group
}
criterion_main!(benches);
