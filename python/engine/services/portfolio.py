"""Portfolio: positions per instrument and balances per account, booked by the Rust core.

Pure: no I/O and no clock. The arithmetic and its rounding rules live in `engine._core`
(`Position`, `Balances`; rules in `rust/accounting/mod.rs`); this service converts
Decimals to ticks, lots and exact money strings through the domain `Instrument`, routes
each fill to its instrument's position and its account's balances, and turns the
results back into Decimals and domain values.

Choices written down here:
- Fees. A fill's fee is booked in the balances in the asset it was charged in. The
  position's P&L is in the quote currency, so a base-asset fee is valued at the fill
  price and a third-asset fee (BNB) at the price returned by the `fee_price` callable,
  both rounded up at 10^-18 (rule 5, in Rust). Without a `fee_price`, a third-asset
  fee is refused with a ValidationError naming `fee_currency`, never guessed.
- Spot: every fill moves base and quote (and the fee asset). The position counts the
  traded quantity; a base-asset fee lowers the base balance, not the position, and its
  cost enters the P&L at the fill price (so P&L and balance x mark differ by that fee
  re-priced at the mark). Linear perpetual: no asset changes hands; the realized P&L
  goes to the quote (settlement) balance and the fee leaves the asset it was charged in.
- Margin: `used_margin(symbol)` = |qty| x average entry / leverage, rounded up (rule 7),
  for a linear perpetual; spot is fully paid and holds none. The portfolio reports it;
  it does not reserve it or refuse fills for it (the risk gate checks margin before an
  order leaves; a fill that happened is booked).
- Marks must lie on the instrument's tick grid (round a venue's mark price with
  `Instrument.round_price` first), so unrealized P&L stays exact.
- Deduplicating fills by trade id is the order's job (`DuplicateFillError`): the
  portfolio books every fill it is given.
- Every method is all or nothing: a refused fill or credit changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from engine import _core
from engine.domain import _checks, _exact
from engine.domain.enums import InstrumentKind, OrderSide
from engine.domain.errors import DomainError, PrecisionError, ValidationError
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.position import Position

__all__ = ["DEFAULT_ACCOUNT", "MONEY_DECIMALS", "FeePrice", "Portfolio", "PortfolioError"]

_BUY = OrderSide.BUY  # bound once: reading a member off its enum class is slow on 3.11
_SPOT = InstrumentKind.SPOT

DEFAULT_ACCOUNT = "main"
MONEY_DECIMALS = 18
"""Money is exact to 10^-18 (the core's `Money`); finer amounts are refused."""


class FeePrice(Protocol):
    """The price of one unit of `asset` in `quote` at `ts_event`, used to value a fee
    charged in a third asset. Supplied by the caller (a ticker cache, a fixed table), so
    the portfolio stays deterministic."""

    def __call__(self, asset: str, quote: str, ts_event: int) -> Decimal: ...


class PortfolioError(DomainError):
    """A fill or credit the accounting core refused (for example an overflow); the
    portfolio is unchanged."""


@dataclass(slots=True)
class _Book:
    """One instrument's position, its account and the time of its last fill; `view` is
    the domain Position last built from it (None once a fill changes it)."""

    instrument: Instrument
    account: str
    leverage: int
    position: _core.Position
    ts_event: int = 0
    view: Position | None = None


class Portfolio:
    """Positions (one Rust `Position` per instrument) and balances (one Rust `Balances`
    per account). Single-writer: the kernel owns it and applies fills in sequence."""

    def __init__(
        self, instruments: Iterable[Instrument] = (), *, fee_price: FeePrice | None = None
    ) -> None:
        self._fee_price = fee_price
        self._books: dict[str, _Book] = {}
        self._accounts: dict[str, _core.Balances] = {}
        # Balances as Decimals per account, built on demand and dropped on every change:
        # the kernel, the strategy and the risk gate ask far more often than fills come.
        self._balance_views: dict[str, dict[str, Decimal]] = {}
        for instrument in instruments:
            self.add_instrument(instrument)

    # --- set-up -----------------------------------------------------------------------
    def add_instrument(
        self, instrument: Instrument, *, account: str = DEFAULT_ACCOUNT, leverage: int = 1
    ) -> None:
        """Registers an instrument, flat, booked into `account`; leverage is used for
        the margin of a linear perpetual only."""
        symbol = instrument.symbol
        if symbol in self._books:
            raise ValidationError("symbol", symbol, "is already in the portfolio (rule: once)")
        _checks.text("account", account, symbol)
        if not isinstance(leverage, int) or isinstance(leverage, bool) or leverage < 1:
            raise ValidationError("leverage", leverage, "is not an int >= 1", symbol)
        for field_name, code in (("base", instrument.base), ("quote", instrument.quote)):
            _asset_code(field_name, code, symbol)
        tick, lot = _plain(instrument.tick_size), _plain(instrument.lot_size)
        try:
            position = _core.Position(tick, lot)
        except ValueError as err:  # one tick x one lot finer than 10^-18: not exact money
            raise PrecisionError("grid", f"{tick}/{lot}", f"refused: {err}", symbol) from err
        self._books[symbol] = _Book(instrument, account, leverage, position)
        self._balances_of(account)

    def credit(self, asset: str, amount: Decimal, account: str = DEFAULT_ACCOUNT) -> Decimal:
        """A deposit (negative: a withdrawal); returns the new balance."""
        _checks.text("account", account)
        code = _asset_code("asset", asset, account)
        text = _money_text("amount", amount, account)
        balances = self._balances_of(account)
        try:
            total = Decimal(balances.credit(code, text))
        except ValueError as err:
            raise PortfolioError("amount", amount, f"refused: {err}", account) from err
        self._balance_views.pop(account, None)
        return total

    # --- fills ------------------------------------------------------------------------
    def apply_fill(self, fill: Fill) -> Decimal:
        """Books one fill; returns its realized P&L net of its fee, in quote."""
        book = self._book(fill.symbol)
        instrument = book.instrument
        subject = f"fill {fill.trade_id} of {fill.client_order_id}"
        # Every conversion happens before the core is touched, so a refusal here changes
        # nothing; the core call itself is all or nothing.
        price = instrument.price_to_ticks(fill.price)
        lots = instrument.qty_to_lots(fill.quantity)
        fee = _money_text("fee", fill.fee, subject)
        fee_asset = _asset_code("fee_currency", fill.fee_currency, subject)
        fee_price = self._fee_price_text(fill, instrument, subject)
        side = 0 if fill.side is _BUY else 1
        balances = self._balances_of(book.account)
        apply = balances.apply_spot_fill if instrument.kind is _SPOT else balances.apply_linear_fill
        try:
            delta = apply(
                book.position,
                instrument.base,
                instrument.quote,
                side,
                price,
                lots,
                fee,
                fee_asset,
                fee_price,
            )
        except ValueError as err:
            raise PortfolioError("fill", fill.trade_id, f"refused: {err}", subject) from err
        book.ts_event = fill.ts_event
        book.view = None
        self._balance_views.pop(book.account, None)
        return Decimal(delta)

    def _fee_price_text(self, fill: Fill, instrument: Instrument, subject: str) -> str | None:
        """The quote price of a third fee asset, or None for a fee in base or quote."""
        asset = fill.fee_currency
        if asset in (instrument.base, instrument.quote):
            return None
        if self._fee_price is None:
            rule = (
                f"is neither base {instrument.base} nor quote {instrument.quote} and the"
                " portfolio has no fee_price (rule: a third-asset fee needs a quote price)"
            )
            raise ValidationError("fee_currency", asset, rule, subject)
        price = self._fee_price(asset, instrument.quote, fill.ts_event)
        _checks.positive("fee_price", price, subject)
        return _money_text("fee_price", price, subject)

    # --- queries ----------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        """The position as a domain value; the average entry is rounded half-even at
        10^-18 (the exact fraction is `cost_basis / qty` ticks in the core)."""
        book = self._book(symbol)
        if book.view is not None:  # immutable, and nothing changed since it was built
            return book.view
        core = book.position
        entry = core.avg_entry_price("half_even")
        book.view = Position(
            symbol=symbol,
            currency=book.instrument.quote,
            quantity=book.instrument.lots_to_qty(core.qty),
            avg_entry_price=Decimal(entry) if entry is not None else Decimal(0),
            realized_pnl=Decimal(core.realized_pnl),
            fees=Decimal(core.fees_paid),
            ts_event=book.ts_event,
        )
        return book.view

    def quantity(self, symbol: str) -> Decimal:
        """The signed position quantity alone (cheap: the risk gate asks on every order)."""
        book = self._book(symbol)
        return book.instrument.lot_size * book.position.qty

    def symbols(self) -> list[str]:
        """Instruments in the portfolio, in the order they were added."""
        return list(self._books)

    def unrealized_pnl(self, symbol: str, mark: Decimal) -> Decimal:
        """(mark - average entry) x quantity, exact; `mark` must be on the tick grid."""
        book = self._book(symbol)
        ticks = book.instrument.price_to_ticks(mark)
        return Decimal(book.position.unrealized_pnl(ticks))

    def used_margin(self, symbol: str) -> Decimal:
        """|quantity| x average entry / leverage, rounded up, for a linear perpetual;
        0 for spot (fully paid)."""
        book = self._book(symbol)
        if book.instrument.kind is InstrumentKind.SPOT:
            return Decimal(0)
        return Decimal(book.position.used_margin(book.leverage))

    def account_of(self, symbol: str) -> str:
        """The account an instrument is booked into."""
        return self._book(symbol).account

    def accounts(self) -> list[str]:
        """Every account, sorted by name."""
        return sorted(self._accounts)

    def balances(self, account: str = DEFAULT_ACCOUNT) -> dict[str, Decimal]:
        """Every asset the account has touched, sorted by code (empty for an unknown
        account: nothing was booked there)."""
        view = self._balance_views.get(account)
        if view is None:
            balances = self._accounts.get(account)
            if balances is None:
                return {}
            view = {asset: Decimal(amount) for asset, amount in balances.as_dict().items()}
            self._balance_views[account] = view
        return dict(view)  # the caller's own copy

    def equity(
        self,
        marks: Mapping[str, Decimal],
        account: str = DEFAULT_ACCOUNT,
        currency: str | None = None,
    ) -> Decimal:
        """The account's value in `currency` at `marks` (symbol -> mark price), exact.

        = the `currency` balance + every other non-zero balance x the mark of a spot
        instrument with that base and quote `currency` + the unrealized P&L of each open
        linear perpetual of the account. Spot positions add nothing of their own: their
        value is already in the base balance. `currency` defaults to the quote shared by
        the account's instruments. An asset or perpetual without a mark is an error."""
        books = [b for b in self._books.values() if b.account == account]
        if currency is None:
            quotes = sorted({b.instrument.quote for b in books})
            if len(quotes) != 1:
                rule = f"must be given: the account's quotes are {quotes} (rule: one currency)"
                raise ValidationError("currency", None, rule, account)
            currency = quotes[0]
        total = Decimal(0)
        for asset, amount in self.balances(account).items():
            if asset == currency:
                total = _exact.total(total, amount)
            elif amount:
                mark = self._spot_mark(asset, currency, marks, account)
                total = _exact.total(total, _exact.product(amount, mark))
        for book in books:
            if book.instrument.kind is _SPOT or book.position.qty == 0:
                continue
            if book.instrument.quote != currency:
                rule = f"settles in {book.instrument.quote}, not {currency} (rule: one currency)"
                raise ValidationError("symbol", book.instrument.symbol, rule, account)
            mark = _mark(marks, book.instrument.symbol, account)
            total = _exact.total(total, self.unrealized_pnl(book.instrument.symbol, mark))
        return total

    def _spot_mark(
        self, asset: str, currency: str, marks: Mapping[str, Decimal], account: str
    ) -> Decimal:
        for book in self._books.values():
            ins = book.instrument
            spot = ins.kind is InstrumentKind.SPOT and ins.symbol in marks
            if spot and ins.base == asset and ins.quote == currency:
                return _checks.positive("mark", marks[ins.symbol], ins.symbol)
        rule = f"has no mark (rule: pass the mark of a spot instrument {asset}/{currency})"
        raise ValidationError("asset", asset, rule, account)

    def _book(self, symbol: str) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            rule = "is not in the portfolio (rule: add_instrument first)"
            raise ValidationError("symbol", symbol, rule)
        return book

    def _balances_of(self, account: str) -> _core.Balances:
        balances = self._accounts.get(account)
        if balances is None:
            balances = self._accounts[account] = _core.Balances()
        return balances


def _mark(marks: Mapping[str, Decimal], symbol: str, account: str) -> Decimal:
    if symbol not in marks:
        raise ValidationError("marks", symbol, "has no mark for an open position", account)
    return marks[symbol]


def _asset_code(field_name: str, code: str, subject: str) -> str:
    """An asset code the core accepts (1-16 printable ASCII characters, no spaces); the
    rule is the core's, asked through a read-only lookup (once per code)."""
    if type(code) is str and code in _ASSET_CODES:
        return code
    try:
        _ASSET_RULE.get(code)
    except ValueError as err:
        detail = str(err).split("(rule: ", 1)[-1].rstrip(")")
        rule = f"is not an asset code (rule: {detail})"
        raise ValidationError(field_name, code, rule, subject) from err
    if type(code) is str and len(_ASSET_CODES) < 1024:
        _ASSET_CODES.add(code)
    return code


_ASSET_CODES: set[str] = set()
"""Codes the core accepted (a handful per process)."""


_ASSET_RULE = _core.Balances()
"""Always empty: only its asset-code check is used."""


def _money_text(field_name: str, value: Decimal, subject: str) -> str:
    """Exact text for the core; a non-zero digit beyond the 18th decimal cannot be booked
    without rounding, so it is refused here rather than rounded."""
    number = _checks.decimal(field_name, value, subject)
    text = _plain(number)
    dot = text.find(".")
    if dot < 0 or len(text) - dot - 1 <= MONEY_DECIMALS:  # the common case, without as_tuple
        return text
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite by the check above
    beyond = -exponent - MONEY_DECIMALS
    if beyond > 0 and any(digits[max(0, len(digits) - beyond) :]):
        rule = f"has more than {MONEY_DECIMALS} decimals (rule: money is exact to 10^-18)"
        raise PrecisionError(field_name, number, rule, subject)
    return text


def _plain(value: Decimal) -> str:
    return format(value, "f")
