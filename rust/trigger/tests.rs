//! Hand-computed tests, one or more per rule in the module docs.

use super::*;

const BUY: Side = Side::Bid;
const SELL: Side = Side::Ask;

fn spec(id: u64, side: Side, kind: TriggerKind, source: TriggerSource) -> TriggerSpec {
    TriggerSpec {
        id,
        side,
        kind,
        source,
        trigger_price: None,
        offset: None,
        user_stop: None,
        reference: None,
    }
}

fn plain(id: u64, side: Side, kind: TriggerKind, source: TriggerSource, trigger: i64) -> TriggerSpec {
    TriggerSpec {
        trigger_price: Some(trigger),
        ..spec(id, side, kind, source)
    }
}

fn trail(id: u64, side: Side, offset: TrailOffset, reference: Option<i64>) -> TriggerSpec {
    TriggerSpec {
        offset: Some(offset),
        reference,
        ..spec(id, side, TriggerKind::TrailingStop, TriggerSource::Last)
    }
}

fn book_with(specs: &[TriggerSpec]) -> TriggerBook {
    let mut b = TriggerBook::new();
    for s in specs {
        b.add(s).unwrap();
    }
    b
}

fn last(b: &mut TriggerBook, p: i64) -> Vec<u64> {
    let mut out = Vec::new();
    b.on_last(p, &mut out).unwrap();
    out
}

fn mark(b: &mut TriggerBook, p: i64) -> Vec<u64> {
    let mut out = Vec::new();
    b.on_mark(p, &mut out).unwrap();
    out
}

fn touch(b: &mut TriggerBook, bid: Option<i64>, ask: Option<i64>) -> Vec<u64> {
    let mut out = Vec::new();
    b.on_bid_ask(bid, ask, &mut out).unwrap();
    out
}

use TriggerKind::{Stop, TakeProfit, TrailingStop};
use TriggerSource::{BidAsk, Last, Mark};

// --- plain stops and take-profits, every direction and source --------------------------

#[test]
fn sell_stop_fires_at_or_below_its_trigger() {
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100)]);
    assert_eq!(last(&mut b, 101), Vec::<u64>::new());
    assert_eq!(last(&mut b, 100), vec![1]); // equality fires
    assert!(b.is_empty());
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100)]);
    assert_eq!(last(&mut b, 80), vec![1]); // a gap through the stop fires too
}

#[test]
fn buy_stop_fires_at_or_above_its_trigger() {
    let mut b = book_with(&[plain(1, BUY, Stop, Last, 100)]);
    assert_eq!(last(&mut b, 99), Vec::<u64>::new());
    assert_eq!(last(&mut b, 100), vec![1]);
    let mut b = book_with(&[plain(1, BUY, Stop, Last, 100)]);
    assert_eq!(last(&mut b, 130), vec![1]);
}

#[test]
fn sell_take_profit_fires_at_or_above_its_trigger() {
    let mut b = book_with(&[plain(1, SELL, TakeProfit, Last, 110)]);
    assert_eq!(last(&mut b, 109), Vec::<u64>::new());
    assert_eq!(last(&mut b, 110), vec![1]);
    let mut b = book_with(&[plain(1, SELL, TakeProfit, Last, 110)]);
    assert_eq!(last(&mut b, 200), vec![1]);
}

#[test]
fn buy_take_profit_fires_at_or_below_its_trigger() {
    let mut b = book_with(&[plain(1, BUY, TakeProfit, Last, 90)]);
    assert_eq!(last(&mut b, 91), Vec::<u64>::new());
    assert_eq!(last(&mut b, 90), vec![1]);
    let mut b = book_with(&[plain(1, BUY, TakeProfit, Last, 90)]);
    assert_eq!(last(&mut b, 10), vec![1]);
}

