//! Every optimizer and step schedule on the real WGSL (lavapipe in CI, and llvmpipe through
//! wgpu's GL backend in a second run) against the CPU twin, epoch by epoch, with the model's
//! penalties, in f32 and f64; and Nesterov's adaptive restart, on a problem where it fires,
//! in f32 too.

use crate::common;
use common::{assert_runs_agree, fresh_seed, gpu, has_f64, max_abs, runs_agree, Tol};
use descent::cpu::{partial_sums, Fused};
use descent::data::{synthetic, Synthetic};
use descent::engine::{stepper, StepOutcome};
use descent::gpu::{GpuOptions, KernelChoice, Reduction};
use descent::model::{
    Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind, Schedule, ScheduleKind,
};
use descent::{Backend, Dataset, GdConfig, Precision, Solver};

fn problem(seed: u64, n: usize, p: usize) -> Dataset {
    synthetic(&Synthetic {
        n,
        p,
        true_weights: None,
        sigma: 0.3,
        seed,
    })
    .unwrap()
    .0
}

fn kernels() -> Vec<GpuOptions> {
    [KernelChoice::Resident, KernelChoice::Multi]
        .into_iter()
        .map(|kernel| GpuOptions {
            kernel,
            reduction: Some(Reduction::Tree),
        })
        .collect()
}

/// Nesterov's adaptive restart is a sign test, (y − x⁺)·(x⁺ − x) > 0, on a product that
/// passes through zero at every restart: in f32 the GPU's and the CPU's roundings may put
/// one restart an epoch apart, after which the two runs follow different (equally right)
/// paths. So this test's f32 runs take Nesterov with a fixed momentum (no decision to tie);
/// the restart in f32 has a test of its own, which looks at each decision's margin
/// (`nesterov_restart_matches_the_cpu_in_f32_and_f64`).
fn momentum(kind: OptimizerKind, precision: Precision) -> Option<f64> {
    (kind == OptimizerKind::Nesterov && precision == Precision::F32).then_some(0.9)
}

#[test]
fn every_optimizer_and_schedule_matches_the_cpu_epoch_by_epoch() {
    let seed = fresh_seed("optimizers gpu vs cpu");
    let f64_ok = gpu().context().has(wgpu::Features::SHADER_F64);
    let ds = problem(seed, 517, 4);
    let schedules = [
        (Schedule::CONSTANT, None),
        (
            Schedule::new(ScheduleKind::InvScaling, Some(0.5)).unwrap(),
            None,
        ),
        (
            Schedule::new(ScheduleKind::Adaptive, None).unwrap(),
            Some(3),
        ),
    ];
    let models = [
        Model::LEAST_SQUARES,
        Model {
            loss: Loss::Squared,
            penalty: Penalty::new(PenaltyKind::ElasticNet, Some(0.05), None).unwrap(),
        },
    ];
    for kind in OptimizerKind::ALL {
        for (schedule, stall) in schedules {
            for model in models {
                let mu = match kind {
                    OptimizerKind::Adam => 0.02,
                    _ => 0.5 / model.smoothness(&ds).unwrap(),
                };
                for precision in [Precision::F64, Precision::F32] {
                    if precision == Precision::F64 && !f64_ok {
                        eprintln!("SKIPPED: no SHADER_F64 (f64 part of {kind})");
                        continue;
                    }
                    let cfg = GdConfig {
                        model,
                        optimizer: Optimizer::new(
                            kind,
                            momentum(kind, precision),
                            None,
                            None,
                            None,
                        )
                        .unwrap(),
                        schedule,
                        n_iter_no_change: stall,
                        loss_tol: 1e-3,
                        mu,
                        epochs: 120,
                        precision,
                        record_loss: true,
                        ..GdConfig::default()
                    };
                    let what = format!(
                        "{kind} {:?} {:?} {precision}",
                        schedule.kind, model.penalty.kind
                    );
                    for opts in kernels() {
                        let what = format!("{what} {opts:?}");
                        assert_runs_agree(&gpu().with_options(opts), &ds, &cfg, 1e-10, &what);
                    }
                }
            }
        }
    }
}

