// common.wgsl — types and constants shared by every descent kernel.
//
// Not a standalone module: `shader_source` in src/gpu/kernels.rs assembles each build as
//   a generated prelude: alias scalar = f32 | f64;  const P: u32 (features);
//     const LIMIT: scalar (blow-up bound);  const GROWTH2: scalar (divergence: ‖∇J‖² may not
//     exceed GROWTH2 × its value at epoch 1);  const WG: u32 (invocations per workgroup);
//     const FRESH: u32 (status.epoch before any kernel wrote it);  the codes of
//     params.penalty and params.optimizer (PENALTY_*, OPTIMIZER_*);  and the group-0
//     binding declarations,
//   this file,
//   the model: math_f32/math_f64.wgsl (logistic only), one loss file (loss_*.wgsl:
//     `loss_err`, `loss_value`), every penalty file (penalty_*.wgsl) with penalty.wgsl, which
//     picks one by params.penalty (`penalty_has_prox`, `penalty_grad`, `penalty_prox`,
//     `penalty_value`), and every optimizer file (optimizer_*.wgsl) with optimizer.wgsl,
//     which picks one by params.optimizer (`optimizer_step`, `optimizer_monotone`),
//   error.wgsl, one reduction (reduce_tree/reduce_subgroup.wgsl), update.wgsl, then the entry
//   points: kernels.wgsl (full batches) or minibatch.wgsl (mini-batches).
//
// Bindings (group 0), identical for every entry point: x, d, coef (read), weights, partials,
// loss, status (read_write), params (uniform). They are declared from the one table of them,
// `BINDINGS` in src/gpu/kernels.rs, which also builds the bind group layout and the bind
// group: see there for what each holds.

const P1: u32 = P + 1u;   // weights incl. intercept
const K: u32 = P + 2u;    // sums per epoch: Σerr, Σerr·x_j (P of them), Σℓ

// The constants of the model, the optimizer and the schedule (the `coef` binding). Keep in
// sync with `Coef` in src/gpu/kernels.rs, which documents each.
struct Coef {
    mu: scalar,          // the step
    c_over_n: scalar,    // c/n: a full batch's gradient is c/n·sums
    tol2: scalar,        // tol²
    inv_n: scalar,       // 1/n
    l2: scalar,          // α(1−ρ)
    mu_l1: scalar,       // mu·αρ
    l1: scalar,          // αρ
    momentum: scalar,    // momentum's B (nesterov: B, or −1 for adaptive restart)
    beta1: scalar,
    beta2: scalar,
    eps: scalar,
    power_t: scalar,
    loss_tol: scalar,
    eta_floor: scalar,   // the adaptive schedule's floor, mu·10⁻⁴
    grad_scale: scalar,  // c: a mini-batch's gradient is c/len·sums
    start: OptScalars,   // the optimizer's and schedule's state at w = 0
}

// Keep in sync with `Params` in src/gpu/kernels.rs.
struct Params {
    n: u32,
    groups: u32,               // workgroups of the partials pass
    groups_x: u32,             // groups are dispatched as groups_x × ceil(groups / groups_x)
    epochs: u32,               // total epochs of the run
    epochs_per_dispatch: u32,  // resident kernel: bounds loop passes per invocation (llvmpipe)
    check_every: u32,          // tolerance checked when (epoch + 1) % check_every == 0
    record_loss: u32,
    use_tol: u32,
    loss_ring: u32,            // entries of the loss ring: epoch e is stored at e % loss_ring
    schedule: u32,             // 0 constant, 1 invscaling, 2 adaptive
    stall_limit: u32,          // n_iter_no_change (0: none)
    batch: u32,                // mini-batch size B (batches kernel; 0 for full batches)
    batches_per_dispatch: u32, // batches kernel: bounds loop passes per invocation (llvmpipe)
    n_batches: u32,            // ⌈n / B⌉ batches per epoch
    perm_a: u32,               // the permutation's radices, a·b ≥ n (src/model/batches.rs)
    perm_b: u32,
    seed_key: u32,             // the shuffle seed folded to 32 bits (`seed_key`)
    fault: u32,                // tests only: 1 skips the kernels' final store of the weights
    penalty: u32,              // PENALTY_* (penalty.wgsl)
    optimizer: u32,            // OPTIMIZER_* (optimizer.wgsl)
}

// Keep in sync with `Status` in src/gpu/kernels.rs.
struct Status {
    epoch: u32,        // epochs completed so far; FRESH until a kernel first writes it
    stopped: u32,      // 1 once converged or diverged: later dispatches do nothing
    diverged_at: u32,  // 1-based epoch whose update blew up, 0 if none
    converged: u32,
    stalled: u32,      // 1 once n_iter_no_change (or the adaptive floor) stopped the run
    batch: u32,        // mini-batches: the next batch of the epoch in progress
    _pad1: u32,
    _pad2: u32,
}

// Which invocation this is; subgroup fields are zero when subgroups are unavailable.
struct Lane {
    lid: u32,
    sg_lane: u32,
    sg_id: u32,
    n_sg: u32,
}

var<workgroup> red: array<scalar, WG>;   // reduction scratch
var<workgroup> wg_flag: u32;              // broadcast of a uniform decision
var<workgroup> wg_epoch: u32;
var<workgroup> wg_fresh: u32;             // 1 when status.epoch == FRESH

// sign(w)·max(|w| − t, 0): the proximal map of t·|w| (used by the L1 penalties).
fn soft_threshold(w: scalar, t: scalar) -> scalar {
    if w > t {
        return w - t;
    }
    if w < -t {
        return w + t;
    }
    return scalar(0.0);
}