#[test]
fn mark_entries_see_only_the_mark_and_last_entries_only_the_last() {
    let mut b = book_with(&[plain(1, SELL, Stop, Mark, 100), plain(2, SELL, Stop, Last, 100)]);
    assert_eq!(mark(&mut b, 100), vec![1]);
    assert_eq!(touch(&mut b, Some(50), Some(51)), Vec::<u64>::new());
    assert_eq!(last(&mut b, 100), vec![2]);
    let mut b = book_with(&[
        plain(1, BUY, Stop, Mark, 100),
        plain(2, SELL, TakeProfit, Mark, 110),
        plain(3, BUY, TakeProfit, Mark, 90),
    ]);
    assert_eq!(last(&mut b, 100), Vec::<u64>::new());
    assert_eq!(mark(&mut b, 99), Vec::<u64>::new());
    assert_eq!(mark(&mut b, 100), vec![1]);
    assert_eq!(mark(&mut b, 90), vec![3]);
    assert_eq!(mark(&mut b, 110), vec![2]);
}

#[test]
fn bid_ask_sells_watch_the_bid_and_buys_the_ask() {
    // A sell stop at 100: with bid 100 / ask 101 only the bid is at the stop, so it fires;
    // had it watched the ask (101) it would not.
    let mut b = book_with(&[plain(1, SELL, Stop, BidAsk, 100)]);
    assert_eq!(touch(&mut b, Some(101), Some(102)), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(100), Some(101)), vec![1]);
    // A buy stop at 102 fires on ask 102 while the bid is 101.
    let mut b = book_with(&[plain(1, BUY, Stop, BidAsk, 102)]);
    assert_eq!(touch(&mut b, Some(100), Some(101)), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(101), Some(102)), vec![1]);
    // A sell take-profit at 110 needs the bid at 110: ask 110 with bid 109 is not enough.
    let mut b = book_with(&[plain(1, SELL, TakeProfit, BidAsk, 110)]);
    assert_eq!(touch(&mut b, Some(109), Some(110)), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(110), Some(111)), vec![1]);
    // A buy take-profit at 90 needs the ask at 90: bid 90 with ask 91 is not enough.
    let mut b = book_with(&[plain(1, BUY, TakeProfit, BidAsk, 90)]);
    assert_eq!(touch(&mut b, Some(90), Some(91)), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(89), Some(90)), vec![1]);
}

#[test]
fn bid_ask_missing_side_is_no_observation() {
    let mut b = book_with(&[plain(1, SELL, Stop, BidAsk, 100), plain(2, BUY, Stop, BidAsk, 100)]);
    // No bid: the sell stop sees nothing even though the ask (50) is far below 100.
    assert_eq!(touch(&mut b, None, Some(50)), Vec::<u64>::new());
    // No ask: the buy stop sees nothing even though the bid (150) is far above 100.
    assert_eq!(touch(&mut b, Some(150), None), Vec::<u64>::new());
    assert_eq!(touch(&mut b, None, None), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(99), Some(100)), vec![1, 2]);
}

#[test]
fn adding_never_fires_and_the_next_observation_through_the_trigger_does() {
    // The last trade was 95 when a sell stop at 100 is added: already through.
    let s = plain(7, SELL, Stop, Last, 100);
    assert!(TriggerBook::would_fire(&s, 95));
    assert!(TriggerBook::would_fire(&s, 100));
    assert!(!TriggerBook::would_fire(&s, 101));
    let mut b = book_with(&[s]);
    assert_eq!(b.len(), 1);
    assert_eq!(last(&mut b, 96), vec![7]);
    // would_fire follows each kind's direction.
    assert!(TriggerBook::would_fire(&plain(1, BUY, Stop, Last, 100), 100));
    assert!(!TriggerBook::would_fire(&plain(1, BUY, Stop, Last, 100), 99));
    assert!(TriggerBook::would_fire(&plain(1, SELL, TakeProfit, Last, 110), 111));
    assert!(!TriggerBook::would_fire(&plain(1, SELL, TakeProfit, Last, 110), 109));
    assert!(TriggerBook::would_fire(&plain(1, BUY, TakeProfit, Last, 90), 89));
    assert!(!TriggerBook::would_fire(&plain(1, BUY, TakeProfit, Last, 90), 91));
    // A user stop counts: sell stop 90 with user stop 97 is through at 96.
    let s = TriggerSpec { user_stop: Some(97), ..plain(1, SELL, Stop, Last, 90) };
    assert!(TriggerBook::would_fire(&s, 96));
}

