//! Exact money: a signed count of 10^-18 units of one asset, in an `i128`.
//!
//! Rules (no `f64` anywhere on this path):
//! - Arithmetic is checked: an overflow is [`MoneyError::Overflow`], never a wrap and
//!   never a panic.
//! - Parsing is exact: `[-+]digits[.digits]`, at most 18 significant fraction digits
//!   (zeros beyond the 18th are fine, anything else is [`MoneyError::Precision`]).
//! - `Display` prints the exact decimal with trailing fraction zeros trimmed
//!   (`1.5`, `-0.000000000000000001`, `0`).
//! - Rounding happens only where a caller asks for it, with an explicit [`Rounding`]
//!   mode whose names and meanings are those of Python's `decimal` module:
//!   `Down` toward zero, `Up` away from zero, `Floor` toward -inf, `Ceiling` toward
//!   +inf, `HalfEven` to nearest with ties to the even neighbour.

use std::fmt;

/// Why a money operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// The result does not fit in an `i128` count of 10^-18 units.
    Overflow { op: &'static str },
    /// Not a plain decimal number.
    Syntax { value: String },
    /// More than 18 significant fraction digits.
    Precision { value: String },
    /// A requested precision (decimal places) is above 18.
    BadPrecision { decimals: u32 },
    /// Tick scale + lot scale is above 18: the notional of one tick × one lot is finer
    /// than 10^-18 and cannot be represented exactly.
    ScaleTooFine { tick_scale: u32, lot_scale: u32 },
    /// A fee rate outside [-1, 1] or with more than 10 decimals.
    BadRate { value: String },
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::Overflow { op } => {
                write!(f, "{op} overflows (rule: |money| < 2^127 × 10^-18, never wraps)")
            }
            MoneyError::Syntax { value } => {
                write!(f, "value {value:?} is not a decimal number (rule: [-+]digits[.digits])")
            }
            MoneyError::Precision { value } => {
                write!(f, "value {value:?} has more than 18 decimals (rule: money is exact to 10^-18)")
            }
            MoneyError::BadPrecision { decimals } => {
                write!(f, "precision {decimals} is above 18 decimals (rule: 0..=18)")
            }
            MoneyError::ScaleTooFine { tick_scale, lot_scale } => write!(
                f,
                "tick scale {tick_scale} + lot scale {lot_scale} = {} (rule: <= 18, so tick × lot is exact in money units)",
                tick_scale + lot_scale
            ),
            MoneyError::BadRate { value } => write!(
                f,
                "fee rate {value:?} is invalid (rule: a decimal in [-1, 1] with at most 10 decimals)"
            ),
        }
    }
}

impl std::error::Error for MoneyError {}

/// Rounding modes, named and defined as in Python's `decimal` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Toward zero (`ROUND_DOWN`).
    Down,
    /// Away from zero (`ROUND_UP`).
    Up,
    /// Toward negative infinity (`ROUND_FLOOR`).
    Floor,
    /// Toward positive infinity (`ROUND_CEILING`).
    Ceiling,
    /// To nearest, ties to even (`ROUND_HALF_EVEN`).
    HalfEven,
}

pub(crate) const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `n / d` rounded with `mode`; `d != 0`. Never overflows unless `n == i128::MIN && d == -1`
/// (returned as `None`).
#[inline]
pub(crate) fn div_round(n: i128, d: i128, mode: Rounding) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n % d;
    if r == 0 {
        return Some(q);
    }
    // Sign of the exact quotient: positive when n and d have the same sign.
    let positive = (n < 0) == (d < 0);
    let away = |q: i128| if positive { q + 1 } else { q - 1 };
    Some(match mode {
        Rounding::Down => q,
        Rounding::Up => away(q),
        Rounding::Floor => {
            if positive {
                q
            } else {
                q - 1
            }
        }
        Rounding::Ceiling => {
            if positive {
                q + 1
            } else {
                q
            }
        }
        Rounding::HalfEven => {
            // Compare 2|r| with |d| without overflow: |r| < |d|, so |d| - |r| > 0.
            let (ar, ad) = (r.unsigned_abs(), d.unsigned_abs());
            let rest = ad - ar;
            if ar > rest || (ar == rest && q % 2 != 0) {
                away(q)
            } else {
                q
            }
        }
    })
}

