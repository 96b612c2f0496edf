// optimizer_momentum.wgsl — heavy ball, w⁺ = prox(w + mu·g + B·(w − w⁻)) with B = coef.momentum;
// st.a holds w⁻. CPU twin: src/model/optimizer/momentum.rs.

const OPTIMIZER_MOMENTUM_MONOTONE: bool = false;

fn optimizer_momentum_step(w: ptr<function, array<scalar, P1>>, g: ptr<function, array<scalar, P1>>, mu: scalar, thr: scalar, st: ptr<function, OptState>) {
    for (var j = 0u; j < P1; j++) {
        let moved = (*w)[j] - (*st).a[j];
        (*st).a[j] = (*w)[j];
        (*w)[j] = prox_at(j, (*w)[j] + mu * (*g)[j] + coef.momentum * moved, thr);
    }
}