#[test]
fn would_fire_ratchets_a_trailing_stop_first() {
    // Sell, 10 ticks, reference 120: stop 110 before p is seen.
    let s = trail(1, SELL, TrailOffset::Ticks(10), Some(120));
    assert!(TriggerBook::would_fire(&s, 110));
    assert!(!TriggerBook::would_fire(&s, 111));
    // Without a reference the first price only sets the extreme (stop = p - 10): no fire.
    let s = trail(1, SELL, TrailOffset::Ticks(10), None);
    assert!(!TriggerBook::would_fire(&s, 50));
}

#[test]
fn fired_ids_come_out_ascending_and_are_appended() {
    let mut b = book_with(&[
        plain(9, SELL, Stop, Last, 100),
        plain(2, SELL, Stop, Last, 98),
        plain(5, BUY, TakeProfit, Last, 99),
        trail(3, SELL, TrailOffset::Ticks(2), Some(101)), // stop 99
        plain(4, SELL, Stop, Last, 90),
    ]);
    let mut out = vec![42];
    b.on_last(97, &mut out).unwrap();
    assert_eq!(out, vec![42, 2, 3, 5, 9]);
    assert_eq!(b.len(), 1);
    assert!(b.contains(4));
}

#[test]
fn fired_entries_are_gone() {
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100)]);
    assert_eq!(last(&mut b, 100), vec![1]);
    assert_eq!(last(&mut b, 90), Vec::<u64>::new());
    assert!(!b.contains(1));
    assert_eq!(b.effective_stop(1), None);
    assert!(!b.remove(1));
    // The id may be reused once fired.
    b.add(&plain(1, BUY, Stop, Last, 100)).unwrap();
    assert_eq!(last(&mut b, 100), vec![1]);
}

// --- trailing stops ---------------------------------------------------------------------

#[test]
fn sell_trailing_ratchets_up_and_never_loosens_on_a_pullback() {
    // 10 ticks, reference 100: stop 90.
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Ticks(10), Some(100))]);
    assert_eq!(b.effective_stop(1), Some(90));
    assert_eq!(last(&mut b, 105), Vec::<u64>::new()); // new high 105 -> stop 95
    assert_eq!(b.effective_stop(1), Some(95));
    assert_eq!(last(&mut b, 97), Vec::<u64>::new()); // pullback: stop stays 95
    assert_eq!(b.effective_stop(1), Some(95));
    assert_eq!(b.get(1).unwrap().extreme, Some(105));
    assert_eq!(last(&mut b, 103), Vec::<u64>::new()); // below the high: no change
    assert_eq!(b.effective_stop(1), Some(95));
    assert_eq!(last(&mut b, 95), vec![1]);
}

#[test]
fn buy_trailing_ratchets_down_and_never_loosens_on_a_pullback() {
    // 10 ticks, reference 100: stop 110.
    let mut b = book_with(&[trail(1, BUY, TrailOffset::Ticks(10), Some(100))]);
    assert_eq!(b.effective_stop(1), Some(110));
    assert_eq!(last(&mut b, 92), Vec::<u64>::new()); // new low 92 -> stop 102
    assert_eq!(b.effective_stop(1), Some(102));
    assert_eq!(last(&mut b, 101), Vec::<u64>::new()); // pullback up: stays 102
    assert_eq!(b.effective_stop(1), Some(102));
    assert_eq!(last(&mut b, 102), vec![1]);
}

#[test]
fn trailing_without_reference_starts_at_the_first_observation() {
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Ticks(5), None)]);
    assert_eq!(b.effective_stop(1), None);
    assert_eq!(b.get(1).unwrap().extreme, None);
    assert_eq!(last(&mut b, 100), Vec::<u64>::new()); // extreme 100, stop 95
    assert_eq!(b.effective_stop(1), Some(95));
    assert_eq!(last(&mut b, 96), Vec::<u64>::new());
    assert_eq!(last(&mut b, 95), vec![1]);
}

