//! WGSL assembly and pipelines. One source set in shaders/ serves f32 and f64, any feature
//! count and both reduction flavours: a short generated prelude fixes the scalar type, P,
//! the bounds and sizes, and declares the bindings (from [`BINDINGS`]); the reduction file
//! and entry-point arguments pick the reduction. The loss and the precision shape the
//! per-row work and are compiled in; every build holds every penalty and optimizer, picked
//! at run time by `params.penalty` and `params.optimizer` (as the schedule is), so one build
//! serves them all.

use crate::model::{Loss, OptimizerKind, PenaltyKind, ScheduleKind};
use crate::scalar::Precision;
use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup (the WGSL's `WG`, written into the prelude from here).
pub const WG: u32 = 256;

/// Loop passes one invocation may make per dispatch. Mesa's llvmpipe silently ends an
/// invocation after 65 535 passes (all loops together); half of that leaves room for the
/// estimate's slack. Every kernel's work per dispatch is planned under this bound.
pub const LOOP_PASS_BUDGET: u64 = 32_768;

/// Uniform parameters. Keep in sync with `struct Params` in shaders/common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct Params {
    pub n: u32,
    pub groups: u32,
    pub groups_x: u32,
    pub epochs: u32,
    pub epochs_per_dispatch: u32,
    pub check_every: u32,
    pub record_loss: u32,
    pub use_tol: u32,
    pub loss_ring: u32,
    /// 0 constant, 1 invscaling, 2 adaptive.
    pub schedule: u32,
    /// n_iter_no_change (0: none).
    pub stall_limit: u32,
    /// Mini-batch size B (0: full batches).
    pub batch: u32,
    /// Batches one dispatch of the `batches` kernel may run (the loop-pass budget).
    pub batches_per_dispatch: u32,
    /// ⌈n / B⌉.
    pub n_batches: u32,
    /// The row permutation's radices, a·b ≥ n ([`crate::model::batches::radices`]).
    pub perm_a: u32,
    pub perm_b: u32,
    /// [`crate::model::batches::seed_key`] of the shuffle seed.
    pub seed_key: u32,
    /// Tests only ([`crate::gpu::Fault`]): 1 makes the kernels skip their final store of
    /// the weights and optimizer state, as a kernel with a missing write would. 0 otherwise.
    pub fault: u32,
    /// The penalty ([`penalty_code`]) and the optimizer ([`optimizer_code`]): chosen here,
    /// at run time, so one build serves them all.
    pub penalty: u32,
    pub optimizer: u32,
}

/// `Status::epoch` before any kernel has written it (the WGSL's `FRESH`, written into the
/// prelude from here). The host starts every solve from it: the kernels read it as epoch 0
/// and take the starting point (w = 0, the optimizer's initial state) from `coef`, so a
/// status still holding it after a chunk is one no kernel wrote.
pub const FRESH: u32 = u32::MAX;

/// Run state on the device. Keep in sync with `struct Status` in shaders/common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq, Default)]
pub struct Status {
    /// Epochs completed so far; [`FRESH`] until a kernel first writes it.
    pub epoch: u32,
    pub stopped: u32,
    pub diverged_at: u32,
    pub converged: u32,
    pub stalled: u32,
    /// Mini-batches: the next batch of the epoch in progress.
    pub batch: u32,
    pub _pad: [u32; 2],
}

impl Status {
    /// The status a solve starts from: no epoch written yet, no stop.
    pub const START: Status = Status {
        epoch: FRESH,
        stopped: 0,
        diverged_at: 0,
        converged: 0,
        stalled: 0,
        batch: 0,
        _pad: [0; 2],
    };
}

/// How the workgroup sums are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// Shared-memory tree: works everywhere.
    Tree,
    /// subgroupAdd, then one slot per subgroup (needs `Features::SUBGROUP`).
    Subgroup,
}

