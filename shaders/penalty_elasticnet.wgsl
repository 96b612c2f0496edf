// penalty_elasticnet.wgsl — α·[ρ·|w| + (1−ρ)/2·w²]: coef[4] = α(1−ρ) in the gradient, then
// soft-thresholding by `thr` (mu·αρ; coef[5] for a constant step). CPU twin: src/model/penalty/elastic_net.rs.

const PROX: bool = true;

fn penalty_grad(w: scalar) -> scalar {
    return coef[4] * w;
}

fn penalty_prox(w: scalar, thr: scalar) -> scalar {
    return soft_threshold(w, thr);
}

fn penalty_value(w: scalar) -> scalar {
    return coef[6] * abs(w) + scalar(0.5) * coef[4] * w * w;
}