#[test]
fn trailing_initial_trigger_is_the_starting_stop() {
    // Sell, 10 ticks, starting stop 99: a high of 100 gives 90, looser than 99, so 99 holds.
    let s = TriggerSpec { trigger_price: Some(99), ..trail(1, SELL, TrailOffset::Ticks(10), None) };
    let mut b = book_with(&[s]);
    assert_eq!(b.effective_stop(1), Some(99));
    assert_eq!(last(&mut b, 100), Vec::<u64>::new());
    assert_eq!(b.effective_stop(1), Some(99));
    assert_eq!(last(&mut b, 112), Vec::<u64>::new()); // 112 - 10 = 102 > 99
    assert_eq!(b.effective_stop(1), Some(102));
    assert_eq!(last(&mut b, 102), vec![1]);
    // Reference and starting stop together: the tighter one. Buy, ref 100, 10 ticks -> 110;
    // starting stop 105 is tighter.
    let s = TriggerSpec { trigger_price: Some(105), ..trail(2, BUY, TrailOffset::Ticks(10), Some(100)) };
    let b = book_with(&[s]);
    assert_eq!(b.effective_stop(2), Some(105));
}

#[test]
fn a_new_extreme_never_fires_its_own_trailing_stop() {
    // Updating before checking: the new high 100 raises the stop to 99 (1 tick), and
    // 100 > 99, so no fire. Checking before updating would give the same answer.
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Ticks(1), None)]);
    for p in [100, 101, 150, 151] {
        assert_eq!(last(&mut b, p), Vec::<u64>::new());
    }
    assert_eq!(b.effective_stop(1), Some(150));
    assert_eq!(last(&mut b, 150), vec![1]);
    // A bps trail that rounds to 0 ticks still trails by 1 tick: 5000 * 1 / 10000 = 0.5 -> 0 -> 1.
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Bps(1), None)]);
    assert_eq!(last(&mut b, 5_000), Vec::<u64>::new());
    assert_eq!(b.effective_stop(1), Some(4_999));
}

#[test]
fn the_observation_that_moves_the_stop_is_checked_against_the_moved_stop() {
    // Sell, 5 ticks, user stop 101, high so far 103 (trail 98, effective 101). A new high
    // 106 moves the trail to 101: effective stays 101 and 106 > 101, so no fire; had the
    // comparison used the stop from before the update (101) the answer is the same.
    let s = TriggerSpec { user_stop: Some(101), ..trail(1, SELL, TrailOffset::Ticks(5), Some(103)) };
    let mut b = book_with(&[s]);
    assert_eq!(b.effective_stop(1), Some(101));
    assert_eq!(last(&mut b, 106), Vec::<u64>::new());
    assert_eq!(b.get(1).unwrap().trigger_price, Some(101));
    assert_eq!(last(&mut b, 109), Vec::<u64>::new()); // trail 104 now tighter than the user's 101
    assert_eq!(b.effective_stop(1), Some(104));
    assert_eq!(last(&mut b, 104), vec![1]);
}

#[test]
fn bps_offsets_round_down_worked_by_hand() {
    // Sell, 25 bps. High 10_050: 10_050 * 25 / 10_000 = 25.125 -> 25 ticks, stop 10_025.
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Bps(25), None)]);
    last(&mut b, 10_050);
    assert_eq!(b.effective_stop(1), Some(10_025));
    // High 10_089: 10_089 * 25 / 10_000 = 25.2225 -> 25, stop 10_064.
    last(&mut b, 10_089);
    assert_eq!(b.effective_stop(1), Some(10_064));
    // High 10_400: 10_400 * 25 / 10_000 = 26 exactly, stop 10_374.
    last(&mut b, 10_400);
    assert_eq!(b.effective_stop(1), Some(10_374));
    // Buy, 30 bps. Low 999: 999 * 30 / 10_000 = 2.997 -> 2 ticks (never wider), stop 1_001.
    let mut b = book_with(&[trail(2, BUY, TrailOffset::Bps(30), None)]);
    last(&mut b, 999);
    assert_eq!(b.effective_stop(2), Some(1_001));
    // Negative prices use |extreme|: sell 100 bps at -2_050: 2_050 * 100 / 10_000 = 20.5
    // -> 20, stop -2_070.
    let mut b = book_with(&[trail(3, SELL, TrailOffset::Bps(100), None)]);
    last(&mut b, -2_050);
    assert_eq!(b.effective_stop(3), Some(-2_070));
    // The largest allowed price and bps do not overflow: (2^62 - 1) * 9_999 / 10_000.
    let big = PRICE_LIMIT - 1;
    assert_eq!(TrailOffset::Bps(9_999).ticks_at(big), 4_611_224_849_825_545_164);
    assert_eq!(TrailOffset::Bps(9_999).ticks_at(-big), 4_611_224_849_825_545_164);
    assert_eq!(TrailOffset::Ticks(7).ticks_at(big), 7);
}

