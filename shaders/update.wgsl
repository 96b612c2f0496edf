// update.wgsl — the update step for the model (loss, penalty) and the optimizer: the epoch's
// step size from the schedule; the descent direction g = coef.c_over_n·sums − the penalty's
// gradient (never on the intercept); the optimizer's step (optimizer_*.wgsl), with the
// penalty's proximal step inside it; the epoch's objective J into the loss history; the stop
// rules. `sums` is [Σerr, Σerr·x_1..P, Σℓ]. Returns 1 when the run must stop after this
// epoch. Only invocation 0 writes to memory; every invocation gets the same new state.
//
// Stop rules: divergence (weights beyond LIMIT or NaN; for plain gd also ‖∇J‖² above GROWTH2
// × the first epoch's: with a step ≤ 2/L, gradient descent on a convex L-smooth objective
// never lets ‖∇J‖ grow (co-coercivity), so growth proves the step too large); `tol` on the
// norm of the proximal-gradient mapping (prox(w + mu·g) − w)/mu at the point the gradient
// was taken (the gradient itself without an L1 part); `n_iter_no_change` on J (the adaptive
// schedule divides the step instead, stopping below its floor). The CPU twin is `descend`
// in src/cpu/mod.rs (same operations in the same order).

// Optimizer and schedule state, in registers like the weights: the vectors a, b and the
// scalars (see each optimizer file for what it keeps where).
struct OptScalars {     // keep in sync with `OptScalars` in src/gpu/kernels.rs
    t: scalar,          // nesterov's counter
    b1t: scalar,        // adam's β1ᵗ, β2ᵗ
    b2t: scalar,
    eta: scalar,        // the adaptive schedule's step
    best: scalar,       // n_iter_no_change: the best J so far
    stalls: scalar,     // and the epochs since it improved
    eloss: scalar,      // a mini-batch epoch's running Σℓ
    ereg: scalar,       // and the penalty at its start weights (kept across dispatches)
}

struct OptState {
    a: array<scalar, P1>,
    b: array<scalar, P1>,
    s: OptScalars,
}

// The `weights` binding (`WeightsLayout` in src/gpu/kernels.rs). It holds what a kernel
// wrote: until then (status.epoch == FRESH) the host leaves it NaN and the kernels start
// from w = 0, g0 = 0, a = b = 0 and coef.start instead.
struct Weights {
    w: array<scalar, P1>,
    g0: scalar,  // ‖∇J‖² of the first epoch, the divergence test's yardstick
    st: OptState,
}

fn load_state(fresh: bool) -> OptState {
    var st: OptState;
    if fresh {
        st.s = coef.start;
        return st;
    }
    for (var j = 0u; j < P1; j++) {
        st.a[j] = weights.st.a[j];
        st.b[j] = weights.st.b[j];
    }
    st.s = weights.st.s;
    return st;
}

fn load_g0(fresh: bool) -> scalar {
    if fresh {
        return scalar(0.0);
    }
    return weights.g0;
}

// Invocation 0's final store of a kernel's results (params.fault == 1, in tests only, skips
// it, as a kernel missing its write would).
fn store_results(w: array<scalar, P1>, g0: scalar, st: OptState) {
    if params.fault == 1u {
        return;
    }
    for (var j = 0u; j < P1; j++) {
        weights.w[j] = w[j];
        weights.st.a[j] = st.a[j];
        weights.st.b[j] = st.b[j];
    }
    weights.g0 = g0;
    weights.st.s = st.s;
}

// Thread 0 publishes status into workgroup memory so loop bounds are provably uniform. A
// FRESH status is epoch 0 with nothing written yet.
fn load_status(lid: u32) -> u32 {
    if lid == 0u {
        let e = status.epoch;
        wg_fresh = select(0u, 1u, e == FRESH);
        wg_epoch = select(e, 0u, e == FRESH);
        wg_flag = status.stopped;
    }
    return workgroupUniformLoad(&wg_flag);
}

// Whether no kernel has written the weights yet (after `load_status`).
fn is_fresh() -> bool {
    return workgroupUniformLoad(&wg_fresh) != 0u;
}

fn load_weights(fresh: bool) -> array<scalar, P1> {
    var w: array<scalar, P1>;
    if fresh {
        return w;
    }
    for (var j = 0u; j < P1; j++) {
        w[j] = weights.w[j];
    }
    return w;
}

// prox(v) for a feature weight with threshold `thr`, v itself for the intercept.
fn prox_at(j: u32, v: scalar, thr: scalar) -> scalar {
    if j > 0u && penalty_has_prox() {
        return penalty_prox(v, thr);
    }
    return v;
}

