// math_f32.wgsl — the transcendental helpers of the losses and schedules, f32: the built-ins do.

// e^x for x ≤ 0.
fn exp_neg(x: f32) -> f32 {
    return exp(x);
}

// log(1 + t) for t in [0, 1], accurate for small t too: log(u)·t/(u − 1) with u = 1 + t
// cancels u's rounding error (Goldberg's trick), where log(1 + t) alone would return 0.
fn log1p_unit(t: f32) -> f32 {
    let u = 1.0 + t;
    if u == 1.0 {
        return t;
    }
    return log(u) * t / (u - 1.0);
}

// ln(k) for an integer k ≥ 1 (the invscaling schedule's (epoch + 1)^−p).
fn ln_u32(k: u32) -> f32 {
    return log(f32(k));
}

// √x.
fn sqrt_s(x: f32) -> f32 {
    return sqrt(x);
}