/// The penalty and the optimizer are picked at run time (`params.penalty`,
/// `params.optimizer`): one compiled build fits models with every penalty and every
/// optimizer in turn, each switching from a different pair, on both full-batch plans, and
/// each run matches its CPU twin epoch by epoch. A fresh device counts its builds: one.
#[test]
fn one_build_runs_every_penalty_and_optimizer_in_turn() {
    use descent::gpu::{AdapterChoice, GpuContext, GpuProblem};
    use std::sync::Arc;
    let ctx = Arc::new(GpuContext::new(&AdapterChoice::Auto).unwrap());
    let precision = if ctx.has(wgpu::Features::SHADER_F64) {
        Precision::F64
    } else {
        eprintln!("SKIPPED: no SHADER_F64 (one build, f32 only)");
        Precision::F32
    };
    let ds = problem(fresh_seed("one build, every choice"), 301, 3);
    // Each penalty meets two optimizers and each optimizer two penalties; consecutive runs
    // differ in both.
    let pairs = [
        (PenaltyKind::ElasticNet, OptimizerKind::Nesterov),
        (PenaltyKind::None, OptimizerKind::Adam),
        (PenaltyKind::L1, OptimizerKind::Momentum),
        (PenaltyKind::L2, OptimizerKind::Gd),
        (PenaltyKind::ElasticNet, OptimizerKind::Adam),
        (PenaltyKind::L1, OptimizerKind::Nesterov),
        (PenaltyKind::None, OptimizerKind::Momentum),
        (PenaltyKind::L2, OptimizerKind::Nesterov),
        (PenaltyKind::None, OptimizerKind::Gd),
    ];
    for opts in kernels() {
        for (penalty, kind) in pairs {
            let alpha = (penalty != PenaltyKind::None).then_some(0.05);
            let model = Model {
                loss: Loss::Squared,
                penalty: Penalty::new(penalty, alpha, None).unwrap(),
            };
            let cfg = GdConfig {
                model,
                optimizer: Optimizer::new(kind, momentum(kind, precision), None, None, None)
                    .unwrap(),
                mu: match kind {
                    OptimizerKind::Adam => 0.02,
                    _ => 0.5 / model.smoothness(&ds).unwrap(),
                },
                epochs: 60,
                precision,
                record_loss: true,
                ..GdConfig::default()
            };
            let what = format!("{penalty} {kind} {precision} {opts:?}");
            let cpu = Fused.fit(&ds, &cfg).unwrap();
            let run = GpuProblem::new(ctx.clone(), &ds, &cfg, opts)
                .unwrap()
                .solve()
                .unwrap();
            assert_eq!(run.status.epoch as usize, cpu.epochs_run, "{what}");
            let tol = Tol::of(&ds, &cfg, 1e-10, cfg.epochs);
            let dl = tol.loss_diff(&run.loss.unwrap(), &cpu.loss_history.unwrap());
            assert!(dl < tol.value(), "{what}: loss {dl:e} ≥ {tol:?}");
            if let Err(e) = tol.weights(&run.weights, &cpu.weights) {
                panic!("{what}: {e}");
            }
        }
    }
    assert_eq!(
        ctx.kernels_built(),
        1,
        "builds for {} runs",
        2 * pairs.len()
    );
}

/// One epoch's restart test as the CPU twin took it: the product (y − x⁺)·(x⁺ − x) (a
/// restart when > 0) and how far a twin's rounding may move it.
struct RestartTest {
    product: f64,
    rounding: f64,
    /// A restart whose β = 0 the next point shows.
    shown: bool,
}