/// `c × n / d` rounded toward +inf, exact for any `c` when `|n| <= |d|` (the proportional
/// share of `c`), with no 256-bit intermediate: `c = a·d + b` gives
/// `c·n/d = a·n + b·n/d`, where `|a·n| <= |c|` and `|b·n| < 2^126`.
#[inline]
pub(crate) fn mul_div_ceil(c: i128, n: i64, d: i64) -> i128 {
    debug_assert!(d != 0 && n.unsigned_abs() <= d.unsigned_abs());
    let (n, d) = (n as i128, d as i128);
    match c.checked_mul(n) {
        Some(p) => div_round(p, d, Rounding::Ceiling).expect("d != -1 or p != MIN"),
        None => mul_div_ceil_split(c, n, d),
    }
}

/// The overflow-free form of [`mul_div_ceil`] (`n`, `d` already widened).
#[inline]
fn mul_div_ceil_split(c: i128, n: i128, d: i128) -> i128 {
    let a = c / d;
    let b = c % d;
    a * n + div_round(b * n, d, Rounding::Ceiling).expect("|b·n| < 2^126")
}

/// An exact amount of one asset: `units × 10^-18`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i128);

impl Money {
    /// Decimal places of the unit: one unit is 10^-18 of the asset.
    pub const SCALE: u32 = 18;
    pub const ZERO: Money = Money(0);
    pub const MAX: Money = Money(i128::MAX);
    pub const MIN: Money = Money(i128::MIN);

    /// From a raw count of 10^-18 units.
    #[inline]
    pub const fn from_units(units: i128) -> Money {
        Money(units)
    }

    /// The raw count of 10^-18 units.
    #[inline]
    pub const fn units(self) -> i128 {
        self.0
    }

    /// From a whole number of the asset (`from_int(3)` is 3.0).
    pub fn from_int(n: i64) -> Money {
        Money(n as i128 * POW10[18])
    }

    /// From a count of 10^-decimals units (e.g. satoshis with `decimals = 8`).
    pub fn from_scaled(count: i128, decimals: u32) -> Result<Money, MoneyError> {
        if decimals > Self::SCALE {
            return Err(MoneyError::BadPrecision { decimals });
        }
        count
            .checked_mul(POW10[(Self::SCALE - decimals) as usize])
            .map(Money)
            .ok_or(MoneyError::Overflow { op: "scaling to 10^-18 units" })
    }

    #[inline]
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    #[inline]
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow { op: "money add" })
    }

    #[inline]
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow { op: "money sub" })
    }

    #[inline]
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.0
            .checked_neg()
            .map(Money)
            .ok_or(MoneyError::Overflow { op: "money neg" })
    }

    /// Multiplies by an integer (a quantity), checked.
    #[inline]
    pub fn checked_mul_int(self, k: i128) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(k)
            .map(Money)
            .ok_or(MoneyError::Overflow { op: "money mul" })
    }

    /// The amount as a count of 10^-decimals units, rounded with `mode`.
    pub fn to_scaled(self, decimals: u32, mode: Rounding) -> Result<i128, MoneyError> {
        if decimals > Self::SCALE {
            return Err(MoneyError::BadPrecision { decimals });
        }
        // The divisor is positive and > 1 or exactly 1, so the division cannot overflow.
        Ok(div_round(self.0, POW10[(Self::SCALE - decimals) as usize], mode).expect("divisor > 0"))
    }

    /// Rounds to `decimals` places (an asset's precision) with `mode`.
    pub fn round_to(self, decimals: u32, mode: Rounding) -> Result<Money, MoneyError> {
        let count = self.to_scaled(decimals, mode)?;
        Money::from_scaled(count, decimals)
    }

    /// Parses `[-+]digits[.digits]` exactly.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let syntax = || MoneyError::Syntax {
            value: text.to_string(),
        };
        let b = text.as_bytes();
        let (neg, body) = match b.first() {
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            Some(_) => (false, b),
            None => return Err(syntax()),
        };
        let (int, frac) = match body.iter().position(|&c| c == b'.') {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        if int.is_empty() || frac.is_some_and(|f| f.is_empty()) {
            return Err(syntax());
        }
        let overflow = || MoneyError::Overflow { op: "parsing money" };
        let mut units: i128 = 0;
        for &c in int {
            if !c.is_ascii_digit() {
                return Err(syntax());
            }
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add((c - b'0') as i128))
                .ok_or_else(overflow)?;
        }
        units = units.checked_mul(POW10[18]).ok_or_else(overflow)?;
        let mut frac_units: i128 = 0;
        for (i, &c) in frac.unwrap_or(&[]).iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(syntax());
            }
            if i < 18 {
                frac_units += (c - b'0') as i128 * POW10[17 - i];
            } else if c != b'0' {
                return Err(MoneyError::Precision {
                    value: text.to_string(),
                });
            }
        }
        // Accumulate negatively so that the most negative value parses too.
        let total = units.checked_add(frac_units).ok_or_else(overflow);
        match (neg, total) {
            (false, t) => t.map(Money),
            (true, Ok(t)) => Ok(Money(-t)),
            (true, Err(_)) => {
                // |value| may be exactly 2^127: -(units) - frac_units.
                (-units).checked_sub(frac_units).map(Money).ok_or_else(overflow)
            }
        }
    }

    /// Formats with exactly `decimals` places after rounding with `mode`
    /// (`decimals = 0` prints no point).
    pub fn format_dp(self, decimals: u32, mode: Rounding) -> Result<String, MoneyError> {
        let count = self.to_scaled(decimals, mode)?;
        Ok(format_scaled(count, decimals as usize, false))
    }
}

