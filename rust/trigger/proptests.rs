//! Property tests: random operation sequences against a deliberately simple model.
//!
//! The model keeps every entry in one `Vec` and answers each observation by scanning it
//! and applying the rule table of the module docs literally; it shares no code with the
//! book. Fired ids, errors (as accepted or refused), effective stops, trailing extremes
//! and trailing stops must agree after every step. Separately, each trailing stop's
//! trailing part must never loosen, its effective stop must never loosen between the
//! user's own amendments, and it must never be looser than the user stop.

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone, Copy)]
struct MEntry {
    id: u64,
    side: Side,
    kind: TriggerKind,
    source: TriggerSource,
    trigger: Option<i64>,
    offset: Option<TrailOffset>,
    user: Option<i64>,
    extreme: Option<i64>,
}

fn in_range(p: i64) -> bool {
    -PRICE_LIMIT < p && p < PRICE_LIMIT
}

/// For a sell the higher stop is the tighter one, for a buy the lower.
fn m_tighter(sell: bool, a: Option<i64>, b: Option<i64>) -> Option<i64> {
    let all: Vec<i64> = a.into_iter().chain(b).collect();
    if sell {
        all.into_iter().max()
    } else {
        all.into_iter().min()
    }
}

impl MEntry {
    fn sell(&self) -> bool {
        self.side == Side::Ask
    }

    fn effective(&self) -> Option<i64> {
        if self.kind == TriggerKind::TakeProfit {
            self.trigger
        } else {
            m_tighter(self.sell(), self.trigger, self.user)
        }
    }

    fn observe(&mut self, p: i64) -> bool {
        if let Some(off) = self.offset {
            let better = match self.extreme {
                None => true,
                Some(e) => (self.sell() && p > e) || (!self.sell() && p < e),
            };
            if better {
                self.extreme = Some(p);
                let ticks = match off {
                    TrailOffset::Ticks(t) => t,
                    TrailOffset::Bps(b) => ((p as i128).abs() * b as i128 / 10_000).max(1) as i64,
                };
                let cand = if self.sell() { p - ticks } else { p + ticks };
                self.trigger = m_tighter(self.sell(), self.trigger, Some(cand));
            }
        }
        let Some(level) = self.effective() else { return false };
        match (self.kind, self.side) {
            (TriggerKind::TakeProfit, Side::Ask) => p >= level,
            (TriggerKind::TakeProfit, Side::Bid) => p <= level,
            (_, Side::Ask) => p <= level,
            (_, Side::Bid) => p >= level,
        }
    }
}

#[derive(Debug, Default)]
struct Model {
    entries: Vec<MEntry>,
}

impl Model {
    fn find(&mut self, id: u64) -> Option<&mut MEntry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    fn valid(s: &TriggerSpec) -> bool {
        let prices_ok = [s.trigger_price, s.user_stop, s.reference]
            .iter()
            .all(|p| p.is_none_or(in_range));
        let kind_ok = match s.kind {
            TriggerKind::Stop => s.trigger_price.is_some() && s.offset.is_none() && s.reference.is_none(),
            TriggerKind::TakeProfit => {
                let plain_ok = s.trigger_price.is_some() && s.offset.is_none() && s.reference.is_none();
                plain_ok && s.user_stop.is_none()
            }
            TriggerKind::TrailingStop => match s.offset {
                Some(TrailOffset::Ticks(t)) => (1..PRICE_LIMIT).contains(&t),
                Some(TrailOffset::Bps(b)) => (1..=9_999).contains(&b),
                None => false,
            },
        };
        prices_ok && kind_ok
    }

    fn add(&mut self, s: &TriggerSpec) -> bool {
        if self.entries.iter().any(|e| e.id == s.id) || !Model::valid(s) {
            return false;
        }
        let mut e = MEntry {
            id: s.id,
            side: s.side,
            kind: s.kind,
            source: s.source,
            trigger: s.trigger_price,
            offset: s.offset,
            user: s.user_stop,
            extreme: None,
        };
        if let Some(r) = s.reference {
            e.observe(r); // the result is ignored: adding never fires
        }
        self.entries.push(e);
        true
    }

    fn amend(&mut self, id: u64, price: i64) -> bool {
        if !in_range(price) {
            return false;
        }
        let Some(e) = self.find(id) else { return false };
        if e.kind == TriggerKind::TrailingStop {
            if let Some(cur) = e.trigger {
                let looser = if e.sell() { price < cur } else { price > cur };
                if looser {
                    return false;
                }
            }
        }
        e.trigger = Some(price);
        true
    }

    fn set_user(&mut self, id: u64, price: Option<i64>) -> bool {
        if !price.is_none_or(in_range) {
            return false;
        }
        let Some(e) = self.find(id) else { return false };
        if e.kind == TriggerKind::TakeProfit && price.is_some() {
            return false;
        }
        e.user = price;
        true
    }