/// The CPU twin's run of `cfg` (no penalty: x⁺ = y + mu·g), replayed epoch by epoch from the
/// engine's own stepper and fused sums (checked against the twin's fit), with each epoch's
/// restart test; `tol` is how far twin iterates may lie apart. Where the product is
/// positive, the stepper's next point must be x⁺ itself (β = 0: it did restart); where
/// x⁺ − x is far from zero too (β > 0 would have moved it visibly) the restart is `shown`:
/// it fired, it was not merely predicted here.
fn restart_tests(ds: &Dataset, cfg: &GdConfig, tol: Tol) -> Vec<RestartTest> {
    let (n, p) = (ds.n(), ds.p());
    let f = cfg.mu * cfg.model.loss.grad_scale() / n as f64;
    let mut s = stepper(cfg, n, p).unwrap();
    let mut x = vec![0.0; p + 1];
    let mut tests = Vec::new();
    loop {
        let y = s.point();
        let sums = partial_sums(Backend::Fused, ds, 0..n, cfg, &y).unwrap();
        let next: Vec<f64> = y.iter().zip(&sums.grad).map(|(y, g)| y + f * g).collect();
        let (mut product, mut size) = (0.0, 0.0);
        for ((y, nx), x) in y.iter().zip(&next).zip(&x) {
            product += (y - nx) * (nx - x);
            size += ((y - nx) * (nx - x)).abs();
        }
        // Twin iterates part by a slow drift (`Tol`'s model: within `tol` of their size),
        // so the differences of successive iterates, the factors here, carry that relative
        // error too: each term is off by up to 2·tol of itself.
        let rounding = 2.0 * tol.value() * size;
        let stop = s.step(&sums);
        let mut shown = false;
        if product > rounding {
            let step = max_abs(&next.iter().zip(&x).map(|(a, b)| a - b).collect::<Vec<_>>());
            let off = max_abs(
                &s.point()
                    .iter()
                    .zip(&next)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>(),
            );
            let what = format!("{} epoch {}", cfg.precision, tests.len());
            assert!(
                off <= 1e-5 * max_abs(&next),
                "{what}: no restart, y − x⁺ = {off:e}"
            );
            // Shown, not just taken: β > 0 would have put y β·|x⁺ − x| from x⁺, here over
            // 1000 times the distance seen.
            shown = step > 1e3 * off;
        }
        tests.push(RestartTest {
            product,
            rounding,
            shown,
        });
        x = next;
        if let StepOutcome::Stop(_) = stop {
            // The replay is the CPU twin's run.
            let twin = Fused.fit(ds, cfg).unwrap();
            tol.weights(&s.finish().weights, &twin.weights)
                .unwrap_or_else(|e| panic!("{} replay vs fused: {e}", cfg.precision));
            return tests;
        }
    }
}

/// Nesterov's adaptive restart on the GPU against the CPU twin, in f32 (so on GL too) and in
/// f64 where the adapter has it, on a problem where it fires. The CPU twin's replay
/// ([`restart_tests`]) shows the restarts fired and gives each decision's margin: runs are
/// compared over the epochs before the first decision within rounding (all of them, when
/// none is — the usual case), with the f32 error model's tolerances ([`Tol`]).
#[test]
fn nesterov_restart_matches_the_cpu_in_f32_and_f64() {
    let seed = fresh_seed("nesterov restart");
    let ds = common::problem(Loss::Squared, 1_000, 4, seed);
    let mut precisions = vec![Precision::F32];
    if has_f64("nesterov_restart_matches_the_cpu_in_f32_and_f64") {
        precisions.push(Precision::F64);
    }
    for precision in precisions {
        let model = Model::LEAST_SQUARES;
        let cfg = GdConfig {
            model,
            optimizer: Optimizer::new(OptimizerKind::Nesterov, None, None, None, None).unwrap(),
            mu: 1.0 / model.smoothness(&ds).unwrap(),
            epochs: 150,
            precision,
            record_loss: true,
            ..GdConfig::default()
        };
        let tol = Tol::of(&ds, &cfg, 1e-10, cfg.epochs);
        let tests = restart_tests(&ds, &cfg, tol);
        assert_eq!(tests.len(), cfg.epochs);
        let cap = tests
            .iter()
            .position(|t| t.product.abs() <= t.rounding)
            .map_or(cfg.epochs, |k| k + 1);
        let restarts = tests[..cap].iter().filter(|t| t.shown).count();
        eprintln!("{precision}: {restarts} restarts in the {cap} epochs compared");
        assert!(restarts >= 1, "{precision}: no restart in {cap} epochs");
        let capped = GdConfig {
            epochs: cap,
            ..cfg.clone()
        };
        for opts in kernels() {
            let what = format!("nesterov restart {precision} {opts:?}");
            runs_agree(
                &gpu().with_options(opts),
                &Fused,
                &ds,
                &capped,
                1e-10,
                &what,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
