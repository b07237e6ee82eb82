//! Exact decimal <-> integer-unit conversion (prices in ticks, sizes in lots).
//!
//! Rule: a conversion is exact or it is an error. No rounding happens here; a value
//! that is not a whole number of steps is `OffGrid`. Trailing zeros beyond the step's
//! precision are fine ("61837.63000000" on a 0.01 grid is 6183763 ticks).

use std::fmt;

/// Why a decimal string could not become a whole number of steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixedError {
    /// Not a plain decimal number (`[-]digits[.digits]`).
    Syntax { value: String },
    /// Negative where only zero or positive values are allowed.
    Negative { value: String },
    /// Not a multiple of the step.
    OffGrid { value: String, step: String },
    /// Does not fit in 64-bit units.
    Overflow { value: String, step: String },
    /// The step itself is not a positive decimal.
    BadStep { step: String },
}

impl fmt::Display for FixedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixedError::Syntax { value } => {
                write!(f, "value {value:?} is not a decimal number (rule: [-]digits[.digits])")
            }
            FixedError::Negative { value } => {
                write!(f, "value {value:?} is negative (rule: must be >= 0)")
            }
            FixedError::OffGrid { value, step } => {
                write!(f, "value {value:?} is not a multiple of step {step} (rule: on the grid)")
            }
            FixedError::Overflow { value, step } => write!(
                f,
                "value {value:?} on step {step} overflows 64-bit units (rule: |units| < 2^63)"
            ),
            FixedError::BadStep { step } => {
                write!(f, "step {step:?} is not a positive decimal (rule: step > 0)")
            }
        }
    }
}

impl std::error::Error for FixedError {}

const MAX_SCALE: u32 = 18;

/// A decimal parsed as mantissa × 10^-scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dec {
    mantissa: i128,
    scale: u32,
}

/// Parses `[-+]digits[.digits]` exactly. Returns None on bad syntax or > 38 digits.
#[inline]
fn parse_dec(s: &[u8]) -> Option<Dec> {
    let (neg, body) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let mut mantissa: i128 = 0;
    let mut scale: u32 = 0;
    let mut seen_dot = false;
    let mut digits = 0u32;
    let mut frac_digits_total = 0u32;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                if seen_dot {
                    frac_digits_total += 1;
                }
                // Trailing fraction zeros beyond MAX_SCALE carry no value; skip them so
                // long zero tails ("1.000000000000000000000") stay exact.
                if seen_dot && scale >= MAX_SCALE {
                    if c != b'0' {
                        return Some(Dec { mantissa: 1, scale: u32::MAX }); // sentinel: too fine
                    }
                    continue;
                }
                mantissa = mantissa.checked_mul(10)?.checked_add((c - b'0') as i128)?;
                digits += 1;
                if digits > 38 {
                    return None;
                }
                if seen_dot {
                    scale += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    // "1." and "." are not numbers; ".5" is not accepted either (exchanges never send it).
    if seen_dot && frac_digits_total == 0 {
        return None;
    }
    if body[0] == b'.' {
        return None;
    }
    Some(Dec {
        mantissa: if neg { -mantissa } else { mantissa },
        scale,
    })
}

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// A grid step (tick size or lot size), e.g. "0.01".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    mantissa: i128,
    scale: u32,
    text: String,
}

impl Step {
    pub fn parse(step: &str) -> Result<Step, FixedError> {
        let bad = || FixedError::BadStep {
            step: step.to_string(),
        };
        let d = parse_dec(step.as_bytes()).ok_or_else(bad)?;
        if d.mantissa <= 0 || d.scale > MAX_SCALE {
            return Err(bad());
        }
        // Normalise "0.010" to mantissa 1, scale 2 so formatting uses the step's real precision.
        let (mut m, mut sc) = (d.mantissa, d.scale);
        while sc > 0 && m % 10 == 0 {
            m /= 10;
            sc -= 1;
        }
        Ok(Step {
            mantissa: m,
            scale: sc,
            text: format_dec(m, sc),
        })
    }

    /// The step as a canonical decimal string ("0.01").
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Decimal places needed to print any multiple of the step.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The step's normalised mantissa: the step is `mantissa() × 10^-scale()` exactly.
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// Converts a decimal string to a whole number of steps; exact or an error.
    #[inline]
    pub fn to_units(&self, value: &str, allow_negative: bool) -> Result<i64, FixedError> {
        self.to_units_bytes(value.as_bytes(), allow_negative)
            .map_err(|k| k.into_error(value, self))
    }

