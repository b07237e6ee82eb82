"""Hypothesis strategies for every journal record type (valid by construction)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from engine.domain import (
    Fill,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderSubmitted,
    OrderTerms,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    OrderUpdateRejected,
    TimeInForce,
    TradingState,
    TriggerSource,
)
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    BracketCreated,
    EmergencyStop,
    EquitySample,
    Handling,
    OrderInitialized,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)

ids = st.from_regex(r"[.A-Z:/a-z0-9_-]{1,36}", fullmatch=True)
# Identifiers: any non-space character but lone surrogates (JSON cannot carry them).
names = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=64
).filter(lambda s: not any(c.isspace() for c in s))
timestamps = st.integers(0, 2**63 - 1)
free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def _scaled(digits: int, exponent: int) -> Decimal:
    """digits * 10**exponent keeping the exponent: 100, -2 -> Decimal('1.00')."""
    return Decimal(digits).scaleb(exponent)


# Trailing zeros and positive exponents included: the codec must keep them all.
positive = st.builds(_scaled, st.integers(1, 10**24), st.integers(-18, 8))
non_negative = positive | st.sampled_from([Decimal("0"), Decimal("0.000"), Decimal("0E+2")])
signed = non_negative | positive.map(lambda d: -d)


@st.composite
def order_terms(draw: st.DrawFn, client_order_id: str | None = None) -> OrderTerms:
    kind = draw(st.sampled_from(OrderType))
    market_like = kind in (
        OrderType.MARKET,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    )
    ts_init = draw(st.integers(0, 2**62))
    allowed = [t for t in TimeInForce if not (t is TimeInForce.GTD and kind is OrderType.MARKET)]
    tif = draw(st.sampled_from(allowed))
    fields: dict[str, Any] = {
        "client_order_id": client_order_id or draw(ids),
        "symbol": draw(names),
        "side": draw(st.sampled_from(OrderSide)),
        "order_type": kind,
        "quantity": draw(positive),
        "time_in_force": tif,
        "reduce_only": draw(st.booleans()),
        "ts_init": ts_init,
    }
    if kind.has_limit_price:
        fields["price"] = draw(positive)
    if kind.is_triggered:
        optional = kind is OrderType.TRAILING_STOP_MARKET
        fields["trigger_price"] = draw(st.none() | positive) if optional else draw(positive)
        fields["trigger_source"] = draw(st.none() | st.sampled_from(TriggerSource))
    if kind is OrderType.TRAILING_STOP_MARKET:
        if draw(st.booleans()):
            fields["trailing_offset"] = draw(positive)
        else:
            bps = st.builds(_scaled, st.integers(1, 9999), st.integers(-2, 0))
            fields["trailing_offset_bps"] = draw(bps)
    if tif is TimeInForce.GTD:
        fields["expire_time_ns"] = ts_init + draw(st.integers(1, 2**62))
    if market_like:
        fields["max_slippage_bps"] = draw(st.none() | st.integers(1, 10_000))
    if kind is OrderType.LIMIT and tif in (TimeInForce.GTC, TimeInForce.GTD):
        fields["post_only"] = draw(st.booleans())
    return OrderTerms(**fields)


@st.composite
def fills(draw: st.DrawFn, client_order_id: str | None = None) -> Fill:
    return Fill(
        trade_id=draw(names),
        client_order_id=client_order_id or draw(ids),
        symbol=draw(names),
        side=draw(st.sampled_from(OrderSide)),
        price=draw(positive),
        quantity=draw(positive),
        fee=draw(signed),
        fee_currency=draw(names),
        liquidity=draw(st.sampled_from(Liquidity)),
        ts_event=draw(timestamps),
    )


def _order_event(cls: type[Any], **more: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.builds(cls, client_order_id=ids, ts_event=timestamps, **more)


reasons = free_text.filter(lambda s: s.strip() != "")


@st.composite
def _initialized(draw: st.DrawFn) -> OrderInitialized:
    cid = draw(ids)
    return OrderInitialized(
        client_order_id=cid,
        ts_event=draw(timestamps),
        terms=draw(order_terms(cid)),
        handling=draw(st.sampled_from(Handling)),
        replaces=draw(st.none() | ids),
        bracket=draw(st.none() | ids),
    )


@st.composite
def _filled(draw: st.DrawFn) -> OrderFilled:
    cid = draw(ids)
    return OrderFilled(client_order_id=cid, ts_event=draw(timestamps), fill=draw(fills(cid)))


@st.composite
def _updated(draw: st.DrawFn) -> OrderUpdated:
    maybe = st.none() | positive
    values = st.tuples(maybe, maybe, maybe).filter(lambda t: any(v is not None for v in t))
    price, quantity, trigger_price = draw(values)
    return OrderUpdated(
        client_order_id=draw(ids),
        ts_event=draw(timestamps),
        price=price,
        quantity=quantity,
        trigger_price=trigger_price,
    )


@st.composite
def _bracket(draw: st.DrawFn) -> BracketCreated:
    bracket, entry, sl, tp = draw(st.lists(ids, min_size=4, max_size=4, unique=True))
    return BracketCreated(
        client_order_id=bracket,
        ts_event=draw(timestamps),
        symbol=draw(names),
        side=draw(st.sampled_from(OrderSide)),
        entry=entry,
        stop_loss=sl,
        take_profit=tp,
        stop_price=draw(positive),
        take_profit_price=draw(positive),
        trigger_source=draw(st.sampled_from(TriggerSource)),
    )


RECORDS: dict[type[Any], st.SearchStrategy[Any]] = {
    OrderInitialized: _initialized(),
    BracketCreated: _bracket(),
    OrderDenied: _order_event(OrderDenied, reason=reasons),
    OrderSubmitted: _order_event(OrderSubmitted),
    OrderAccepted: _order_event(OrderAccepted, venue_order_id=free_text),
    OrderRejected: _order_event(OrderRejected, reason=reasons),
    OrderTriggered: _order_event(OrderTriggered),
    OrderFilled: _filled(),
    OrderPendingUpdate: _order_event(OrderPendingUpdate),
    OrderUpdated: _updated(),
    OrderUpdateRejected: _order_event(OrderUpdateRejected, reason=reasons),
    OrderPendingCancel: _order_event(OrderPendingCancel),
    OrderCanceled: _order_event(OrderCanceled, reason=free_text),
    OrderCancelRejected: _order_event(OrderCancelRejected, reason=reasons),
    OrderExpired: _order_event(OrderExpired),
    RunStarted: st.builds(
        RunStarted,
        run_id=ids,
        ts_event=timestamps,
        mode=names,
        strategy=names,
        params_json=free_text,
        config_json=free_text,
    ),
    RunEnded: st.builds(RunEnded, run_id=ids, ts_event=timestamps, status=names, reason=free_text),
    PositionSnapshot: st.builds(
        PositionSnapshot,
        ts_event=timestamps,
        account=names,
        symbol=names,
        currency=names,
        quantity=signed,
        avg_entry_price=non_negative,
        realized_pnl=signed,
        fees=signed,
    ),
    BalanceSnapshot: st.builds(
        BalanceSnapshot, ts_event=timestamps, account=names, asset=names, total=signed
    ),
    EquitySample: st.builds(
        EquitySample, ts_event=timestamps, account=names, currency=names, equity=signed
    ),
    AccountFunded: st.builds(
        AccountFunded,
        ts_event=timestamps,
        account=names,
        asset=names,
        amount=signed.filter(lambda amount: amount != 0),
    ),
    TradingStateChanged: st.builds(
        TradingStateChanged,
        ts_event=timestamps,
        state=st.sampled_from(TradingState),
        reason=free_text.filter(lambda text: text.strip() != ""),
    ),
    EmergencyStop: st.builds(EmergencyStop, ts_event=timestamps, phase=names, detail=free_text),
    Reconciled: st.builds(
        Reconciled, ts_event=timestamps, action=names, subject=names, detail=free_text
    ),
}
"""One strategy per record type; the codec test checks it covers every type."""

records = st.one_of(*RECORDS.values())