    fn observe(&mut self, source: TriggerSource, buy_p: Option<i64>, sell_p: Option<i64>) -> Vec<u64> {
        let mut fired = Vec::new();
        self.entries.retain_mut(|e| {
            if e.source != source {
                return true;
            }
            let p = if e.sell() { sell_p } else { buy_p };
            match p {
                Some(p) if e.observe(p) => {
                    fired.push(e.id);
                    false
                }
                _ => true,
            }
        });
        fired.sort_unstable();
        fired
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(TriggerSpec),
    Remove(u64),
    Amend(u64, i64),
    SetUser(u64, Option<i64>),
    Last(i64),
    Mark(i64),
    BidAsk(Option<i64>, Option<i64>),
}

fn price() -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => 90i64..=110,
        1 => Just(PRICE_LIMIT),
        1 => Just(-PRICE_LIMIT + 1),
        1 => -1_000_000i64..=1_000_000,
    ]
}

fn id() -> impl Strategy<Value = u64> {
    0u64..16
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Bid), Just(Side::Ask)]
}

fn source() -> impl Strategy<Value = TriggerSource> {
    prop_oneof![Just(TriggerSource::Last), Just(TriggerSource::BidAsk), Just(TriggerSource::Mark)]
}

fn offset() -> impl Strategy<Value = TrailOffset> {
    prop_oneof![
        8 => (1i64..=6).prop_map(TrailOffset::Ticks),
        4 => prop::sample::select(vec![1u32, 50, 100, 250, 500, 9_999]).prop_map(TrailOffset::Bps),
        1 => prop::sample::select(vec![0i64, -1, PRICE_LIMIT, PRICE_LIMIT - 1]).prop_map(TrailOffset::Ticks),
        1 => prop::sample::select(vec![0u32, 10_000, 20_000]).prop_map(TrailOffset::Bps),
    ]
}

fn spec() -> impl Strategy<Value = TriggerSpec> {
    let any_opt = || proptest::option::weighted(0.5, price());
    let plain = (id(), side(), source(), price(), proptest::option::weighted(0.3, price()), any::<bool>())
        .prop_map(|(id, side, source, trig, user, tp)| TriggerSpec {
            id,
            side,
            kind: if tp { TriggerKind::TakeProfit } else { TriggerKind::Stop },
            source,
            trigger_price: Some(trig),
            offset: None,
            user_stop: if tp { None } else { user },
            reference: None,
        });
    let trailing = (
        id(),
        side(),
        source(),
        proptest::option::weighted(0.3, price()),
        offset(),
        proptest::option::weighted(0.3, price()),
        proptest::option::weighted(0.6, price()),
    )
        .prop_map(|(id, side, source, trig, off, user, reference)| TriggerSpec {
            id,
            side,
            kind: TriggerKind::TrailingStop,
            source,
            trigger_price: trig,
            offset: Some(off),
            user_stop: user,
            reference,
        });
    let kind = prop_oneof![
        Just(TriggerKind::Stop),
        Just(TriggerKind::TakeProfit),
        Just(TriggerKind::TrailingStop)
    ];
    let anything = (
        (id(), side(), kind, source()),
        (any_opt(), proptest::option::weighted(0.5, offset()), any_opt(), any_opt()),
    )
        .prop_map(|((id, side, kind, source), (trigger_price, offset, user_stop, reference))| {
            TriggerSpec { id, side, kind, source, trigger_price, offset, user_stop, reference }
        });
    prop_oneof![5 => plain, 5 => trailing, 2 => anything]
}

fn op() -> impl Strategy<Value = Op> {
    let opt_price = || proptest::option::weighted(0.9, price());
    prop_oneof![
        6 => spec().prop_map(Op::Add),
        1 => id().prop_map(Op::Remove),
        1 => (id(), price()).prop_map(|(i, p)| Op::Amend(i, p)),
        1 => (id(), proptest::option::weighted(0.7, price())).prop_map(|(i, p)| Op::SetUser(i, p)),
        4 => price().prop_map(Op::Last),
        2 => price().prop_map(Op::Mark),
        3 => (opt_price(), opt_price()).prop_map(|(b, a)| Op::BidAsk(b, a)),
    ]
}

/// Is `new` at least as tight as `old` for a stop on `side`?
fn not_looser(side: Side, old: i64, new: i64) -> bool {
    if side == Side::Ask {
        new >= old
    } else {
        new <= old
    }
}

/// Per trailing id: (trailing part, effective stop) last seen, reset on user amendments.
type Seen = std::collections::HashMap<u64, (Option<i64>, Option<i64>)>;

