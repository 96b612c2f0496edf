// math_f64.wgsl — the transcendental helpers of the losses and schedules in f64. exp and log have no f64
// overload on Vulkan (GLSL.std.450), HLSL or Metal, so they are built from + − × ÷ alone,
// unrolled (no loops, so nothing counts against llvmpipe's loop-pass limit). Accurate to a
// few ulps, which the f64 CPU twin (std's exp / ln_1p) is compared against.

// e^x for x ≤ 0: x = −k·ln2 + r with |r| ≤ ln2/2, e^r by Taylor to r¹³/13! (error below
// 2e-16 relative), then 2^−k by binary powers (k ≤ 1021 below the cut-off).
fn exp_neg(x: f64) -> f64 {
    if x < f64(-708.0) {
        return f64(0.0);
    }
    let kf = f64(u32(-x * f64(1.4426950408889634) + f64(0.5)));
    // ln2 in two parts so k·ln2 is exact to double precision.
    let r = (x + kf * f64(0.6931471803691238)) + kf * f64(1.9082149292705877e-10);
    var t = f64(1.0) + r / f64(13.0);
    t = f64(1.0) + r / f64(12.0) * t;
    t = f64(1.0) + r / f64(11.0) * t;
    t = f64(1.0) + r / f64(10.0) * t;
    t = f64(1.0) + r / f64(9.0) * t;
    t = f64(1.0) + r / f64(8.0) * t;
    t = f64(1.0) + r / f64(7.0) * t;
    t = f64(1.0) + r / f64(6.0) * t;
    t = f64(1.0) + r / f64(5.0) * t;
    t = f64(1.0) + r / f64(4.0) * t;
    t = f64(1.0) + r / f64(3.0) * t;
    t = f64(1.0) + r / f64(2.0) * t;
    t = f64(1.0) + r * t;
    let k = u32(kf);
    var s = f64(1.0);
    if (k & 1u) != 0u { s *= f64(0.5); }
    if (k & 2u) != 0u { s *= f64(0.25); }
    if (k & 4u) != 0u { s *= f64(0.0625); }
    if (k & 8u) != 0u { s *= f64(0.00390625); }
    if (k & 16u) != 0u { s *= f64(1.52587890625e-05); }
    if (k & 32u) != 0u { s *= f64(2.3283064365386963e-10); }
    if (k & 64u) != 0u { s *= f64(5.421010862427522e-20); }
    if (k & 128u) != 0u { s *= f64(2.938735877055719e-39); }
    if (k & 256u) != 0u { s *= f64(8.636168555094445e-78); }
    if (k & 512u) != 0u { s *= f64(7.458340731200207e-155); }
    return t * s;
}

// log(1 + t) for t in [0, 1]: 2·atanh(s) with s = t/(2 + t) ≤ 1/3, by its odd series
// 2·Σ s^(2i+1)/(2i+1) to i = 17 (the next term is below 1e-18).
fn log1p_unit(t: f64) -> f64 {
    let s = t / (f64(2.0) + t);
    let u = s * s;
    var q = f64(1.0) / f64(35.0);
    q = f64(1.0) / f64(33.0) + u * q;
    q = f64(1.0) / f64(31.0) + u * q;
    q = f64(1.0) / f64(29.0) + u * q;
    q = f64(1.0) / f64(27.0) + u * q;
    q = f64(1.0) / f64(25.0) + u * q;
    q = f64(1.0) / f64(23.0) + u * q;
    q = f64(1.0) / f64(21.0) + u * q;
    q = f64(1.0) / f64(19.0) + u * q;
    q = f64(1.0) / f64(17.0) + u * q;
    q = f64(1.0) / f64(15.0) + u * q;
    q = f64(1.0) / f64(13.0) + u * q;
    q = f64(1.0) / f64(11.0) + u * q;
    q = f64(1.0) / f64(9.0) + u * q;
    q = f64(1.0) / f64(7.0) + u * q;
    q = f64(1.0) / f64(5.0) + u * q;
    q = f64(1.0) / f64(3.0) + u * q;
    q = f64(1.0) + u * q;
    return f64(2.0) * s * q;
}

// ln(k) for an integer k ≥ 1 (the invscaling schedule's (epoch + 1)^−p): k = 2^e·m with
// m in [1, 2) exactly (e from the leading zeros), ln k = e·ln 2 + log1p(m − 1).
fn ln_u32(k: u32) -> f64 {
    let e = 31u - countLeadingZeros(k);
    let m = f64(k) / f64(1u << e);
    return f64(e) * f64(0.6931471805599453) + log1p_unit(m - f64(1.0));
}

// √x for x ≥ 0 in f64 (no f64 sqrt on Vulkan's GLSL.std.450 or HLSL either): scaled by even
// powers of two into f32's range, an f32 square root as the seed (24 bits), two Newton
// steps (48, then beyond f64's 53), scaled back by the exact half powers.
fn sqrt_s(x: f64) -> f64 {
    // Zero, subnormals (a device may flush them, leaving a zero seed) and NaN give 0; +∞
    // stays +∞ as on the CPU.
    if !(x > f64(2.2250738585072014e-308)) {
        return f64(0.0);
    }
    if x > f64(1.7976931348623157e308) {
        return x;
    }
    var s = x;
    var f = f64(1.0);
    if s > f64(1.3407807929942597e+154) { s *= f64(7.458340731200207e-155); f *= f64(1.157920892373162e+77); }
    if s > f64(1.157920892373162e+77) { s *= f64(8.636168555094445e-78); f *= f64(3.402823669209385e+38); }
    if s > f64(3.402823669209385e+38) { s *= f64(2.938735877055719e-39); f *= f64(1.8446744073709552e+19); }
    if s > f64(1.8446744073709552e+19) { s *= f64(5.421010862427522e-20); f *= f64(4294967296.0); }
    if s < f64(7.458340731200207e-155) { s *= f64(1.3407807929942597e+154); f *= f64(8.636168555094445e-78); }
    if s < f64(8.636168555094445e-78) { s *= f64(1.157920892373162e+77); f *= f64(2.938735877055719e-39); }
    if s < f64(2.938735877055719e-39) { s *= f64(3.402823669209385e+38); f *= f64(5.421010862427522e-20); }
    if s < f64(5.421010862427522e-20) { s *= f64(1.8446744073709552e+19); f *= f64(2.3283064365386963e-10); }
    var r = f64(sqrt(f32(s)));
    r = f64(0.5) * (r + s / r);
    r = f64(0.5) * (r + s / r);
    return r * f;
}
