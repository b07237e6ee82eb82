"""One backtest over two instruments (the bundled spot and USD-M captures of BTC/USDT):
each instrument under its own sequence rule and unified symbol, one account, balances
that conserve, a deterministic journal and equity marked on both books; and a run over
instruments in different quote currencies is refused before it starts."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

import adapters.backtest as bt
from adapters.cli.main import main
from adapters.clocks import SimulatedClock
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.venues.simulated import SimulatedVenue
from engine import _core
from engine.domain import (
    Fill,
    Order,
    OrderDenied,
    OrderFilled,
    OrderSide,
    OrderType,
    Rounding,
    TimeInForce,
)
from engine.domain.errors import ValidationError
from engine.domain.journal import BalanceSnapshot, EquitySample, PositionSnapshot
from engine.marketdata import instruments as specs
from engine.services.statistics import exposure_curve
from engine.strategy import BookTop, Context, Strategy, StrategyLoadError, load_strategy

FUTURES = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
SPOT = BUNDLED_BINANCE_DIR / "spot-btcusdt-20240808.gz"
PERP, PAIR = "BTC/USDT:USDT", "BTC/USDT"
CASH = Decimal("100000")
MM = "engine.strategies.market_maker:MarketMaker"


class RoundTripParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    symbols: tuple[str, ...] = (PERP, PAIR)
    quantity: Decimal = Decimal("0.002")
    every: int = 40


class RoundTrips(Strategy[RoundTripParams]):
    """On each instrument, over and over: quote a post-only bid at the best bid (a maker
    buy; re-quoted when the bid moves away), and once long, sell the position with a
    market order (a taker sell) `every` book changes later. Spot needs the bought BTC
    before it can sell, so every sell is covered."""

    Params = RoundTripParams

    def __init__(self, params: RoundTripParams) -> None:
        super().__init__(params)
        self.books: dict[str, int] = dict.fromkeys(params.symbols, 0)
        self.fills: list[Fill] = []
        self._bid: dict[str, Order | None] = dict.fromkeys(params.symbols, None)
        self._long_since: dict[str, int] = {}

    def on_book(self, ctx: Context, top: BookTop) -> None:
        symbol = top.symbol
        if symbol not in self.books or top.bid is None:
            return
        n = self.books[symbol] = self.books[symbol] + 1
        bid = self._bid[symbol]
        if bid is not None and (bid.is_pending or bid.is_open):
            if not bid.is_pending and bid.price != top.bid and bid.filled_qty == 0:
                ctx.cancel(bid.client_order_id)
            return
        held = ctx.position(symbol).quantity
        if held == 0:
            self._bid[symbol] = ctx.submit(
                symbol=symbol,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=self.params.quantity,
                price=top.bid,
                time_in_force=TimeInForce.GTC,
                post_only=True,
            )
        elif n - self._long_since.setdefault(symbol, n) >= self.params.every:
            del self._long_since[symbol]
            self._bid[symbol] = ctx.submit(
                symbol=symbol, side=OrderSide.SELL, order_type=OrderType.MARKET, quantity=held
            )

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills.append(fill)

    def on_stop(self, ctx: Context) -> None:
        for order in ctx.open_orders():
            ctx.cancel(order.client_order_id)


STRATEGY = f"{__file__}:RoundTrips"


@pytest.fixture(scope="module")
def runs() -> tuple[bt.BacktestResult, bt.BacktestResult]:
    return (
        bt.run_backtest([FUTURES, SPOT], STRATEGY, cash=CASH),
        bt.run_backtest([FUTURES, SPOT], STRATEGY, cash=CASH),
    )


def test_both_instruments_trade_each_under_its_own_rule_and_symbol(
    runs: tuple[bt.BacktestResult, bt.BacktestResult],
) -> None:
    result = runs[0]
    assert list(result.instruments) == [PERP, PAIR]
    assert result.order_manager.anomalies == []
    fills: list[Fill] = result.strategy.fills  # type: ignore[attr-defined]
    for symbol in (PERP, PAIR):
        mine = [f for f in fills if f.symbol == symbol]
        assert sum(f.side is OrderSide.BUY for f in mine) >= 3, symbol
        assert sum(f.side is OrderSide.SELL for f in mine) >= 3, symbol
    assert result.strategy.books[PAIR] > 1_000  # type: ignore[attr-defined]


def test_each_venue_book_follows_its_own_markets_sequence_rule() -> None:
    streams, instruments = bt.load_streams([FUTURES, SPOT])
    assert {s.symbol: s.rule for s in streams} == {PERP: "futures", PAIR: "spot"}
    rules = {s.symbol: s.rule for s in streams}
    venue = SimulatedVenue(instruments, SimulatedClock(), rules=rules)
    assert (venue.rule(PERP), venue.rule(PAIR)) == ("futures", "spot")
    for s in streams:
        venue.apply_events(s.symbol, s.events)
        book = _core.L2Book(s.rule)
        book.apply_events(s.events)
        inst = instruments[s.symbol]
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        want = (inst.ticks_to_price(bid[0]), inst.ticks_to_price(ask[0]))
        assert venue.best_bid_ask(s.symbol) == want, s.symbol
    # Under one venue-wide futures rule (the old behaviour) the spot book stops at its
    # first diffs: its last top is hours of trading away from the real one.
    spot = next(s for s in streams if s.symbol == PAIR)
    wrong = SimulatedVenue({PAIR: instruments[PAIR]}, SimulatedClock())
    wrong.apply_events(PAIR, spot.events)
    assert wrong.rule(PAIR) == "futures"
    assert wrong.best_bid_ask(PAIR) != venue.best_bid_ask(PAIR)


def test_venue_rules_are_checked() -> None:
    _, instruments = bt.load_streams([SPOT])
    with pytest.raises(ValidationError, match=r"rules ETH/USDT is not an instrument of this venue"):
        SimulatedVenue(instruments, SimulatedClock(), rules={"ETH/USDT": "spot"})
    with pytest.raises(ValidationError, match=r"rule perp is not one of \['futures', 'spot'\]"):
        SimulatedVenue(instruments, SimulatedClock(), rules={PAIR: "perp"})


def test_positions_and_balances_conserve_across_both_instruments(
    runs: tuple[bt.BacktestResult, bt.BacktestResult],
) -> None:
    result = runs[0]
    fills: list[Fill] = result.strategy.fills  # type: ignore[attr-defined]
    spot = [f for f in fills if f.symbol == PAIR]
    perp = [f for f in fills if f.symbol == PERP]

    def signed(f: Fill) -> Decimal:
        return f.quantity if f.side is OrderSide.BUY else -f.quantity

    # Positions: the net of each instrument's own fills.
    for symbol, mine in ((PAIR, spot), (PERP, perp)):
        assert result.portfolio.position(symbol).quantity == sum(map(signed, mine), Decimal(0))
    # Spot moves assets: BTC is what was bought less what was sold (fees are in USDT).
    # The perpetual moves none: only its P&L settles in USDT. A simple average-cost
    # model of the perpetual's realized P&L (gross of fees):
    qty, cost, realized = Fraction(0), Fraction(0), Fraction(0)
    for f in perp:
        size, price = Fraction(signed(f)), Fraction(f.price)
        if qty == 0 or (qty > 0) == (size > 0):
            qty, cost = qty + size, cost + size * price
            continue
        avg, direction = cost / qty, (1 if qty > 0 else -1)
        reduced = min(abs(size), abs(qty)) * direction  # the part that reduces, signed as qty
        realized += reduced * (price - avg)
        qty, cost = qty - reduced, cost - reduced * avg
        rest = size + reduced
        if rest:  # a flip: the rest opens at this price
            qty, cost = rest, rest * price
    spot_notional = sum((signed(f) * f.price for f in spot), Decimal(0))
    fees = sum((f.fee for f in fills), Decimal(0))
    balances = result.portfolio.balances()
    assert balances["BTC"] == sum(map(signed, spot), Decimal(0))
    assert Fraction(balances["USDT"]) == Fraction(CASH - spot_notional - fees) + realized
    assert set(balances) == {"BTC", "USDT"}  # one account: one USDT balance for both
    perp_fees = sum((f.fee for f in perp), Decimal(0))
    assert Fraction(result.portfolio.position(PERP).realized_pnl) == realized - Fraction(perp_fees)
    # The journal's last balance snapshots say the same.
    last: dict[str, Decimal] = {}
    for _, r in result.store.records():
        if isinstance(r, BalanceSnapshot):
            last[r.asset] = r.total
    assert last == balances


def test_equity_marks_each_instrument_at_its_own_mid(
    runs: tuple[bt.BacktestResult, bt.BacktestResult],
) -> None:
    result = runs[0]
    records = [r for _, r in result.store.records()]
    samples = [r for r in records if isinstance(r, EquitySample)]
    assert len(samples) > 300 and {s.currency for s in samples} == {"USDT"}
    assert samples[0].equity == CASH
    # The last sample, recomputed from the end of each book replayed on its own and from
    # the journaled balances and perpetual position.
    streams, instruments = bt.load_streams([FUTURES, SPOT])
    mids: dict[str, Decimal] = {}
    for s in streams:
        book = _core.L2Book(s.rule)
        book.apply_events(s.events)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        inst = instruments[s.symbol]
        mid = inst.ticks_to_price(bid[0]) / 2 + inst.ticks_to_price(ask[0]) / 2
        mids[s.symbol] = inst.round_price(mid, Rounding.HALF_EVEN)
    balances: dict[str, Decimal] = {}
    position: PositionSnapshot | None = None
    for r in records:
        if isinstance(r, BalanceSnapshot):
            balances[r.asset] = r.total
        elif isinstance(r, PositionSnapshot) and r.symbol == PERP:
            position = r
    assert position is not None
    unrealized = position.quantity * (mids[PERP] - position.avg_entry_price)
    want = balances["USDT"] + balances["BTC"] * mids[PAIR] + unrealized
    assert samples[-1].equity == want
    assert samples[-1].equity == result.equity_end


def test_the_journal_is_deterministic(runs: tuple[bt.BacktestResult, bt.BacktestResult]) -> None:
    a, b = runs
    assert bt.journal_digest(a.store) == bt.journal_digest(b.store)
    assert [r for _, r in a.store.records()] == [r for _, r in b.store.records()]


def _krw_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up KRW-quoted instrument, so a run can mix quote currencies."""
    spec = specs.InstrumentSpec(
        "binance", "spot", "BTCKRW", "1", "0.00001", "spot", unified="BTC/KRW"
    )
    monkeypatch.setitem(specs._BINANCE, ("spot", "BTCKRW"), spec)


