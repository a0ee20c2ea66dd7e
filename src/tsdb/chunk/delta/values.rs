//! Values as integers: exact decimals as `m` with `v = m / 10^scale`, anything
//! else as its IEEE 754 bit pattern.

/// Largest decimal scale: `10^22` is the largest power of ten an `f64` holds
/// exactly, and the decoder divides by it.
pub(super) const MAX_SCALE: u8 = 22;
/// Decimal scales up to this one are used without comparing against the values'
/// bit patterns.
pub(super) const FEW_DECIMALS: u8 = 6;
/// Scale byte meaning "values are IEEE 754 bit patterns".
pub(super) const RAW_BITS: u8 = 0xff;

pub(super) const POW10: [f64; MAX_SCALE as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The decimal scale `s` (smallest that serves every value) and integers `m`
/// with `m as f64 / 10^s` bit for bit equal to each value, or `None` when some
/// value is not such a decimal (fractions beyond 22 digits, NaN, ±Inf, −0.0,
/// magnitudes beyond `i64`).
pub(super) fn decimal(values: &[f64], out: &mut Vec<i64>) -> Option<u8> {
    let exact = |v: f64, s: u8| {
        let p = POW10[usize::from(s)];
        let x = v * p;
        // Both bounds exclude the values `as i64` would saturate to.
        if !(-9.2e18..9.2e18).contains(&x) {
            return None;
        }
        // Rounded to the nearest integer without a call to libm's `round`;
        // which way a tie goes does not matter, the check below decides.
        let m = x as i64;
        let m = match x - m as f64 {
            f if f >= 0.5 => m + 1,
            f if f <= -0.5 => m - 1,
            _ => m,
        };
        ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
    };
    let mut scale = 0u8;
    loop {
        // The smallest scale each value needs, and at least the ones before.
        for &v in values {
            while exact(v, scale).is_none() {
                scale += 1;
                if scale > MAX_SCALE {
                    return None;
                }
            }
        }
        // A value exact at a smaller scale is usually exact at a larger one too,
        // but not always (the larger integer may not convert exactly).
        out.clear();
        out.extend(values.iter().map_while(|&v| exact(v, scale)));
        if out.len() == values.len() {
            return Some(scale);
        }
        scale += 1;
        if scale > MAX_SCALE {
            return None;
        }
    }
}
