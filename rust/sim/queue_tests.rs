//! The probabilistic queue model through the venue, by hand and against the conservative
//! model. Instrument and fees as in `tests.rs` (maker 0.0002, 6 dp toward +inf).

use proptest::prelude::*;

use super::tests::{fees, trade, Feed};
use super::*;

use Side::{Ask, Bid};

fn venue_with(model: QueueModel) -> SimVenue {
    let mut cfg = SimConfig::new(Rule::Futures, 20, fees());
    cfg.queue_model = model;
    SimVenue::new(cfg)
}

fn prob(n: u32) -> QueueModel {
    QueueModel::probabilistic(n).unwrap()
}

fn ahead(v: &SimVenue, id: OrderId) -> i64 {
    v.order(id).unwrap().queue_ahead
}

#[test]
fn probabilistic_power_2_by_hand_next_to_conservative() {
    let mut f = Feed::new();
    let mut p = venue_with(prob(2));
    let mut c = venue_with(QueueModel::Conservative);
    let mut both = |rows: &[Event]| {
        p.on_events(rows, 0);
        c.on_events(rows, 0);
    };
    both(&f.snapshot(1_000, &[(Bid, 9990, 10), (Ask, 10000, 2)]));
    let (ip, ic) = (
        p.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc)),
        c.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc)),
    );
    let mut both = |rows: &[Event], want: (i64, i64)| {
        p.on_events(rows, 0);
        c.on_events(rows, 0);
        assert_eq!((ahead(&p, ip), ahead(&c, ic)), want);
    };
    // Growth goes behind: 10 ahead, 10 behind.
    both(&f.diff(1_200, &[(Bid, 9990, 20)]), (10, 10));
    // A print of 4 eats the front: 6 ahead (both models), 4 lots printed at 9990.
    both(&trade(1_300, Ask, 9990, 4), (6, 6));
    // 20 -> 8: d = 12, the print absorbs 4, c = 8 cancellations in a level of 16 with
    // a = 6 ahead and b = 10 behind: floor(8 * 36 / (36 + 100)) = floor(2.12) = 2 -> 4.
    both(&f.diff(1_400, &[(Bid, 9990, 8)]), (4, 6));
    // 8 -> 5: c = 3 (the prints were absorbed by the last diff), a = 4, b = 4:
    // floor(3 * 16 / 32) = 1 -> 3. Conservative: min(6, 5) = 5.
    both(&f.diff(1_500, &[(Bid, 9990, 5)]), (3, 5));
    // 5 -> 3: c = 2, a = 3, b = 2: floor(2 * 9 / 13) = 1 -> 2. Conservative: 3.
    both(&f.diff(1_600, &[(Bid, 9990, 3)]), (2, 3));
    // A print of 3: probabilistic eats 2 and fills 1 lot of ours (999.0 * 0.001 *
    // 0.0002 = 0.0001998 -> 0.0002); conservative eats the 3 ahead, no fill.
    p.on_events(&trade(1_700, Ask, 9990, 3), 0);
    c.on_events(&trade(1_700, Ask, 9990, 3), 0);
    let fill = ReportKind::Filled {
        price: 9990,
        qty: 1,
        liquidity: Liquidity::Maker,
        fee: Money::parse("0.0002").unwrap(),
        leaves: 2,
    };
    let rp: Vec<_> = p.drain_reports().map(|r| (r.ts, r.order, r.kind)).collect();
    assert_eq!(rp.last(), Some(&(1_700, ip, fill)));
    let rc: Vec<_> = c.drain_reports().map(|r| r.kind).collect();
    assert_eq!(rc, vec![ReportKind::Accepted]);
    assert_eq!((ahead(&p, ip), ahead(&c, ic)), (0, 0));
}

