//! The submit-rate token bucket, refilled from caller-supplied timestamps.

/// Bucket units per token: the level is kept in 10^-9 tokens so that a refill of
/// `refill_per_s` tokens per second adds exactly `refill_per_s` units per nanosecond.
pub const UNITS_PER_TOKEN: i128 = 1_000_000_000;

/// A token bucket. Time is only what the caller passes (nanoseconds, any epoch); the
/// bucket never reads a clock.
///
/// - It starts full; the first timestamp seen starts the refill clock.
/// - [`TokenBucket::refill`] adds `elapsed_ns × refill_per_s` units, capped at the
///   capacity; a timestamp earlier than the last one adds nothing and is not remembered
///   (time never runs backwards for the bucket).
/// - [`TokenBucket::try_take`] removes one whole token if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    capacity: i64,
    refill_per_s: i64,
    units: i128,
    last_ns: Option<i64>,
}

impl TokenBucket {
    /// `capacity >= 1` and `refill_per_s >= 0` are checked by the caller
    /// ([`super::RiskLimits::validate`]).
    pub fn new(capacity: i64, refill_per_s: i64) -> TokenBucket {
        TokenBucket {
            capacity,
            refill_per_s,
            units: capacity as i128 * UNITS_PER_TOKEN,
            last_ns: None,
        }
    }

    pub fn capacity(&self) -> i64 {
        self.capacity
    }

    pub fn refill_per_s(&self) -> i64 {
        self.refill_per_s
    }

    /// The level in 10^-9 tokens.
    pub fn units(&self) -> i128 {
        self.units
    }

    /// Whole tokens available.
    pub fn tokens(&self) -> i64 {
        (self.units / UNITS_PER_TOKEN) as i64
    }

    /// Brings the level up to `now_ns`.
    #[inline]
    pub fn refill(&mut self, now_ns: i64) {
        match self.last_ns {
            None => self.last_ns = Some(now_ns),
            Some(last) if now_ns > last => {
                let cap = self.capacity as i128 * UNITS_PER_TOKEN;
                let elapsed = now_ns as i128 - last as i128; // < 2^64
                let add = elapsed.saturating_mul(self.refill_per_s as i128);
                self.units = self.units.saturating_add(add).min(cap);
                self.last_ns = Some(now_ns);
            }
            Some(_) => {}
        }
    }

    /// Nanoseconds until one whole token is available (0 if one is); None if never.
    #[inline]
    pub fn wait_ns(&self) -> Option<i64> {
        let missing = UNITS_PER_TOKEN - self.units;
        if missing <= 0 {
            return Some(0);
        }
        if self.refill_per_s == 0 {
            return None;
        }
        let r = self.refill_per_s as i128;
        Some(((missing + r - 1) / r) as i64)
    }

    /// Takes one token if a whole one is there.
    #[inline]
    pub fn try_take(&mut self) -> bool {
        if self.units >= UNITS_PER_TOKEN {
            self.units -= UNITS_PER_TOKEN;
            true
        } else {
            false
        }
    }
}