/// Formats `count × 10^-scale`; with `trim`, trailing fraction zeros (and a bare point) go.
fn format_scaled(count: i128, scale: usize, trim: bool) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if count < 0 {
        out.push('-');
    }
    let (int, frac): (&str, String) = if digits.len() > scale {
        let (i, f) = digits.split_at(digits.len() - scale);
        (i, f.to_string())
    } else {
        ("0", "0".repeat(scale - digits.len()) + &digits)
    };
    out.push_str(int);
    let frac = if trim { frac.trim_end_matches('0') } else { &frac };
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format_scaled(self.0, 18, true))
    }
}

impl std::str::FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Money, MoneyError> {
        Money::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_and_displays_exactly() {
        assert_eq!(m("1.5").units(), 1_500_000_000_000_000_000);
        assert_eq!(m("-0.000000000000000001").units(), -1);
        assert_eq!(m("+2").units(), 2 * POW10[18]);
        assert_eq!(m("1.000000000000000000000").units(), POW10[18]);
        assert_eq!(m("61837.63").to_string(), "61837.63");
        assert_eq!(m("-0.5").to_string(), "-0.5");
        assert_eq!(m("0.000").to_string(), "0");
        assert_eq!(m("-0").to_string(), "0");
        assert_eq!(m("100").to_string(), "100");
        assert_eq!(Money::MIN.to_string(), "-170141183460469231731.687303715884105728");
        assert_eq!(m("-170141183460469231731.687303715884105728"), Money::MIN);
        assert_eq!(m("170141183460469231731.687303715884105727"), Money::MAX);
        assert_eq!(format!("{:>6}", m("1.5")), "   1.5");
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["", "-", "1.", ".5", "1e5", "1,5", "abc", "1.2.3", " 1", "--1"] {
            assert!(matches!(Money::parse(bad), Err(MoneyError::Syntax { .. })), "{bad}");
        }
        assert!(matches!(
            Money::parse("0.0000000000000000001"),
            Err(MoneyError::Precision { .. })
        ));
        assert!(matches!(
            Money::parse("170141183460469231731.687303715884105728"),
            Err(MoneyError::Overflow { .. })
        ));
        assert!(matches!(
            Money::parse("999999999999999999999999"),
            Err(MoneyError::Overflow { .. })
        ));
        let e = Money::parse("1.0000000000000000001").unwrap_err().to_string();
        assert!(e.contains("1.0000000000000000001") && e.contains("rule"), "{e}");
    }

