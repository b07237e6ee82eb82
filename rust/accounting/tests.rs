//! Hand-computed scenarios and properties for the accounting module.

use proptest::prelude::*;

use super::*;
use crate::fixed::Grid;

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// BTCUSDT-like: tick 0.01, lot 0.001, so one tick·lot is 0.00001 USDT.
fn btc() -> Contract {
    Contract::new(&Grid::new("0.01", "0.001").unwrap()).unwrap()
}

fn fees() -> FeeSchedule {
    FeeSchedule::new("0.0002", "0.00055", 8).unwrap()
}

fn usdt() -> Asset {
    Asset::new("USDT").unwrap()
}

#[test]
fn contract_values_are_exact() {
    let c = btc();
    assert_eq!(c.unit(), 10_000_000_000_000); // 1e-5 in 1e-18 units
    assert_eq!(c.notional(6_000_001, 337), Ok(m("20220.00337")));
    assert_eq!(c.base_amount(337), Ok(m("0.337")));
    assert_eq!(c.price_money(6_000_001), Ok(m("60000.01")));
    let odd = Contract::new(&Grid::new("0.5", "0.25").unwrap()).unwrap();
    assert_eq!(odd.notional(3, 5), Ok(m("1.875"))); // 1.5 × 1.25
    // tick scale 10 + lot scale 9 = 19 > 18.
    let e = Contract::new(&Grid::new("0.0000000001", "0.000000001").unwrap()).unwrap_err();
    assert_eq!(e, MoneyError::ScaleTooFine { tick_scale: 10, lot_scale: 9 });
    assert!(e.to_string().contains("rule"));
    assert!(Contract::new(&Grid::new("0.000000001", "0.000000001").unwrap()).is_ok());
}

/// A buy of 1.000 BTC in three partial fills (two maker, one taker), then a taker sell
/// of all of it. Rates: maker 0.0002, taker 0.00055; fees at 8 decimals, rounded up.
///
///   fill  qty    price      notional                     fee (exact -> charged)
///   B1    0.337  60000.01   20220.00337                  4.044000674  -> 4.04400068
///   B2    0.451  60010.53   27064.74903                  5.412949806  -> 5.41294981
///   B3    0.212  60025.27   12725.35724                  6.998946482  -> 6.99894649
///   S     1.000  60100.99   60100.99                     33.0555445   -> 33.05554450
///
///   cost basis = 20220.00337 + 27064.74903 + 12725.35724 = 60010.10964
///   (in tick·lot units 6000001×337 + 6001053×451 + 6002527×212 = 6001010964)
///   gross realized = 60100.99 − 60010.10964 = 90.88036
///   fees = 4.04400068 + 5.41294981 + 6.99894649 + 33.05554450 = 49.51144148
///   realized net = 90.88036 − 49.51144148 = 41.36891852
#[test]
fn three_partial_buys_then_sell_all() {
    let c = btc();
    let fs = fees();
    let mut p = Position::new(&c);
    let buys = [
        (6_000_001, 337, Liquidity::Maker, "4.04400068"),
        (6_001_053, 451, Liquidity::Maker, "5.41294981"),
        (6_002_527, 212, Liquidity::Taker, "6.99894649"),
    ];
    for (price, qty, liq, want_fee) in buys {
        let fee = fs.fee(c.notional(price, qty).unwrap(), liq).unwrap();
        assert_eq!(fee, m(want_fee));
        assert_eq!(ContractFees::new(fs, &c).fee(price, qty, liq), Ok(fee));
        p.apply(&Fill::buy(price, qty, fee)).unwrap();
    }
    assert_eq!(p.qty(), 1000);
    assert_eq!(p.cost_basis(), 6_001_010_964);
    assert_eq!(p.avg_entry_ticks(), Some((6_001_010_964, 1000)));
    // 60010.10964 per BTC, exact at 18 decimals.
    assert_eq!(p.avg_entry_price(&c, Rounding::HalfEven), Ok(Some(m("60010.10964"))));
    assert_eq!(p.fees_paid(), m("16.45589698"));
    assert_eq!(p.realized_pnl(), m("-16.45589698"));
    // Mark 60050.00: (6005000 × 1000 − 6001010964) × 0.00001 = 39.89036.
    assert_eq!(p.unrealized_pnl(6_005_000), Ok(m("39.89036")));

    let sell_fee = fs.fee(c.notional(6_010_099, 1000).unwrap(), Liquidity::Taker).unwrap();
    assert_eq!(sell_fee, m("33.0555445"));
    let delta = p.apply(&Fill::sell(6_010_099, 1000, sell_fee)).unwrap();
    assert_eq!(delta, m("90.88036").checked_sub(m("33.0555445")).unwrap());
    assert_eq!(p.qty(), 0);
    assert_eq!(p.cost_basis(), 0);
    assert_eq!(p.avg_entry_ticks(), None);
    assert_eq!(p.fees_paid(), m("49.51144148"));
    assert_eq!(p.realized_pnl(), m("41.36891852"));
    assert_eq!(p.unrealized_pnl(1), Ok(Money::ZERO));
}

