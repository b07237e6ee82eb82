//! Book side, with the price ordering that makes one side's "better" the other's "worse".

/// A side of the book. `Bid` levels improve upwards, `Ask` levels downwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    Bid = 0,
    Ask = 1,
}

impl Side {
    /// Decodes the wire value used in events and the Python API (0 bid, 1 ask).
    #[inline]
    pub fn from_u8(v: u8) -> Option<Side> {
        match v {
            0 => Some(Side::Bid),
            1 => Some(Side::Ask),
            _ => None,
        }
    }

    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }

    /// True when `a` is a strictly better price than `b` on this side.
    #[inline]
    pub fn better(self, a: i64, b: i64) -> bool {
        match self {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    /// The index used for per-side arrays.
    #[inline]
    pub fn idx(self) -> usize {
        self as usize
    }
}