#[test]
fn trailing_bid_ask_and_mark_sources() {
    let s = TriggerSpec { source: BidAsk, ..trail(1, SELL, TrailOffset::Ticks(3), None) };
    let b2 = TriggerSpec { source: BidAsk, ..trail(2, BUY, TrailOffset::Ticks(3), None) };
    let m = TriggerSpec { source: Mark, ..trail(3, SELL, TrailOffset::Ticks(3), None) };
    let mut b = book_with(&[s, b2, m]);
    // The sell tracks the highest bid, the buy the lowest ask; the mark entry sees neither.
    assert_eq!(touch(&mut b, Some(100), Some(101)), Vec::<u64>::new());
    assert_eq!(b.effective_stop(1), Some(97));
    assert_eq!(b.effective_stop(2), Some(104));
    assert_eq!(b.effective_stop(3), None);
    assert_eq!(touch(&mut b, None, Some(98)), Vec::<u64>::new()); // ask low 98 -> 101
    assert_eq!(b.effective_stop(1), Some(97));
    assert_eq!(b.effective_stop(2), Some(101));
    assert_eq!(mark(&mut b, 50), Vec::<u64>::new()); // extreme 50 -> stop 47
    assert_eq!(touch(&mut b, Some(97), Some(101)), vec![1, 2]);
    assert_eq!(mark(&mut b, 47), vec![3]);
}

// --- the user stop floor ----------------------------------------------------------------

#[test]
fn plain_stop_uses_the_tighter_of_trigger_and_user_stop() {
    // Sell: max(95, 97) = 97.
    let s = TriggerSpec { user_stop: Some(97), ..plain(1, SELL, Stop, Last, 95) };
    // Sell: max(97, 95) = 97 (the user's looser stop changes nothing).
    let t = TriggerSpec { user_stop: Some(95), ..plain(2, SELL, Stop, Last, 97) };
    // Buy: min(105, 103) = 103.
    let u = TriggerSpec { user_stop: Some(103), ..plain(3, BUY, Stop, Last, 105) };
    let mut b = book_with(&[s, t, u]);
    assert_eq!(b.effective_stop(1), Some(97));
    assert_eq!(b.effective_stop(2), Some(97));
    assert_eq!(b.effective_stop(3), Some(103));
    assert_eq!(last(&mut b, 98), Vec::<u64>::new());
    assert_eq!(last(&mut b, 103), vec![3]);
    assert_eq!(last(&mut b, 97), vec![1, 2]);
}

#[test]
fn trailing_effective_stop_is_never_looser_than_the_user_stop() {
    // Sell, 10 ticks, reference 100 (trail 90), user stop 93: effective 93.
    let s = TriggerSpec { user_stop: Some(93), ..trail(1, SELL, TrailOffset::Ticks(10), Some(100)) };
    let mut b = book_with(&[s]);
    let mut seen = vec![b.effective_stop(1).unwrap()];
    for p in [102, 99, 106, 104, 108, 100] {
        assert_eq!(last(&mut b, p), Vec::<u64>::new());
        seen.push(b.effective_stop(1).unwrap());
    }
    // trail: 90, 92, 92, 96, 96, 98, 98 -> effective max(trail, 93):
    assert_eq!(seen, vec![93, 93, 93, 96, 96, 98, 98]);
    assert_eq!(last(&mut b, 98), vec![1]);
    // Buy, 10 ticks, reference 100 (trail 110), user stop 106: effective 106; a new low
    // 90 gives trail 100, tighter than 106.
    let s = TriggerSpec { user_stop: Some(106), ..trail(2, BUY, TrailOffset::Ticks(10), Some(100)) };
    let mut b = book_with(&[s]);
    assert_eq!(b.effective_stop(2), Some(106));
    assert_eq!(last(&mut b, 105), Vec::<u64>::new());
    assert_eq!(b.effective_stop(2), Some(106)); // 105 is no new low (100): trail stays 110
    assert_eq!(last(&mut b, 90), Vec::<u64>::new());
    assert_eq!(b.effective_stop(2), Some(100));
}

