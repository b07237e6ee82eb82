"""PNG charts of a `RunReport` (matplotlib, Agg canvas, no pyplot and no global state):
`equity.png` (equity and drawdown), `fills.png` (fill prices, buys and sells apart),
`position.png` (position per symbol).

Deterministic: each chart is drawn under matplotlib's default style (whatever the
user's matplotlibrc says), with its bundled font, and saved without the "Software" tag
or any time, so the same report gives the same bytes (on the same matplotlib version).
Amounts become floats here, for drawing only. Times are UTC."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import matplotlib.dates as mdates
import matplotlib.style as mpl_style
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from adapters.report.build import RunReport
from adapters.report.export import write_file

__all__ = ["CHARTS", "drawdown", "equity_png", "fills_png", "position_png", "write_charts"]

PNG_METADATA: Final[dict[str, str | None]] = {"Software": None}
"""Leaves out matplotlib's version tag; nothing else (no time) is written by default."""
DPI: Final = 100
WIDTH_IN: Final = 11.0
BUY_COLOUR: Final = "#1a9850"
SELL_COLOUR: Final = "#d73027"


def drawdown(equity: Sequence[Decimal]) -> list[float]:
    """Fall below the running peak at each sample, as a fraction <= 0 (for drawing; the
    statistics' max_drawdown is the Rust core's)."""
    out = []
    peak: Decimal | None = None
    for value in equity:
        peak = value if peak is None or value > peak else peak
        out.append(float(value / peak - 1) if peak > 0 else 0.0)
    return out


def _styled(draw: Callable[[RunReport], bytes]) -> Callable[[RunReport], bytes]:
    """Draws under matplotlib's default style: artists read rcParams when created."""

    @functools.wraps(draw)
    def styled(report: RunReport) -> bytes:
        with mpl_style.context("default"):
            return draw(report)

    return styled


@_styled
def equity_png(report: RunReport) -> bytes:
    unit = _unit(report.currency)
    figure, canvas = _figure(6.5)
    if not report.equity:
        _empty(figure, f"{report.run_id}: equity and drawdown", "no equity samples in the journal")
        return _png(canvas)
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.4), "hspace": 0.08}
    )
    times = _times([t for t, _ in report.equity])
    values = [v for _, v in report.equity]
    top.plot(times, [float(v) for v in values], color="#2c7bb6", linewidth=1.2)
    top.set_ylabel(f"equity{unit}")
    top.set_title(f"{report.run_id}: equity and drawdown ({report.run['strategy']})")
    top.ticklabel_format(axis="y", useOffset=False, style="plain")
    top.grid(True, alpha=0.3)
    falls = [100.0 * d for d in drawdown(values)]
    bottom.fill_between(times, falls, 0.0, color=SELL_COLOUR, alpha=0.35, linewidth=0)
    bottom.plot(times, falls, color=SELL_COLOUR, linewidth=0.8)
    bottom.set_ylabel("drawdown (%)")
    bottom.set_ylim(top=0.0)
    bottom.grid(True, alpha=0.3)
    _time_axis(bottom)
    return _png(canvas)


@_styled
def fills_png(report: RunReport) -> bytes:
    symbols = list(report.price_series)
    figure, canvas = _figure(3.2 + 2.8 * max(1, len(symbols)))
    title = f"{report.run_id}: fill prices"
    if not symbols:
        _empty(figure, title, "no fills in this run")
        return _png(canvas)
    axes = _panels(figure, len(symbols))
    currencies = _currencies(report)
    for ax, symbol in zip(axes, symbols, strict=True):
        points = report.price_series[symbol]
        ax.plot(
            _times([t for t, _, _ in points]),
            [float(p) for _, p, _ in points],
            color="0.75",
            linewidth=0.7,
            zorder=1,
        )
        for side, marker, colour in (("BUY", "^", BUY_COLOUR), ("SELL", "v", SELL_COLOUR)):
            chosen = [(t, p) for t, p, s in points if s == side]
            ax.scatter(
                _times([t for t, _ in chosen]),
                [float(p) for _, p in chosen],
                marker=marker,
                s=22,
                color=colour,
                label=f"{side.lower()} ({len(chosen):,})",
                zorder=2,
            )
        ax.set_ylabel(f"{symbol} price{_unit(currencies.get(symbol))}")
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.legend(loc="upper left", fontsize="small")
        ax.grid(True, alpha=0.3)
    axes[0].set_title(f"{title} (the journal holds no other prices)")
    _time_axis(axes[-1])
    return _png(canvas)


@_styled
def position_png(report: RunReport) -> bytes:
    symbols = list(report.position_curve)
    figure, canvas = _figure(3.2 + 2.8 * max(1, len(symbols)))
    title = f"{report.run_id}: position"
    if not symbols:
        _empty(figure, title, "no positions in this run")
        return _png(canvas)
    axes = _panels(figure, len(symbols))
    end = report.ts_end
    currencies = _currencies(report)
    for ax, symbol in zip(axes, symbols, strict=True):
        curve = list(report.position_curve[symbol])
        # Flat until the first fill; the last position held to the end of the run.
        start = report.equity[0][0] if report.equity else curve[0][0]
        points = [(min(start, curve[0][0]), Decimal(0)), *curve]
        if end is not None and end > points[-1][0]:
            points.append((end, points[-1][1]))
        ax.step(
            _times([t for t, _ in points]),
            [float(q) for _, q in points],
            where="post",
            color="#5e3c99",
            linewidth=1.1,
        )
        ax.axhline(0.0, color="0.4", linewidth=0.6)
        ax.set_ylabel(f"{symbol} ({_base(symbol, currencies.get(symbol))})")
        ax.grid(True, alpha=0.3)
    axes[0].set_title(f"{title} (signed quantity: long > 0, short < 0)")
    _time_axis(axes[-1])
    return _png(canvas)


CHARTS: Final = (
    ("equity.png", equity_png),
    ("fills.png", fills_png),
    ("position.png", position_png),
)


def write_charts(report: RunReport, directory: Path) -> list[Path]:
    """Every chart of CHARTS into `directory` (created if missing); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in CHARTS:
        path = directory / name
        write_file(path, draw(report))
        written.append(path)
    return written


# --- helpers --------------------------------------------------------------------------------
def _figure(height_in: float) -> tuple[Figure, FigureCanvasAgg]:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    return figure, FigureCanvasAgg(figure)


def _panels(figure: Figure, n: int) -> list[Axes]:
    axes = figure.subplots(n, 1, sharex=True, squeeze=False)
    return [row[0] for row in axes]


def _png(canvas: FigureCanvasAgg) -> bytes:
    out = io.BytesIO()
    canvas.figure.savefig(out, format="png", dpi=DPI, metadata=PNG_METADATA)
    return out.getvalue()


def _empty(figure: Figure, title: str, message: str) -> None:
    ax = figure.subplots()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _times(ns: Sequence[int]) -> npt.NDArray[Any]:
    return np.array(ns, dtype="datetime64[ns]")


def _time_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")


def _currencies(report: RunReport) -> dict[str, str]:
    return {str(h["symbol"]): str(h["currency"]) for h in report.position_history}


def _unit(currency: str | None) -> str:
    return f" ({currency})" if currency else ""


def _base(symbol: str, quote: str | None) -> str:
    """The position's unit: the base asset of a unified symbol (`BTC` of `BTC/USDT:USDT`)
    or of an exchange id written base+quote."""
    base, sep, _ = symbol.partition("/")
    if sep and base:
        return base
    if quote and symbol.endswith(quote) and len(symbol) > len(quote):
        return symbol[: -len(quote)]
    return f"quantity of {symbol}"