/// Rule 3 by hand: buy 1 lot @ 10000 ticks and 2 lots @ 10001 ticks: cost 30002, avg
/// 10000.666… Sell 1 lot @ 10002: removed cost = ceil(30002 / 3) = 10001, realized 1
/// tick·lot (the exact average would give 1.333…: we report less). The remaining basis
/// 20001 for 2 lots (avg 10000.5) carries the 0.333…; selling 2 @ 10002 realizes 3.
/// Total 4 = 3 × 10002 − 30002 exactly; at each step realized + unrealized is exact.
#[test]
fn partial_reduce_rounds_against_the_account_and_loses_nothing() {
    let c = btc();
    let mut p = Position::new(&c);
    p.apply(&Fill::buy(10_000, 1, Money::ZERO)).unwrap();
    p.apply(&Fill::buy(10_001, 2, Money::ZERO)).unwrap();
    assert_eq!(p.cost_basis(), 30_002);
    p.apply(&Fill::sell(10_002, 1, Money::ZERO)).unwrap();
    assert_eq!(p.realized_pnl(), m("0.00001"));
    assert_eq!(p.cost_basis(), 20_001);
    assert_eq!(p.unrealized_pnl(10_002), Ok(m("0.00003")));
    p.apply(&Fill::sell(10_002, 2, Money::ZERO)).unwrap();
    assert_eq!(p.realized_pnl(), m("0.00004"));
    assert_eq!(p.cost_basis(), 0);

    // The same for a short: sell 1 @ 10000, 2 @ 10001 (cost −30002); buy 1 @ 9999:
    // removed = ceil(−30002 × −1 / −3) = ceil(−10000.67) = −10000; realized =
    // −9999 − (−10000) = 1 (exact: 1.67, we report less). Then 2 @ 9999 realize 3 − …
    let mut s = Position::new(&c);
    s.apply(&Fill::sell(10_000, 1, Money::ZERO)).unwrap();
    s.apply(&Fill::sell(10_001, 2, Money::ZERO)).unwrap();
    s.apply(&Fill::buy(9_999, 1, Money::ZERO)).unwrap();
    assert_eq!(s.realized_pnl(), m("0.00001"));
    assert_eq!(s.cost_basis(), -20_002);
    s.apply(&Fill::buy(9_999, 2, Money::ZERO)).unwrap();
    // Exact total: 30002 − 3 × 9999 = 5 tick·lots.
    assert_eq!(s.realized_pnl(), m("0.00005"));
}

/// Long 2.000 @ 100.00 (maker fee 0.0002 × 200 = 0.04), then one taker sell of 5.000
/// @ 101.50 (fee 0.00055 × 507.5 = 0.279125): closes the long for (101.50 − 100.00) × 2
/// = 3.00 and opens a 3.000 short at 101.50.
/// realized = 3.00 − 0.04 − 0.279125 = 2.680875. Unrealized at 102.00 =
/// (101.50 − 102.00) × 3 = −1.50.
#[test]
fn flip_long_to_short_in_one_fill() {
    let c = btc();
    let fs = fees();
    let mut p = Position::new(&c);
    let f1 = fs.fee(c.notional(10_000, 2000).unwrap(), Liquidity::Maker).unwrap();
    assert_eq!(f1, m("0.04"));
    p.apply(&Fill::buy(10_000, 2000, f1)).unwrap();
    let f2 = fs.fee(c.notional(10_150, 5000).unwrap(), Liquidity::Taker).unwrap();
    assert_eq!(f2, m("0.279125"));
    let delta = p.apply(&Fill::sell(10_150, 5000, f2)).unwrap();
    assert_eq!(delta, m("2.720875")); // 3.00 − 0.279125
    assert_eq!(p.qty(), -3000);
    assert_eq!(p.cost_basis(), -30_450_000);
    assert_eq!(p.avg_entry_ticks(), Some((-30_450_000, -3000))); // 10150 ticks
    assert_eq!(p.avg_entry_price(&c, Rounding::Down), Ok(Some(m("101.5"))));
    assert_eq!(p.realized_pnl(), m("2.680875"));
    assert_eq!(p.fees_paid(), m("0.319125"));
    assert_eq!(p.unrealized_pnl(10_200), Ok(m("-1.5")));
}

/// Short 0.500 @ 2000.00 (taker: 1000 × 0.00055 = 0.55), covered at a loss in two
/// taker fills @ 2050.25: 0.300 (615.075 × 0.00055 = 0.33829125) and 0.200
/// (410.05 × 0.00055 = 0.2255275 -> 0.22552750).
/// gross = (2000.00 − 2050.25) × 0.5 = −25.125; first cover −15.075, second −10.05.
/// fees = 0.55 + 0.33829125 + 0.2255275 = 1.11381875; realized = −26.23881875.
#[test]
fn short_covered_at_a_loss() {
    let c = btc();
    let fs = fees();
    let mut p = Position::new(&c);
    let fee = |price, qty| fs.fee(c.notional(price, qty).unwrap(), Liquidity::Taker).unwrap();
    assert_eq!(fee(200_000, 500), m("0.55"));
    p.apply(&Fill::sell(200_000, 500, fee(200_000, 500))).unwrap();
    assert_eq!(p.qty(), -500);
    assert_eq!(p.unrealized_pnl(205_025), Ok(m("-25.125")));
    assert_eq!(fee(205_025, 300), m("0.33829125"));
    let d1 = p.apply(&Fill::buy(205_025, 300, fee(205_025, 300))).unwrap();
    assert_eq!(d1, m("-15.41329125")); // −15.075 − 0.33829125
    assert_eq!(fee(205_025, 200), m("0.2255275"));
    p.apply(&Fill::buy(205_025, 200, fee(205_025, 200))).unwrap();
    assert_eq!(p.qty(), 0);
    assert_eq!(p.cost_basis(), 0);
    assert_eq!(p.fees_paid(), m("1.11381875"));
    assert_eq!(p.realized_pnl(), m("-26.23881875"));
}

