use super::*;

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn limits(kind: InstrumentKind) -> RiskLimits {
    RiskLimits {
        kind,
        min_qty: 5,
        max_qty: 1_000,
        min_notional: m("5"),
        max_notional: m("10000"),
        max_position: 2_000,
        max_gross_exposure: m("50000"),
        band_bps: 500,
        leverage: 10,
        fees: FeeSchedule::new("0.0002", "0.001", 8).unwrap(),
        rate_capacity: 2,
        rate_refill_per_s: 1,
    }
}

/// tick 0.01, lot 0.001: price 100.00 is 10_000 ticks; 1 lot at 100.00 is 0.1 quote.
fn gate(kind: InstrumentKind) -> RiskGate {
    RiskGate::new(&Grid::new("0.01", "0.001").unwrap(), limits(kind)).unwrap()
}

fn acct() -> Account {
    Account {
        position: 0,
        mid: 10_000,
        gross_exposure: Money::ZERO,
        available_quote: m("100000"),
        available_base: m("100"),
        state: TradingState::Active,
    }
}

fn buy(price: i64, qty: i64) -> Order {
    Order {
        side: Side::Bid,
        order_type: OrderType::Limit,
        price,
        qty,
        reduce_only: false,
    }
}

fn sell(price: i64, qty: i64) -> Order {
    Order {
        side: Side::Ask,
        ..buy(price, qty)
    }
}

fn deny(g: &mut RiskGate, o: Order, a: Account) -> String {
    g.check(&o, &a, 0).unwrap_err().to_string()
}

#[test]
fn allows_a_plain_order_and_takes_a_token() {
    let mut g = gate(InstrumentKind::Spot);
    assert_eq!(g.check(&buy(10_000, 100), &acct(), 0), Ok(()));
    assert_eq!(g.bucket().tokens(), 1);
}

#[test]
fn one_test_per_rule() {
    let mut g = gate(InstrumentKind::Spot);
    let a = acct();
    assert_eq!(
        deny(
            &mut g,
            buy(10_000, 100),
            Account {
                state: TradingState::Halted,
                ..a
            }
        ),
        "TRADING_HALTED: state=halted"
    );
    assert_eq!(deny(&mut g, buy(0, 100), a), "BAD_PRICE: price=0");
    assert_eq!(
        deny(&mut g, buy(10_000, 3), a),
        "QTY_BELOW_MIN: qty=3 min=5"
    );
    assert_eq!(
        deny(&mut g, buy(10_000, 1_001), a),
        "QTY_ABOVE_MAX: qty=1001 max=1000"
    );
    let ro = Order {
        reduce_only: true,
        ..buy(10_000, 10)
    };
    assert_eq!(
        deny(&mut g, ro, a),
        "REDUCE_ONLY_INCREASES: position=0 side=buy qty=10"
    );
    assert_eq!(
        deny(
            &mut g,
            sell(10_000, 30),
            Account {
                position: 20,
                state: TradingState::Reducing,
                ..a
            }
        ),
        "TRADING_REDUCING: position=20 side=sell qty=30"
    );
    assert_eq!(
        deny(&mut g, buy(10_000, 10), Account { mid: 0, ..a }),
        "NO_MID: mid=0"
    );
    assert_eq!(
        deny(&mut g, buy(10_501, 10), a),
        "PRICE_BAND: price=10501 mid=10000 band_bps=500"
    );
    // 49 lots × 0.001 × 100.00 = 4.9 quote.
    assert_eq!(
        deny(&mut g, buy(10_000, 49), a),
        "NOTIONAL_BELOW_MIN: notional=4.9 min=5"
    );
    let mut big = limits(InstrumentKind::Spot);
    big.max_notional = m("10");
    let mut g2 = RiskGate::new(&Grid::new("0.01", "0.001").unwrap(), big).unwrap();
    assert_eq!(
        deny(&mut g2, buy(10_000, 101), a),
        "MAX_NOTIONAL: notional=10.1 max=10"
    );
    assert_eq!(
        deny(
            &mut g,
            buy(10_000, 100),
            Account {
                position: 1_950,
                ..a
            }
        ),
        "MAX_POSITION: position=1950 new=2050 max=2000"
    );
    assert_eq!(
        deny(
            &mut g,
            buy(10_000, 100),
            Account {
                gross_exposure: m("49995"),
                ..a
            }
        ),
        "MAX_GROSS_EXPOSURE: gross=49995 add=10 max=50000"
    );
    // 10 quote + 0.1% fee = 10.01.
    assert_eq!(
        deny(
            &mut g,
            buy(10_000, 100),
            Account {
                available_quote: m("10.00999999"),
                ..a
            }
        ),
        "INSUFFICIENT_BALANCE: asset=quote need=10.01 available=10.00999999"
    );
    assert_eq!(
        deny(
            &mut g,
            sell(10_000, 100),
            Account {
                available_base: m("0.099"),
                ..a
            }
        ),
        "INSUFFICIENT_BALANCE: asset=base need=0.1 available=0.099"
    );
}