def test_instruments_in_different_quote_currencies_refuse_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _krw_spec(monkeypatch)
    krw = tmp_path / "spot-btckrw-1s.csv"
    krw.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1723161255000,85000000,85000100,84999900,85000050,0.5\n"
        "1723161256000,85000050,85000100,85000000,85000000,0.25\n"
    )
    with pytest.raises(bt.DataError) as err:
        bt.run_backtest([FUTURES, krw], STRATEGY)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("instruments are quoted in KRW and USDT (")
    assert "BTC/USDT:USDT in USDT, BTC/KRW in KRW" in message
    # From the command line: the same line, exit code 2, nothing run.
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["backtest", "--data", str(FUTURES), "--data", str(krw), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "instruments are quoted in KRW and USDT" in result.output


def test_the_cli_runs_both_instruments_in_one_backtest(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(
        main,
        [
            "backtest",
            "--data",
            str(FUTURES),
            "--data",
            str(SPOT),
            "--strategy",
            STRATEGY,
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["positions"]) == {PERP, PAIR}
    assert set(doc["balances"]) == {"BTC", "USDT"}
    report = Path(doc["report_dir"])
    assert (report / "fills.csv").is_file() and (report / "position.png").is_file()
    fills_csv = (report / "fills.csv").read_text()
    assert f",{PERP}," in fills_csv and f",{PAIR}," in fills_csv


def test_the_sample_market_maker_quotes_both_and_sells_only_what_spot_holds() -> None:
    result = bt.run_backtest(
        [FUTURES, SPOT],
        MM,
        {"symbols": f"{PERP},{PAIR}"},
    )
    records = [r for _, r in result.store.records()]
    assert not [r for r in records if isinstance(r, OrderDenied)]
    sides = Counter((r.fill.symbol, r.fill.side) for r in records if isinstance(r, OrderFilled))
    for symbol in (PERP, PAIR):
        assert sides[(symbol, OrderSide.BUY)] > 20 and sides[(symbol, OrderSide.SELL)] > 20
    btc = [r.total for r in records if isinstance(r, BalanceSnapshot) and r.asset == "BTC"]
    assert btc and min(btc) >= 0  # every spot sell was covered by BTC bought before
    # The perpetual trades as it does alone: the instruments share only the account.
    alone = bt.run_backtest([FUTURES], MM)
    both = result.portfolio.position(PERP)
    assert both == alone.portfolio.position(PERP)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"symbol": PAIR, "symbols": [PERP]}, "give symbol or symbols, not both"),
        ({"symbols": f"{PAIR}, {PAIR}"}, "names an instrument twice"),
    ],
)
def test_market_maker_symbols_are_checked(params: dict[str, object], message: str) -> None:
    with pytest.raises(StrategyLoadError, match=message):
        load_strategy(MM, params)


def test_market_maker_symbols_from_a_string_or_a_list() -> None:
    text = load_strategy(MM, {"symbols": f"{PERP}, {PAIR}"})
    listed = load_strategy(MM, {"symbols": [PERP, PAIR]})
    alone = load_strategy(MM, {"symbol": PAIR})
    assert text.params.quoted == listed.params.quoted == (PERP, PAIR)  # type: ignore[attr-defined]
    assert alone.params.quoted == (PAIR,)  # type: ignore[attr-defined]


def test_exposure_curve_sorts_by_time_and_sums_every_position() -> None:
    # Journal order: A opens at t=20, then B (journaled later, timed earlier) at t=10,
    # A closes at t=30, B closes at t=40.
    changes = [
        (20, "A", Decimal("1")),
        (10, "B", Decimal("-2")),
        (30, "A", Decimal("0")),
        (40, "B", Decimal("0")),
    ]
    assert exposure_curve(changes) == [
        (10, Decimal("2")),
        (20, Decimal("3")),
        (30, Decimal("2")),
        (40, Decimal("0")),
    ]
