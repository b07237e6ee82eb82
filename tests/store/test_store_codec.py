"""Journal codec: exact round trip of every record type, canonical bytes, strict decoding."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_strategies import RECORDS

from adapters.store.codec import RECORD_TYPES, CodecError, decode, encode, type_tag
from engine.domain import (
    Fill,
    Liquidity,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderSide,
    OrderTerms,
    OrderType,
    TriggerSource,
)
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    EmergencyStop,
    EquitySample,
    OrderInitialized,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)
from engine.ports import StoreError

D = Decimal


def _fill(**kw: Any) -> Fill:
    fields: dict[str, Any] = {
        "trade_id": "t-7",
        "client_order_id": "qx-1",
        "symbol": "BTCUSDT",
        "side": OrderSide.BUY,
        "price": D("60000.10"),
        "quantity": D("0.010"),
        "fee": D("-0.0012"),
        "fee_currency": "USDT",
        "liquidity": Liquidity.MAKER,
        "ts_event": 1_700_000_000_000_000_123,
    }
    fields.update(kw)
    return Fill(**fields)


def _concrete_order_events() -> set[type[Any]]:
    """Public OrderEvent subclasses (dataclass(slots=True) leaves a discarded class
    behind each one: only the class its module exports counts)."""
    found: set[type[Any]] = set()
    pending = [OrderEvent]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            exported = getattr(sys.modules[sub.__module__], sub.__name__, None) is sub
            if exported and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def test_every_record_type_has_a_tag_and_a_strategy() -> None:
    others = {
        RunStarted, RunEnded, PositionSnapshot, BalanceSnapshot, EquitySample, AccountFunded,
        TradingStateChanged, EmergencyStop, Reconciled,
    }  # fmt: skip
    assert len(_concrete_order_events()) == 15
    assert _concrete_order_events() | others == set(RECORD_TYPES)
    assert len(RECORD_TYPES) == len(set(RECORD_TYPES))
    assert set(RECORDS) == set(RECORD_TYPES)


@pytest.mark.parametrize("kind", list(RECORDS), ids=lambda k: k.__name__)
@given(data=st.data())
def test_round_trip_is_exact_and_bytes_are_canonical(kind: type[Any], data: st.DataObject) -> None:
    record = data.draw(RECORDS[kind])
    document = encode(record)
    back = decode(document)
    assert type(back) is type(record)
    assert back == record
    assert repr(back) == repr(record)  # Decimal("1.10") == Decimal("1.1"); reprs differ
    # Re-encoding the decoded record gives the same bytes.
    assert encode(back) == document
    assert document == orjson.dumps(orjson.loads(document), option=orjson.OPT_SORT_KEYS)
    assert orjson.loads(document)["type"] == type(record).__name__ == type_tag(record)


def test_a_fill_encodes_to_these_exact_bytes() -> None:
    record = OrderFilled(client_order_id="qx-1", ts_event=5, fill=_fill())
    assert encode(record) == (
        b'{"client_order_id":"qx-1","fill":{"client_order_id":"qx-1","fee":"-0.0012",'
        b'"fee_currency":"USDT","liquidity":"MAKER","price":"60000.10","quantity":"0.010",'
        b'"side":"BUY","symbol":"BTCUSDT","trade_id":"t-7","ts_event":1700000000000000123},'
        b'"ts_event":5,"type":"OrderFilled"}'
    )


def test_none_fields_are_left_out_and_decode_as_none() -> None:
    terms = OrderTerms(
        client_order_id="qx-2",
        symbol="BTCUSDT",
        side=OrderSide.SELL,
        order_type=OrderType.STOP_MARKET,
        quantity=D("1"),
        trigger_price=D("59000.0"),
    )
    record = OrderInitialized(client_order_id="qx-2", ts_event=9, terms=terms)
    doc = orjson.loads(encode(record))
    assert "replaces" not in doc and "bracket" not in doc
    assert "price" not in doc["terms"] and "expire_time_ns" not in doc["terms"]
    assert doc["terms"]["trigger_source"] == "LAST_TRADE"  # set by the terms, so written
    assert doc["terms"]["trigger_price"] == "59000.0"
    back = decode(encode(record))
    assert isinstance(back, OrderInitialized)
    assert back.terms.price is None and back.terms.trigger_source is TriggerSource.LAST_TRADE


@pytest.mark.parametrize(
    "text", ["0.1", "1.10", "1E+3", "-0", "0E-18", "123456789012345678901234.5"]
)
def test_decimals_travel_as_their_exact_strings(text: str) -> None:
    record = EquitySample(ts_event=1, account="main", currency="USDT", equity=D(text))
    document = encode(record)
    assert orjson.loads(document)["equity"] == text
    back = decode(document)
    assert isinstance(back, EquitySample)
    assert str(back.equity) == text


def test_the_same_record_twice_gives_the_same_bytes() -> None:
    a = OrderFilled(client_order_id="qx-1", ts_event=5, fill=_fill())
    b = OrderFilled(client_order_id="qx-1", ts_event=5, fill=_fill())
    assert a is not b and encode(a) == encode(b)


_GOOD = {"client_order_id": "qx-1", "ts_event": 5, "type": "OrderAccepted", "venue_order_id": "v1"}


def _doc(**changes: Any) -> bytes:
    doc: dict[str, Any] = dict(_GOOD)
    for key, value in changes.items():
        if value is ...:
            del doc[key]
        else:
            doc[key] = value
    return orjson.dumps(doc)


def _filled_doc(**fill_changes: Any) -> bytes:
    doc = orjson.loads(encode(OrderFilled(client_order_id="qx-1", ts_event=5, fill=_fill())))
    doc["fill"].update(fill_changes)
    return orjson.dumps(doc)


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (_doc(type="OrderLost"), "type", "is not a known record type"),
        (_doc(type=...), "type", "is not a known record type"),
        (_doc(type=7), "type", "is not a known record type"),
        (b"[1, 2]", "document", "a JSON object"),
        (b'{"type": "OrderAccepted",', "document", "is not JSON"),
        (_doc(colour="red"), "OrderAccepted.colour", "is not a field of OrderAccepted"),
        (_doc(ts_event="5"), "OrderAccepted.ts_event", "a JSON integer"),
        (_doc(ts_event=5.0), "OrderAccepted.ts_event", "a JSON integer"),
        (_doc(ts_event=True), "OrderAccepted.ts_event", "a JSON integer"),
        (_doc(ts_event=-1), "OrderAccepted.ts_event", "refused: is negative"),
        (_doc(client_order_id=None), "OrderAccepted.client_order_id", "is null"),
        (_doc(client_order_id=...), "OrderAccepted.client_order_id", "is missing"),
        (_doc(client_order_id="has space"), "OrderAccepted.client_order_id", "refused"),
        (_filled_doc(price=60000.1), "OrderFilled.fill.price", "never a JSON number"),
        (_filled_doc(price="60,000.1"), "OrderFilled.fill.price", "not a finite decimal"),
        (_filled_doc(price="NaN"), "OrderFilled.fill.price", "not a finite decimal"),
        (_filled_doc(price=" 1"), "OrderFilled.fill.price", "not a finite decimal"),
        (_filled_doc(price="-1"), "OrderFilled.fill.price", "refused: is not positive"),
        (_filled_doc(side="buy"), "OrderFilled.fill.side", "is not a OrderSide"),
        (_filled_doc(side=["BUY"]), "OrderFilled.fill.side", "is not a OrderSide"),
        (_filled_doc(extra=1), "OrderFilled.fill.extra", "is not a field of Fill"),
        (_filled_doc(client_order_id="qx-9"), "OrderFilled.fill.client_order_id", "does not match"),
    ],
)
def test_malformed_documents_are_refused_naming_the_field(
    document: bytes, field: str, words: str
) -> None:
    with pytest.raises(CodecError) as caught:
        decode(document)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, StoreError) and isinstance(caught.value, ValueError)


def test_fill_must_be_an_object() -> None:
    doc = orjson.loads(encode(OrderFilled(client_order_id="qx-1", ts_event=5, fill=_fill())))
    doc["fill"] = "t-7"
    with pytest.raises(CodecError, match="a JSON object") as caught:
        decode(orjson.dumps(doc))
    assert caught.value.field == "OrderFilled.fill"


def test_encode_refuses_what_is_not_a_record() -> None:
    for value in (OrderEvent(client_order_id="qx-1", ts_event=1), _fill(), "OrderAccepted"):
        with pytest.raises(CodecError, match="is not a journal record type") as caught:
            encode(value)  # type: ignore[arg-type]
        assert caught.value.field == "type"


def test_encode_names_a_field_json_cannot_carry() -> None:
    too_late = OrderAccepted(client_order_id="qx-1", ts_event=2**64)
    with pytest.raises(CodecError) as caught:
        encode(too_late)
    assert caught.value.field == "OrderAccepted.ts_event"
    surrogate = OrderAccepted(client_order_id="qx-1", ts_event=1, venue_order_id="\ud800")
    with pytest.raises(CodecError) as caught:
        encode(surrogate)
    assert caught.value.field == "OrderAccepted.venue_order_id"


def test_a_field_added_later_with_a_default_decodes_old_documents() -> None:
    # OrderAccepted.venue_order_id has a default: a document without it still decodes.
    back = decode(_doc(venue_order_id=...))
    assert back == OrderAccepted(client_order_id="qx-1", ts_event=5)