// The step of epoch `epoch` (0-based): params.schedule 0 constant, 1 invscaling
// mu·(epoch + 1)^−power_t, 2 adaptive (st.s.eta).
fn step_size(epoch: u32, st: ptr<function, OptState>) -> scalar {
    if params.schedule == 1u {
        return coef.mu * exp_neg(-coef.power_t * ln_u32(epoch + 1u));
    }
    if params.schedule == 2u {
        return (*st).s.eta;
    }
    return coef.mu;
}

// An epoch's step and the L1 threshold that follows it.
struct Step {
    mu: scalar,
    thr: scalar,
}

fn epoch_step(epoch: u32, st: ptr<function, OptState>) -> Step {
    let mu = step_size(epoch, st);
    // The L1 threshold follows the step: coef.mu_l1 = mu·αρ as uploaded, else this epoch's.
    var thr = coef.mu_l1;
    if params.schedule != 0u {
        thr = mu * coef.l1;
    }
    return Step(mu, thr);
}

fn apply_update(w: ptr<function, array<scalar, P1>>, g0: ptr<function, scalar>, st: ptr<function, OptState>, sums: array<scalar, K>, epoch: u32, lid: u32) -> u32 {
    let step = epoch_step(epoch, st);
    let mu = step.mu;
    let thr = step.thr;
    let f = coef.c_over_n;
    var g: array<scalar, P1>;
    var g2 = scalar(0.0);
    var reg = scalar(0.0);
    for (var j = 0u; j < P1; j++) {
        g[j] = f * sums[j];
        var mapped = g[j];
        if j > 0u {
            let wj = (*w)[j];
            reg += penalty_value(wj);
            g[j] -= penalty_grad(wj);
            mapped = g[j];
            if penalty_has_prox() {
                mapped = (penalty_prox(wj + mu * g[j], thr) - wj) / mu;
            }
        }
        g2 += mapped * mapped;
    }
    optimizer_step(w, &g, mu, thr, st);
    var blown = false;
    for (var j = 0u; j < P1; j++) {
        // NaN fails every comparison, so this catches NaN, ±inf and explosions alike.
        blown = blown || !(abs((*w)[j]) <= LIMIT);
    }
    if epoch == 0u {
        *g0 = g2;
    }
    // NaN fails the comparison too.
    blown = blown || (optimizer_monotone() && !(g2 <= GROWTH2 * *g0));
    let converged = params.use_tol != 0u && (epoch + 1u) % params.check_every == 0u && g2 < coef.tol2;
    let objective = sums[K - 1u] * coef.inv_n + reg;
    return finish_epoch(objective, blown, converged, st, epoch, lid);
}

// The end of an epoch: J into the loss history, n_iter_no_change (the adaptive schedule
// divides the step instead) and the stop flags. Returns 1 when the run must stop.
fn finish_epoch(objective: scalar, blown: bool, converged: bool, st: ptr<function, OptState>, epoch: u32, lid: u32) -> u32 {
    var stalled = false;
    if params.stall_limit != 0u {
        if objective > (*st).s.best - coef.loss_tol {
            (*st).s.stalls += scalar(1.0);
        } else {
            (*st).s.stalls = scalar(0.0);
        }
        (*st).s.best = min((*st).s.best, objective);
        if (*st).s.stalls >= scalar(params.stall_limit) {
            let adaptive = params.schedule == 2u;
            if adaptive {
                (*st).s.eta = (*st).s.eta / scalar(5.0);
                (*st).s.stalls = scalar(0.0);
            }
            stalled = !adaptive || (*st).s.eta < coef.eta_floor;
        }
    }
    if lid == 0u {
        if params.record_loss != 0u {
            loss[epoch % params.loss_ring] = objective;
        }
        if blown {
            status.diverged_at = epoch + 1u;
            status.stopped = 1u;
        } else if converged {
            status.converged = 1u;
            status.stopped = 1u;
        } else if stalled {
            status.stalled = 1u;
            status.stopped = 1u;
        }
    }
    return select(0u, 1u, blown || converged || stalled);
}

// One mini-batch step, the twin of `gradient_step` for a batch in `descend`
// (src/cpu/mod.rs): g = (c/len)·sums − the penalty's gradient (never on the intercept), then
// the optimizer's step with the epoch's step and threshold. Returns whether the weights blew
// up (the CPU checks after every batch too). No stopping test: `tol` needs full batches.
fn batch_step(w: ptr<function, array<scalar, P1>>, st: ptr<function, OptState>, sums: array<scalar, K>, len: u32, step: Step) -> bool {
    let f = coef.grad_scale / scalar(len);
    var g: array<scalar, P1>;
    for (var j = 0u; j < P1; j++) {
        g[j] = f * sums[j];
        if j > 0u {
            g[j] -= penalty_grad((*w)[j]);
        }
    }
    optimizer_step(w, &g, step.mu, step.thr, st);
    var blown = false;
    for (var j = 0u; j < P1; j++) {
        blown = blown || !(abs((*w)[j]) <= LIMIT);
    }
    return blown;
}
