// optimizer_adam.wgsl — Adam in PyTorch's form on ∇S = −g with β1, β2, ε = coef.beta1,
// coef.beta2, coef.eps; st.a and st.b are the moments, st.s.b1t and st.s.b2t the running
// powers β1ᵗ, β2ᵗ. The L1 prox is taken in Adam's metric (threshold thr/(√v̂ + ε)). CPU twin: src/model/optimizer/adam.rs.

const OPTIMIZER_ADAM_MONOTONE: bool = false;

fn optimizer_adam_step(w: ptr<function, array<scalar, P1>>, g: ptr<function, array<scalar, P1>>, mu: scalar, thr: scalar, st: ptr<function, OptState>) {
    let b1 = coef.beta1;
    let b2 = coef.beta2;
    (*st).s.b1t = (*st).s.b1t * b1;
    (*st).s.b2t = (*st).s.b2t * b2;
    let c1 = scalar(1.0) - (*st).s.b1t;
    let c2 = scalar(1.0) - (*st).s.b2t;
    for (var j = 0u; j < P1; j++) {
        let grad = -(*g)[j];
        (*st).a[j] = b1 * (*st).a[j] + (scalar(1.0) - b1) * grad;
        (*st).b[j] = b2 * (*st).b[j] + (scalar(1.0) - b2) * grad * grad;
        let scale = scalar(1.0) / (sqrt_s((*st).b[j] / c2) + coef.eps);
        let moved = (*w)[j] - mu * ((*st).a[j] / c1) * scale;
        if j > 0u && penalty_has_prox() {
            (*w)[j] = penalty_prox(moved, thr * scale);
        } else {
            (*w)[j] = moved;
        }
    }
}
