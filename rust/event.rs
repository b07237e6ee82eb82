//! The normalized market event: one fixed-size record per level update, trade or quote.
//!
//! One exchange message becomes one or more rows; `FLAG_BEGIN` marks its first row and
//! `FLAG_END` its last, and the sequence ids are repeated on every row of the message.
//! The same layout is the numpy structured dtype `engine._core.EVENT_DTYPE`.

/// REST depth snapshot level; `seq_last` = `lastUpdateId`.
pub const KIND_SNAPSHOT: u8 = 1;
/// Depth diff level; `seq_first` = `U`, `seq_last` = `u`, `seq_prev` = `pu` (-1 on spot).
pub const KIND_DIFF: u8 = 2;
/// Trade print; `side` is the aggressor's side (Bid = buyer took), `order_id` = trade id.
pub const KIND_TRADE: u8 = 3;
/// Best bid/offer quote; two rows (Bid then Ask); `seq_last` = `u`.
pub const KIND_TICKER: u8 = 4;
/// L3: a new resting order (`order_id`, `side`, `price`, `qty`).
pub const KIND_L3_ADD: u8 = 5;
/// L3: an order's new price and size (`order_id`, `price`, `qty`).
pub const KIND_L3_MODIFY: u8 = 6;
/// L3: an order removed (`order_id`).
pub const KIND_L3_CANCEL: u8 = 7;
/// L3: `qty` lots of a resting order traded (`order_id`).
pub const KIND_L3_EXECUTE: u8 = 8;

/// First row of an exchange message.
pub const FLAG_BEGIN: u8 = 1;
/// Last row of an exchange message.
pub const FLAG_END: u8 = 2;
/// The row carries the message's ids but no level (a snapshot or diff with no levels).
pub const FLAG_EMPTY: u8 = 4;

/// One normalized event row. `#[repr(C)]`, 72 bytes; field order is the dtype's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Event {
    /// Exchange event time, ns since the epoch (0 when unknown).
    pub ts_event: i64,
    /// Local receive time, ns since the epoch.
    pub ts_recv: i64,
    pub seq_first: i64,
    pub seq_last: i64,
    pub seq_prev: i64,
    /// Price in ticks.
    pub price: i64,
    /// Size in lots; 0 on a diff removes the level.
    pub qty: i64,
    /// L3 order id or trade id.
    pub order_id: u64,
    pub kind: u8,
    /// 0 bid, 1 ask.
    pub side: u8,
    pub flags: u8,
    pub _pad: [u8; 5],
}

impl Event {
    #[inline]
    pub fn begins(&self) -> bool {
        self.flags & FLAG_BEGIN != 0
    }
    #[inline]
    pub fn ends(&self) -> bool {
        self.flags & FLAG_END != 0
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.flags & FLAG_EMPTY != 0
    }
}

const _: () = assert!(std::mem::size_of::<Event>() == 72);
