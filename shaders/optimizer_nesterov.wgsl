// optimizer_nesterov.wgsl — FISTA: `w` is the extrapolated point y the gradient was taken
// at, st.a the iterate x; x⁺ = prox(y + mu·g), y ← x⁺ + β·(x⁺ − x). β = coef.momentum when ≥ 0,
// else (t − 1)/t⁺ with O'Donoghue–Candès restart (t ← 1, β = 0 when (y − x⁺)·(x⁺ − x) > 0).
// The host reports st.a. CPU twin: src/model/optimizer/nesterov.rs.

const OPTIMIZER_NESTEROV_MONOTONE: bool = false;

fn optimizer_nesterov_step(y: ptr<function, array<scalar, P1>>, g: ptr<function, array<scalar, P1>>, mu: scalar, thr: scalar, st: ptr<function, OptState>) {
    var next: array<scalar, P1>;
    var uphill = scalar(0.0);
    for (var j = 0u; j < P1; j++) {
        next[j] = prox_at(j, (*y)[j] + mu * (*g)[j], thr);
        uphill += ((*y)[j] - next[j]) * (next[j] - (*st).a[j]);
    }
    var beta = coef.momentum;
    if coef.momentum < scalar(0.0) {
        if uphill > scalar(0.0) {
            (*st).s.t = scalar(1.0);
            beta = scalar(0.0);
        } else {
            let t = (*st).s.t;
            let t_next = (scalar(1.0) + sqrt_s(scalar(1.0) + scalar(4.0) * t * t)) / scalar(2.0);
            beta = (t - scalar(1.0)) / t_next;
            (*st).s.t = t_next;
        }
    }
    for (var j = 0u; j < P1; j++) {
        (*y)[j] = next[j] + beta * (next[j] - (*st).a[j]);
        (*st).a[j] = next[j];
    }
}