/// Rule 2 by hand, notional 1234.56789:
///   maker rebate −0.0001: exact −0.123456789 -> −0.12345678 (toward zero: we receive
///   less); taker 0.0004: exact 0.493827156 -> 0.49382716 (up: we pay more).
///   At 2 decimals, notional 12.34 × 0.0001 = 0.001234 -> 0.01 paid, and the rebate
///   −0.001234 -> 0.00.
#[test]
fn fee_and_rebate_rounding() {
    let s = FeeSchedule::new("-0.0001", "0.0004", 8).unwrap();
    assert_eq!(s.maker.count(), -1_000_000);
    assert_eq!(s.fee(m("1234.56789"), Liquidity::Maker), Ok(m("-0.12345678")));
    assert_eq!(s.fee(m("1234.56789"), Liquidity::Taker), Ok(m("0.49382716")));
    // The fee is on the magnitude of the notional.
    assert_eq!(s.fee(m("-1234.56789"), Liquidity::Taker), Ok(m("0.49382716")));
    let r = FeeRate::parse("0.0001").unwrap();
    assert_eq!(r.fee(m("12.34"), 2), Ok(m("0.01")));
    assert_eq!(FeeRate::parse("-0.0001").unwrap().fee(m("12.34"), 2), Ok(Money::ZERO));
    // Exact fees are not rounded at all.
    assert_eq!(r.fee(m("100"), 2), Ok(m("0.01")));
    assert_eq!(FeeRate::ZERO.fee(m("100"), 8), Ok(Money::ZERO));
    // A rebate applied to a position raises realized P&L by the rounded-down amount.
    let c = btc();
    let mut p = Position::new(&c);
    p.apply(&Fill::buy(123_456, 1, s.fee(c.notional(123_456, 1).unwrap(), Liquidity::Maker).unwrap()))
        .unwrap();
    // notional 1234.56 × 0.001 = 1.23456; × −0.0001 = −0.000123456 -> −0.00012345:
    // a rebate of 0.00012345 (not ...46).
    assert_eq!(p.realized_pnl(), m("0.00012345"));
    assert_eq!(p.fees_paid(), m("-0.00012345"));
}

#[test]
fn fee_rates_parse_exactly_or_fail() {
    assert_eq!(FeeRate::parse("0.0002").unwrap().count(), 2_000_000);
    assert_eq!(FeeRate::parse("1").unwrap().count(), 10_000_000_000);
    assert_eq!(FeeRate::parse("-1").unwrap().count(), -10_000_000_000);
    for bad in ["1.0000000001", "-1.5", "0.00000000001", "x", ""] {
        assert!(matches!(FeeRate::parse(bad), Err(MoneyError::BadRate { .. })), "{bad}");
    }
    assert!(FeeRate::from_count(10_000_000_001).is_err());
    assert!(FeeRate::parse("0.2").unwrap().fee(m("1"), 19).is_err());
    // The largest notional at the largest rate still computes exactly.
    assert_eq!(FeeRate::parse("1").unwrap().fee(Money::MAX, 18), Ok(Money::MAX));
    assert!(FeeRate::parse("1").unwrap().fee(Money::MIN, 18).is_err());
}