#[test]
fn set_user_stop_tighter_and_looser() {
    // Sell trailing, 10 ticks, reference 106: trail 96, user 93 -> effective 96.
    let s = TriggerSpec { user_stop: Some(93), ..trail(1, SELL, TrailOffset::Ticks(10), Some(106)) };
    let mut b = book_with(&[s]);
    assert_eq!(b.effective_stop(1), Some(96));
    // Tighter user stop 99 takes over.
    b.set_user_stop(1, Some(99)).unwrap();
    assert_eq!(b.effective_stop(1), Some(99));
    // The user loosens to 90: their amendment wins for their part, but the trail keeps 96.
    b.set_user_stop(1, Some(90)).unwrap();
    assert_eq!(b.effective_stop(1), Some(96));
    assert_eq!(b.get(1).unwrap().user_stop, Some(90));
    b.set_user_stop(1, None).unwrap();
    assert_eq!(b.effective_stop(1), Some(96));
    // Plain sell stop 95 with user stop 97: effective 97; user loosens to 94 -> 95.
    let mut b = book_with(&[TriggerSpec { user_stop: Some(97), ..plain(2, SELL, Stop, Last, 95) }]);
    assert_eq!(b.effective_stop(2), Some(97));
    b.set_user_stop(2, Some(94)).unwrap();
    assert_eq!(b.effective_stop(2), Some(95));
    assert_eq!(last(&mut b, 96), Vec::<u64>::new()); // the index follows the new level
    b.set_user_stop(2, Some(98)).unwrap();
    assert_eq!(last(&mut b, 98), vec![2]);
}

#[test]
fn a_user_stop_alone_protects_a_trailing_stop_before_its_first_observation() {
    let s = TriggerSpec { user_stop: Some(95), ..trail(1, SELL, TrailOffset::Ticks(10), None) };
    let mut b = book_with(&[s]);
    assert_eq!(b.effective_stop(1), Some(95));
    // First observation 94: extreme 94 -> trail 84; effective 95; 94 <= 95 fires.
    assert_eq!(last(&mut b, 94), vec![1]);
}

// --- amendments and removal ---------------------------------------------------------------

#[test]
fn amend_trigger_moves_a_plain_entry_either_way() {
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100), plain(2, BUY, TakeProfit, Last, 90)]);
    b.amend_trigger(1, 90).unwrap(); // looser: the user's call
    assert_eq!(b.effective_stop(1), Some(90));
    assert_eq!(last(&mut b, 95), Vec::<u64>::new());
    b.amend_trigger(1, 96).unwrap();
    b.amend_trigger(2, 96).unwrap();
    assert_eq!(b.get(2).unwrap().trigger_price, Some(96));
    assert_eq!(last(&mut b, 96), vec![1, 2]);
}

#[test]
fn amend_trigger_only_tightens_a_trailing_stop() {
    let mut b = book_with(&[trail(1, SELL, TrailOffset::Ticks(10), Some(100))]); // stop 90
    let before = *b.get(1).unwrap();
    let err = b.amend_trigger(1, 85).unwrap_err();
    assert_eq!(err, TriggerError::WouldLoosen { field: "trigger_price", value: 85, current: 90 });
    assert_eq!(
        err.to_string(),
        "trigger_price 85 would loosen the trailing stop at 90 (a trailing stop only tightens)"
    );
    assert_eq!(*b.get(1).unwrap(), before);
    b.amend_trigger(1, 90).unwrap(); // equal is fine
    b.amend_trigger(1, 94).unwrap();
    assert_eq!(b.effective_stop(1), Some(94));
    // Ratcheting continues from the amended stop: high 103 -> 93 is looser, 94 holds; 106 -> 96.
    last(&mut b, 103);
    assert_eq!(b.effective_stop(1), Some(94));
    last(&mut b, 106);
    assert_eq!(b.effective_stop(1), Some(96));
    // A buy trailing stop tightens downwards.
    let mut b = book_with(&[trail(2, BUY, TrailOffset::Ticks(10), Some(100))]); // stop 110
    assert!(b.amend_trigger(2, 111).is_err());
    b.amend_trigger(2, 104).unwrap();
    assert_eq!(b.effective_stop(2), Some(104));
    // Without a stop yet, any starting stop is accepted.
    let mut b = book_with(&[trail(3, SELL, TrailOffset::Ticks(10), None)]);
    b.amend_trigger(3, 50).unwrap();
    assert_eq!(b.effective_stop(3), Some(50));
}

