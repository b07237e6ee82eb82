//! Property tests: random operation sequences against a deliberately simple model.
//!
//! The model keeps every resting order in one `Vec` in global priority order (an order
//! that loses priority is moved to the end), so a level's FIFO is just the orders at that
//! side and price in `Vec` order. All query answers are recomputed from it directly.

use proptest::prelude::*;

use super::*;
use crate::query::{BookQueries, Walk};

#[derive(Debug, Clone, Copy)]
struct MOrder {
    id: u64,
    side: Side,
    price: i64,
    qty: i64,
}

#[derive(Debug, Default)]
struct Model {
    orders: Vec<MOrder>,
}

impl Model {
    fn pos(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    /// (price, total) best first.
    fn levels(&self, side: Side) -> Vec<(i64, i64)> {
        let mut prices: Vec<i64> = self
            .orders
            .iter()
            .filter(|o| o.side == side)
            .map(|o| o.price)
            .collect();
        prices.sort_unstable();
        prices.dedup();
        if side == Side::Bid {
            prices.reverse();
        }
        prices
            .into_iter()
            .map(|p| (p, self.fifo(side, p).iter().map(|o| o.1).sum()))
            .collect()
    }

    fn fifo(&self, side: Side, price: i64) -> Vec<(u64, i64)> {
        self.orders
            .iter()
            .filter(|o| o.side == side && o.price == price)
            .map(|o| (o.id, o.qty))
            .collect()
    }

    fn best(&self, side: Side) -> Option<i64> {
        self.levels(side).first().map(|l| l.0)
    }

    fn cross(&self, id: u64, side: Side, price: i64) -> Result<(), L3Error> {
        match self.best(side.opposite()) {
            Some(opp)
                if (side == Side::Bid && price >= opp) || (side == Side::Ask && price <= opp) =>
            {
                Err(L3Error::Crosses {
                    id,
                    side,
                    price,
                    opposite: opp,
                })
            }
            _ => Ok(()),
        }
    }

    fn add(&mut self, id: u64, side: Side, price: i64, qty: i64) -> Result<(), L3Error> {
        if self.pos(id).is_some() {
            return Err(L3Error::DuplicateId(id));
        }
        if qty <= 0 {
            return Err(L3Error::NonPositiveQty {
                field: "qty",
                value: qty,
            });
        }
        self.cross(id, side, price)?;
        self.orders.push(MOrder {
            id,
            side,
            price,
            qty,
        });
        Ok(())
    }

    fn modify(&mut self, id: u64, price: i64, qty: i64) -> Result<(), L3Error> {
        let i = self.pos(id).ok_or(L3Error::UnknownId(id))?;
        if qty <= 0 {
            return Err(L3Error::NonPositiveQty {
                field: "qty",
                value: qty,
            });
        }
        let o = self.orders[i];
        if price == o.price && qty <= o.qty {
            self.orders[i].qty = qty;
            return Ok(());
        }
        if price != o.price {
            self.cross(id, o.side, price)?;
        }
        self.orders.remove(i);
        self.orders.push(MOrder { price, qty, ..o });
        Ok(())
    }

    fn cancel(&mut self, id: u64) -> Result<i64, L3Error> {
        let i = self.pos(id).ok_or(L3Error::UnknownId(id))?;
        Ok(self.orders.remove(i).qty)
    }

    fn execute(&mut self, id: u64, qty: i64) -> Result<i64, L3Error> {
        let i = self.pos(id).ok_or(L3Error::UnknownId(id))?;
        if qty <= 0 {
            return Err(L3Error::NonPositiveQty {
                field: "qty",
                value: qty,
            });
        }
        let resting = self.orders[i].qty;
        if qty > resting {
            return Err(L3Error::ExecuteExceeds { id, qty, resting });
        }
        if qty == resting {
            self.orders.remove(i);
        } else {
            self.orders[i].qty -= qty;
        }
        Ok(resting - qty)
    }

    fn match_order(&mut self, side: Side, qty: i64, limit: Option<i64>) -> (i64, Vec<Fill>) {
        let mut fills = Vec::new();
        let mut left = qty;
        while left > 0 {
            let Some(p) = self.best(side.opposite()) else {
                break;
            };
            match (side, limit) {
                (Side::Bid, Some(l)) if p > l => break,
                (Side::Ask, Some(l)) if p < l => break,
                _ => {}
            }
            let i = self
                .orders
                .iter()
                .position(|o| o.side == side.opposite() && o.price == p)
                .unwrap();
            let take = self.orders[i].qty.min(left);
            fills.push(Fill {
                maker_id: self.orders[i].id,
                price: p,
                qty: take,
            });
            left -= take;
            self.orders[i].qty -= take;
            if self.orders[i].qty == 0 {
                self.orders.remove(i);
            }
        }
        (qty.max(0) - left.max(0), fills)
    }

    fn walk(&self, side: Side, qty: i64) -> Walk {
        let mut w = Walk::default();
        let mut left = qty;
        for (p, s) in self.levels(side) {
            if left <= 0 {
                break;
            }
            let take = s.min(left);
            w.filled += take;
            w.notional += (p as i128) * (take as i128);
            w.levels += 1;
            w.worst_price = Some(p);
            left -= take;
        }
        w
    }

    fn size_within(&self, side: Side, band: i64) -> i64 {
        let Some(best) = self.best(side) else {
            return 0;
        };
        self.orders
            .iter()
            .filter(|o| o.side == side && (o.price - best).abs() <= band)
            .map(|o| o.qty)
            .sum()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        id: u64,
        side: Side,
        price: i64,
        qty: i64,
    },
    Modify {
        id: u64,
        price: i64,
        qty: i64,
    },
    Cancel {
        id: u64,
    },
    Execute {
        id: u64,
        qty: i64,
    },
    Match {
        side: Side,
        qty: i64,
        limit: Option<i64>,
    },
}

const IDS: u64 = 16;
const MID: i64 = 100;

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Bid), Just(Side::Ask)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..IDS, side(), -3..=8i64, -1..=6i64).prop_map(|(id, side, off, qty)| Op::Add {
            id,
            side,
            price: if side == Side::Bid { MID - off } else { MID + off },
            qty
        }),
        2 => (0..IDS, MID - 9..=MID + 9, -1..=7i64)
            .prop_map(|(id, price, qty)| Op::Modify { id, price, qty }),
        1 => (0..IDS).prop_map(|id| Op::Cancel { id }),
        1 => (0..IDS, -1..=6i64).prop_map(|(id, qty)| Op::Execute { id, qty }),
        1 => (side(), -1..=20i64, proptest::option::of(MID - 9..=MID + 9))
            .prop_map(|(side, qty, limit)| Op::Match { side, qty, limit }),
    ]
}