/// Spot, tick 0.01, lot 0.00001. Buy 0.50000 BTC @ 60000.00 with USDT 40000 and
/// BNB 1 on the account.
/// - Fee in base, 0.1% of 0.5 BTC = 0.0005 BTC: BTC +0.4995, USDT 40000 − 30000 =
///   10000; the position's fee is that base valued at the fill price, 30.00 USDT.
/// - Fee in BNB 0.0375: BTC +0.5, USDT 10000, BNB 1 − 0.0375 = 0.9625.
#[test]
fn spot_fees_in_base_and_in_a_third_asset() {
    let contract = Contract::new(&Grid::new("0.01", "0.00001").unwrap()).unwrap();
    let (btc_a, bnb) = (Asset::new("BTC").unwrap(), Asset::new("BNB").unwrap());
    let mkt = SpotMarket { base: btc_a, quote: usdt(), contract };

    let mut b = Balances::new();
    b.credit(usdt(), m("40000")).unwrap();
    let base_fee = FeeRate::parse("0.001").unwrap().fee(contract.base_amount(50_000).unwrap(), 8).unwrap();
    assert_eq!(base_fee, m("0.0005"));
    b.apply_spot_fill(&mkt, &Fill::buy(6_000_000, 50_000, base_fee), btc_a).unwrap();
    assert_eq!(b.get(btc_a), m("0.4995"));
    assert_eq!(b.get(usdt()), m("10000"));
    let quote_fee = contract.quote_value(base_fee, 6_000_000, Rounding::Ceiling).unwrap();
    assert_eq!(quote_fee, m("30"));
    let mut p = Position::new(&contract);
    p.apply(&Fill::buy(6_000_000, 50_000, quote_fee)).unwrap();
    assert_eq!(p.realized_pnl(), m("-30"));

    let mut b = Balances::new();
    b.credit(usdt(), m("40000")).unwrap();
    b.credit(bnb, m("1")).unwrap();
    b.apply_spot_fill(&mkt, &Fill::buy(6_000_000, 50_000, m("0.0375")), bnb).unwrap();
    assert_eq!(b.get(btc_a), m("0.5"));
    assert_eq!(b.get(usdt()), m("10000"));
    assert_eq!(b.get(bnb), m("0.9625"));

    // Selling it back @ 60100.00 with a quote fee of 30.05 (0.1%).
    b.apply_spot_fill(&mkt, &Fill::sell(6_010_000, 50_000, m("30.05")), usdt()).unwrap();
    assert_eq!(b.get(btc_a), Money::ZERO);
    assert_eq!(b.get(usdt()), m("40019.95")); // 10000 + 30050 − 30.05
    // A rebate credits the fee asset.
    b.apply_spot_fill(&mkt, &Fill::sell(6_010_000, 1, m("-0.01")), usdt()).unwrap();
    assert_eq!(b.get(usdt()), m("40020.561")); // + 0.601 + 0.01
    assert_eq!(b.get(btc_a), m("-0.00001"));
}

#[test]
fn refused_fills_change_nothing() {
    let c = btc();
    let mut p = Position::new(&c);
    p.apply(&Fill::buy(100, 5, m("0.1"))).unwrap();
    let before = p;
    assert_eq!(p.apply(&Fill::buy(100, 0, Money::ZERO)), Err(AccountingError::BadQty { qty: 0 }));
    assert_eq!(p.apply(&Fill::sell(100, -1, Money::ZERO)), Err(AccountingError::BadQty { qty: -1 }));
    assert!(p.apply(&Fill::buy(100, 1, Money::MIN)).is_err()); // 0 − MIN overflows
    assert!(p.apply(&Fill::buy(100, i64::MAX, Money::ZERO)).is_err()); // qty overflows
    assert_eq!(p, before);
    // A realized P&L beyond 2^127 × 10^-18: (0 − (2^63 − 1)) × 10^9 tick·lots × 10^13.
    let mut big = Position::new(&c);
    big.apply(&Fill::buy(i64::MAX, 1_000_000_000, Money::ZERO)).unwrap();
    let big_before = big;
    assert!(matches!(
        big.apply(&Fill::sell(0, 1_000_000_000, Money::ZERO)),
        Err(AccountingError::Money(MoneyError::Overflow { .. }))
    ));
    assert_eq!(big, big_before);
    assert!(big.unrealized_pnl(0).is_err());

    let mkt = SpotMarket { base: Asset::new("BTC").unwrap(), quote: usdt(), contract: c };
    let mut b = Balances::new();
    b.credit(usdt(), Money::MIN.checked_add(m("1")).unwrap()).unwrap();
    let snapshot = b.clone();
    let e = b.apply_spot_fill(&mkt, &Fill::buy(100_000, 1000, Money::ZERO), mkt.base).unwrap_err();
    assert_eq!(e, AccountingError::Money(MoneyError::Overflow { op: "quote balance" }));
    assert_eq!(b, snapshot);
    let mut pos = Position::new(&c);
    b.credit(usdt(), m("-1")).unwrap(); // now exactly MIN
    let (pb, bb) = (pos, b.clone());
    assert!(b.apply_linear_fill(usdt(), &mut pos, &Fill::buy(100, 1, m("1"))).is_err());
    assert_eq!((pos, b), (pb, bb));
    assert!(Asset::new("").is_err() && Asset::new("A B").is_err() && Asset::new("ABCDEFGHIJKLMNOPQ").is_err());
    assert_eq!(Asset::new("USDT").unwrap().to_string(), "USDT");
}

/// Linear perpetual, collateral 1000 USDT: long 1.000 @ 100.00 (fee 0.02) → 999.98;
/// sell 1.000 @ 110.00 (fee 0.022) → realized +10 − 0.022 → 1009.958.
#[test]
fn linear_perp_moves_collateral_only() {
    let c = btc();
    let mut b = Balances::new();
    b.credit(usdt(), m("1000")).unwrap();
    let mut p = Position::new(&c);
    assert_eq!(b.apply_linear_fill(usdt(), &mut p, &Fill::buy(10_000, 1000, m("0.02"))), Ok(m("-0.02")));
    assert_eq!(b.get(usdt()), m("999.98"));
    assert_eq!(b.get(Asset::new("BTC").unwrap()), Money::ZERO);
    assert_eq!(b.apply_linear_fill(usdt(), &mut p, &Fill::sell(11_000, 1000, m("0.022"))), Ok(m("9.978")));
    assert_eq!(b.get(usdt()), m("1009.958"));
    assert_eq!(p.realized_pnl(), m("9.958"));
    assert_eq!(b.iter().count(), 1);
}