#[test]
fn remove_takes_an_entry_out_of_every_structure() {
    let mut b = book_with(&[
        plain(1, SELL, Stop, Last, 100),
        trail(2, SELL, TrailOffset::Ticks(1), Some(101)),
        plain(3, BUY, TakeProfit, BidAsk, 90),
    ]);
    assert_eq!(b.len(), 3);
    assert!(b.remove(1));
    assert!(b.remove(2));
    assert!(!b.remove(2));
    assert_eq!(b.len(), 1);
    assert_eq!(last(&mut b, 0), Vec::<u64>::new());
    assert_eq!(touch(&mut b, Some(89), Some(90)), vec![3]);
    assert!(b.is_empty());
}

// --- errors -------------------------------------------------------------------------------

fn add_err(b: &mut TriggerBook, s: TriggerSpec) -> String {
    let len = b.len();
    let e = b.add(&s).unwrap_err();
    assert_eq!(b.len(), len, "a refused add leaves the book unchanged");
    e.to_string()
}

#[test]
fn add_errors_name_field_value_and_rule() {
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100)]);
    assert_eq!(
        add_err(&mut b, plain(1, BUY, Stop, Last, 5)),
        "id 1 is already in the trigger book (ids must be unique)"
    );
    assert_eq!(
        add_err(&mut b, spec(2, SELL, Stop, Last)),
        "trigger_price is missing: a stop entry requires it"
    );
    assert_eq!(
        add_err(&mut b, spec(2, SELL, TakeProfit, Mark)),
        "trigger_price is missing: a take_profit entry requires it"
    );
    assert_eq!(
        add_err(&mut b, spec(2, SELL, TrailingStop, Last)),
        "offset_ticks or offset_bps is missing: a trailing_stop entry requires it"
    );
    let s = TriggerSpec { offset: Some(TrailOffset::Ticks(5)), ..plain(2, SELL, Stop, Last, 100) };
    assert_eq!(add_err(&mut b, s), "offset_ticks 5 is not allowed for a stop entry (trailing_stop only)");
    let s = TriggerSpec { offset: Some(TrailOffset::Bps(30)), ..plain(2, SELL, TakeProfit, Last, 100) };
    assert_eq!(
        add_err(&mut b, s),
        "offset_bps 30 is not allowed for a take_profit entry (trailing_stop only)"
    );
    let s = TriggerSpec { reference: Some(99), ..plain(2, SELL, Stop, Last, 100) };
    assert_eq!(add_err(&mut b, s), "reference 99 is not allowed for a stop entry (trailing_stop only)");
    let s = TriggerSpec { user_stop: Some(99), ..plain(2, SELL, TakeProfit, Last, 100) };
    assert_eq!(
        add_err(&mut b, s),
        "user_stop 99 is not allowed for a take_profit entry (stop and trailing_stop only)"
    );
    for t in [0, -3, PRICE_LIMIT] {
        assert_eq!(
            add_err(&mut b, trail(2, SELL, TrailOffset::Ticks(t), None)),
            format!("offset_ticks {t} is out of range: must be >= 1 and < 2^62")
        );
    }
    for bps in [0, 10_000, u32::MAX] {
        assert_eq!(
            add_err(&mut b, trail(2, SELL, TrailOffset::Bps(bps), None)),
            format!("offset_bps {bps} is out of range: must be >= 1 and <= 9999")
        );
    }
    let s = plain(2, SELL, Stop, Last, PRICE_LIMIT);
    assert_eq!(
        add_err(&mut b, s),
        "trigger_price 4611686018427387904 is out of range: |price| must be < 2^62 ticks"
    );
    let s = TriggerSpec { user_stop: Some(-PRICE_LIMIT), ..plain(2, SELL, Stop, Last, 1) };
    assert_eq!(
        add_err(&mut b, s),
        "user_stop -4611686018427387904 is out of range: |price| must be < 2^62 ticks"
    );
    let s = trail(2, SELL, TrailOffset::Ticks(1), Some(i64::MIN));
    assert!(add_err(&mut b, s).starts_with("reference -9223372036854775808 is out of range"));
    // The extremes that are allowed are accepted.
    b.add(&trail(2, SELL, TrailOffset::Ticks(PRICE_LIMIT - 1), Some(-(PRICE_LIMIT - 1)))).unwrap();
    b.add(&trail(3, BUY, TrailOffset::Bps(9_999), Some(PRICE_LIMIT - 1))).unwrap();
    b.add(&trail(4, BUY, TrailOffset::Ticks(PRICE_LIMIT - 1), Some(PRICE_LIMIT - 1))).unwrap();
    assert_eq!(b.effective_stop(2), Some(-(PRICE_LIMIT - 1) - (PRICE_LIMIT - 1)));
    assert_eq!(b.effective_stop(4), Some(2 * (PRICE_LIMIT - 1)));
}