#[test]
fn prints_absorb_the_decrease_that_reflects_them() {
    let mut f = Feed::new();
    let mut v = venue_with(prob(1));
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 10), (Ask, 10000, 2)]), 0);
    let id = v.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc));
    v.on_events(&f.diff(1_150, &[(Bid, 9990, 14)]), 0);
    // A print of 4: 6 ahead, 4 behind; the diff showing exactly the print moves nothing
    // more (read as cancellations it would be floor(4 * 6 / 10) = 2 more).
    v.on_events(&trade(1_200, Ask, 9990, 4), 0);
    assert_eq!(ahead(&v, id), 6);
    v.on_events(&f.diff(1_300, &[(Bid, 9990, 10)]), 0);
    assert_eq!(ahead(&v, id), 6);
    // A print of 2 (4 ahead), then a re-delivered old diff (dropped): the printed lots
    // are kept for the diff that does reflect them.
    v.on_events(&trade(1_400, Ask, 9990, 2), 0);
    let saved = f.last;
    f.last -= 2;
    let old = f.diff(1_450, &[(Bid, 9990, 10)]);
    f.last = saved;
    v.on_events(&old, 0);
    assert_eq!(ahead(&v, id), 4);
    // 10 -> 5: d = 5, 2 printed, c = 3 in a level of 8, a = 4, b = 4:
    // floor(3 * 4 / 8) = 1 -> 3.
    v.on_events(&f.diff(1_500, &[(Bid, 9990, 5)]), 0);
    assert_eq!(ahead(&v, id), 3);
}

#[test]
fn a_later_order_of_ours_is_never_ahead_of_an_earlier_one() {
    let mut f = Feed::new();
    let mut v = venue_with(prob(4));
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 4), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc));
    v.on_events(&f.diff(1_200, &[(Bid, 9990, 6)]), 0);
    let b = v.submit(1_300, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc));
    v.on_events(&f.diff(1_400, &[(Bid, 9990, 10)]), 0);
    assert_eq!((ahead(&v, a), ahead(&v, b)), (4, 6));
    // 10 -> 1, c = 9, n = 4. A: a = 4, b = 6: floor(9 * 256 / 1552) = 1, but only 6 are
    // behind A, so 3 -> 1 ahead. B: a = 6, b = 4: floor(9 * 1296 / 1552) = 7, capped at
    // 6 -> 0, then raised to A's 1.
    v.on_events(&f.diff(1_500, &[(Bid, 9990, 1)]), 0);
    assert_eq!((ahead(&v, a), ahead(&v, b)), (1, 1));
}

#[test]
fn the_queue_model_is_chosen_by_name() {
    let v = venue_with(QueueModel::parse("probabilistic", 3).unwrap());
    assert_eq!(v.config().queue_model, QueueModel::Probabilistic { power: Power::new(3).unwrap() });
    assert_eq!(v.config().queue_model.as_str(), "probabilistic");
    assert_eq!(QueueModel::default(), QueueModel::Conservative);
}