#[test]
fn snapshots_record_each_fill() {
    let c = btc();
    let mut log = PositionLog::new(&c);
    log.apply(1, &Fill::buy(100, 2, m("0.1"))).unwrap();
    log.apply(2, &Fill::buy(103, 1, Money::ZERO)).unwrap();
    assert!(log.apply(3, &Fill::buy(103, 0, Money::ZERO)).is_err());
    log.apply(4, &Fill::sell(110, 3, Money::ZERO)).unwrap();
    let s = log.snapshots();
    assert_eq!(s.len(), 3);
    assert_eq!((s[0].ts, s[0].qty, s[0].cost, s[0].fees), (1, 2, 200, m("0.1")));
    assert_eq!(s[1].avg_entry_ticks(), Some((303, 3))); // avg 101
    // (110 × 3 − 303) tick·lots = 27 × 0.00001 = 0.00027, minus fee 0.1.
    assert_eq!((s[2].ts, s[2].qty, s[2].cost, s[2].realized), (4, 0, 0, m("-0.09973")));
    assert_eq!(s[2].avg_entry_ticks(), None);
    assert_eq!(log.position().realized_pnl(), s[2].realized);
}

/// Rule 5 for a third asset: amount × price exactly, rounded only at 10^-18.
/// 0.0375 BNB × 580.3 = 21.76125 (exact); 10^-18 × 0.5 = 0.5 units: ceiling 1, floor 0,
/// half-even 0 (tie to even), and −0.5 units: ceiling 0, floor −1; 3 units × 0.5 = 1.5
/// units: half-even 2.
#[test]
fn convert_is_exact_and_rounds_only_at_the_last_unit() {
    let one = Money::from_units(1);
    let half = m("0.5");
    assert_eq!(convert(m("0.0375"), m("580.3"), Rounding::Ceiling), Ok(m("21.76125")));
    assert_eq!(convert(m("-0.0375"), m("580.3"), Rounding::Floor), Ok(m("-21.76125")));
    let cases = [
        // units, Down, Up, Floor, Ceiling, HalfEven (result units of units × 0.5)
        (1i128, 0i128, 1i128, 0i128, 1i128, 0i128),
        (-1, 0, -1, -1, 0, 0),
        (3, 1, 2, 1, 2, 2),
        (-3, -1, -2, -2, -1, -2),
        (4, 2, 2, 2, 2, 2),
    ];
    for (u, d, up, fl, ce, he) in cases {
        let x = Money::from_units(u);
        let got = [Rounding::Down, Rounding::Up, Rounding::Floor, Rounding::Ceiling, Rounding::HalfEven]
            .map(|mode| convert(x, half, mode).unwrap().units());
        assert_eq!(got, [d, up, fl, ce, he], "{u}");
    }
    assert_eq!(convert(one, Money::ZERO, Rounding::Floor), Ok(Money::ZERO));
    assert_eq!(convert(Money::MAX, m("1"), Rounding::Ceiling), Ok(Money::MAX));
    assert_eq!(convert(Money::MIN, m("1"), Rounding::Ceiling), Ok(Money::MIN));
    let e = convert(m("-1"), Money::MIN, Rounding::Ceiling).unwrap_err();
    assert_eq!(e, MoneyError::Overflow { op: "money conversion" });
    assert!(convert(Money::MAX, m("2"), Rounding::Down).is_err());
    // The largest magnitudes multiply without a 256-bit intermediate: MAX × MAX / 10^18
    // overflows, MAX × 10^-18 is MAX / 10^18 rounded.
    assert!(convert(Money::MAX, Money::MAX, Rounding::Down).is_err());
    let want = Money::from_units(i128::MAX / 1_000_000_000_000_000_000);
    assert_eq!(convert(Money::MAX, one, Rounding::Down), Ok(want));
}

/// The quote value of a fee by the asset it is charged in (rule 5), on BTC/USDT with
/// tick 0.01, lot 0.00001, fill price 60000.01 (6_000_001 ticks):
/// - quote 1.5 USDT: itself;
/// - base 0.00000001 BTC: 0.00000001 × 60000.01 = 0.0006000001 (exact);
///   base 10^-18 BTC: 60000.01 × 10^-18 → 60001 units rounded up;
/// - 0.0375 BNB at 580.3: 21.76125; without a price, or at a price <= 0: refused.
#[test]
fn fee_value_by_fee_asset() {
    let contract = Contract::new(&Grid::new("0.01", "0.00001").unwrap()).unwrap();
    let (btc_a, bnb) = (Asset::new("BTC").unwrap(), Asset::new("BNB").unwrap());
    let mkt = SpotMarket { base: btc_a, quote: usdt(), contract };
    assert_eq!(mkt.fee_value(m("1.5"), usdt(), 6_000_001, None), Ok(m("1.5")));
    assert_eq!(mkt.fee_value(m("1.5"), usdt(), 6_000_001, Some(m("7"))), Ok(m("1.5")));
    assert_eq!(mkt.fee_value(m("0.00000001"), btc_a, 6_000_001, None), Ok(m("0.0006000001")));
    assert_eq!(mkt.fee_value(Money::from_units(1), btc_a, 6_000_001, None), Ok(Money::from_units(60_001)));
    assert_eq!(mkt.fee_value(m("0.0375"), bnb, 6_000_001, Some(m("580.3"))), Ok(m("21.76125")));
    let e = mkt.fee_value(m("0.0375"), bnb, 6_000_001, None).unwrap_err();
    assert_eq!(e, AccountingError::NoFeePrice { asset: "BNB".into() });
    assert!(e.to_string().contains("BNB") && e.to_string().contains("rule"));
    let e = mkt.fee_value(m("0.0375"), bnb, 6_000_001, Some(m("-1"))).unwrap_err();
    assert_eq!(e.to_string(), "fee price -1 of BNB is not positive (rule: price > 0)");
}

