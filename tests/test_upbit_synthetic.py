"""The bundled SYNTHETIC Upbit recording: labelled, licensed, unchanged, rebuilt exactly by
scripts/upbit_from_binance.py from the Binance spot capture, and readable as Upbit data."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import re
import sys
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest

from adapters.data.binance_capture import BinanceCaptureReader
from adapters.data.upbit_capture import BUNDLED_UPBIT_SYNTHETIC, open_upbit_capture
from engine import _core
from engine.marketdata.upbit import KRW_BTC

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "upbit_from_binance.py"
README = BUNDLED_UPBIT_SYNTHETIC.parent / "README.md"
MS = 1_000_000
BOOKS, TRADES = 1_700, 3_239


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("upbit_from_binance", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rebuilt(script: ModuleType) -> list[bytes]:
    lines: list[bytes] = script.convert()
    return lines


@pytest.fixture(scope="module")
def upbit_events() -> tuple[npt.NDArray[np.void], npt.NDArray[np.int64]]:
    reader = open_upbit_capture(BUNDLED_UPBIT_SYNTHETIC)
    chunks = list(reader.chunks())
    stats = reader.stats
    assert stats.by_stream == {"orderbook:KRW-BTC": BOOKS, "trade:KRW-BTC": TRADES}
    assert (stats.malformed, stats.unknown_streams, stats.blank) == ({}, {}, 0)
    return np.concatenate([c.events for c in chunks]), np.concatenate([c.lines for c in chunks])


def test_labelled_licensed_and_unchanged(binance_dir: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme.startswith("# SYNTHETIC Upbit-format data (not an Upbit recording)")
    for needed in ("1 USDT = 1,370 KRW", "hftbacktest", "MIT", "spot-btcusdt-20240808.gz"):
        assert needed in readme
    (digest,) = re.findall(r"([0-9a-f]{64})  spot-krwbtc-synthetic-20240808\.gz", readme)
    assert hashlib.sha256(BUNDLED_UPBIT_SYNTHETIC.read_bytes()).hexdigest() == digest
    notice = BUNDLED_UPBIT_SYNTHETIC.parent / "LICENSE-source-MIT.txt"
    assert notice.read_bytes() == (binance_dir / "LICENSE-source-MIT.txt").read_bytes()
    assert "synthetic" in BUNDLED_UPBIT_SYNTHETIC.name
    # every message says so itself
    content = gzip.decompress(BUNDLED_UPBIT_SYNTHETIC.read_bytes())
    lines = content.splitlines()
    assert len(lines) == BOOKS + TRADES
    assert all(line.endswith(b',"synthetic":true}') for line in lines)
    assert BUNDLED_UPBIT_SYNTHETIC.stat().st_size < 1_000_000


def test_a_fresh_build_gives_the_bundled_content(script: ModuleType, rebuilt: list[bytes]) -> None:
    assert b"".join(rebuilt) == gzip.decompress(BUNDLED_UPBIT_SYNTHETIC.read_bytes())
    # the gzip stream is deterministic too (no name, mtime 0)
    assert script.gzip_bytes(rebuilt) == script.gzip_bytes(list(rebuilt))


def test_check_mode(
    script: ModuleType,
    rebuilt: list[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(script, "convert", lambda: rebuilt)
    assert script.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    stale = tmp_path / "stale.gz"
    stale.write_bytes(script.gzip_bytes(rebuilt[:-1]))
    monkeypatch.setattr(script, "TARGET", stale)
    assert script.main(["--check"]) == 1
    assert "DIFFERS" in capsys.readouterr().out
    assert script.main(["--bogus"]) == 2


def test_conversion_by_hand(script: ModuleType) -> None:
    conv = script.Converter.for_grids("0.01", "1000", 1370)
    # 61837.63 USDT x 1370 = 84,717,553.1 KRW: a bid goes down to 84,717,000
    assert conv.bid(6_183_763) == 84_717
    # 61837.64 x 1370 = 84,717,566.8: an ask goes up to 84,718,000
    assert conv.ask(6_183_764) == 84_718
    # exactly on the grid: 62000.00 x 1370 = 84,940,000 both ways
    assert (conv.bid(6_200_000), conv.ask(6_200_000)) == (84_940, 84_940)
    assert script.java_double(84_717_000) == "8.4717E7"
    assert script.java_double(84_700_000) == "8.47E7"
    assert script.java_double(90_000_000) == "9.0E7"
    assert script.java_double(100_000_000) == "1.0E8"
    assert script.java_double(5_000) == "5000.0"
    assert script.size_text(451_136_000) == "4.51136000"
    assert script.size_text(1) == "0.00000001"
    assert script.utc_date_time(1_723_161_255_619) == ("2024-08-08", "23:54:15")


def test_first_book_by_hand() -> None:
    with gzip.open(BUNDLED_UPBIT_SYNTHETIC, "rb") as fh:
        first = fh.readline()
    # Binance bids landing on 84,717,000 KRW: 61837.23 .. 61837.95 USDT. In the REST
    # snapshot (line 8 of the source): 61837.63 x 3.78826, 61837.62 x 0.617,
    # 61837.24 x 0.1061 -> 4.51136 BTC. Best ask 61837.64 -> 84,718,000.
    assert first.startswith(b"1723161254206652067 ")  # the snapshot line's receive time
    assert b'"timestamp":1723161255408' in first
    assert b'{"ask_price":8.4718E7,"bid_price":8.4717E7,"ask_size":1.61379000,' in first
    assert b'"bid_size":4.51136000}' in first
    assert b'"stream_type":"SNAPSHOT"' in first


def test_every_book_is_15_clean_levels_a_side(
    upbit_events: tuple[npt.NDArray[np.void], npt.NDArray[np.int64]],
) -> None:
    events, _ = upbit_events
    books = events[events["kind"] == _core.KIND_SNAPSHOT]
    assert len(books) == BOOKS * 30
    # one message per line; book times never go back
    assert np.all(np.diff(events["ts_event"]) >= 0)
    assert np.all(np.diff(events["ts_recv"]) >= 0)
    previous: tuple[list[int], ...] | None = None
    for i in range(BOOKS):
        rows = books[i * 30 : (i + 1) * 30]
        bid, ask = rows[rows["side"] == 0], rows[rows["side"] == 1]
        assert len(bid) == len(ask) == 15
        assert np.all(np.diff(bid["price"]) < 0) and np.all(np.diff(ask["price"]) > 0)
        assert bid["price"][0] < ask["price"][0]
        assert np.all(rows["qty"] > 0)
        current = (
            bid["price"].tolist(),
            bid["qty"].tolist(),
            ask["price"].tolist(),
            ask["qty"].tolist(),
        )
        assert current != previous  # an unchanged book is not repeated
        previous = current
    span = int(events["ts_event"][-1] - events["ts_event"][0])
    assert 179_000 * MS < span < 180_000 * MS


def test_trades_are_the_binance_trades_converted(
    spot_captures: list[Path],
    upbit_events: tuple[npt.NDArray[np.void], npt.NDArray[np.int64]],
    script: ModuleType,
) -> None:
    events, _ = upbit_events
    ours = events[events["kind"] == _core.KIND_TRADE]
    assert len(ours) == TRADES
    reader = BinanceCaptureReader(spot_captures[0])
    chunks = list(reader.chunks())
    source = np.concatenate([c.events for c in chunks])
    source_lines = np.concatenate([c.lines for c in chunks])
    sync_line = int(source_lines[source["kind"] == _core.KIND_SNAPSHOT][0])
    binance = source[(source["kind"] == _core.KIND_TRADE) & (source_lines > sync_line)]
    # the first TRADES Binance trades after the book synced, in order, one for one
    binance = binance[:TRADES]
    assert ours["order_id"].tolist() == binance["order_id"].tolist()
    assert ours["side"].tolist() == binance["side"].tolist()
    assert ours["qty"].tolist() == binance["qty"].tolist()
    conv = script.Converter.for_grids("0.01", KRW_BTC.tick_size, script.RATE_KRW_PER_USDT)
    expected = [
        conv.ask(p) if s == _core.SIDE_BID else conv.bid(p)
        for p, s in zip(binance["price"].tolist(), binance["side"].tolist(), strict=True)
    ]
    assert ours["price"].tolist() == expected
    assert np.all(ours["ts_event"] >= binance["ts_event"])


def test_replays_through_the_book_and_the_sim_venue(
    upbit_events: tuple[npt.NDArray[np.void], npt.NDArray[np.int64]],
) -> None:
    events, _ = upbit_events
    book = _core.L2Book(KRW_BTC.sequence_rule)
    result = book.apply_events(events)
    assert (result.snapshots, result.trades, result.gaps, result.errors) == (BOOKS, TRADES, 0, 0)
    assert (book.level_count(0), book.level_count(1)) == (15, 15)
    # the last message of the file is a book or a trade; the book is the last snapshot's
    last = events[events["kind"] == _core.KIND_SNAPSHOT][-30:]
    assert book.best_bid() == (int(last["price"][0]), int(last["qty"][0]))
    sim = _core.SimVenue(
        KRW_BTC.tick_size, KRW_BTC.lot_size, rule="spot", maker_fee="0.0005", taker_fee="0.0005"
    )
    half = len(events) // 2
    while not events["flags"][half] & _core.FLAG_BEGIN:
        half += 1
    sim.apply_events(events[:half])
    ask = sim.best_ask()
    assert ask is not None
    # A market buy of 0.001 BTC walks the converted asks as taker; each fill's fee is
    # price x qty x 0.0005 KRW rounded up at 8 decimals.
    order = sim.submit(int(events["ts_event"][half - 1]), 0, "market", 100_000)
    reports = sim.drain_reports()
    assert reports[0][1:3] == (order, "accepted")
    fills = [r for r in reports if r[2] == "filled"]
    assert sum(r[4] for r in fills) == 100_000
    assert fills[0][3] == ask[0]
    assert fills[-1][7] == 0
    for _, oid, _, price, qty, liquidity, fee, _, _ in fills:
        assert (oid, liquidity) == (order, "taker")
        exact = Decimal(price * 1000) * Decimal(qty) / 10**8 * Decimal("0.0005")
        assert Decimal(fee) == exact.quantize(Decimal("1E-8"), rounding=ROUND_CEILING)
