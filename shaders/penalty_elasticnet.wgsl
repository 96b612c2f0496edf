// penalty_elasticnet.wgsl — α·[ρ·|w| + (1−ρ)/2·w²]: coef.l2 = α(1−ρ) in the gradient, then
// soft-thresholding by `thr` (mu·αρ; coef.mu_l1 for a constant step). CPU twin: src/model/penalty/elastic_net.rs.

const PENALTY_ELASTICNET_PROX: bool = true;

fn penalty_elasticnet_grad(w: scalar) -> scalar {
    return coef.l2 * w;
}

fn penalty_elasticnet_prox(w: scalar, thr: scalar) -> scalar {
    return soft_threshold(w, thr);
}

fn penalty_elasticnet_value(w: scalar) -> scalar {
    return coef.l1 * abs(w) + scalar(0.5) * coef.l2 * w * w;
}
