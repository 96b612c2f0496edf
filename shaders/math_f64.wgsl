// math_f64.wgsl — the transcendental helpers of the losses in f64. exp and log have no f64
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