/// Compares every observable answer of the book with the model's.
fn same(book: &L3Book, model: &Model) -> Result<(), TestCaseError> {
    book.check_invariants();
    prop_assert_eq!(book.order_count(), model.orders.len());
    for side in [Side::Bid, Side::Ask] {
        let levels = model.levels(side);
        prop_assert_eq!(
            book.levels_from_touch(side).collect::<Vec<_>>(),
            levels.clone()
        );
        prop_assert_eq!(book.level_count(side), levels.len());
        prop_assert_eq!(book.best(side), levels.first().copied());
        for n in [0, 1, 2, 5] {
            prop_assert_eq!(
                book.depth(side, n),
                levels.iter().take(n).copied().collect::<Vec<_>>()
            );
        }
        for p in MID - 12..=MID + 12 {
            prop_assert_eq!(book.orders_at(side, p), model.fifo(side, p));
            let v = levels.iter().find(|l| l.0 == p).map_or(0, |l| l.1);
            prop_assert_eq!(book.volume_at(side, p), v);
        }
        for q in [-1, 0, 1, 3, 7, 15, 1_000] {
            prop_assert_eq!(book.walk(side, q), model.walk(side, q));
        }
        for band in 0..=4 {
            prop_assert_eq!(book.size_within(side, band), model.size_within(side, band));
        }
    }
    let (b, a) = (model.best(Side::Bid), model.best(Side::Ask));
    prop_assert_eq!(book.best_bid().map(|l| l.0), b);
    prop_assert_eq!(book.best_ask().map(|l| l.0), a);
    prop_assert_eq!(book.spread(), b.zip(a).map(|(b, a)| a - b));
    prop_assert!(!book.is_crossed());
    for id in 0..IDS {
        let m = model.pos(id).map(|i| model.orders[i]);
        prop_assert_eq!(book.order(id), m.map(|o| (o.side, o.price, o.qty)));
        let ahead = m.map(|o| {
            let fifo = model.fifo(o.side, o.price);
            fifo.iter()
                .take_while(|x| x.0 != id)
                .map(|x| x.1)
                .sum::<i64>()
        });
        prop_assert_eq!(book.queue_ahead(id), ahead);
    }
    Ok(())
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut book = L3Book::new();
    let mut model = Model::default();
    let mut fills = Vec::new();
    for op in ops {
        match *op {
            Op::Add {
                id,
                side,
                price,
                qty,
            } => prop_assert_eq!(
                book.add(id, side, price, qty),
                model.add(id, side, price, qty)
            ),
            Op::Modify { id, price, qty } => {
                prop_assert_eq!(book.modify(id, price, qty), model.modify(id, price, qty))
            }
            Op::Cancel { id } => prop_assert_eq!(book.cancel(id), model.cancel(id)),
            Op::Execute { id, qty } => {
                prop_assert_eq!(book.execute(id, qty), model.execute(id, qty))
            }
            Op::Match { side, qty, limit } => {
                fills.clear();
                let filled = book.match_order(side, qty, limit, &mut fills);
                let (mfilled, mfills) = model.match_order(side, qty, limit);
                prop_assert_eq!(filled, mfilled);
                prop_assert_eq!(&fills, &mfills);
                prop_assert_eq!(fills.iter().map(|f| f.qty).sum::<i64>(), filled);
            }
        }
        same(&book, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn book_matches_model(ops in proptest::collection::vec(op(), 1..250)) {
        run(&ops)?;
    }

    /// The same sequences replayed as event rows give the same book and counts.
    #[test]
    fn apply_events_matches_model(ops in proptest::collection::vec(op(), 1..120)) {
        use crate::event::*;
        let mut model = Model::default();
        let mut events = Vec::new();
        let mut ok = 0u64;
        for op in &ops {
            let (e, r) = match *op {
                Op::Add { id, side, price, qty } => (
                    Event { kind: KIND_L3_ADD, order_id: id, side: side as u8, price, qty, ..Event::default() },
                    model.add(id, side, price, qty),
                ),
                Op::Modify { id, price, qty } => (
                    Event { kind: KIND_L3_MODIFY, order_id: id, price, qty, ..Event::default() },
                    model.modify(id, price, qty),
                ),
                Op::Cancel { id } => (
                    Event { kind: KIND_L3_CANCEL, order_id: id, ..Event::default() },
                    model.cancel(id).map(|_| ()),
                ),
                Op::Execute { id, qty } => (
                    Event { kind: KIND_L3_EXECUTE, order_id: id, qty, ..Event::default() },
                    model.execute(id, qty).map(|_| ()),
                ),
                Op::Match { .. } => continue,
            };
            ok += r.is_ok() as u64;
            events.push(e);
        }
        let mut book = L3Book::new();
        let st = book.apply_events(&events, 0);
        prop_assert_eq!(st.rows, events.len() as u64);
        prop_assert_eq!(st.levels_applied, ok);
        prop_assert_eq!(st.messages, events.len() as u64);
        prop_assert_eq!(st.errors, events.len() as u64 - ok);
        same(&book, &model)?;
    }
}
