// optimizer.wgsl — the optimizer chosen at run time: params.optimizer holds one of the
// codes OPTIMIZER_GD, OPTIMIZER_MOMENTUM, OPTIMIZER_NESTEROV, OPTIMIZER_ADAM (written into
// the prelude from `optimizer_code` in src/gpu/kernels.rs), and each function here hands
// over to that optimizer's own in optimizer_*.wgsl, all of which are in every build. Their
// state shares one `OptState` (update.wgsl), sized for the largest (adam's two moments).
// The switch is on a uniform value: uniform control flow, and no barrier lies inside it.

// Whether the step never raises ‖∇J‖ on a convex L-smooth objective with a step ≤ 2/L
// (plain gd alone): the divergence test's gradient-growth rule applies only then.
fn optimizer_monotone() -> bool {
    switch params.optimizer {
        case OPTIMIZER_MOMENTUM: { return OPTIMIZER_MOMENTUM_MONOTONE; }
        case OPTIMIZER_NESTEROV: { return OPTIMIZER_NESTEROV_MONOTONE; }
        case OPTIMIZER_ADAM: { return OPTIMIZER_ADAM_MONOTONE; }
        case OPTIMIZER_GD, default: { return OPTIMIZER_GD_MONOTONE; }
    }
}

// One step from `w` along the descent direction `g` with step `mu` and L1 threshold `thr`.
fn optimizer_step(w: ptr<function, array<scalar, P1>>, g: ptr<function, array<scalar, P1>>, mu: scalar, thr: scalar, st: ptr<function, OptState>) {
    switch params.optimizer {
        case OPTIMIZER_MOMENTUM: { optimizer_momentum_step(w, g, mu, thr, st); }
        case OPTIMIZER_NESTEROV: { optimizer_nesterov_step(w, g, mu, thr, st); }
        case OPTIMIZER_ADAM: { optimizer_adam_step(w, g, mu, thr, st); }
        case OPTIMIZER_GD, default: { optimizer_gd_step(w, g, mu, thr, st); }
    }
}