/// Spot buy 0.50000 BTC @ 60000.00 with a 0.0375 BNB fee, BNB at 580.3 USDT:
/// balances BTC +0.5, USDT −30000, BNB −0.0375; the position's fee is
/// 0.0375 × 580.3 = 21.76125 USDT, so its realized P&L is −21.76125. A refused step
/// (no BNB price; a quote balance that would overflow) changes neither.
#[test]
fn spot_fill_with_position_is_all_or_nothing() {
    let contract = Contract::new(&Grid::new("0.01", "0.00001").unwrap()).unwrap();
    let (btc_a, bnb) = (Asset::new("BTC").unwrap(), Asset::new("BNB").unwrap());
    let mkt = SpotMarket { base: btc_a, quote: usdt(), contract };
    let mut b = Balances::new();
    let mut p = Position::new(&contract);
    let fill = Fill::buy(6_000_000, 50_000, m("0.0375"));
    let delta = b.apply_spot_fill_with_position(&mkt, &mut p, &fill, bnb, Some(m("580.3"))).unwrap();
    assert_eq!(delta, m("-21.76125"));
    assert_eq!((b.get(btc_a), b.get(usdt()), b.get(bnb)), (m("0.5"), m("-30000"), m("-0.0375")));
    assert_eq!((p.qty(), p.fees_paid(), p.realized_pnl()), (50_000, m("21.76125"), m("-21.76125")));

    let (pb, bb) = (p, b.clone());
    assert!(matches!(
        b.apply_spot_fill_with_position(&mkt, &mut p, &fill, bnb, None),
        Err(AccountingError::NoFeePrice { .. })
    ));
    assert_eq!((p, &b), (pb, &bb));
    b.credit(usdt(), Money::MIN.checked_add(m("30000")).unwrap()).unwrap(); // USDT = MIN
    let (pb, bb) = (p, b.clone());
    let e = b.apply_spot_fill_with_position(&mkt, &mut p, &Fill::buy(1, 1, Money::ZERO), usdt(), None);
    assert!(matches!(e, Err(AccountingError::Money(MoneyError::Overflow { .. }))));
    assert_eq!((p, &b), (pb, &bb));
}

/// Linear perpetual with fees in BNB at 500 USDT, collateral 1000 USDT and 1 BNB:
/// buy 1.000 @ 100.00, fee 0.0001 BNB = 0.05 USDT: realized −0.05, USDT 1000 (nothing
/// realized before the fee), BNB 0.9999. Sell 1.000 @ 110.00, fee 0.00011 BNB = 0.055:
/// realized +10 − 0.055 = 9.945, USDT 1010, BNB 0.99979; total realized 9.895.
#[test]
fn linear_fill_with_fee_in_a_third_asset() {
    let c = btc();
    let bnb = Asset::new("BNB").unwrap();
    let mkt = SpotMarket { base: Asset::new("BTC").unwrap(), quote: usdt(), contract: c };
    let price = Some(m("500"));
    let mut b = Balances::new();
    b.credit(usdt(), m("1000")).unwrap();
    b.credit(bnb, m("1")).unwrap();
    let mut p = Position::new(&c);
    let d1 = b.apply_linear_fill_with_fee(&mkt, &mut p, &Fill::buy(10_000, 1000, m("0.0001")), bnb, price);
    assert_eq!(d1, Ok(m("-0.05")));
    assert_eq!((b.get(usdt()), b.get(bnb)), (m("1000"), m("0.9999")));
    let d2 = b.apply_linear_fill_with_fee(&mkt, &mut p, &Fill::sell(11_000, 1000, m("0.00011")), bnb, price);
    assert_eq!(d2, Ok(m("9.945")));
    assert_eq!((b.get(usdt()), b.get(bnb)), (m("1010"), m("0.99979")));
    assert_eq!((p.realized_pnl(), p.fees_paid()), (m("9.895"), m("0.105")));
    // A fee in the collateral is the plain linear fill.
    let (mut p2, mut b2) = (Position::new(&c), Balances::new());
    let got = b2.apply_linear_fill_with_fee(&mkt, &mut p2, &Fill::buy(10_000, 1000, m("0.02")), usdt(), None);
    assert_eq!((got, b2.get(usdt())), (Ok(m("-0.02")), m("-0.02")));
    // A fee asset balance that would overflow refuses the whole fill.
    b.credit(bnb, b.get(bnb).checked_neg().unwrap()).unwrap();
    b.credit(bnb, Money::MIN).unwrap();
    let (pb, bb) = (p, b.clone());
    assert!(b.apply_linear_fill_with_fee(&mkt, &mut p, &Fill::buy(10_000, 1, m("0.1")), bnb, price).is_err());
    assert_eq!((p, &b), (pb, &bb));
}