#[test]
fn amendment_errors_leave_the_book_unchanged() {
    let mut b = book_with(&[plain(1, SELL, TakeProfit, Last, 110), plain(2, SELL, Stop, Last, 100)]);
    assert_eq!(b.amend_trigger(9, 1).unwrap_err().to_string(), "id 9 is not in the trigger book");
    assert_eq!(b.set_user_stop(9, None).unwrap_err(), TriggerError::UnknownId { id: 9 });
    assert_eq!(
        b.set_user_stop(1, Some(100)).unwrap_err().to_string(),
        "user_stop 100 is not allowed for a take_profit entry (stop and trailing_stop only)"
    );
    assert_eq!(
        b.amend_trigger(2, PRICE_LIMIT).unwrap_err(),
        TriggerError::PriceRange { field: "trigger_price", value: PRICE_LIMIT }
    );
    assert_eq!(
        b.set_user_stop(2, Some(-PRICE_LIMIT)).unwrap_err(),
        TriggerError::PriceRange { field: "user_stop", value: -PRICE_LIMIT }
    );
    assert_eq!(b.effective_stop(2), Some(100));
    assert_eq!(b.effective_stop(1), Some(110));
    assert_eq!(last(&mut b, 100), vec![2]);
}

#[test]
fn observations_out_of_range_are_refused_without_effect() {
    let mut b = book_with(&[plain(1, SELL, Stop, Last, 100), trail(2, SELL, TrailOffset::Ticks(1), None)]);
    let mut out = Vec::new();
    assert_eq!(
        b.on_last(i64::MIN, &mut out).unwrap_err().to_string(),
        "last -9223372036854775808 is out of range: |price| must be < 2^62 ticks"
    );
    assert_eq!(
        b.on_mark(PRICE_LIMIT, &mut out).unwrap_err(),
        TriggerError::PriceRange { field: "mark", value: PRICE_LIMIT }
    );
    assert_eq!(
        b.on_bid_ask(Some(-PRICE_LIMIT), Some(5), &mut out).unwrap_err(),
        TriggerError::PriceRange { field: "bid", value: -PRICE_LIMIT }
    );
    assert_eq!(
        b.on_bid_ask(Some(5), Some(PRICE_LIMIT), &mut out).unwrap_err(),
        TriggerError::PriceRange { field: "ask", value: PRICE_LIMIT }
    );
    assert!(out.is_empty());
    assert_eq!(b.len(), 2);
    assert_eq!(b.get(2).unwrap().extreme, None);
}

#[test]
fn get_shows_the_entry() {
    let s = TriggerSpec { user_stop: Some(7), ..trail(5, BUY, TrailOffset::Bps(50), Some(2_000)) };
    let b = book_with(&[s]);
    // 2_000 * 50 / 10_000 = 10 ticks: stop 2_010; the user stop 7 is tighter for a buy.
    assert_eq!(
        b.get(5),
        Some(&TriggerEntry {
            side: BUY,
            kind: TrailingStop,
            source: Last,
            trigger_price: Some(2_010),
            offset: Some(TrailOffset::Bps(50)),
            user_stop: Some(7),
            extreme: Some(2_000),
        })
    );
    assert_eq!(b.effective_stop(5), Some(7));
    assert_eq!(b.get(6), None);
}