    /// Byte-level fast path used by the event builder; errors carry only their kind.
    #[inline]
    pub fn to_units_bytes(&self, value: &[u8], allow_negative: bool) -> Result<i64, ErrKind> {
        let d = parse_dec(value).ok_or(ErrKind::Syntax)?;
        if d.scale == u32::MAX {
            return Err(ErrKind::OffGrid);
        }
        if d.mantissa < 0 && !allow_negative {
            return Err(ErrKind::Negative);
        }
        // units = d.mantissa * 10^-d.scale / (step.mantissa * 10^-step.scale)
        //       = d.mantissa * 10^(step.scale) / (step.mantissa * 10^(d.scale))
        let (num, den) = if d.scale >= self.scale {
            (d.mantissa, self.mantissa.checked_mul(POW10[(d.scale - self.scale) as usize]).ok_or(ErrKind::OffGrid)?)
        } else {
            (
                d.mantissa
                    .checked_mul(POW10[(self.scale - d.scale) as usize])
                    .ok_or(ErrKind::Overflow)?,
                self.mantissa,
            )
        };
        if num % den != 0 {
            return Err(ErrKind::OffGrid);
        }
        let units = num / den;
        i64::try_from(units).map_err(|_| ErrKind::Overflow)
    }

    /// Formats a whole number of steps as a decimal string with the step's precision.
    pub fn from_units(&self, units: i64) -> String {
        format_dec(units as i128 * self.mantissa, self.scale)
    }
}

/// The kind of a conversion failure, without the strings (cheap on the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    Syntax,
    Negative,
    OffGrid,
    Overflow,
}

impl ErrKind {
    pub fn into_error(self, value: &str, step: &Step) -> FixedError {
        let value = value.to_string();
        let step = step.as_str().to_string();
        match self {
            ErrKind::Syntax => FixedError::Syntax { value },
            ErrKind::Negative => FixedError::Negative { value },
            ErrKind::OffGrid => FixedError::OffGrid { value, step },
            ErrKind::Overflow => FixedError::Overflow { value, step },
        }
    }
}

fn format_dec(mantissa: i128, scale: u32) -> String {
    let neg = mantissa < 0;
    let digits = mantissa.unsigned_abs().to_string();
    let scale = scale as usize;
    let mut out = String::with_capacity(digits.len() + 3);
    if neg {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    }
    out
}

/// The tick and lot grid of an instrument: prices in ticks, sizes in lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub tick: Step,
    pub lot: Step,
}

impl Grid {
    pub fn new(tick_size: &str, lot_size: &str) -> Result<Grid, FixedError> {
        Ok(Grid {
            tick: Step::parse(tick_size)?,
            lot: Step::parse(lot_size)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(s: &str) -> Step {
        Step::parse(s).unwrap()
    }

    #[test]
    fn converts_on_grid_values() {
        assert_eq!(step("0.01").to_units("61837.63000000", false), Ok(6183763));
        assert_eq!(step("0.1").to_units("61800.20", false), Ok(618002));
        assert_eq!(step("0.001").to_units("0.000", false), Ok(0));
        assert_eq!(step("0.00001").to_units("3.78826000", false), Ok(378826));
        assert_eq!(step("5").to_units("15", false), Ok(3));
        assert_eq!(step("0.5").to_units("2.5", false), Ok(5));
        assert_eq!(step("0.1").to_units("-1.2", true), Ok(-12));
    }

    #[test]
    fn rejects_off_grid_negative_syntax_overflow() {
        let s = step("0.1");
        assert!(matches!(s.to_units("61800.25", false), Err(FixedError::OffGrid { .. })));
        assert!(matches!(s.to_units("-1", false), Err(FixedError::Negative { .. })));
        for bad in ["", "-", "1.", ".5", "1e5", "1,5", "abc", "1.2.3", " 1"] {
            assert!(matches!(s.to_units(bad, false), Err(FixedError::Syntax { .. })), "{bad}");
        }
        assert!(matches!(
            step("1").to_units("9223372036854775808", false),
            Err(FixedError::Overflow { .. })
        ));
        assert_eq!(step("1").to_units("9223372036854775807", false), Ok(i64::MAX));
        assert!(matches!(
            step("0.000000001").to_units("99999999999999999999", false),
            Err(FixedError::Overflow { .. })
        ));
        assert!(matches!(s.to_units("1.00000000000000000000000001", false), Err(FixedError::OffGrid { .. })));
        assert_eq!(s.to_units("1.0000000000000000000000000", false), Ok(10));
    }

    #[test]
    fn bad_steps() {
        for bad in ["0", "-0.1", "0.000", "x", "0.0000000000000000001"] {
            assert!(Step::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(step("0.010").as_str(), "0.01");
    }

    #[test]
    fn formats_units() {
        assert_eq!(step("0.01").from_units(6183763), "61837.63");
        assert_eq!(step("0.001").from_units(5), "0.005");
        assert_eq!(step("0.1").from_units(-12), "-1.2");
        assert_eq!(step("5").from_units(3), "15");
        assert_eq!(step("0.00001").from_units(0), "0.00000");
    }

    #[test]
    fn error_messages_name_value_and_rule() {
        let e = step("0.1").to_units("1.25", false).unwrap_err().to_string();
        assert!(e.contains("1.25") && e.contains("0.1") && e.contains("rule"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn round_trips(units in -1_000_000_000_000i64..1_000_000_000_000, st in proptest::sample::select(vec!["0.1", "0.01", "0.00001", "1", "5", "0.25"])) {
            let s = step(st);
            let text = s.from_units(units);
            proptest::prop_assert_eq!(s.to_units(&text, true), Ok(units));
        }
    }
}