#[test]
fn boundaries_are_inclusive() {
    let mut g = gate(InstrumentKind::Spot);
    let a = acct();
    assert_eq!(
        deny(&mut g, buy(10_500, 5), a),
        "NOTIONAL_BELOW_MIN: notional=0.525 min=5"
    );
    g.reset_bucket();
    assert_eq!(g.check(&buy(10_500, 50), &a, 0), Ok(())); // price exactly at the band
    assert_eq!(g.check(&buy(10_000, 50), &a, 0), Ok(())); // notional exactly min
}

#[test]
fn reduce_only_flip_is_denied_and_reduce_allowed() {
    let mut g = gate(InstrumentKind::LinearPerpetual);
    let a = Account {
        position: 20,
        available_quote: Money::ZERO,
        ..acct()
    };
    let ro = |o: Order| Order {
        reduce_only: true,
        ..o
    };
    assert_eq!(
        deny(&mut g, ro(sell(10_000, 60)), Account { position: 50, ..a }).as_str(),
        "REDUCE_ONLY_INCREASES: position=50 side=sell qty=60"
    );
    assert_eq!(
        deny(&mut g, ro(buy(10_000, 50)), Account { position: 50, ..a }).as_str(),
        "REDUCE_ONLY_INCREASES: position=50 side=buy qty=50"
    );
    // Closing exactly needs no margin, even with zero balance.
    assert_eq!(
        g.check(&ro(sell(10_000, 50)), &Account { position: 50, ..a }, 0),
        Ok(())
    );
    assert_eq!(
        g.check(&ro(buy(10_000, 50)), &Account { position: -50, ..a }, 0),
        Ok(())
    );
}

#[test]
fn perp_margin_is_on_the_opening_part() {
    let mut g = gate(InstrumentKind::LinearPerpetual);
    // Flip from +50 to -50: opening part 50 lots = 5 quote; margin 0.5 + fee 0.005.
    let a = Account {
        position: 50,
        available_quote: m("0.504"),
        ..acct()
    };
    assert_eq!(
        deny(&mut g, sell(10_000, 100), a),
        "INSUFFICIENT_BALANCE: asset=quote need=0.505 available=0.504"
    );
    assert_eq!(
        g.check(
            &sell(10_000, 100),
            &Account {
                available_quote: m("0.505"),
                ..a
            },
            0
        ),
        Ok(())
    );
}