fn check_trailing_invariants(book: &TriggerBook, model: &Model, seen: &mut Seen) {
    for m in model.entries.iter().filter(|m| m.kind == TriggerKind::TrailingStop) {
        let id = m.id;
        let e = book.get(id).expect("model entry is in the book");
        let eff = e.effective_stop();
        if let (Some(u), Some(s)) = (e.user_stop, eff) {
            assert!(not_looser(e.side, u, s), "id {id}: effective {s} looser than user stop {u}");
        }
        if let Some(&(trail, prev_eff)) = seen.get(&id) {
            if let (Some(a), Some(b)) = (trail, e.trigger_price) {
                assert!(not_looser(e.side, a, b), "id {id}: trailing part {a} -> {b} loosened");
            }
            assert!(trail.is_none() || e.trigger_price.is_some(), "id {id}: trailing part vanished");
            if let (Some(a), Some(b)) = (prev_eff, eff) {
                assert!(not_looser(e.side, a, b), "id {id}: effective {a} -> {b} loosened");
            }
            assert!(prev_eff.is_none() || eff.is_some(), "id {id}: effective stop vanished");
        }
        seen.insert(id, (e.trigger_price, eff));
    }
    seen.retain(|id, _| book.contains(*id));
}

fn run(ops: &[Op]) {
    let mut book = TriggerBook::new();
    let mut model = Model::default();
    let mut seen = Seen::new();
    let mut out = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        out.clear();
        match *op {
            Op::Add(ref s) => {
                let dup = book.contains(s.id);
                let got = book.add(s);
                assert_eq!(got.is_ok(), model.add(s), "step {step}: {op:?} -> {got:?}");
                if dup {
                    assert_eq!(got, Err(TriggerError::DuplicateId { id: s.id }));
                }
            }
            Op::Remove(id) => {
                let had = model.entries.iter().any(|e| e.id == id);
                model.entries.retain(|e| e.id != id);
                assert_eq!(book.remove(id), had, "step {step}");
            }
            Op::Amend(id, p) => {
                let got = book.amend_trigger(id, p);
                assert_eq!(got.is_ok(), model.amend(id, p), "step {step}: {op:?} -> {got:?}");
            }
            Op::SetUser(id, p) => {
                let got = book.set_user_stop(id, p);
                assert_eq!(got.is_ok(), model.set_user(id, p), "step {step}: {op:?} -> {got:?}");
                // The user's own amendment may loosen the effective stop: restart the watch.
                seen.remove(&id);
            }
            Op::Last(p) | Op::Mark(p) => {
                let (source, got) = match op {
                    Op::Last(_) => (TriggerSource::Last, book.on_last(p, &mut out)),
                    _ => (TriggerSource::Mark, book.on_mark(p, &mut out)),
                };
                let want = if in_range(p) { model.observe(source, Some(p), Some(p)) } else { Vec::new() };
                assert_eq!(got.is_ok(), in_range(p), "step {step}");
                assert_eq!(out, want, "step {step}: {op:?}");
            }
            Op::BidAsk(bid, ask) => {
                let ok = bid.is_none_or(in_range) && ask.is_none_or(in_range);
                let got = book.on_bid_ask(bid, ask, &mut out);
                let want = if ok { model.observe(TriggerSource::BidAsk, ask, bid) } else { Vec::new() };
                assert_eq!(got.is_ok(), ok, "step {step}");
                assert_eq!(out, want, "step {step}: {op:?}");
            }
        }
        assert_eq!(book.len(), model.entries.len(), "step {step}");
        for m in &model.entries {
            let e = book.get(m.id).expect("model entry is in the book");
            assert_eq!(book.effective_stop(m.id), m.effective(), "step {step}: id {}", m.id);
            assert_eq!(e.trigger_price, m.trigger, "step {step}: id {}", m.id);
            assert_eq!(e.extreme, m.extreme, "step {step}: id {}", m.id);
            assert_eq!(e.user_stop, m.user, "step {step}: id {}", m.id);
        }
        // The level sets and scan lists hold exactly the entries in the index.
        let indexed: usize = book.plain.iter().flatten().flatten().map(|s| s.len()).sum();
        let trailing: usize = book.trailing.iter().map(|v| v.len()).sum();
        assert_eq!(indexed + trailing, book.len(), "step {step}");
        check_trailing_invariants(&book, &model, &mut seen);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn book_agrees_with_the_naive_model(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops);
    }

    /// Trailing stops only, many observations: the ratchet invariants get a long run.
    #[test]
    fn trailing_stops_never_loosen(
        specs in prop::collection::vec(
            (side(), offset(), proptest::option::weighted(0.5, 90i64..=110),
             proptest::option::weighted(0.5, 90i64..=110)),
            1..12,
        ),
        prices in prop::collection::vec(80i64..=120, 1..200),
        user_moves in prop::collection::vec((0usize..200, 0u64..12, proptest::option::of(90i64..=110)), 0..5),
    ) {
        let mut ops: Vec<Op> = specs
            .iter()
            .enumerate()
            .map(|(i, &(side, off, user, reference))| Op::Add(TriggerSpec {
                id: i as u64,
                side,
                kind: TriggerKind::TrailingStop,
                source: TriggerSource::Last,
                trigger_price: None,
                offset: Some(off),
                user_stop: user,
                reference,
            }))
            .collect();
        for (i, &p) in prices.iter().enumerate() {
            for &(at, id, u) in &user_moves {
                if at == i {
                    ops.push(Op::SetUser(id, u));
                }
            }
            ops.push(Op::Last(p));
        }
        run(&ops);
    }
}
