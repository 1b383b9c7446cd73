//! Numbers as Redis reads and writes them.
//!
//! Redis is strict about integers (`string2ll`: no sign but `-`, no leading
//! zeros, no spaces) and prints doubles with C's `%.17g`. Clients compare these
//! bytes, so the same rules are kept here.

/// Parses a signed 64-bit integer the way Redis's `string2ll` does.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses an unsigned 64-bit integer with the same strictness.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s == b"0" {
        return Some(0);
    }
    match s.first() {
        Some(b'1'..=b'9') if s.len() <= 20 => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Parses a double the way Redis's `getDoubleFromObject` does (`strtod` over the
/// whole string): no leading space, no trailing bytes, never NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let v: f64 = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts a few spellings strtod does not and vice versa; keep
            // to the plain decimal forms both agree on.
            if !lower.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'-' | b'+')) {
                return None;
            }
            text.parse().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Formats like C's `printf("%.17g", d)`, with `inf`, `-inf` and `nan` spelled as Redis does.
pub fn fmt_double(d: f64) -> String {
    fmt_g(d, 17)
}

/// C's `%.{precision}g`: `precision` significant digits, scientific notation
/// when the exponent is below -4 or at least `precision`, trailing zeros removed.
pub fn fmt_g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return "nan".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Redis reads both operands with `strtold`, adds them as C `long double`s
/// (the x87 80-bit format: 64-bit significand, 15-bit exponent) and prints
/// the sum with `%.17Lf` less its trailing zeros. The digits a client sees
/// come from that format's rounding: `10.5 + 0.1` is `10.6` there but
/// `10.59999999999999964` in f64. So the format is emulated exactly: parsing
/// and addition with correctly rounded soft floats (LLVM's APFloat port, as
/// rustc uses it), printing by exact integer arithmetic, ties to even as glibc.
pub mod long_double {
    use rustc_apfloat::ieee::X87DoubleExtended as F80;
    use rustc_apfloat::{Float, Round};

    /// Redis's `MAX_LONG_DOUBLE_CHARS`: a longer string is not a number.
    const MAX_CHARS: usize = 5 * 1024;
    /// `%.17Lf`'s digits after the point.
    const DECIMALS: u32 = 17;

    pub fn from_i64(n: i64) -> F80 {
        // Exact: every i64 fits the 64-bit significand.
        F80::from_i128(n as i128).value
    }

