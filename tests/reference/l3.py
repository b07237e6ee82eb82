"""Reference L3 book: `engine._core.L3Book` semantics in plain Python.

Orders live in a dict; each level is a list of order ids in queue order (FIFO)."""

from __future__ import annotations

from typing import Any

from .l2 import (
    ASK,
    BID,
    FLAG_BEGIN,
    KIND_L3_ADD,
    KIND_L3_CANCEL,
    KIND_L3_EXECUTE,
    KIND_L3_MODIFY,
    KIND_TICKER,
    KIND_TRADE,
    Level,
    LevelQueries,
    RefBatchResult,
    RefBookError,
    _check_side,
)

_L3_FIELDS = ("kind", "side", "flags", "order_id", "price", "qty")


class RefL3Book(LevelQueries):
    """Order-by-order book: FIFO within a level; adds that would cross are refused."""

    def __init__(self) -> None:
        self._orders: dict[int, list[int]] = {}  # id -> [side, price, qty]
        self._queues: list[dict[int, list[int]]] = [{}, {}]  # side -> price -> ids

    # --- queries --------------------------------------------------------------------
    def levels(self, side: int) -> list[Level]:
        queues = self._queues[_check_side(side)]
        totals = [(p, sum(self._orders[i][2] for i in ids)) for p, ids in queues.items()]
        return sorted(totals, reverse=(side == BID))

    def order(self, order_id: int) -> tuple[int, int, int] | None:
        o = self._orders.get(order_id)
        return None if o is None else (o[0], o[1], o[2])

    def order_count(self) -> int:
        return len(self._orders)

    def orders_at(self, side: int, price: int) -> list[tuple[int, int]]:
        ids = self._queues[_check_side(side)].get(price, [])
        return [(i, self._orders[i][2]) for i in ids]

    def queue_ahead(self, order_id: int) -> int:
        side, price, _ = self._get(order_id)
        ids = self._queues[side][price]
        return sum(self._orders[i][2] for i in ids[: ids.index(order_id)])

    # --- updates --------------------------------------------------------------------
    def add(self, order_id: int, side: int, price: int, qty: int) -> None:
        _check_side(side)
        if order_id in self._orders:
            raise RefBookError(f"order id {order_id} is already in the book")
        self._check_qty(qty)
        self._check_cross(side, price)
        self._insert(order_id, side, price, qty)

    def modify(self, order_id: int, price: int, qty: int) -> None:
        side, old_price, old_qty = self._get(order_id)
        self._check_qty(qty)
        if price == old_price and qty <= old_qty:
            self._orders[order_id][2] = qty  # a reduction keeps its place in the queue
            return
        if price != old_price:
            self._check_cross(side, price)
        self._remove(order_id)
        self._insert(order_id, side, price, qty)

    def cancel(self, order_id: int) -> int:
        qty = self._get(order_id)[2]
        self._remove(order_id)
        return qty

    def execute(self, order_id: int, qty: int) -> int:
        have = self._get(order_id)[2]
        self._check_qty(qty)
        if qty > have:
            raise RefBookError(f"execute qty {qty} exceeds order {order_id}'s size {have}")
        if qty == have:
            self._remove(order_id)
            return 0
        self._orders[order_id][2] = have - qty
        return have - qty

    def match_order(
        self, side: int, qty: int, limit_price: int | None = None
    ) -> list[tuple[int, int, int]]:
        """An incoming `side` order takes resting orders of the other side, best price
        first and FIFO within a price, up to qty lots and not beyond limit_price."""
        _check_side(side)
        other = ASK if side == BID else BID
        fills: list[tuple[int, int, int]] = []
        left = qty
        for price, _ in self.levels(other):
            if left <= 0:
                break
            if limit_price is not None and (
                price > limit_price if side == BID else price < limit_price
            ):
                break
            for order_id in list(self._queues[other][price]):
                if left <= 0:
                    break
                take = min(left, self._orders[order_id][2])
                fills.append((order_id, price, take))
                self.execute(order_id, take)
                left -= take
        return fills

    # --- batches --------------------------------------------------------------------
    def apply_events(self, events: Any, row_offset: int = 0) -> RefBatchResult:
        """Applies EVENT_DTYPE rows one by one: every L3 row is its own message; a refused
        one is counted as an error and skipped; trades and tickers are only counted."""
        res = RefBatchResult(rows=len(events))
        cols = zip(*(events[name].tolist() for name in _L3_FIELDS), strict=True)
        for i, (kind, side, flags, order_id, price, qty) in enumerate(cols):
            row = row_offset + i
            if kind == KIND_TRADE:
                res.messages += 1
                res.trades += 1
                continue
            if kind == KIND_TICKER:
                if flags & FLAG_BEGIN:
                    res.messages += 1
                    res.tickers += 1
                continue
            if kind not in (KIND_L3_ADD, KIND_L3_MODIFY, KIND_L3_CANCEL, KIND_L3_EXECUTE):
                res.error(row, f"row {row}: kind {kind} is not an L3 event")
                continue
            res.messages += 1
            try:
                if kind == KIND_L3_ADD:
                    self.add(order_id, side, price, qty)
                elif kind == KIND_L3_MODIFY:
                    self.modify(order_id, price, qty)
                elif kind == KIND_L3_CANCEL:
                    self.cancel(order_id)
                else:
                    self.execute(order_id, qty)
            except ValueError as exc:  # a refusal or a bad side byte
                res.error(row, f"row {row}: {exc}")
                continue
            res.levels_applied += 1
        return res

    # --- helpers --------------------------------------------------------------------
    def _get(self, order_id: int) -> list[int]:
        o = self._orders.get(order_id)
        if o is None:
            raise RefBookError(f"order id {order_id} is not in the book")
        return o

    @staticmethod
    def _check_qty(qty: int) -> None:
        if qty <= 0:
            raise RefBookError(f"qty {qty} must be > 0")

    def _check_cross(self, side: int, price: int) -> None:
        """A resting order may not lock or cross the other side's touch."""
        other = self.levels(ASK if side == BID else BID)
        if other and (price >= other[0][0] if side == BID else price <= other[0][0]):
            raise RefBookError(f"price {price} would cross the other side's best {other[0][0]}")

    def _insert(self, order_id: int, side: int, price: int, qty: int) -> None:
        self._orders[order_id] = [side, price, qty]
        self._queues[side].setdefault(price, []).append(order_id)

    def _remove(self, order_id: int) -> None:
        side, price, _ = self._orders.pop(order_id)
        ids = self._queues[side][price]
        ids.remove(order_id)
        if not ids:
            del self._queues[side][price]
