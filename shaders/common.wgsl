// common.wgsl — bindings and types shared by every descent kernel.
//
// Not a standalone module: src/gpu/kernels.rs prepends a generated prelude that defines
//   alias scalar = f32 | f64;   const P: u32 (features);   const LIMIT: scalar (blow-up bound);
//   const GROWTH2: scalar (divergence: ‖∇J‖² may not exceed GROWTH2 × its value at epoch 1)
// and appends one loss file (loss_*.wgsl: `loss_err`, `loss_value`) and one penalty file
// (penalty_*.wgsl: `PROX`, `penalty_grad`, `penalty_prox`, `penalty_value`): the model.
//
// Bindings (group 0), identical for every entry point:
//   0 x        : array<scalar>  read        n×P features, row-major
//   1 d        : array<scalar>  read        n targets
//   2 coef     : array<scalar>  read        [mu, c/n, tol², 1/n, α(1−ρ), mu·αρ, αρ, 0]: the step, the
//                                          loss's gradient scale (c = 2 squared, 1 logistic), the
//                                          tolerance, the mean, and the penalty's constants
//   3 weights  : array<scalar>  read_write  [w0, w1..wP, g0]  (starts at zero); g0 = ‖∇J‖² of
//                                          the first epoch, the divergence test's yardstick
//   4 partials : array<scalar>  read_write  per-workgroup sums, K per group
//   5 loss     : array<scalar>  read_write  J of each epoch (when params.record_loss), a ring
//                                          of params.loss_ring entries read back per chunk
//   6 status   : Status         read_write  epoch counter and stop flags
//   7 params   : Params         uniform

const WG: u32 = 256u;
const P1: u32 = P + 1u;   // weights incl. intercept
const K: u32 = P + 2u;    // sums per epoch: Σerr, Σerr·x_j (P of them), Σℓ
const G0: u32 = P1;       // slot of g0 in `weights`

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
    _pad0: u32,                // uniform structs are sized in 16-byte steps
    _pad1: u32,
    _pad2: u32,
}

// Keep in sync with `Status` in src/gpu/kernels.rs.
struct Status {
    epoch: u32,        // epochs completed so far
    stopped: u32,      // 1 once converged or diverged: later dispatches do nothing
    diverged_at: u32,  // 1-based epoch whose update blew up, 0 if none
    converged: u32,
}

@group(0) @binding(0) var<storage, read> x: array<scalar>;
@group(0) @binding(1) var<storage, read> d: array<scalar>;
@group(0) @binding(2) var<storage, read> coef: array<scalar, 8>;
@group(0) @binding(3) var<storage, read_write> weights: array<scalar>;
@group(0) @binding(4) var<storage, read_write> partials: array<scalar>;
@group(0) @binding(5) var<storage, read_write> loss: array<scalar>;
@group(0) @binding(6) var<storage, read_write> status: Status;
@group(0) @binding(7) var<uniform> params: Params;

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