/// Rule 7: long 1.000 BTC at an average 60010.10964 (the three partial buys above), at
/// 7× leverage: 60010.10964 / 7 = 8572.872805714285714285714… → 8572.872805714285714286
/// (up). A short of the same size holds the same margin; flat holds none.
#[test]
fn used_margin_is_entry_notional_over_leverage_rounded_up() {
    let c = btc();
    let mut p = Position::new(&c);
    for (price, qty) in [(6_000_001, 337), (6_001_053, 451), (6_002_527, 212)] {
        p.apply(&Fill::buy(price, qty, Money::ZERO)).unwrap();
    }
    assert_eq!(p.used_margin(1), Ok(m("60010.10964")));
    assert_eq!(p.used_margin(7), Ok(m("8572.872805714285714286")));
    let mut s = Position::new(&c);
    for (price, qty) in [(6_000_001, 337), (6_001_053, 451), (6_002_527, 212)] {
        s.apply(&Fill::sell(price, qty, Money::ZERO)).unwrap();
    }
    assert_eq!(s.used_margin(7), Ok(m("8572.872805714285714286")));
    assert_eq!(Position::new(&c).used_margin(20), Ok(Money::ZERO));
    assert_eq!(p.used_margin(0), Err(AccountingError::BadLeverage { leverage: 0 }));
}

fn fill_strategy() -> impl Strategy<Value = (bool, i64, i64, i64)> {
    // side, price ticks, qty lots, fee in 10^-8 (may be a rebate)
    (any::<bool>(), 1i64..10_000_000, 1i64..100_000, -1_000i64..100_000)
}

