// loss_logistic.wgsl — ℓ = log(1 + e^ŷ) − y·ŷ for y ∈ {0, 1}: err = y − σ(ŷ) (the update
// scales the sums by coef.c_over_n = 1/n). Both forms go through e^−|ŷ| so nothing
// overflows; `exp_neg` and `log1p_unit` come from math_f32.wgsl / math_f64.wgsl. CPU twin: src/model/logistic.rs.

fn sigmoid(z: scalar) -> scalar {
    let e = exp_neg(-abs(z));
    if z >= scalar(0.0) {
        return scalar(1.0) / (scalar(1.0) + e);
    }
    return e / (scalar(1.0) + e);
}

fn loss_err(y: scalar, yhat: scalar) -> scalar {
    return y - sigmoid(yhat);
}

// max(ŷ, 0) + log1p(e^−|ŷ|) − y·ŷ
fn loss_value(y: scalar, yhat: scalar, err: scalar) -> scalar {
    return max(yhat, scalar(0.0)) + log1p_unit(exp_neg(-abs(yhat))) - y * yhat;
}