#[test]
fn token_bucket_exhausts_and_refills_from_timestamps() {
    let mut g = gate(InstrumentKind::Spot);
    let a = acct();
    let o = buy(10_000, 100);
    assert_eq!(g.check(&o, &a, 1_000), Ok(()));
    assert_eq!(g.check(&o, &a, 1_000), Ok(()));
    assert_eq!(
        g.check(&o, &a, 1_000).unwrap_err().to_string(),
        "RATE_LIMIT: capacity=2 refill_per_s=1 retry_after_ns=1000000000"
    );
    // A denied order (qty too small) does not consume a token.
    assert_eq!(
        g.check(&buy(10_000, 1), &a, 500_001_000)
            .unwrap_err()
            .code(),
        "QTY_BELOW_MIN"
    );
    assert_eq!(
        g.check(&o, &a, 500_001_000).unwrap_err().to_string(),
        "RATE_LIMIT: capacity=2 refill_per_s=1 retry_after_ns=500000000"
    );
    // Time going backwards adds nothing.
    assert!(g.check(&o, &a, 0).is_err());
    assert_eq!(g.check(&o, &a, 1_000_001_000), Ok(()));
    assert!(g.check(&o, &a, 1_000_001_000).is_err());
    // A long pause refills only up to the capacity.
    assert_eq!(g.check(&o, &a, 100_000_000_000), Ok(()));
    assert_eq!(g.check(&o, &a, 100_000_000_000), Ok(()));
    assert!(g.check(&o, &a, 100_000_000_000).is_err());
}

#[test]
fn zero_refill_never() {
    let mut l = limits(InstrumentKind::Spot);
    l.rate_capacity = 1;
    l.rate_refill_per_s = 0;
    let mut g = RiskGate::new(&Grid::new("0.01", "0.001").unwrap(), l).unwrap();
    assert_eq!(g.check(&buy(10_000, 100), &acct(), 0), Ok(()));
    assert_eq!(
        deny(&mut g, buy(10_000, 100), acct()),
        "RATE_LIMIT: capacity=1 refill_per_s=0 retry_after_ns=never"
    );
}

#[test]
fn overflow_is_a_denial_not_a_panic() {
    let mut l = limits(InstrumentKind::Spot);
    l.max_qty = i64::MAX;
    l.band_bps = i64::MAX;
    l.max_notional = Money::MAX;
    let mut g = RiskGate::new(&Grid::new("1", "1").unwrap(), l).unwrap();
    let a = Account {
        mid: i64::MAX,
        ..acct()
    };
    assert_eq!(
        deny(&mut g, buy(i64::MAX, i64::MAX), a),
        format!("NOTIONAL_OVERFLOW: price={} qty={}", i64::MAX, i64::MAX)
    );
}

#[test]
fn bad_limits_name_the_field() {
    let mut l = limits(InstrumentKind::Spot);
    l.min_qty = 0;
    let e = RiskGate::new(&Grid::new("0.01", "0.001").unwrap(), l)
        .unwrap_err()
        .to_string();
    assert!(e.contains("min_qty") && e.contains("rule"), "{e}");
    let mut l = limits(InstrumentKind::Spot);
    l.leverage = 0;
    assert_eq!(
        RiskGate::new(&Grid::new("0.01", "0.001").unwrap(), l)
            .unwrap_err()
            .field,
        "leverage"
    );
}

proptest::proptest! {
    /// Every denial renders as `CODE: key=value ...` with its code first.
    #[test]
    fn every_denial_has_a_code(price in -5i64..20_000, qty in -5i64..3_000, pos in -3_000i64..3_000,
                               mid in -1i64..20_000, state in 0u8..3, ro: bool, sell_side: bool, perp: bool,
                               quote in 0i64..200_000, now in 0i64..10_000_000_000) {
        let kind = if perp { InstrumentKind::LinearPerpetual } else { InstrumentKind::Spot };
        let mut g = gate(kind);
        let state = [TradingState::Active, TradingState::Reducing, TradingState::Halted][state as usize];
        let o = Order { side: if sell_side { Side::Ask } else { Side::Bid }, order_type: OrderType::Limit, price, qty, reduce_only: ro };
        let a = Account { position: pos, mid, state, available_quote: Money::from_int(quote), ..acct() };
        for _ in 0..3 {
            if let Err(d) = g.check(&o, &a, now) {
                let s = d.to_string();
                let (code, rest) = s.split_once(": ").unwrap();
                proptest::prop_assert_eq!(code, d.code());
                proptest::prop_assert!(!rest.is_empty());
                for kv in rest.split(' ') {
                    let (k, v) = kv.split_once('=').unwrap();
                    proptest::prop_assert!(!k.is_empty() && !v.is_empty());
                }
            }
        }
    }
}
