"""Hot-path benchmark: the same real depth events into the L2 book three ways.

(a) Rust batch `L2Book.apply_events` on a numpy array; (b) one Python call per message
(`apply_snapshot` / `apply_diff`, level lists built before timing); (c) the pure-Python
reference book of `tests/reference/l2.py` (`apply_rows` on rows converted before timing).
All three must end with the same book, or the run FAILs: a fast wrong book is no result.

What is timed: only the calls that apply events, with the garbage collector off; the
capture decoding, the array filtering and the per-call/reference input preparation are
not. Each figure is the best (min) and median over a few repeats, as ns per level update
(snapshot and diff levels applied), because timings drift on shared machines and ratios
taken within one run do not.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from adapters.data import BUNDLED_BINANCE_DIR
from adapters.data.binance_capture import CaptureError, open_captures
from engine import _core

__all__ = ["run"]

Level = tuple[int, int]
Message = tuple[bool, int, int, int, list[Level], list[Level]]
"""(is_snapshot, first_id, last_id, prev_id, bids, asks), ready for the per-call path."""
Rule = Literal["spot", "futures"]
BookState = tuple[list[Level], list[Level], bool, int | None]

REFERENCE_FILE = Path("tests") / "reference" / "l2.py"
DEFAULT_REPEATS = 5
DEFAULT_REFERENCE_REPEATS = 3
DEFAULT_REFERENCE_MAX_ROWS = 2_000_000
"""Per stream; beyond it the slow reference runs on a prefix (said in the output)."""

# DESIGN.md performance budget (informational: a benchmark reports, tests never time).
BUDGET_BATCH_NS = 50.0
BUDGET_PER_CALL_NS = 150.0
BUDGET_REPLAY_M_PER_S = 10.0
BUDGET_REFERENCE_RATIO = 50.0


@dataclass
class Stream:
    """Consecutive capture files of one instrument, replayed into one book (a file that
    continues the previous one carries no snapshot of its own)."""

    key: str
    rule: Rule
    files: list[str]
    events: npt.NDArray[np.void]
    depth: npt.NDArray[np.void] = field(init=False)

    def __post_init__(self) -> None:
        kinds = self.events["kind"]
        self.depth = self.events[(kinds == _core.KIND_SNAPSHOT) | (kinds == _core.KIND_DIFF)]


@dataclass
class Timing:
    """Repeated timings of one path over all streams."""

    name: str
    level_updates: int
    times_ns: list[int]
    subset: bool = False

    @property
    def best_ns(self) -> float:
        return min(self.times_ns) / max(self.level_updates, 1)

    @property
    def median_ns(self) -> float:
        return statistics.median(self.times_ns) / max(self.level_updates, 1)

    @property
    def m_per_s(self) -> float:
        return 1e3 / self.best_ns if self.best_ns > 0 else float("inf")

    def as_dict(self) -> dict[str, object]:
        return {
            "level_updates": self.level_updates,
            "repeats": len(self.times_ns),
            "best_ns_per_update": round(self.best_ns, 3),
            "median_ns_per_update": round(self.median_ns, 3),
            "m_updates_per_s": round(self.m_per_s, 3),
            "subset": self.subset,
        }


# --- inputs ---------------------------------------------------------------------------
def _load_streams(paths: Sequence[Path]) -> list[Stream]:
    """Reads the captures (untimed), grouping consecutive files of one instrument."""
    streams: list[Stream] = []
    for reader in open_captures(list(paths)):
        chunks = [c.events for c in reader.chunks()]
        events = np.concatenate(chunks) if chunks else np.zeros(0, dtype=_core.EVENT_DTYPE)
        inst = reader.instrument
        last = streams[-1] if streams else None
        if last is not None and last.key == inst.key:
            streams[-1] = Stream(
                last.key,
                last.rule,
                [*last.files, reader.name],
                np.concatenate([last.events, events]),
            )
        else:
            streams.append(Stream(inst.key, inst.sequence_rule, [reader.name], events))
    return streams


def _messages(depth: npt.NDArray[np.void]) -> list[Message]:
    """Groups depth rows into messages by FLAG_BEGIN/FLAG_END (the builder's rows are
    well formed; if they were not, the final-book check would say so)."""
    cols = [
        depth[n].tolist()
        for n in ("kind", "flags", "seq_first", "seq_last", "seq_prev", "side", "price", "qty")
    ]
    msgs: list[Message] = []
    bids: list[Level] = []
    asks: list[Level] = []
    for kind, flags, first, last, prev, side, price, qty in zip(*cols, strict=True):
        if flags & _core.FLAG_BEGIN:
            bids, asks = [], []
        if not flags & _core.FLAG_EMPTY:
            (bids if side == _core.SIDE_BID else asks).append((price, qty))
        if flags & _core.FLAG_END:
            msgs.append((kind == _core.KIND_SNAPSHOT, first, last, prev, bids, asks))
    return msgs


def _prefix(depth: npt.NDArray[np.void], max_rows: int) -> npt.NDArray[np.void]:
    """The first messages of `depth` within max_rows rows (cut at a message start)."""
    if len(depth) <= max_rows:
        return depth
    begins = np.flatnonzero(depth["flags"][: max_rows + 1] & _core.FLAG_BEGIN)
    return depth[: int(begins[-1]) if len(begins) else 0]


def _load_reference() -> ModuleType | None:
    """tests/reference/l2.py from the checkout around this module, or around the CWD."""
    here = Path(__file__).resolve()
    roots = [*here.parents[2:5], Path.cwd(), *Path.cwd().parents]
    for root in roots:
        path = root / REFERENCE_FILE
        if path.is_file():
            spec = importlib.util.spec_from_file_location("quantx_reference_l2", path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # dataclasses look their module up here
            spec.loader.exec_module(module)
            return module
    return None


# --- timed paths ------------------------------------------------------------------------
def _timed(fn: Callable[[], object]) -> int:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        fn()
        return time.perf_counter_ns() - t0
    finally:
        gc.enable()


def _state(book: Any) -> BookState:
    return (book.levels(0), book.levels(1), bool(book.stale), book.last_update_id)


def _batch(rule: Rule, events: npt.NDArray[np.void]) -> tuple[int, Any, Any]:
    book = _core.L2Book(rule)
    out: list[Any] = []
    ns = _timed(lambda: out.append(book.apply_events(events)))
    return ns, book, out[0]


def _per_call(rule: Rule, msgs: list[Message]) -> tuple[int, Any]:
    book = _core.L2Book(rule)
    snapshot, diff, gap = book.apply_snapshot, book.apply_diff, _core.SequenceGapError

    def feed() -> None:
        for is_snapshot, first, last, prev, bids, asks in msgs:
            # Not contextlib.suppress: entering a context manager per call is timed too.
            try:
                if is_snapshot:
                    snapshot(last, bids, asks)  # raises when the buffer replay hits a gap
                else:
                    diff(first, last, prev, bids, asks)
            except gap:
                pass  # the book is stale and holds the diff, as the batch does

    return _timed(feed), book


def _reference(ref: ModuleType, rule: Rule, rows: list[Any]) -> tuple[int, Any, Any]:
    book = ref.RefL2Book(rule)
    out: list[Any] = []
    ns = _timed(lambda: out.append(book.apply_rows(rows)))
    return ns, book, out[0]


@dataclass
class Results:
    streams: list[dict[str, object]]
    batch: Timing
    per_call: Timing
    reference: Timing
    replay: Timing
    checks: list[str]
    failures: list[str]
    load_s: float

    @property
    def passed(self) -> bool:
        return not self.failures

    def ratios(self) -> dict[str, float]:
        b, p, r = self.batch.best_ns, self.per_call.best_ns, self.reference.best_ns
        return {
            "per_call_vs_batch": round(p / b, 2) if b else 0.0,
            "reference_vs_batch": round(r / b, 2) if b else 0.0,
            "reference_vs_per_call": round(r / p, 2) if p else 0.0,
        }

    def budget(self) -> dict[str, dict[str, object]]:
        ratio = self.ratios()["reference_vs_batch"]
        return {
            "batch_ns_per_update": _target(self.batch.best_ns, "<=", BUDGET_BATCH_NS),
            "per_call_ns_per_update": _target(self.per_call.best_ns, "<=", BUDGET_PER_CALL_NS),
            "replay_m_updates_per_s": _target(self.replay.m_per_s, ">=", BUDGET_REPLAY_M_PER_S),
            "reference_vs_batch": _target(ratio, ">=", BUDGET_REFERENCE_RATIO),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "streams": self.streams,
            "batch": self.batch.as_dict(),
            "per_call": self.per_call.as_dict(),
            "reference": self.reference.as_dict(),
            "replay_all_rows": self.replay.as_dict(),
            "ratios": self.ratios(),
            "budget": self.budget(),
            "check": {"passed": self.passed, "checks": self.checks, "failures": self.failures},
            "peak_rss_bytes": _peak_rss_bytes(),
            "load_seconds": round(self.load_s, 3),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }


def _target(value: float, op: str, limit: float) -> dict[str, object]:
    met = value <= limit if op == "<=" else value >= limit
    return {"value": round(value, 3), "target": f"{op} {limit:g}", "met": met}


def _measure(
    ref: ModuleType,
    streams: list[Stream],
    repeats: int,
    reference_repeats: int,
    reference_max_rows: int,
) -> tuple[list[dict[str, object]], Timing, Timing, Timing, Timing, list[str], list[str]]:
    checks: list[str] = []
    failures: list[str] = []
    info: list[dict[str, object]] = []
    level_updates = ref_updates = replay_updates = 0
    subset = False
    batch_t = [0] * repeats
    call_t = [0] * repeats
    ref_t = [0] * reference_repeats
    replay_t = [0] * repeats
    for s in streams:
        # Inputs prepared per stream (untimed) and freed after it: the reference's rows
        # are Python tuples, heavy enough to dominate the peak RSS otherwise.
        ref_depth = _prefix(s.depth, reference_max_rows)
        subset |= len(ref_depth) < len(s.depth)
        msgs, rows = _messages(s.depth), ref.events_to_rows(ref_depth)
        for i in range(repeats):
            ns, batch_book, res = _batch(s.rule, s.depth)
            batch_t[i] += ns
            ns, call_book = _per_call(s.rule, msgs)
            call_t[i] += ns
            ns, _, replay_res = _batch(s.rule, s.events)
            replay_t[i] += ns
        for i in range(reference_repeats):
            ns, ref_book, ref_res = _reference(ref, s.rule, rows)
            ref_t[i] += ns
        level_updates += res.levels_applied
        replay_updates += replay_res.levels_applied
        ref_updates += ref_res.levels_applied
        # The check: all three end with the same book (on the reference's rows if cut).
        name = "+".join(s.files)
        same = _state(batch_book) == _state(call_book)
        (checks if same else failures).append(f"{name}: batch == per-call")
        twin = batch_book
        if len(ref_depth) < len(s.depth):
            twin = _batch(s.rule, ref_depth)[1]
        same = _state(twin) == _state(ref_book)
        (checks if same else failures).append(f"{name}: batch == reference")
        if len(ref_depth) == len(s.depth) and ref_res.levels_applied != res.levels_applied:
            failures.append(
                f"{name}: levels applied differ: batch {res.levels_applied}, "
                f"reference {ref_res.levels_applied}"
            )
        if res.errors:
            failures.append(f"{name}: batch refused {res.errors} rows: {res.first_error}")
        info.append(
            {
                "key": s.key,
                "rule": s.rule,
                "files": s.files,
                "rows": len(s.events),
                "depth_rows": len(s.depth),
                "messages": len(msgs),
                "level_updates": res.levels_applied,
                "reference_rows": len(ref_depth),
                "snapshots": res.snapshots,
                "diffs_applied": res.diffs_applied,
                "diffs_dropped": res.diffs_dropped,
                "diffs_buffered": res.diffs_buffered,
                "gaps": res.gaps,
                "final_stale": bool(batch_book.stale),
                "final_levels": [batch_book.level_count(0), batch_book.level_count(1)],
            }
        )
        del msgs, rows, call_book, ref_book
    return (
        info,
        Timing("batch", level_updates, batch_t),
        Timing("per_call", level_updates, call_t),
        Timing("reference", ref_updates, ref_t, subset),
        Timing("replay", replay_updates, replay_t),
        checks,
        failures,
    )


def _peak_rss_bytes() -> int:
    try:
        import resource
    except ImportError:  # not on Unix
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


# --- output -------------------------------------------------------------------------
def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _print_table(r: Results) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    budget = r.budget()
    table = Table(title="quantx bench: L2 book hot path, ns per level update")
    for col in ("path", "level updates", "best ns", "median ns", "M upd/s", "x batch", "budget"):
        table.add_column(col, justify="left" if col == "path" else "right")

    def row(label: str, t: Timing, target: dict[str, object] | None) -> None:
        mark = ""
        if target is not None:
            mark = f"{target['target']} {'ok' if target['met'] else 'MISSED'}"
        table.add_row(
            label + (" [subset]" if t.subset else ""),
            f"{t.level_updates:,}",
            f"{t.best_ns:,.1f}",
            f"{t.median_ns:,.1f}",
            f"{t.m_per_s:,.2f}",
            f"{t.best_ns / r.batch.best_ns:,.1f}" if r.batch.best_ns else "-",
            mark,
        )

    row("Rust batch", r.batch, budget["batch_ns_per_update"])
    row("Python per call", r.per_call, budget["per_call_ns_per_update"])
    row("pure-Python reference", r.reference, None)
    row("full replay (all rows)", r.replay, budget["replay_m_updates_per_s"])
    console.print(table)
    console.print(
        "  Rust batch: L2Book.apply_events on the depth rows; Python per call: one "
        "apply_snapshot/apply_diff per message; reference: tests/reference/l2.py apply_rows; "
        "full replay: apply_events on every row (trades and tickers too)"
    )
    for s in r.streams:
        console.print(
            f"  {s['key']} ({s['rule']}): {' + '.join(_strs(s['files']))}: "
            f"{s['rows']:,} rows, {s['depth_rows']:,} depth rows, {s['messages']:,} messages, "
            f"{s['gaps']} gaps, reference on {s['reference_rows']:,} rows"
        )
    ratios = r.ratios()
    ref_target = budget["reference_vs_batch"]
    console.print(
        f"  batch is {ratios['per_call_vs_batch']}x faster than per call and "
        f"{ratios['reference_vs_batch']}x faster than the reference "
        f"(budget {ref_target['target']}: {'ok' if ref_target['met'] else 'MISSED'}); "
        f"per call is {ratios['reference_vs_per_call']}x faster than the reference"
    )
    if r.reference.subset:
        console.print("  the reference ran on a prefix of each stream; ratios are per update")
    console.print(
        f"  peak RSS {_peak_rss_bytes() / 2**20:,.1f} MiB; captures decoded in {r.load_s:.2f} s "
        "(not timed); GC off while timing"
    )
    for line in r.failures:
        console.print(f"  [red]mismatch: {line}[/red]")
    verdict = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
    console.print(
        f"  {verdict}: all three paths end with the same book "
        f"({len(r.checks)} checks, {len(r.failures)} failures)"
    )


# --- entry point --------------------------------------------------------------------
def run(
    paths: list[Path],
    as_json: bool,
    *,
    repeats: int = DEFAULT_REPEATS,
    reference_repeats: int = DEFAULT_REFERENCE_REPEATS,
    reference_max_rows: int = DEFAULT_REFERENCE_MAX_ROWS,
) -> int:
    """Runs the benchmark; exit code 0 on PASS, 1 when the books differ, 2 when it cannot
    run (no reference book, unreadable captures). No paths: the bundled captures."""
    ref = _load_reference()
    if ref is None:
        print(
            f"quantx bench: cannot find {REFERENCE_FILE} (the pure-Python baseline); run it "
            "from a quantx checkout",
            file=sys.stderr,
        )
        return 2
    if not paths:
        paths = sorted(BUNDLED_BINANCE_DIR.glob("*.gz"))
    t0 = time.perf_counter()
    try:
        streams = _load_streams(paths)
    except CaptureError as exc:
        print(f"quantx bench: {exc}", file=sys.stderr)
        return 2
    if not streams or not any(len(s.depth) for s in streams):
        print("quantx bench: the captures hold no depth snapshots or diffs", file=sys.stderr)
        return 2
    load_s = time.perf_counter() - t0
    info, batch, per_call, reference, replay, checks, failures = _measure(
        ref, streams, max(1, repeats), max(1, reference_repeats), max(1, reference_max_rows)
    )
    results = Results(info, batch, per_call, reference, replay, checks, failures, load_s)
    if as_json:
        print(json.dumps(results.as_dict(), indent=2))
    else:
        _print_table(results)
    return 0 if results.passed else 1