proptest! {
    #[test]
    fn position_matches_cash_flows(fills in prop::collection::vec(fill_strategy(), 1..40), mark in 1i64..10_000_000) {
        let c = btc();
        let mut p = Position::new(&c);
        let (mut qty, mut cash, mut fees) = (0i64, 0i128, Money::ZERO);
        for (buy, price, q, fee) in fills {
            let fee = Money::from_scaled(fee as i128, 8).unwrap();
            let f = Fill { side: if buy { Side::Bid } else { Side::Ask }, price, qty: q, fee };
            let (open, cost) = (p.qty(), p.cost_basis());
            let before = p.realized_pnl().checked_add(p.fees_paid()).unwrap();
            p.apply(&f).unwrap();
            let s = f.signed_qty();
            qty += s;
            cash -= price as i128 * s as i128;
            fees = fees.checked_add(fee).unwrap();
            prop_assert_eq!(p.qty(), qty);
            prop_assert_eq!(p.fees_paid(), fees);
            // realized + unrealized == cash + qty × mark − fees, to the last unit.
            let total = p.realized_pnl().checked_add(p.unrealized_pnl(mark).unwrap()).unwrap();
            let want = c.tick_lots_to_money(cash + mark as i128 * qty as i128).unwrap().checked_sub(fees).unwrap();
            prop_assert_eq!(total, want);
            // Rule 3: a reduction never realizes more than the exact average-price figure.
            if open != 0 && (open > 0) != (s > 0) {
                let closed = if s.unsigned_abs() >= open.unsigned_abs() { open } else { -s } as i128;
                let gross = (p.realized_pnl().checked_add(p.fees_paid()).unwrap().units() - before.units()) / c.unit();
                // exact = price × closed − cost × closed / open; compare times |open|.
                let lhs = gross * open.unsigned_abs() as i128;
                let rhs = price as i128 * closed * open.unsigned_abs() as i128 - cost * closed * open.signum() as i128;
                prop_assert!(lhs <= rhs, "{} > {}", lhs, rhs);
                prop_assert!(rhs - lhs < open.unsigned_abs() as i128);
            }
        }
        // Close to flat: realized == Σ signed cash flows − fees, exactly; basis exactly 0.
        if qty != 0 {
            let f = Fill { side: if qty > 0 { Side::Ask } else { Side::Bid }, price: mark, qty: qty.abs(), fee: Money::ZERO };
            p.apply(&f).unwrap();
            cash -= mark as i128 * f.signed_qty() as i128;
        }
        prop_assert_eq!(p.qty(), 0);
        prop_assert_eq!(p.cost_basis(), 0);
        prop_assert_eq!(p.realized_pnl(), c.tick_lots_to_money(cash).unwrap().checked_sub(fees).unwrap());
    }

    #[test]
    fn spot_balances_are_conserved_per_asset(
        fills in prop::collection::vec((fill_strategy(), 0usize..3), 1..40),
        start in prop::collection::vec(-1_000_000i64..1_000_000, 3),
    ) {
        let c = Contract::new(&Grid::new("0.01", "0.00001").unwrap()).unwrap();
        let assets = [Asset::new("BTC").unwrap(), usdt(), Asset::new("BNB").unwrap()];
        let mkt = SpotMarket { base: assets[0], quote: assets[1], contract: c };
        let mut b = Balances::new();
        let mut want = [0i128; 3];
        for (i, s) in start.iter().enumerate() {
            b.credit(assets[i], Money::from_int(*s)).unwrap();
            want[i] = Money::from_int(*s).units();
        }
        for ((buy, price, q, fee), fa) in fills {
            let fee = Money::from_scaled(fee as i128, 8).unwrap();
            let f = Fill { side: if buy { Side::Bid } else { Side::Ask }, price, qty: q, fee };
            b.apply_spot_fill(&mkt, &f, assets[fa]).unwrap();
            // Independent flows: base ±qty × 0.00001, quote ∓price × 0.01 × qty × 0.00001.
            let sgn: i128 = if buy { 1 } else { -1 };
            want[0] += sgn * q as i128 * 10_000_000_000_000;
            want[1] -= sgn * price as i128 * q as i128 * 100_000_000_000;
            want[fa] -= fee.units();
            for i in 0..3 {
                prop_assert_eq!(b.get(assets[i]).units(), want[i]);
            }
        }
    }

    #[test]
    fn linear_collateral_tracks_realized(fills in prop::collection::vec(fill_strategy(), 1..30)) {
        let c = btc();
        let mut b = Balances::new();
        let mut p = Position::new(&c);
        for (buy, price, q, fee) in fills {
            let fee = Money::from_scaled(fee as i128, 8).unwrap();
            let f = Fill { side: if buy { Side::Bid } else { Side::Ask }, price, qty: q, fee };
            b.apply_linear_fill(usdt(), &mut p, &f).unwrap();
            prop_assert_eq!(b.get(usdt()), p.realized_pnl());
        }
    }

    #[test]
    fn convert_matches_the_direct_product(a in any::<i64>(), b in any::<i64>(), mode_ix in 0usize..5) {
        // |a·b| < 2^126: the direct product is the reference.
        let modes = [Rounding::Down, Rounding::Up, Rounding::Floor, Rounding::Ceiling, Rounding::HalfEven];
        let mode = modes[mode_ix];
        let want = crate::money::div_round(a as i128 * b as i128, crate::money::POW10[18], mode).unwrap();
        let got = convert(Money::from_units(a as i128), Money::from_units(b as i128), mode).unwrap();
        prop_assert_eq!(got.units(), want);
    }

    #[test]
    fn convert_is_exact_for_wide_values(a in any::<i128>(), k in -1_000_000i64..1_000_000) {
        // × an integer k is exact; × k / 10^6 agrees with the exact value rounded.
        let x = Money::from_units(a);
        match x.checked_mul_int(k as i128) {
            Ok(want) => prop_assert_eq!(convert(x, Money::from_int(k), Rounding::Floor), Ok(want)),
            Err(_) => prop_assert!(convert(x, Money::from_int(k), Rounding::Floor).is_err()),
        }
    }

    #[test]
    fn fee_rounds_up_by_less_than_one_unit(n in 0i128..(1i128 << 90), r in -10_000_000_000i64..=10_000_000_000, d in 0u32..=18) {
        let fee = FeeRate::from_count(r).unwrap().fee(Money::from_units(n), d).unwrap();
        // exact fee in 10^-28 units = n × r; charged in 10^-28 units = fee.units × 10^10.
        let exact = n * r as i128; // |n| < 2^90, |r| < 2^34: fits
        let charged = fee.units() * 10_000_000_000;
        prop_assert!(charged >= exact);
        prop_assert!(charged - exact < crate::money::POW10[(28 - d) as usize]);
        prop_assert_eq!(fee.units() % crate::money::POW10[(18 - d) as usize], 0);
    }

    #[test]
    fn contract_fees_match_the_general_fee(
        price in prop_oneof![1i64..10_000_000, any::<i64>()],
        qty in prop_oneof![1i64..1_000_000, 1i64..i64::MAX],
        maker in -10_000_000_000i64..=10_000_000_000,
        taker in 0i64..100_000_000,
        grid in prop::sample::select(vec![("0.01", "0.001"), ("0.5", "0.25"), ("0.00001", "1"), ("5", "0.000000001"), ("0.000000001", "0.000000001")]),
        decimals in 0u32..=18,
    ) {
        let c = Contract::new(&Grid::new(grid.0, grid.1).unwrap()).unwrap();
        let s = FeeSchedule { maker: FeeRate::from_count(maker).unwrap(), taker: FeeRate::from_count(taker).unwrap(), decimals };
        let cf = ContractFees::new(s, &c);
        // Equal whenever the notional itself is representable (a fill whose notional
        // overflows cannot be booked anyway).
        if let Ok(n) = c.notional(price, qty) {
            for liq in [Liquidity::Maker, Liquidity::Taker] {
                prop_assert_eq!(cf.fee(price, qty, liq), s.fee(n, liq));
            }
        }
    }
}