    #[test]
    fn rounding_modes_match_python_decimal() {
        // Values at 2 decimals -> 0 decimals; cf. Decimal(x).quantize(Decimal(1), mode).
        let cases = [
            // value,  Down, Up, Floor, Ceiling, HalfEven
            ("2.5", 2, 3, 2, 3, 2),
            ("3.5", 3, 4, 3, 4, 4),
            ("-2.5", -2, -3, -3, -2, -2),
            ("-3.5", -3, -4, -4, -3, -4),
            ("2.51", 2, 3, 2, 3, 3),
            ("-2.49", -2, -3, -3, -2, -2),
            ("7", 7, 7, 7, 7, 7),
        ];
        for (v, d, u, fl, c, he) in cases {
            let x = m(v);
            assert_eq!(x.to_scaled(0, Rounding::Down), Ok(d), "{v}");
            assert_eq!(x.to_scaled(0, Rounding::Up), Ok(u), "{v}");
            assert_eq!(x.to_scaled(0, Rounding::Floor), Ok(fl), "{v}");
            assert_eq!(x.to_scaled(0, Rounding::Ceiling), Ok(c), "{v}");
            assert_eq!(x.to_scaled(0, Rounding::HalfEven), Ok(he), "{v}");
        }
        assert_eq!(m("0.123456785").round_to(8, Rounding::HalfEven), Ok(m("0.12345678")));
        assert_eq!(m("0.123456775").round_to(8, Rounding::HalfEven), Ok(m("0.12345678")));
        assert_eq!(m("0.123456781").round_to(8, Rounding::Up), Ok(m("0.12345679")));
        assert_eq!(m("-0.123456781").format_dp(8, Rounding::Down), Ok("-0.12345678".into()));
        assert_eq!(m("1.5").format_dp(3, Rounding::Down), Ok("1.500".into()));
        assert_eq!(m("1.5").format_dp(0, Rounding::HalfEven), Ok("2".into()));
        assert_eq!(Money::MIN.to_scaled(0, Rounding::Floor), Ok(-170141183460469231732));
        assert!(matches!(m("1").to_scaled(19, Rounding::Down), Err(MoneyError::BadPrecision { .. })));
        assert!(matches!(Money::MAX.round_to(0, Rounding::Up), Err(MoneyError::Overflow { .. })));
    }

    #[test]
    fn mul_div_ceil_is_exact_beyond_i128_products() {
        assert_eq!(mul_div_ceil(302, 1, 3), 101); // 100.67 -> 101
        assert_eq!(mul_div_ceil(-302, -1, -3), -100); // -100.67 -> -100
        assert_eq!(mul_div_ceil(300, 1, 3), 100);
        let big = i128::MAX / 3;
        // big × (2^62) overflows i128; big × n / d with n = d is exactly big.
        assert_eq!(mul_div_ceil(big, 1 << 62, 1 << 62), big);
        assert_eq!(mul_div_ceil(-big, 1 << 62, 1 << 62), -big);
        assert_eq!(mul_div_ceil(big, 3 << 60, 1 << 62), div_round(big / 4 * 3 * 4 + big % 4 * 3, 4, Rounding::Ceiling).unwrap());
    }

    proptest! {
        #[test]
        fn add_sub_never_wrap(a in any::<i128>(), b in any::<i128>()) {
            let (x, y) = (Money::from_units(a), Money::from_units(b));
            match a.checked_add(b) {
                Some(s) => prop_assert_eq!(x.checked_add(y), Ok(Money::from_units(s))),
                None => prop_assert_eq!(x.checked_add(y), Err(MoneyError::Overflow { op: "money add" })),
            }
            match a.checked_sub(b) {
                Some(s) => prop_assert_eq!(x.checked_sub(y), Ok(Money::from_units(s))),
                None => prop_assert_eq!(x.checked_sub(y), Err(MoneyError::Overflow { op: "money sub" })),
            }
        }

        #[test]
        fn display_parse_round_trip(a in any::<i128>()) {
            let x = Money::from_units(a);
            prop_assert_eq!(Money::parse(&x.to_string()), Ok(x));
        }

        #[test]
        fn rounding_brackets_the_value(a in -(1i128 << 100)..(1i128 << 100), d in 0u32..=18) {
            let x = Money::from_units(a);
            let s = POW10[(18 - d) as usize];
            let fl = x.to_scaled(d, Rounding::Floor).unwrap();
            let ce = x.to_scaled(d, Rounding::Ceiling).unwrap();
            prop_assert!(fl * s <= a && a <= ce * s && ce - fl <= 1);
            let he = x.to_scaled(d, Rounding::HalfEven).unwrap();
            prop_assert!((he * s - a).abs() * 2 <= s);
            let dn = x.to_scaled(d, Rounding::Down).unwrap();
            prop_assert!((dn * s).abs() <= a.abs());
        }

        #[test]
        fn mul_div_ceil_matches_wide_reference(c in any::<i64>(), hi in any::<i32>(), d in 1i64..1_000_000, n in 0i64..1_000_000, neg_d: bool) {
            let n = n % (d + 1);
            let d = if neg_d { -d } else { d };
            let c = ((hi as i128) << 64) | (c as u64 as i128);
            // Reference: c·n fits in i128 here (|c| < 2^95, |n| < 2^20).
            let want = div_round(c * n as i128, d as i128, Rounding::Ceiling).unwrap();
            prop_assert_eq!(mul_div_ceil(c, n, d), want);
            prop_assert_eq!(mul_div_ceil_split(c, n as i128, d as i128), want);
        }
    }
}
