// penalty_l2.wgsl — α/2·w²: adds coef.l2 = α to the gradient. CPU twin: src/model/penalty/l2.rs.

const PENALTY_L2_PROX: bool = false;

fn penalty_l2_grad(w: scalar) -> scalar {
    return coef.l2 * w;
}

fn penalty_l2_prox(w: scalar, thr: scalar) -> scalar {
    return w;
}

fn penalty_l2_value(w: scalar) -> scalar {
    return scalar(0.5) * coef.l2 * w * w;
}