/// a * b as (high u64, low u128): a 192-bit product, for checking the long division.
fn mul192(a: u64, b: u128) -> (u128, u128) {
    let lo = (a as u128) * (b & u64::MAX as u128);
    let hi = (a as u128) * (b >> 64);
    // a * b = hi * 2^64 + lo.
    let (low, carry) = lo.overflowing_add(hi << 64);
    ((hi >> 64) + carry as u128, low)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mul_div_floor_is_the_floor(c in any::<u64>(), y in 1u128..(1u128 << 126), x_frac in any::<u128>()) {
        let x = x_frac % (y + 1);
        let r = queue::mul_div_floor(c, x, y);
        // r * y <= c * x < (r + 1) * y, compared as 192-bit numbers.
        let cx = mul192(c, x);
        prop_assert!(mul192(r, y) <= cx);
        let r1 = mul192(r, y);
        let (low, carry) = r1.1.overflowing_add(y);
        prop_assert!((r1.0 + carry as u128, low) > cx);
    }

    #[test]
    fn share_matches_direct_arithmetic_on_small_levels(
        c in 0i64..2_000, a in 0i64..100_000, b in 0i64..100_000, n in 1u32..=4,
    ) {
        let c = c.min(a + b);
        let got = queue::cancels_ahead(c, a, b, Power::new(n).unwrap());
        // Small enough for u128 directly: 2^11 * 2^68 (a^4 < 2^67).
        let want = if c == 0 || a == 0 {
            0
        } else {
            let (an, bn) = ((a as u128).pow(n), (b as u128).pow(n));
            let s = (c as u128 * an / (an + bn)) as i64;
            s.max(c - b).min(a).min(c)
        };
        prop_assert_eq!(got, want);
        prop_assert!(got >= 0 && got <= a && got <= c && got >= c - b);
    }

    #[test]
    fn probabilistic_after_diff_is_between_zero_and_conservative(
        old in 0i64..1_000_000_000_000, new_frac in 0u64..=1000, ahead_frac in 0u64..=1000,
        printed in 0i64..1_000_000, n in 1u32..=4,
    ) {
        let new = old / 1000 * new_frac as i64;
        let ahead = old / 1000 * ahead_frac as i64;
        let p = prob(n).after_diff(ahead, old, new, printed);
        let c = QueueModel::Conservative.after_diff(ahead, old, new, printed);
        prop_assert!(p >= 0);
        prop_assert!(p <= c, "probabilistic {} > conservative {}", p, c);
        prop_assert!(p <= new);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Limit { buy: bool, qty: i64, off: i64 },
    Trade { aggr_buy: bool, off: i64, qty: i64 },
    Diff { bid: bool, off: i64, qty: i64 },
    Cancel { back: u64 },
    Market { buy: bool, qty: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (any::<bool>(), 1i64..6, -4i64..4).prop_map(|(buy, qty, off)| Op::Limit { buy, qty, off }),
        2 => (any::<bool>(), -4i64..4, 1i64..8).prop_map(|(aggr_buy, off, qty)| Op::Trade { aggr_buy, off, qty }),
        4 => (any::<bool>(), 0i64..5, 0i64..12).prop_map(|(bid, off, qty)| Op::Diff { bid, off, qty }),
        1 => (0u64..4).prop_map(|back| Op::Cancel { back }),
        1 => (any::<bool>(), 1i64..4).prop_map(|(buy, qty)| Op::Market { buy, qty }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The same inputs to a conservative and a probabilistic venue, one order of ours per
    /// level: every order live in both is at most as far back in the probabilistic one,
    /// and every queue_ahead is in [0, level size].
    #[test]
    fn probabilistic_never_behind_conservative(
        levels in proptest::collection::vec(0i64..10, 10),
        ops in proptest::collection::vec(op(), 1..80),
        n in 1u32..=4,
    ) {
        const MID: i64 = 10_000;
        let mut c = venue_with(QueueModel::Conservative);
        let mut p = venue_with(prob(n));
        let mut f = Feed::new();
        let mut lv = Vec::new();
        for i in 0..5 {
            lv.push((Bid, MID - 1 - i as i64, levels[i]));
            lv.push((Ask, MID + i as i64, levels[5 + i]));
        }
        let mut ts = 1_000i64;
        let rows = f.snapshot(ts, &lv);
        c.on_events(&rows, 0);
        p.on_events(&rows, 0);
        let mut last = 0;
        for op in ops {
            ts += 10;
            match op {
                Op::Limit { buy, qty, off } => {
                    let side = if buy { Bid } else { Ask };
                    let price = MID + off;
                    let taken = |v: &SimVenue| v.open_orders().any(|o| o.side == side && o.price == price);
                    if taken(&c) || taken(&p) {
                        continue;
                    }
                    let req = OrderRequest::limit(side, qty, price, TimeInForce::Gtc);
                    let a = c.submit(ts, req.clone());
                    let b = p.submit(ts, req);
                    prop_assert_eq!(a, b);
                    last = a;
                }
                Op::Market { buy, qty } => {
                    let req = OrderRequest::market(if buy { Bid } else { Ask }, qty);
                    last = c.submit(ts, req.clone());
                    p.submit(ts, req);
                }
                Op::Trade { aggr_buy, off, qty } => {
                    let rows = trade(ts, if aggr_buy { Bid } else { Ask }, MID + off, qty);
                    c.on_events(&rows, 0);
                    p.on_events(&rows, 0);
                }
                Op::Diff { bid, off, qty } => {
                    let l = if bid { (Bid, MID - 1 - off, qty) } else { (Ask, MID + off, qty) };
                    let rows = f.diff(ts, &[l]);
                    c.on_events(&rows, 0);
                    p.on_events(&rows, 0);
                }
                Op::Cancel { back } => {
                    c.cancel(ts, last.saturating_sub(back));
                    p.cancel(ts, last.saturating_sub(back));
                }
            }
            c.clear_reports();
            p.clear_reports();
            for v in [&c, &p] {
                for o in v.open_orders() {
                    prop_assert!(o.queue_ahead >= 0);
                    prop_assert!(o.queue_ahead <= v.book().volume_at(o.side, o.price));
                }
            }
            for o in p.open_orders() {
                if let Some(oc) = c.order(o.id) {
                    prop_assert!(
                        o.queue_ahead <= oc.queue_ahead,
                        "order {}: probabilistic {} > conservative {}", o.id, o.queue_ahead, oc.queue_ahead
                    );
                }
            }
        }
    }
}
