"""Journal codec: every JournalRecord <-> one compact JSON document with a `type` tag.

The document is the record's dataclass fields by name plus `"type": <class name>`:
Decimals as strings (`str(Decimal)`, exact, exponent kept: "1.10" stays "1.10"), enums
as their values, nested OrderTerms and Fill as objects, and fields holding None left
out (a missing optional field decodes as None). Keys are sorted and there is no
whitespace, so the same record always gives the same bytes: a backtest's journal is
byte-identical run after run. Integers must fit in 64 bits (orjson's range).

Decoding is strict: an unknown tag or field, a wrong JSON type, a malformed decimal or
a value the domain refuses raises CodecError naming the field (`OrderFilled.fill.price`).
A field added to a record later with a default decodes older documents that lack it.
Storage-neutral on purpose: SQLite and PostgreSQL keep the same bytes."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final, NoReturn

import orjson

from engine.domain.errors import DomainError
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    OrderUpdateRejected,
)
from engine.domain.fill import Fill
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    BracketCreated,
    EmergencyStop,
    EquitySample,
    JournalRecord,
    OrderInitialized,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)
from engine.domain.order import OrderTerms
from engine.ports.store import StoreError

__all__ = ["RECORD_TYPES", "CodecError", "decode", "document", "encode", "type_tag"]

RECORD_TYPES: Final[tuple[type[Any], ...]] = (
    OrderInitialized,
    BracketCreated,
    OrderDenied,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderTriggered,
    OrderFilled,
    OrderPendingUpdate,
    OrderUpdated,
    OrderUpdateRejected,
    OrderPendingCancel,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    RunStarted,
    RunEnded,
    PositionSnapshot,
    BalanceSnapshot,
    EquitySample,
    AccountFunded,
    TradingStateChanged,
    EmergencyStop,
    Reconciled,
)
"""Every concrete record type; the tag is the class name (stable: renaming one is a
schema change). The OrderEvent base is not a record of its own."""

_SORTED: Final = orjson.OPT_SORT_KEYS


class CodecError(StoreError, ValueError):
    """A record that cannot be encoded or a document that cannot be decoded; `field` is
    the dotted path of the offending field (`type` for the tag, `document` for the whole)."""


# --- one converter pair per field, built once from the dataclasses' type hints ----------
Decoder = Callable[[Any, str, str], Any]
"""(JSON value, path of the enclosing object, field name) -> the field's value; the path is
only put together when the value is refused."""


def _decode_str(value: Any, path: str, name: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{path}.{name}", value, f"is a {_json_kind(value)} (rule: a JSON string)")
    return value


def _decode_int(value: Any, path: str, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        rule = f"is a {_json_kind(value)} (rule: a JSON integer)"
        raise CodecError(f"{path}.{name}", value, rule)
    return value


def _decode_bool(value: Any, path: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise CodecError(f"{path}.{name}", value, f"is a {_json_kind(value)} (rule: true or false)")
    return value


def _decode_decimal(value: Any, path: str, name: str) -> Decimal:
    if not isinstance(value, str):
        rule = f"is a {_json_kind(value)} (rule: a decimal string, never a JSON number)"
        raise CodecError(f"{path}.{name}", value, rule)
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or value != value.strip():
        rule = 'is not a finite decimal number (rule: e.g. "0.001", no spaces)'
        raise CodecError(f"{path}.{name}", value, rule)
    return number


def _enum_decoder(kind: type[Enum]) -> Decoder:
    members = {m.value: m for m in kind}

    def decode_enum(value: Any, path: str, name: str) -> Enum:
        try:
            return members[value]
        except (KeyError, TypeError):
            names = ", ".join(str(v) for v in members)
            rule = f"is not a {kind.__name__} (rule: one of {names})"
            raise CodecError(f"{path}.{name}", value, rule) from None

    return decode_enum


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    decode: Decoder
    optional: bool
    default: object  # dataclasses.MISSING when the field is required
    is_decimal: bool
    inner: _Layout | None  # an OrderTerms or a Fill inside the record


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """How one dataclass maps to a JSON object, both ways."""

    cls: type[Any]
    fields: tuple[_Field, ...]
    known: frozenset[str]
    encode: Callable[[Any], dict[str, Any]]


def _converters(hint: Any, owner: str, name: str) -> tuple[Decoder, bool, _Layout | None]:
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1 or len(typing.get_args(hint)) != 2:
            raise TypeError(f"{owner}.{name}: unsupported union {hint}")  # a codec bug
        hint, optional = args[0], True
    if hint is Decimal:
        return _decode_decimal, optional, None
    if hint is bool:
        return _decode_bool, optional, None
    if hint is int:
        return _decode_int, optional, None
    if hint is str:
        return _decode_str, optional, None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_decoder(hint), optional, None
    if hint in (OrderTerms, Fill):
        layout = _layout(hint)
        return (lambda v, p, n: _from_object(layout, v, f"{p}.{n}")), optional, layout
    raise TypeError(f"{owner}.{name}: no JSON form for {hint}")  # a codec bug, caught by tests


def _layout(cls: type[Any], tag: str | None = None) -> _Layout:
    """`tag`: the record's type tag, written into its documents by the encoder (records
    only; a nested OrderTerms or Fill has none)."""
    hints = typing.get_type_hints(cls)
    built = []
    for f in dataclasses.fields(cls):
        decode_one, optional, inner = _converters(hints[f.name], cls.__name__, f.name)
        is_decimal = decode_one is _decode_decimal
        built.append(_Field(f.name, decode_one, optional, f.default, is_decimal, inner))
    if any(f.name == "type" for f in built):
        raise TypeError(f"{cls.__name__} has a field named 'type', the tag's key")
    fields = tuple(built)
    encoder = _compile_encoder(cls, fields, tag)
    return _Layout(cls, fields, frozenset(f.name for f in fields), encoder)


def _compile_encoder(
    cls: type[Any], fields: tuple[_Field, ...], tag: str | None
) -> Callable[[Any], dict[str, Any]]:
    """A function that reads `cls`'s fields into a dict, written out field by field.

    Encoding is on the hot path of every journal write; a generic loop over the fields
    cost about twice as much. orjson writes str, int, bool and enum values itself, so only
    Decimals (`str`, which is exact) and the nested objects need converting here."""
    namespace: dict[str, Any] = {}

    def convert(f: _Field, expression: str) -> str:
        if f.inner is not None:
            namespace[f"encode_{f.name}"] = f.inner.encode
            return f"encode_{f.name}({expression})"
        return f"str({expression})" if f.is_decimal else expression

    required = [f for f in fields if not f.optional]
    optional = [f for f in fields if f.optional]
    items = ", ".join(f"{f.name!r}: {convert(f, 'value.' + f.name)}" for f in required)
    if tag is not None:
        items += f", 'type': {tag!r}"
    lines = ["def encode(value):", f"    out = {{{items}}}"]
    for f in optional:
        lines += [
            f"    v = value.{f.name}",
            "    if v is not None:",
            f"        out[{f.name!r}] = {convert(f, 'v')}",
        ]
    lines.append("    return out")
    exec("\n".join(lines), namespace)  # the source is built above from field names only
    function: Callable[[Any], dict[str, Any]] = namespace["encode"]
    function.__qualname__ = f"encode_{cls.__name__}"
    return function


def _from_object(layout: _Layout, doc: Any, path: str) -> Any:
    if not isinstance(doc, dict):
        raise CodecError(path, doc, f"is a {_json_kind(doc)} (rule: a JSON object)")
    unknown = doc.keys() - layout.known
    if unknown:
        name = min(unknown)
        rule = f"is not a field of {layout.cls.__name__} (rule: known fields only)"
        raise CodecError(f"{path}.{name}", doc[name], rule)
    kwargs: dict[str, Any] = {}
    for f in layout.fields:
        v = doc.get(f.name)
        if v is not None:
            kwargs[f.name] = f.decode(v, path, f.name)
        elif f.optional:
            kwargs[f.name] = None
        elif f.name in doc:
            raise CodecError(f"{path}.{f.name}", None, "is null (rule: required, never null)")
        elif f.default is dataclasses.MISSING:
            raise CodecError(f"{path}.{f.name}", None, "is missing (rule: a required field)")
    try:
        return layout.cls(**kwargs)
    except DomainError as err:
        raise CodecError(f"{path}.{err.field}", err.value, f"refused: {err.rule}") from err


def _unencodable(doc: dict[str, Any], path: str) -> tuple[str, object] | None:
    """The first field orjson cannot write (for the error message; off the hot path)."""
    for name, value in sorted(doc.items()):
        if isinstance(value, dict):
            found = _unencodable(value, f"{path}.{name}")
            if found is not None:
                return found
            continue
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            return f"{path}.{name}", value
    return None


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    kinds = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return kinds.get(type(value), "object" if isinstance(value, dict) else type(value).__name__)


_BY_CLASS: Final[Mapping[type[Any], tuple[str, _Layout]]] = {
    cls: (cls.__name__, _layout(cls, cls.__name__)) for cls in RECORD_TYPES
}
_BY_TAG: Final[Mapping[str, _Layout]] = {tag: lay for tag, lay in _BY_CLASS.values()}
_ENCODERS: Final[Mapping[type[Any], tuple[str, Callable[[Any], dict[str, Any]]]]] = {
    cls: (tag, layout.encode) for cls, (tag, layout) in _BY_CLASS.items()
}


# --- the API -------------------------------------------------------------------------------
def type_tag(record: JournalRecord) -> str:
    """The record's `type` tag (its class name); CodecError for anything else."""
    try:
        return _BY_CLASS[type(record)][0]
    except KeyError:
        raise CodecError("type", type(record).__name__, "is not a journal record type") from None