/// What a shader build depends on: what shapes the per-row work (the loss, the precision,
/// P) and the reduction. The penalty, the optimizer and the schedule are picked at run time
/// from `params` and the model's constants (α, ρ, the step) are data in the `coef` buffer,
/// so changing any of them reuses the compiled pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShaderSpec {
    pub p: u32,
    pub f64: bool,
    pub reduction: Reduction,
    pub loss: Loss,
    /// Mini-batches: the `batches` entry point (shaders/minibatch.wgsl) instead of the
    /// full-batch ones (shaders/kernels.wgsl).
    pub minibatch: bool,
}

impl ShaderSpec {
    /// Every variant for the given feature counts: loss × f32/f64 × reduction × full/mini
    /// batches (16 per feature count). Tests validate and translate each one.
    pub fn variants(ps: &[u32]) -> Vec<ShaderSpec> {
        let mut out = Vec::new();
        for &p in ps {
            for loss in Loss::ALL {
                for f64 in [false, true] {
                    for reduction in [Reduction::Tree, Reduction::Subgroup] {
                        for minibatch in [false, true] {
                            out.push(ShaderSpec {
                                p,
                                f64,
                                reduction,
                                loss,
                                minibatch,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// The article's model (squared loss; any penalty and optimizer) for `p` features.
    pub fn least_squares(p: u32, f64: bool, reduction: Reduction) -> ShaderSpec {
        ShaderSpec {
            p,
            f64,
            reduction,
            loss: Loss::Squared,
            minibatch: false,
        }
    }
}

/// The buffers bound to group 0, one per binding number (the discriminant). Every entry
/// point sees the same bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    X = 0,
    D = 1,
    Coef = 2,
    Weights = 3,
    Partials = 4,
    Loss = 5,
    Status = 6,
    Params = 7,
}

impl Slot {
    /// The `@binding` number.
    pub const fn index(self) -> u32 {
        self as u32
    }
}

/// How a binding is accessed by the shaders (its WGSL address space and wgpu binding type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `var<storage, read>`: a read-only storage buffer.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
    /// `var<uniform>`.
    Uniform,
}

impl Access {
    /// The address space between `var<` and `>`.
    pub const fn wgsl(self) -> &'static str {
        match self {
            Access::Read => "storage, read",
            Access::ReadWrite => "storage, read_write",
            Access::Uniform => "uniform",
        }
    }

    /// The matching wgpu buffer binding type.
    pub const fn buffer_type(self) -> wgpu::BufferBindingType {
        match self {
            Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
            Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
            Access::Uniform => wgpu::BufferBindingType::Uniform,
        }
    }
}

/// One binding of group 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub slot: Slot,
    /// The WGSL variable's name.
    pub name: &'static str,
    /// The WGSL store type (`scalar`, `Coef`, `Weights`, `Status`, `Params` are the shaders'
    /// own).
    pub ty: &'static str,
    pub access: Access,
    /// What the buffer holds (written next to the generated declaration).
    pub doc: &'static str,
}

/// The one list of the kernels' bindings: `shader_source` declares them in WGSL from it,
/// [`Kernels::new`] builds the bind group layout from it, and the dispatcher binds each
/// buffer by its [`Slot`]. Entry `i` is binding `i` (checked at compile time below).
pub const BINDINGS: [Binding; 8] = [
    Binding {
        slot: Slot::X,
        name: "x",
        ty: "array<scalar>",
        access: Access::Read,
        doc: "n×P features, row-major",
    },
    Binding {
        slot: Slot::D,
        name: "d",
        ty: "array<scalar>",
        access: Access::Read,
        doc: "n targets",
    },
    Binding {
        slot: Slot::Coef,
        name: "coef",
        ty: "Coef",
        access: Access::Read,
        doc: "the model's, optimizer's and schedule's constants and the optimizer's starting \
              state (`Coef` in src/gpu/kernels.rs)",
    },
    Binding {
        slot: Slot::Weights,
        name: "weights",
        ty: "Weights",
        access: Access::ReadWrite,
        doc: "the weights, g0 and the optimizer's state (`Weights` in update.wgsl, \
              `WeightsLayout` in src/gpu/kernels.rs); read only once a kernel has written \
              them (status.epoch != FRESH)",
    },
    Binding {
        slot: Slot::Partials,
        name: "partials",
        ty: "array<scalar>",
        access: Access::ReadWrite,
        doc: "per-workgroup sums, K per group",
    },
    Binding {
        slot: Slot::Loss,
        name: "loss",
        ty: "array<scalar>",
        access: Access::ReadWrite,
        doc: "J of each epoch (when params.record_loss), a ring of params.loss_ring entries \
              read back per chunk",
    },
    Binding {
        slot: Slot::Status,
        name: "status",
        ty: "Status",
        access: Access::ReadWrite,
        doc: "epoch counter and stop flags",
    },
    Binding {
        slot: Slot::Params,
        name: "params",
        ty: "Params",
        access: Access::Uniform,
        doc: "the run's sizes and switches",
    },
];

const _: () = {
    let mut i = 0;
    while i < BINDINGS.len() {
        assert!(
            BINDINGS[i].slot.index() as usize == i,
            "BINDINGS out of slot order"
        );
        i += 1;
    }
};

/// The WGSL declarations of [`BINDINGS`], one line each.
pub fn binding_declarations() -> String {
    let mut out =
        String::from("// Bindings (group 0), generated from BINDINGS in src/gpu/kernels.rs.\n");
    for b in &BINDINGS {
        out.push_str(&format!(
            "@group(0) @binding({}) var<{}> {}: {};  // {}\n",
            b.slot.index(),
            b.access.wgsl(),
            b.name,
            b.ty,
            b.doc
        ));
    }
    out
}

/// The optimizer's and the schedule's scalar state. Keep in sync with `struct OptScalars` in
/// shaders/update.wgsl (tests/shaders.rs compares the layouts). On the device it is the tail
/// of [`WeightsLayout`]'s buffer; its starting values travel in [`Coef::start`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Zeroable)]
pub struct OptScalars<T> {
    /// Nesterov's FISTA counter.
    pub t: T,
    /// Adam's running powers β1ᵗ, β2ᵗ.
    pub b1t: T,
    pub b2t: T,
    /// The adaptive schedule's current step.
    pub eta: T,
    /// `n_iter_no_change`: the best J so far and the epochs without improvement.
    pub best: T,
    pub stalls: T,
    /// A mini-batch epoch's running Σℓ and the penalty at its start weights (kept across
    /// dispatches).
    pub eloss: T,
    pub ereg: T,
}

impl OptScalars<f64> {
    /// The state a descent starts from, as on the CPU: t = β1ᵗ = β2ᵗ = 1, eta = mu and
    /// best = +∞ (so an f32 overflow to +∞ is no stall).
    pub fn start(mu: f64) -> Self {
        OptScalars {
            t: 1.0,
            b1t: 1.0,
            b2t: 1.0,
            eta: mu,
            best: f64::INFINITY,
            stalls: 0.0,
            eloss: 0.0,
            ereg: 0.0,
        }
    }
}

impl<T: Copy> OptScalars<T> {
    fn map<U>(self, f: impl Fn(T) -> U) -> OptScalars<U> {
        OptScalars {
            t: f(self.t),
            b1t: f(self.b1t),
            b2t: f(self.b2t),
            eta: f(self.eta),
            best: f(self.best),
            stalls: f(self.stalls),
            eloss: f(self.eloss),
            ereg: f(self.ereg),
        }
    }
}

/// The model's, optimizer's and schedule's constants: the `coef` binding, in the working
/// precision. Keep in sync with `struct Coef` in shaders/common.wgsl (tests/shaders.rs
/// compares the layouts). The CPU twin derives the same constants (the stepper in
/// src/engine.rs, `model::penalty`, the optimizer files).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Zeroable)]
pub struct Coef<T> {
    /// The step.
    pub mu: T,
    /// c/n, c the loss's gradient scale (2 squared, 1 logistic): a full batch's gradient is
    /// c/n·sums.
    pub c_over_n: T,
    /// tol² (0 without `tol`).
    pub tol2: T,
    /// 1/n: J = Σℓ/n + the penalty.
    pub inv_n: T,
    /// α(1−ρ): the penalty's L2 strength.
    pub l2: T,
    /// mu·αρ: the L1 threshold for a constant step.
    pub mu_l1: T,
    /// αρ: the L1 strength (the threshold follows the step of other schedules).
    pub l1: T,
    /// Momentum's B; for nesterov B when set, else −1 (FISTA with adaptive restart).
    pub momentum: T,
    /// Adam's β1, β2, ε.
    pub beta1: T,
    pub beta2: T,
    pub eps: T,
    /// The invscaling schedule's power.
    pub power_t: T,
    /// The improvement `n_iter_no_change` asks for.
    pub loss_tol: T,
    /// The adaptive schedule's floor, mu·10⁻⁴.
    pub eta_floor: T,
    /// c: a mini-batch's gradient is c/len·sums.
    pub grad_scale: T,
    /// The optimizer and schedule state every solve starts from.
    pub start: OptScalars<T>,
}

// SAFETY: `#[repr(C)]` structs whose fields are all `T` (OptScalars<T> is itself only
// T's), for T = f32 or f64: no padding (checked below) and every bit pattern is valid.
// bytemuck's derive refuses generic `repr(C)` structs, so these are written out.
unsafe impl Pod for OptScalars<f32> {}
unsafe impl Pod for OptScalars<f64> {}
unsafe impl Pod for Coef<f32> {}
unsafe impl Pod for Coef<f64> {}
const _: () = {
    use std::mem::size_of;
    assert!(size_of::<OptScalars<f32>>() == 8 * 4 && size_of::<OptScalars<f64>>() == 8 * 8);
    assert!(size_of::<Coef<f32>>() == 23 * 4 && size_of::<Coef<f64>>() == 23 * 8);
};

impl Coef<f64> {
    /// The constants of `cfg` for a table of `n` rows.
    pub fn new(cfg: &crate::config::GdConfig, n: usize) -> Self {
        let penalty = &cfg.model.penalty;
        let o = &cfg.optimizer;
        Coef {
            mu: cfg.mu,
            c_over_n: cfg.model.loss.grad_scale() / n as f64,
            tol2: cfg.tol.map_or(0.0, |t| t * t),
            inv_n: 1.0 / n as f64,
            l2: penalty.l2_strength(),
            mu_l1: cfg.mu * penalty.l1_strength(),
            l1: penalty.l1_strength(),
            momentum: match o.kind {
                OptimizerKind::Momentum => o
                    .momentum
                    .unwrap_or(crate::model::optimizer::DEFAULT_MOMENTUM),
                _ => o.momentum.unwrap_or(-1.0),
            },
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            power_t: cfg.schedule.power_t,
            loss_tol: cfg.loss_tol,
            eta_floor: cfg.mu * crate::model::schedule::ADAPTIVE_FLOOR,
            grad_scale: cfg.model.loss.grad_scale(),
            start: OptScalars::start(cfg.mu),
        }
    }

    /// The device's bytes in `precision` (each value rounded to f32 there).
    pub fn bytes(&self, precision: Precision) -> Vec<u8> {
        match precision {
            Precision::F64 => bytemuck::bytes_of(self).to_vec(),
            Precision::F32 => bytemuck::bytes_of(&self.map(|v| v as f32)).to_vec(),
        }
    }

    fn map<U>(&self, f: impl Fn(f64) -> U + Copy) -> Coef<U> {
        Coef {
            mu: f(self.mu),
            c_over_n: f(self.c_over_n),
            tol2: f(self.tol2),
            inv_n: f(self.inv_n),
            l2: f(self.l2),
            mu_l1: f(self.mu_l1),
            l1: f(self.l1),
            momentum: f(self.momentum),
            beta1: f(self.beta1),
            beta2: f(self.beta2),
            eps: f(self.eps),
            power_t: f(self.power_t),
            loss_tol: f(self.loss_tol),
            eta_floor: f(self.eta_floor),
            grad_scale: f(self.grad_scale),
            start: self.start.map(f),
        }
    }
}

/// Scalars in [`OptScalars`].
pub const OPT_SCALARS: usize = std::mem::size_of::<OptScalars<f64>>() / 8;

/// Where each part of the `weights` binding (`struct Weights` in shaders/update.wgsl) lies,
/// in scalars, for p features: `w` = [w0, w1..wp], g0 (‖∇J‖² of the first epoch, the
/// divergence test's yardstick), then the optimizer's state: its vectors `a`, `b` (p + 1
/// each) and its [`OptScalars`]. One layout for every optimizer, sized for the largest
/// state (adam's two moments), since the optimizer is picked at run time in one build.
/// tests/shaders.rs compares every offset with naga's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightsLayout {
    pub w: usize,
    pub g0: usize,
    pub a: usize,
    pub b: usize,
    pub scalars: usize,
    /// Scalars in the whole buffer.
    pub len: usize,
}

impl WeightsLayout {
    pub const fn new(p: usize) -> Self {
        let p1 = p + 1;
        let scalars = 3 * p1 + 1;
        WeightsLayout {
            w: 0,
            g0: p1,
            a: p1 + 1,
            b: 2 * p1 + 1,
            scalars,
            len: scalars + OPT_SCALARS,
        }
    }
}

/// The schedule's code in `Params::schedule`.
pub fn schedule_code(kind: ScheduleKind) -> u32 {
    match kind {
        ScheduleKind::Constant => 0,
        ScheduleKind::InvScaling => 1,
        ScheduleKind::Adaptive => 2,
    }
}

/// The penalty's code in `Params::penalty` (the WGSL's `PENALTY_*`, written into the
/// prelude from here).
pub fn penalty_code(kind: PenaltyKind) -> u32 {
    match kind {
        PenaltyKind::None => 0,
        PenaltyKind::L2 => 1,
        PenaltyKind::L1 => 2,
        PenaltyKind::ElasticNet => 3,
    }
}

/// The optimizer's code in `Params::optimizer` (the WGSL's `OPTIMIZER_*`, written into the
/// prelude from here).
pub fn optimizer_code(kind: OptimizerKind) -> u32 {
    match kind {
        OptimizerKind::Gd => 0,
        OptimizerKind::Momentum => 1,
        OptimizerKind::Nesterov => 2,
        OptimizerKind::Adam => 3,
    }
}

/// The WGSL constants naming the codes of [`penalty_code`] and [`optimizer_code`], one line
/// each (`const PENALTY_L2: u32 = 1u;`), for shaders/penalty.wgsl's and
/// shaders/optimizer.wgsl's switches.
fn choice_constants() -> String {
    let mut out = String::new();
    for kind in PenaltyKind::ALL {
        let name = kind.as_str().to_uppercase();
        out.push_str(&format!(
            "const PENALTY_{name}: u32 = {}u;\n",
            penalty_code(kind)
        ));
    }
    for kind in OptimizerKind::ALL {
        let name = kind.as_str().to_uppercase();
        out.push_str(&format!(
            "const OPTIMIZER_{name}: u32 = {}u;\n",
            optimizer_code(kind)
        ));
    }
    out
}

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const ERROR: &str = include_str!("../../shaders/error.wgsl");
const REDUCE_TREE: &str = include_str!("../../shaders/reduce_tree.wgsl");
const REDUCE_SUBGROUP: &str = include_str!("../../shaders/reduce_subgroup.wgsl");
const UPDATE: &str = include_str!("../../shaders/update.wgsl");
const MATH_F32: &str = include_str!("../../shaders/math_f32.wgsl");
const MATH_F64: &str = include_str!("../../shaders/math_f64.wgsl");
const LOSS_SQUARED: &str = include_str!("../../shaders/loss_squared.wgsl");
const LOSS_LOGISTIC: &str = include_str!("../../shaders/loss_logistic.wgsl");
const PENALTY_NONE: &str = include_str!("../../shaders/penalty_none.wgsl");
const PENALTY_L2: &str = include_str!("../../shaders/penalty_l2.wgsl");
const PENALTY_L1: &str = include_str!("../../shaders/penalty_l1.wgsl");
const PENALTY_ELASTICNET: &str = include_str!("../../shaders/penalty_elasticnet.wgsl");
const OPTIMIZER_GD: &str = include_str!("../../shaders/optimizer_gd.wgsl");
const OPTIMIZER_MOMENTUM: &str = include_str!("../../shaders/optimizer_momentum.wgsl");
const OPTIMIZER_NESTEROV: &str = include_str!("../../shaders/optimizer_nesterov.wgsl");
const OPTIMIZER_ADAM: &str = include_str!("../../shaders/optimizer_adam.wgsl");
const PENALTY: &str = include_str!("../../shaders/penalty.wgsl");
const OPTIMIZER: &str = include_str!("../../shaders/optimizer.wgsl");

/// The WGSL files that define the model and the optimizer: the math helpers (the logistic
/// loss and the invscaling schedule use them), the loss, then every penalty and every
/// optimizer with the switches that pick one at run time.
fn model_sources(spec: ShaderSpec) -> Vec<&'static str> {
    vec![
        if spec.f64 { MATH_F64 } else { MATH_F32 },
        match spec.loss {
            Loss::Squared => LOSS_SQUARED,
            Loss::Logistic => LOSS_LOGISTIC,
        },
        PENALTY_NONE,
        PENALTY_L2,
        PENALTY_L1,
        PENALTY_ELASTICNET,
        PENALTY,
        OPTIMIZER_GD,
        OPTIMIZER_MOMENTUM,
        OPTIMIZER_NESTEROV,
        OPTIMIZER_ADAM,
        OPTIMIZER,
    ]
}
const KERNELS: &str = include_str!("../../shaders/kernels.wgsl");
const MINIBATCH: &str = include_str!("../../shaders/minibatch.wgsl");

/// The full WGSL module for `spec`.
pub fn shader_source(spec: ShaderSpec) -> String {
    let mut src = String::new();
    let precision = if spec.f64 {
        Precision::F64
    } else {
        Precision::F32
    };
    let (scalar, limit) = (precision.as_str(), precision.divergence_limit_wgsl());
    // No `enable subgroups;`: naga 30 rejects the directive as unimplemented and accepts the
    // subgroup builtins whenever the device has Features::SUBGROUP.
    src.push_str(&format!(
        "alias scalar = {scalar};\nconst P: u32 = {}u;\nconst LIMIT: scalar = scalar({limit});\n\
         const GROWTH2: scalar = scalar({:?});\nconst WG: u32 = {WG}u;\n\
         const FRESH: u32 = {FRESH}u;\n",
        spec.p,
        crate::config::GRADIENT_GROWTH_LIMIT
    ));
    src.push_str(&choice_constants());
    src.push_str(&binding_declarations());
    let (reduce, args, init) = match spec.reduction {
        Reduction::Tree => (REDUCE_TREE, "", "let lane = Lane(lid, 0u, 0u, 0u);"),
        Reduction::Subgroup => (
            REDUCE_SUBGROUP,
            ", @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_id) sg_id: u32, \
             @builtin(num_subgroups) n_sg: u32",
            "let lane = Lane(lid, sg_lane, sg_id, n_sg);",
        ),
    };
    let mut parts = vec![COMMON];
    parts.extend(model_sources(spec));
    parts.extend([ERROR, reduce, UPDATE]);
    for part in parts {
        src.push_str(part);
        src.push('\n');
    }
    let entries = if spec.minibatch { MINIBATCH } else { KERNELS };
    src.push_str(
        &entries
            .replace("{{LANE_ARGS}}", args)
            .replace("{{LANE_INIT}}", init),
    );
    src
}

/// Loops over the p + 1 weights in one update (the gradient, the optimizer's step — two for
/// nesterov —, the blow-up check, loading and storing weights and optimizer state), rounded
/// up for margin.
const UPDATE_LOOPS: u64 = 8;

/// Loop passes of one workgroup reduction of one value.
fn reduce_passes(reduction: Reduction, min_subgroup: u32) -> u64 {
    match reduction {
        Reduction::Tree => WG.ilog2() as u64 + 1,
        Reduction::Subgroup => (WG / min_subgroup.max(1)) as u64 + 1,
    }
}

/// Loop passes per row handled by one invocation (two loops over P, plus the row loop).
fn row_passes(p: u64) -> u64 {
    2 * p + 1
}

/// Passes of one resident epoch for invocation 0 (the busiest): rows, reductions, update.
pub fn resident_epoch_passes(n: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    let k = p + 2;
    let rows = n.div_ceil(WG as u64);
    rows * row_passes(p)
        + k * (1 + reduce_passes(reduction, min_subgroup))
        + UPDATE_LOOPS * (p + 1)
        + 2
}

/// Loop passes of one dispatch of the `batches` kernel running `count` batches of `b` rows
/// (n rows, ⌈n/b⌉ batches an epoch): per batch ⌈b/WG⌉ rows an invocation (plus the
/// permutation's walk loop's last pass), the reductions and the step; per epoch touched the
/// penalty sum and at most `walks` extra walks of the permutation (its surplus a·b − n, a
/// bound on all positions of an epoch together); loading and storing the state.
pub fn batch_dispatch_passes(
    n: u64,
    p: u64,
    b: u64,
    count: u64,
    walks: u64,
    reduction: Reduction,
    min_subgroup: u32,
) -> u64 {
    let k = p + 2;
    let per_batch = b.div_ceil(WG as u64) * (row_passes(p) + 1)
        + k * (1 + reduce_passes(reduction, min_subgroup))
        + UPDATE_LOOPS * (p + 1)
        + 1;
    let epochs_touched = count.div_ceil(n.div_ceil(b).max(1)) + 1;
    count * per_batch + epochs_touched * (walks + p + 1) + 4 * (p + 1) + 2
}

/// Passes of one partials-pass invocation over `rows` rows.
pub fn partials_passes(rows: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    rows * row_passes(p) + (p + 2) * (1 + reduce_passes(reduction, min_subgroup)) + (p + 1) + 2
}

/// Passes of the update pass over `groups` partials.
pub fn update_passes(groups: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    let k = p + 2;
    k * (1 + groups.div_ceil(WG as u64) + reduce_passes(reduction, min_subgroup))
        + UPDATE_LOOPS * (p + 1)
        + 2
}

/// The compiled pipelines of one shader build.
pub struct Kernels {
    pub layout: wgpu::BindGroupLayout,
    pub pipelines: Pipelines,
}

/// The entry points of a build: a full-batch build has three, a mini-batch build one (each
/// family compiles only what it runs).
pub enum Pipelines {
    Full {
        resident: wgpu::ComputePipeline,
        partials: wgpu::ComputePipeline,
        update: wgpu::ComputePipeline,
    },
    MiniBatch {
        batches: wgpu::ComputePipeline,
    },
}

impl Kernels {
    /// Compile the module and its pipelines (errors surface through error scopes).
    pub fn new(device: &wgpu::Device, spec: ShaderSpec) -> Kernels {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("descent gd"),
            source: wgpu::ShaderSource::Wgsl(shader_source(spec).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("descent bindings"),
            entries: &BINDINGS.map(|b| wgpu::BindGroupLayoutEntry {
                binding: b.slot.index(),
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: b.access.buffer_type(),
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("descent layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let make = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })
        };
        let pipelines = if spec.minibatch {
            Pipelines::MiniBatch {
                batches: make("batches"),
            }
        } else {
            Pipelines::Full {
                resident: make("resident"),
                partials: make("partials_pass"),
                update: make("update_pass"),
            }
        };
        Kernels { pipelines, layout }
    }
}