    /// Reads a number as Redis's `string2ld` does: the whole input must be
    /// `strtold` syntax (decimal or `0x` hexadecimal, `inf`/`infinity`), with
    /// no leading space; NaN, and values that overflow or underflow to zero,
    /// are refused. Subnormal results are kept, as glibc returns them.
    pub fn parse(s: &[u8]) -> Option<F80> {
        if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(if neg { -F80::INFINITY } else { F80::INFINITY });
        }
        let (hex, body) = match body {
            [b'0', b'x' | b'X', rest @ ..] => (true, rest),
            _ => (false, body),
        };
        let exp_mark: &[u8] = if hex { b"pP" } else { b"eE" };
        let (mantissa, exp) = match body.iter().position(|c| exp_mark.contains(c)) {
            Some(p) => (&body[..p], Some(&body[p + 1..])),
            None => (body, None),
        };
        let is_digit = |c: &u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        let digits = mantissa.iter().filter(|c| is_digit(c)).count();
        let dots = mantissa.iter().filter(|&&c| c == b'.').count();
        if digits == 0 || digits + dots != mantissa.len() || dots > 1 {
            return None;
        }
        if let Some(exp) = exp {
            let exp_digits = exp.strip_prefix(b"+").or_else(|| exp.strip_prefix(b"-"));
            let exp_digits = exp_digits.unwrap_or(exp);
            if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
        }
        let nonzero = mantissa.iter().any(|&c| is_digit(&c) && c != b'0');
        // Only ASCII is left, in a form APFloat reads (hex needs an exponent).
        let mut text = String::with_capacity(s.len() + 4);
        if neg {
            text.push('-');
        }
        if hex {
            text.push_str("0x");
        }
        text.extend(mantissa.iter().map(|&c| c as char));
        match (exp, hex) {
            (Some(_), true) => text.push('p'),
            (Some(_), false) => text.push('e'),
            (None, true) => text.push_str("p0"),
            (None, false) => {}
        }
        if let Some(e) = exp {
            text.extend(e.iter().map(|&c| c as char));
        }
        let v = F80::from_str_r(&text, Round::NearestTiesToEven).ok()?.value;
        if v.is_nan() || v.is_infinite() || (v.is_zero() && nonzero) {
            return None;
        }
        Some(v)
    }

    fn is_c_space(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// The sum rounded to the format, or `None` when it is NaN or infinite.
    pub fn add(a: F80, b: F80) -> Option<F80> {
        let sum = a.add_r(b, Round::NearestTiesToEven).value;
        (!sum.is_nan() && !sum.is_infinite()).then_some(sum)
    }

    /// Prints a finite value as `%.17Lf` with the trailing zeros (and a bare
    /// point) removed, and `-0` written `0`: Redis's `ld2string` in its
    /// human mode.
    pub fn format(v: F80) -> Vec<u8> {
        let bits = v.to_bits();
        let negative = (bits >> 79) & 1 == 1;
        let biased = ((bits >> 64) & 0x7fff) as i32;
        let significand = bits as u64;
        // value = significand * 2^exp; subnormals share the smallest exponent.
        let exp = biased.max(1) - 16383 - 63;
        let mut out = Vec::with_capacity(32);
        if negative {
            out.push(b'-');
        }
        if exp >= 0 {
            // An integer: no fraction digits survive the trimming.
            out.extend_from_slice(&big_decimal(significand, exp as u32));
        } else {
            // significand * 10^17 < 2^121, so the scaled value fits in u128,
            // and a shift of 128 bits or more leaves less than half a unit.
            let scaled = significand as u128 * 10u128.pow(DECIMALS);
            let shift = exp.unsigned_abs();
            let units = if shift >= 128 {
                0
            } else {
                let q = scaled >> shift;
                let rest = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                if rest > half || (rest == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            let unit = 10u128.pow(DECIMALS);
            let mut int = itoa::Buffer::new();
            out.extend_from_slice(int.format(units / unit).as_bytes());
            let frac = format!("{:017}", units % unit);
            let frac = frac.trim_end_matches('0');
            if !frac.is_empty() {
                out.push(b'.');
                out.extend_from_slice(frac.as_bytes());
            }
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }

    /// The decimal digits of `significand * 2^shift`.
    fn big_decimal(significand: u64, shift: u32) -> Vec<u8> {
        // Little-endian 32-bit limbs.
        let mut limbs = vec![0u32; (shift / 32) as usize];
        let wide = (significand as u128) << (shift % 32);
        limbs.extend([wide as u32, (wide >> 32) as u32, (wide >> 64) as u32]);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        // Peel off nine digits at a time, least significant first.
        let mut chunks = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let cur = (rem << 32) | *limb as u64;
                *limb = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            chunks.push(rem as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut out = Vec::with_capacity(chunks.len() * 9);
        let mut first = true;
        for chunk in chunks.iter().rev() {
            if first {
                out.extend_from_slice(itoa::Buffer::new().format(*chunk).as_bytes());
                first = false;
            } else {
                out.extend_from_slice(format!("{chunk:09}").as_bytes());
            }
        }
        if out.is_empty() {
            out.push(b'0');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b""[..], b"01", b"+1", b" 1", b"1 ", b"-0", b"-", b"9223372036854775808", b"1.0"] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_like_printf() {
        assert_eq!(fmt_double(1.0), "1");
        assert_eq!(fmt_double(1.5), "1.5");
        assert_eq!(fmt_double(0.1), "0.10000000000000001");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(1e-5), "1.0000000000000001e-05");
        assert_eq!(fmt_double(123456789.0), "123456789");
        assert_eq!(fmt_double(-2.5), "-2.5");
        assert_eq!(fmt_g(0.0001, 17), "0.0001");
        assert_eq!(fmt_g(3.0, 17), "3");
    }

    #[test]
    fn parse_doubles() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"1x"), None);
    }
}
