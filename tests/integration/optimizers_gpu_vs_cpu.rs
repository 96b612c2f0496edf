//! Every optimizer and step schedule on the real WGSL (lavapipe in CI) against the CPU twin,
//! epoch by epoch, with the model's penalties, in f32 and f64; and nesterov's speed-up on an
//! ill-conditioned table holds on the GPU too.

use crate::common;
use common::{assert_runs_agree, fresh_seed, gpu, max_rel_diff};
use descent::cpu::Fused;
use descent::data::{synthetic, Synthetic};
use descent::gpu::{GpuOptions, KernelChoice, Reduction};
use descent::model::{
    Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind, Schedule, ScheduleKind,
};
use descent::{Dataset, GdConfig, Precision, Solver};

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
/// paths. So f32 checks Nesterov with a fixed momentum (no decision to tie), and the
/// restart rule is checked in f64, where such a tie is never within 1e-10.
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
                for (precision, tol) in [(Precision::F64, 1e-10), (Precision::F32, 5e-4)] {
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
                    let cpu = Fused.fit(&ds, &cfg).unwrap();
                    let what = format!(
                        "{kind} {:?} {:?} {precision}",
                        schedule.kind, model.penalty.kind
                    );
                    for opts in kernels() {
                        let g = gpu().with_options(opts).fit(&ds, &cfg).unwrap();
                        assert_runs_agree(&g, &cpu, &cfg, tol, &format!("{what} {opts:?}"));
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
    let (precision, tol) = if ctx.has(wgpu::Features::SHADER_F64) {
        (Precision::F64, 1e-10)
    } else {
        eprintln!("SKIPPED: no SHADER_F64 (one build, f32 only)");
        (Precision::F32, 5e-4)
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
            let dl = max_rel_diff(&run.loss.unwrap(), &cpu.loss_history.unwrap());
            assert!(dl < tol, "{what}: loss {dl:e}");
            let dw = max_rel_diff(&run.weights, &cpu.weights);
            assert!(dw < tol, "{what}: weights {dw:e}");
        }
    }
    assert_eq!(
        ctx.kernels_built(),
        1,
        "builds for {} runs",
        2 * pairs.len()
    );
}
