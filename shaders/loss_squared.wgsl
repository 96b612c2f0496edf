// loss_squared.wgsl — ℓ = (y − ŷ)², the article's: err = y − ŷ (the update scales the sums by
// coef.c_over_n = 2/n). CPU twin: src/model/squared.rs.

fn loss_err(y: scalar, yhat: scalar) -> scalar {
    return y - yhat;
}

fn loss_value(y: scalar, yhat: scalar, err: scalar) -> scalar {
    return err * err;
}