def encode(record: JournalRecord) -> bytes:
    """The record's canonical document: UTF-8 JSON, sorted keys, no whitespace."""
    encoder = _ENCODERS.get(type(record))
    if encoder is None:
        _not_a_record(record)
    tag, to_dict = encoder
    doc = to_dict(record)
    try:
        return orjson.dumps(doc, option=_SORTED)
    except orjson.JSONEncodeError as err:  # an integer beyond 64 bits, a lone surrogate
        raise _unwritable(doc, tag, record, err) from None


def document(record: JournalRecord) -> tuple[str, str]:
    """(type tag, canonical document as text): `encode` for a store that keeps text (the
    same steps written out again: this is the journal's hot path)."""
    encoder = _ENCODERS.get(type(record))
    if encoder is None:
        _not_a_record(record)
    tag, to_dict = encoder
    doc = to_dict(record)
    try:
        return tag, orjson.dumps(doc, option=_SORTED).decode()
    except orjson.JSONEncodeError as err:  # an integer beyond 64 bits, a lone surrogate
        raise _unwritable(doc, tag, record, err) from None


def _not_a_record(record: object) -> NoReturn:
    rule = "is not a journal record type (rule: one of RECORD_TYPES)"
    raise CodecError("type", type(record).__name__, rule)


def _unwritable(doc: dict[str, Any], tag: str, record: object, err: Exception) -> CodecError:
    field, value = _unencodable(doc, tag) or (tag, record)
    return CodecError(field, value, f"cannot be written as JSON ({err})")


def decode(document: bytes | str) -> JournalRecord:
    """The record a document holds; CodecError (naming the field) when it is not one."""
    try:
        doc = orjson.loads(document)
    except orjson.JSONDecodeError as err:
        raise CodecError("document", document, f"is not JSON ({err})") from None
    if not isinstance(doc, dict):
        raise CodecError("document", doc, f"is a {_json_kind(doc)} (rule: a JSON object)")
    tag = doc.pop("type", None)
    layout = _BY_TAG.get(tag) if isinstance(tag, str) else None
    if layout is None:
        raise CodecError("type", tag, "is not a known record type (rule: one of RECORD_TYPES)")
    record: JournalRecord = _from_object(layout, doc, tag)
    return record
