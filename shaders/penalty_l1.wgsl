// penalty_l1.wgsl — α·|w| as a proximal step: soft-thresholding by `thr` (mu·α; coef.mu_l1 for a constant step) after each
// gradient step, so exact zeros appear. CPU twin: src/model/penalty/l1.rs.

const PENALTY_L1_PROX: bool = true;

fn penalty_l1_grad(w: scalar) -> scalar {
    return scalar(0.0);
}

fn penalty_l1_prox(w: scalar, thr: scalar) -> scalar {
    return soft_threshold(w, thr);
}

fn penalty_l1_value(w: scalar) -> scalar {
    return coef.l1 * abs(w);
}
