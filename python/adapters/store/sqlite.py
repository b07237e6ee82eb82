"""SQLite store, the default journal: one file holds many runs; a `SqliteStore` writes one.

File: created 0600 (its -wal and -shm files take the same mode from it), WAL journal
mode so readers never block the writer, 1 KiB pages (PAGE_SIZE: a commit writes whole
pages), and a `schema_version` table moved forward by `MIGRATIONS`. Durability:
`synchronous=NORMAL` (the default here, the rule for WAL) keeps every committed
transaction through a crash or SIGKILL of the process, and the file is never
corrupted, but a power cut or OS crash can lose the last transactions committed before
it (the WAL is synced at checkpoints and when the store closes, not at each commit).
`synchronous="FULL"` syncs the WAL at every commit and loses nothing committed, at the
cost of an fsync per commit (benches/journal.py measures both).

Writing: `append` encodes the record (`codec`) and folds it into the read models
(`readmodel`, which refuses a record the run cannot take); either refusal changes
nothing. The batch is held in memory (`records()` serves it after the committed ones)
and `commit` writes it in one transaction: BEGIN IMMEDIATE, the journal rows in
multi-row INSERTs, the read-model rows the batch changed (one per order, position and
balance however often the batch changed it), COMMIT; a batch that changes no read
model (an equity sample) is a single INSERT, which SQLite runs as a transaction of its
own, and an empty batch writes nothing. The journal and its read models therefore move
together, the write lock is held only while committing, and nothing uncommitted
survives a crash or `close`: the contract the kernel builds on. A failed commit loses
the whole batch (the store then goes on from what the file holds). One writer per run:
two stores appending to the same run would collide at commit. Pipelined
(`open(..., pipelined=True)`, what backtests use), the same transactions run in a
writer process (`adapters.store.pipeline`) and `commit` returns once the batch is
handed over; `sync` and `close` wait for the file, and a failure there stops the store.

Keys (schema version 2): each run has a number, and a journal row's key is the run's
number << 32 | seq, so one run's records are one range of a single b-tree (no second
index to write at every commit); an order's row is keyed by its OrderInitialized's
key. Each commit writes every page it touched to the WAL, and each such page is a
system call; fewer b-trees per commit is what makes a commit cheap.

Read models: `runs`, `orders`, `positions` and `balances` are tables of latest state;
`fills`, `position_history` and `equity` have one row per journal record, so they are
views over the journal (json_extract of the codec's documents) instead of second
copies that would double the writes. `RunReader` opens its own read-only connection
and sees committed data only, as plain dicts and tuples with Decimal amounts. SQL
lives here; the codec and the projection know nothing of SQLite, so a PostgreSQL store
can reuse both."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Protocol

from adapters.store import readmodel
from adapters.store.codec import decode, document
from adapters.store.pipeline import WriterProcess
from adapters.store.readmodel import RUNNING, RunProjection
from engine.domain.journal import JournalRecord, RunStarted
from engine.ports.store import StoreError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "RunReader",
    "SqliteStore",
    "connect",
    "migrate",
    "schema_version",
]

Synchronous = Literal["NORMAL", "FULL"]
StrPath = str | os.PathLike[str]

PIPELINES: Final = os.name == "posix"
"""Whether `pipelined=True` is honoured: the writer process speaks over pipes polled with
select(), a POSIX thing; elsewhere such a store commits inline."""
BUSY_TIMEOUT_S: Final = 5.0
"""How long a writer waits for another connection's write lock before giving up."""
PAGE_SIZE: Final = 1024
"""Bytes per page of a new file (a file keeps the size it was created with). A commit
writes every page it touched to the WAL, whole; a kernel batch adds a few rows to a
few tables, so 1 KiB pages write (and later sync, checkpoint and delete) about 40% of
the bytes SQLite's default 4 KiB pages would: the demo backtest's WAL is 7.8 MB, not
19 MB, and closing the store costs half as long. Rows longer than a page (a run's
configuration) continue in overflow pages."""
CHECKPOINT_PAGES: Final = 8192
"""WAL pages between automatic checkpoints: 8 MiB at PAGE_SIZE. Each checkpoint syncs
the WAL and the file, which a fast backtest would otherwise pay every 1000 pages
(SQLite's default); the WAL file grows to this size in exchange."""

_V1: Final = (
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        strategy TEXT NOT NULL,
        params_json TEXT NOT NULL,
        config_json TEXT NOT NULL,
        ts_started INTEGER NOT NULL,
        ts_ended INTEGER,
        status TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE journal (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts_event INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
    # The audit trail is append-only in the file too, not only by convention.
    """CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TABLE orders (
        run_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        order_type TEXT NOT NULL,
        time_in_force TEXT NOT NULL,
        quantity TEXT NOT NULL,
        price TEXT,
        trigger_price TEXT,
        status TEXT NOT NULL,
        filled_qty TEXT NOT NULL,
        avg_fill_price TEXT,
        venue_order_id TEXT NOT NULL,
        ts_created INTEGER NOT NULL,
        ts_updated INTEGER NOT NULL,
        PRIMARY KEY (run_id, client_order_id)
    )""",
    """CREATE TABLE positions (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        currency TEXT NOT NULL,
        quantity TEXT NOT NULL,
        avg_entry_price TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL,
        ts_event INTEGER NOT NULL,
        PRIMARY KEY (run_id, account, symbol)
    )""",
    """CREATE TABLE balances (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        account TEXT NOT NULL,
        asset TEXT NOT NULL,
        total TEXT NOT NULL,
        ts_event INTEGER NOT NULL,
        PRIMARY KEY (run_id, account, asset)
    )""",
    # One row per record: views over the journal, which already holds them exactly.
    """CREATE VIEW fills AS SELECT
        run_id,
        seq,
        json_extract(body, '$.fill.trade_id') AS trade_id,
        json_extract(body, '$.client_order_id') AS client_order_id,
        json_extract(body, '$.fill.symbol') AS symbol,
        json_extract(body, '$.fill.side') AS side,
        json_extract(body, '$.fill.price') AS price,
        json_extract(body, '$.fill.quantity') AS quantity,
        json_extract(body, '$.fill.fee') AS fee,
        json_extract(body, '$.fill.fee_currency') AS fee_currency,
        json_extract(body, '$.fill.liquidity') AS liquidity,
        json_extract(body, '$.fill.ts_event') AS ts_event
    FROM journal WHERE type = 'OrderFilled'""",
    """CREATE VIEW position_history AS SELECT
        run_id,
        seq,
        json_extract(body, '$.account') AS account,
        json_extract(body, '$.symbol') AS symbol,
        json_extract(body, '$.currency') AS currency,
        json_extract(body, '$.quantity') AS quantity,
        json_extract(body, '$.avg_entry_price') AS avg_entry_price,
        json_extract(body, '$.realized_pnl') AS realized_pnl,
        json_extract(body, '$.fees') AS fees,
        ts_event
    FROM journal WHERE type = 'PositionSnapshot'""",
    """CREATE VIEW equity AS SELECT
        run_id,
        seq,
        ts_event,
        json_extract(body, '$.account') AS account,
        json_extract(body, '$.currency') AS currency,
        json_extract(body, '$.equity') AS equity
    FROM journal WHERE type = 'EquitySample'""",
)

_SEQ_BITS: Final = 32
"""A journal row's key is the run's number shifted by this, plus the record's seq: each
run's records are one contiguous key range, in seq order."""
_SEQ_LIMIT: Final = 1 << _SEQ_BITS

_V2: Final = (
    # Runs get a stable number (rowid is not: VACUUM may renumber it); existing runs keep
    # their creation order.
    "ALTER TABLE runs ADD COLUMN number INTEGER",
    "UPDATE runs SET number = rowid",
    "CREATE UNIQUE INDEX runs_number ON runs (number)",
    # Refuses (CHECK fails, nothing changes) rows that cannot take a key: of a run the
    # runs table lacks, or with a seq outside 1 .. 2^32 - 1.
    "CREATE TEMP TABLE v2_unkeyed (n INTEGER NOT NULL CHECK (n = 0))",
    f"""INSERT INTO temp.v2_unkeyed SELECT count(*) FROM journal
        WHERE run_id NOT IN (SELECT run_id FROM runs) OR seq < 1 OR seq >= {_SEQ_LIMIT}""",
    f"""INSERT INTO temp.v2_unkeyed SELECT count(*) FROM orders
        WHERE run_id NOT IN (SELECT run_id FROM runs) OR seq < 1 OR seq >= {_SEQ_LIMIT}""",
    "DROP TABLE temp.v2_unkeyed",
    # Orders keyed by their OrderInitialized's journal key (unique: one record creates one
    # order, and the store refuses an id created twice): one b-tree, new orders append.
    "ALTER TABLE orders RENAME TO orders_v1",
    """CREATE TABLE orders (
        run_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        order_type TEXT NOT NULL,
        time_in_force TEXT NOT NULL,
        quantity TEXT NOT NULL,
        price TEXT,
        trigger_price TEXT,
        status TEXT NOT NULL,
        filled_qty TEXT NOT NULL,
        avg_fill_price TEXT,
        venue_order_id TEXT NOT NULL,
        ts_created INTEGER NOT NULL,
        ts_updated INTEGER NOT NULL,
        journal_id INTEGER PRIMARY KEY
    )""",
    f"""INSERT INTO orders SELECT o.*, (r.number << {_SEQ_BITS}) + o.seq
        FROM orders_v1 AS o JOIN runs AS r ON r.run_id = o.run_id
        ORDER BY r.number, o.seq""",
    "DROP TABLE orders_v1",
    "DROP VIEW fills",
    "DROP VIEW position_history",
    "DROP VIEW equity",
    "DROP TRIGGER journal_no_update",
    "DROP TRIGGER journal_no_delete",
    "ALTER TABLE journal RENAME TO journal_v1",
    # The journal keyed by one integer: one b-tree, no second index to write at every
    # commit (the (run_id, seq) key of v1 was an index beside the table).
    """CREATE TABLE journal (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts_event INTEGER NOT NULL,
        body TEXT NOT NULL,
        id INTEGER PRIMARY KEY
    )""",
    f"""INSERT INTO journal (run_id, seq, type, ts_event, body, id)
        SELECT j.run_id, j.seq, j.type, j.ts_event, j.body, (r.number << {_SEQ_BITS}) + j.seq
        FROM journal_v1 AS j JOIN runs AS r ON r.run_id = j.run_id
        ORDER BY r.number, j.seq""",
    "DROP TABLE journal_v1",
    """CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    # The same views, with the row key as journal_id so a reader takes one run's range.
    """CREATE VIEW fills AS SELECT
        run_id,
        seq,
        json_extract(body, '$.fill.trade_id') AS trade_id,
        json_extract(body, '$.client_order_id') AS client_order_id,
        json_extract(body, '$.fill.symbol') AS symbol,
        json_extract(body, '$.fill.side') AS side,
        json_extract(body, '$.fill.price') AS price,
        json_extract(body, '$.fill.quantity') AS quantity,
        json_extract(body, '$.fill.fee') AS fee,
        json_extract(body, '$.fill.fee_currency') AS fee_currency,
        json_extract(body, '$.fill.liquidity') AS liquidity,
        json_extract(body, '$.fill.ts_event') AS ts_event,
        id AS journal_id
    FROM journal WHERE type = 'OrderFilled'""",
    """CREATE VIEW position_history AS SELECT
        run_id,
        seq,
        json_extract(body, '$.account') AS account,
        json_extract(body, '$.symbol') AS symbol,
        json_extract(body, '$.currency') AS currency,
        json_extract(body, '$.quantity') AS quantity,
        json_extract(body, '$.avg_entry_price') AS avg_entry_price,
        json_extract(body, '$.realized_pnl') AS realized_pnl,
        json_extract(body, '$.fees') AS fees,
        ts_event,
        id AS journal_id
    FROM journal WHERE type = 'PositionSnapshot'""",
    """CREATE VIEW equity AS SELECT
        run_id,
        seq,
        ts_event,
        json_extract(body, '$.account') AS account,
        json_extract(body, '$.currency') AS currency,
        json_extract(body, '$.equity') AS equity,
        id AS journal_id
    FROM journal WHERE type = 'EquitySample'""",
)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2)
"""Step n (1-based) takes a file from schema version n-1 to n. Append steps; never edit
one that has shipped."""

_FRESH: Final = (
    _V1[0],  # runs
    _V2[0],  # its number
    _V2[2],  # runs_number
    _V2[17],  # journal
    *_V2[20:22],  # its append-only triggers
    _V2[8],  # orders
    *_V1[5:7],  # positions, balances
    *_V2[22:25],  # the views
)
"""A new file's schema in one step: what MIGRATIONS build from version 0, without the
renames and copies of empty tables (a test holds the two equal)."""
SCHEMA_VERSION: Final = len(MIGRATIONS)

_MONEY: Final = frozenset(
    {
        "quantity", "price", "trigger_price", "filled_qty", "avg_fill_price", "fee",
        "avg_entry_price", "realized_pnl", "fees", "total", "equity",
    }
)  # fmt: skip
"""Columns held as decimal strings, read back as Decimal."""
_HIDDEN: Final = frozenset({"journal_id"})
"""The journal views' row key: how a reader finds one run's rows, not a read-model value."""


class _Cursor(Protocol):
    """Where a commit's statements go: the store's own cursor, or a writer process."""

    def execute(self, sql: str, parameters: Any = ..., /) -> object: ...


_EXACT_ROWS: Final = 24
"""Row counts up to this get a statement of their own (prepared when first met); most
batches are smaller, so most batches are one execute per table."""
_CHUNKS: Final = (64, 32)
"""Larger batches are cut into statements of these many rows, the rest exactly."""
_ONE_STATEMENT: Final = frozenset({*range(1, _EXACT_ROWS + 1), *_CHUNKS})
"""Row counts written by a single statement."""


def _literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class _Bulk:
    """One table's INSERT (or upsert) for any number of rows, as multi-row statements: a
    batch of n <= _EXACT_ROWS rows is one execute, a larger one takes 64- and 32-row
    chunks first. Statements are prepared when a row count first comes, and a run
    meets few counts (one statement per count up to 64 would prepare dozens of long
    ones on every connection). A multi-row INSERT costs about two thirds of executemany
    per row, and each execute saved is a round through the driver. At 64 rows x 15
    values a statement stays far below SQLite's limit of 32766 bound values.

    `row` gives one row's VALUES tuple in SQL for its first parameter number: the row
    binds `width` values (?N numbered, so an expression may use one twice), and the
    rest is written into the statement (a run's id as a literal, a key computed from
    the seq) instead of bound again with every row."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        width: int,
        row: Callable[[int], str],
        key: Sequence[str] = (),
    ) -> None:
        self._head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        self._tail = ""
        if key:
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
            self._tail = f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
        self.width = width
        self._row = row
        self._sql: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            rows_sql = ", ".join(self._row(1 + i * self.width) for i in range(rows))
            sql = self._sql[rows] = self._head + rows_sql + self._tail
        return sql

    def write(self, cursor: _Cursor, values: list[Any]) -> None:
        """`values`: the rows' values one after another, `width` a row (one flat list:
        what the driver binds, built without a tuple a row)."""
        width = self.width
        left = len(values) // width
        if left <= _EXACT_ROWS:  # the common case: one statement
            cursor.execute(self._statement(left), values)
            return
        at = 0
        for n in _CHUNKS:
            while left > _EXACT_ROWS and left >= n:
                end = at + n * width
                cursor.execute(self._statement(n), values[at:end])
                at, left = end, left - n
        if left:
            cursor.execute(self._statement(left), values[at:])


def _numbered(first: int, count: int) -> list[str]:
    return [f"?{n}" for n in range(first, first + count)]


def _run_row(run: str, width: int, key: tuple[int, int] | None = None) -> Callable[[int], str]:
    """A row's VALUES tuple: the run's literal, `width` numbered parameters and, with
    `key` = (base, position of the seq among them), the key base + seq."""

    def row(first: int) -> str:
        values = [run, *_numbered(first, width)]
        if key is not None:
            base, seq_at = key
            values.append(f"{base} + ?{first + seq_at}")
        return f"({', '.join(values)})"

    return row


class _Statements:
    """The INSERTs of one run's batches. Rows bind what readmodel's rows hold after the
    run_id (the run's id is a literal in each statement) and a journal row binds seq,
    type, ts_event and body: the keys (run number << 32 | seq) are computed from the
    seq in the statement, with the run's base written in it."""

    def __init__(self, run_id: str, base: int) -> None:
        run = _literal(run_id)
        journal = ("run_id", "seq", "type", "ts_event", "body", "id")
        self.journal = _Bulk("journal", journal, 4, _run_row(run, 4, (base, 0)))
        orders = (*readmodel.ORDER_COLUMNS, "journal_id")
        width = len(readmodel.ORDER_COLUMNS) - 1  # client_order_id, seq, ...
        self.orders = _Bulk(
            "orders", orders, width, _run_row(run, width, (base, 1)), ("journal_id",)
        )
        positions, balances = readmodel.POSITION_COLUMNS, readmodel.BALANCE_COLUMNS
        self.positions = _Bulk(
            "positions", positions, len(positions) - 1, _run_row(run, len(positions) - 1),
            ("run_id", "account", "symbol"),
        )  # fmt: skip
        self.balances = _Bulk(
            "balances", balances, len(balances) - 1, _run_row(run, len(balances) - 1),
            ("run_id", "account", "asset"),
        )  # fmt: skip


_chain = chain.from_iterable
_RUNS: Final = _Bulk(
    "runs",
    (*readmodel.RUN_COLUMNS, "number"),
    len(readmodel.RUN_COLUMNS) + 1,
    lambda first: f"({', '.join(_numbered(first, len(readmodel.RUN_COLUMNS) + 1))})",
)
_END_RUN: Final = "UPDATE runs SET ts_ended = ?, status = ?, reason = ? WHERE run_id = ?"
_JOURNAL_CHUNK: Final = 512
CACHED_STATEMENTS: Final = 256
"""Prepared statements a connection keeps: room for every row count of every table."""


# --- the file: creation, pragmas, schema ----------------------------------------------------
def _create_private(path: str) -> None:
    """Creates the file 0600 if it is missing (whatever the umask); leaves an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def connect(path: StrPath, *, synchronous: Synchronous = "NORMAL") -> sqlite3.Connection:
    """A writer's connection: the file created 0600 if missing, WAL, `synchronous`, and
    the schema migrated to SCHEMA_VERSION. Transactions are explicit (autocommit mode)."""
    if synchronous not in ("NORMAL", "FULL"):
        raise StoreError("synchronous", synchronous, "is not NORMAL or FULL")
    where = os.fspath(path)
    try:
        _create_private(where)
        conn = sqlite3.connect(
            where,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_S,
            cached_statements=CACHED_STATEMENTS,
        )
    except (OSError, sqlite3.Error) as err:
        raise StoreError("path", where, f"cannot be opened as a store ({err})") from err
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # no effect on an existing file
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError("journal_mode", mode, "is not wal (rule: WAL on a local disk)")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        # The per-record read models are views that read the journal's JSON.
        conn.execute("""SELECT json_extract('{"a": 1}', '$.a')""")
        migrate(conn)
    except sqlite3.Error as err:
        conn.close()
        raise StoreError("path", where, f"is not a usable store ({err})") from err
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The file's schema version; 0 for a file without one (new)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> int:
    """Applies the steps the file lacks, in order, in one transaction (all or none);
    returns the version reached. A file newer than `migrations` is refused untouched."""
    known = len(migrations)
    current = schema_version(conn)
    if current > known:
        rule = f"is newer than this code knows ({known}) (rule: open it with a newer quantx)"
        raise StoreError("schema_version", current, rule)
    if current == known:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version"
            " (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
        )
        current = schema_version(conn)  # again, under the write lock: another may have won
        if current > known:
            rule = f"is newer than this code knows ({known}) (rule: open it with a newer quantx)"
            raise StoreError("schema_version", current, rule)
        steps: list[tuple[int, Sequence[str]]] = list(enumerate(migrations, 1))[current:]
        if current == 0 and migrations is MIGRATIONS:
            steps = [(known, _FRESH)]
        for number, statements in steps:
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (id, version) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                (number,),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return known


def _run_number(conn: sqlite3.Connection, run_id: str) -> int | None:
    row = conn.execute("SELECT number FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else int(row[0])


def _journal(
    conn: sqlite3.Connection, run_id: str, after: int
) -> Iterator[tuple[int, JournalRecord]]:
    """The run's records with seq > after, read in chunks so that no cursor stays open
    while the caller works (it may commit in between)."""
    number = _run_number(conn, run_id)
    if number is None:
        return
    base = number << _SEQ_BITS
    last, end = base + max(after, 0), base + _SEQ_LIMIT
    while True:
        rows = conn.execute(
            "SELECT id, seq, body FROM journal WHERE id > ? AND id < ? ORDER BY id LIMIT ?",
            (last, end, _JOURNAL_CHUNK),
        ).fetchall()
        for _, seq, body in rows:
            yield seq, decode(body)
        if len(rows) < _JOURNAL_CHUNK:
            return
        last = rows[-1][0]


# --- the writer -------------------------------------------------------------------------------
class SqliteStore:
    """The Store port over one SQLite file, for one run. Build it with `open`."""

    def __init__(self, conn: sqlite3.Connection, path: str, run_id: str) -> None:
        """Private: use `SqliteStore.open`."""
        self._conn: sqlite3.Connection | None = conn
        self._cursor = conn.cursor()
        self._path = path
        self._run_id = run_id
        self._projection = RunProjection(run_id)
        self._sql = _Statements(run_id, 0)  # the run's base is known once started
        self._committed = 0  # the last sequence number in the file
        self._next = 1  # the next one to append
        self._base = 0  # the run's number << _SEQ_BITS: a record's key is _base + seq
        self._batch: list[JournalRecord] = []  # seq: self._committed + 1 + index
        self._rows: list[Any] = []  # the batch's journal rows, values one after another
        self._writer: WriterProcess | None = None  # pipelined: commits run there

    @classmethod
    def open(
        cls,
        path: StrPath,
        *,
        run: RunStarted | None = None,
        resume: str | None = None,
        synchronous: Synchronous = "NORMAL",
        pipelined: bool = False,
    ) -> SqliteStore:
        """Starts a new run (`run=`: its RunStarted becomes record 1, committed at once)
        or reopens an existing, unended run to continue it (`resume=` its id: after a
        crash the journal holds what was committed and appends go on from there).
        Exactly one of the two. `pipelined`: later commits run in a writer process
        (`adapters.store.pipeline`: for backtests, where nothing leaves the process
        before its batch is durable); `sync` waits for them."""
        if (run is None) == (resume is None):
            given = "both" if run is not None else "neither"
            rule = "(rule: exactly one of run= for a new run or resume= for an existing one)"
            raise StoreError("run, resume", given, f"given {rule}")
        if run is not None and not isinstance(run, RunStarted):
            raise StoreError("run", run, "is not a RunStarted record")
        where = os.fspath(path)
        conn = connect(where, synchronous=synchronous)
        try:
            if run is not None:
                store = cls(conn, where, run.run_id)
                store._start(run)
            else:
                assert resume is not None
                store = cls(conn, where, resume)
                store._resume()
            if pipelined and PIPELINES:
                store._writer = WriterProcess(where, synchronous, store._run_id)
        except BaseException:
            conn.close()
            raise
        return store

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def path(self) -> str:
        return self._path

    @property
    def synchronous(self) -> str:
        """The durability setting in force, as SQLite reports it: NORMAL or FULL."""
        value = self._connection().execute("PRAGMA synchronous").fetchone()[0]
        return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(value, str(value))

    @property
    def committed(self) -> int:
        """Records of the run committed (the last committed sequence number): in the
        file, or, pipelined, handed to the writer (in the file after `sync`)."""
        return self._committed

    @property
    def pipelined(self) -> bool:
        return self._writer is not None

    @property
    def writer(self) -> WriterProcess | None:
        """The writer process of a pipelined store (None inline or once closed)."""
        return self._writer

    def sync(self) -> None:
        """Waits until every committed batch is in the file (inline: they are already)."""
        self._connection()  # raises: closed
        if self._writer is not None:
            self._pipeline(self._writer.sync)

    @property
    def uncommitted(self) -> int:
        """Records appended since the last commit (lost if the process dies now)."""
        return len(self._batch)

    # --- the port -------------------------------------------------------------------------
    def append(self, record: JournalRecord) -> int:
        if self._conn is None:
            self._connection()  # raises: closed
        tag, body = document(record)  # refuses what is not a record: nothing changed yet
        seq = self._next
        if seq >= _SEQ_LIMIT:
            raise StoreError("seq", seq, f"reaches {_SEQ_LIMIT} (rule: a run holds fewer records)")
        self._projection.fold(seq, record)  # refuses what the run cannot take: idem
        self._next = seq + 1
        self._batch.append(record)
        self._rows += (seq, tag, record.ts_event, body)
        return seq

    def commit(self) -> None:
        if not self._batch:
            if self._conn is None:
                self._connection()  # raises: closed
            return
        conn = self._connection()
        changes = self._projection.drain()
        writer = self._writer
        cursor: _Cursor = self._cursor if writer is None else writer
        rows = self._rows
        try:
            if changes.empty and len(rows) // 4 in _ONE_STATEMENT:
                # One statement is a transaction of its own (autocommit mode): no
                # BEGIN/COMMIT round trips for a batch that only adds journal rows.
                self._sql.journal.write(cursor, rows)
            else:
                cursor.execute("BEGIN IMMEDIATE")
                self._sql.journal.write(cursor, rows)
                self._write(cursor, changes)
                cursor.execute("COMMIT")
            if writer is not None:
                self._pipeline(writer.send)
        except sqlite3.Error as err:
            lost = len(self._batch)
            rule = f"failed ({err}); the uncommitted batch of {lost} records is lost (rule: stop)"
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._rebuild()
            except (sqlite3.Error, StoreError) as again:
                self.close()
                rule += f"; reading the file back failed too ({again}): store closed"
            raise StoreError("commit", self._run_id, rule) from err
        self._committed = self._next - 1
        self._batch = []
        self._rows = []

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """The committed records from the file, then the batch from memory."""
        self.sync()
        conn = self._connection()
        last = max(after, 0)
        for seq, record in _journal(conn, self._run_id, last):
            yield seq, record
            last = seq
        first, batch = self._committed + 1, list(self._batch)  # a commit while iterating
        for seq, record in enumerate(batch, first):  # moves nothing twice
            if seq > last:
                yield seq, record
                last = seq

    # --- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Closes the file. An uncommitted batch is dropped, as a crash would lose it.
        Pipelined, waits for the writer to put every committed batch in the file, and
        raises if one failed (a failure not raised before)."""
        conn, self._conn = self._conn, None
        writer, self._writer = self._writer, None
        self._batch, self._rows = [], []
        if conn is not None:
            conn.close()  # first: the writer, closing last, checkpoints the WAL
        if writer is not None:
            writer.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = (
            "closed"
            if self._conn is None
            else (f"committed={self._committed} uncommitted={len(self._batch)}")
        )
        return f"SqliteStore({self._path!r}, run {self._run_id}, {state})"

    # --- internals ------------------------------------------------------------------------
    def _pipeline(self, call: Callable[[], None]) -> None:
        """Runs a writer call; its failure closes the store (rule: stop) and is raised."""
        try:
            call()
        except StoreError:
            self._close_quietly()
            raise

    def _close_quietly(self) -> None:
        with contextlib.suppress(StoreError):  # the failure being raised is the one that matters
            self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store", self._path, "is closed (rule: open it again to use it)")
        return self._conn

    def _start(self, run: RunStarted) -> None:
        """Record 1 and the run's row, committed at once, with the next free run number
        (taken under the write lock: two processes starting runs cannot share one)."""
        conn = self._connection()
        cursor = self._cursor
        cursor.execute("BEGIN IMMEDIATE")
        try:
            taken = cursor.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,))
            if taken.fetchone() is not None:
                rule = "already exists in this file (rule: a new id, or resume= to continue it)"
                raise StoreError("run_id", run.run_id, rule)
            number = cursor.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs")
            self._base = int(number.fetchone()[0]) << _SEQ_BITS
            self._sql = _Statements(self._run_id, self._base)
            self.append(run)
            self._sql.journal.write(cursor, self._rows)
            self._write(cursor, self._projection.drain())
            cursor.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._committed = self._next - 1
        self._batch, self._rows = [], []

    def _resume(self) -> None:
        conn = self._connection()
        row = conn.execute(
            "SELECT status, number FROM runs WHERE run_id = ?", (self._run_id,)
        ).fetchone()
        if row is None:
            raise StoreError("resume", self._run_id, "is not a run in this file")
        if row[0] != RUNNING:
            rule = f"has ended ({row[0]}) (rule: only an unended run can be resumed)"
            raise StoreError("resume", self._run_id, rule)
        self._base = int(row[1]) << _SEQ_BITS
        self._sql = _Statements(self._run_id, self._base)
        self._rebuild()

    def _rebuild(self) -> None:
        """Projection and numbering from the committed journal; any batch is dropped."""
        projection = RunProjection(self._run_id)
        last = 0
        for seq, record in _journal(self._connection(), self._run_id, 0):
            projection.fold(seq, record)
            last = seq
        projection.drain()  # its rows are in the file already
        self._projection, self._committed, self._next = projection, last, last + 1
        self._batch, self._rows = [], []

    def _write(self, cursor: _Cursor, changes: readmodel.Changes) -> None:
        if changes.run_started is not None:
            _RUNS.write(cursor, [*changes.run_started, self._base >> _SEQ_BITS])
        sql = self._sql
        if changes.orders:
            sql.orders.write(cursor, list(_chain(changes.orders)))
        if changes.positions:
            sql.positions.write(cursor, list(_chain(changes.positions)))
        if changes.balances:
            sql.balances.write(cursor, list(_chain(changes.balances)))
        if changes.run_ended is not None:
            ts, status, reason = changes.run_ended
            cursor.execute(_END_RUN, (ts, status, reason, self._run_id))


# --- the reader ---------------------------------------------------------------------------------
class RunReader:
    """Committed runs and their read models, over a read-only connection of its own.

    What reports and `quantx status/orders/positions/pnl` read: plain dicts keyed by
    column name (see `adapters.store.readmodel` for the columns), Decimals for amounts.
    Each call is one query, so it sees one committed state."""

    def __init__(self, path: StrPath) -> None:
        where = os.fspath(path)
        if not os.path.exists(where):
            raise StoreError("path", where, "does not exist (rule: a store file to read)")
        uri = Path(where).resolve().as_uri() + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            version = schema_version(conn)
        except sqlite3.Error as err:
            raise StoreError("path", where, f"cannot be read as a store ({err})") from err
        if version != SCHEMA_VERSION:
            conn.close()
            rule = f"is not {SCHEMA_VERSION} (rule: open it with SqliteStore to migrate it)"
            raise StoreError("schema_version", version, rule)
        self._conn: sqlite3.Connection | None = conn
        self._path = where

    def runs(self) -> list[dict[str, Any]]:
        """Every run in the order the file took them (the last is the latest; backtests
        all start at ts 0, so ts_started cannot order them): run_id, mode, strategy,
        params_json, config_json, ts_started, ts_ended (None while running), status
        (RUNNING or the end's), reason."""
        columns = ", ".join(readmodel.RUN_COLUMNS)
        return self._query(f"SELECT {columns} FROM runs ORDER BY number", ())

    def orders(self, run_id: str) -> list[dict[str, Any]]:
        """Latest state of every order of the run, in creation order."""
        return self._of_journal("orders", run_id)

    def fills(self, run_id: str) -> list[dict[str, Any]]:
        return self._of_journal("fills", run_id)

    def positions(self, run_id: str) -> list[dict[str, Any]]:
        """Latest position per account and symbol."""
        return self._of_run("positions", run_id, "account, symbol")

    def position_history(self, run_id: str) -> list[dict[str, Any]]:
        return self._of_journal("position_history", run_id)

    def balances(self, run_id: str) -> list[dict[str, Any]]:
        """Latest total per account and asset."""
        return self._of_run("balances", run_id, "account, asset")

    def equity(
        self, run_id: str, account: str | None = None, currency: str | None = None
    ) -> list[tuple[int, Decimal]]:
        """(ts_event, equity) in journal order for one curve: name the account (and the
        currency) only when the run sampled several."""
        rows = [
            r
            for r in self._of_journal("equity", run_id)
            if (account is None or r["account"] == account)
            and (currency is None or r["currency"] == currency)
        ]
        curves = sorted({(r["account"], r["currency"]) for r in rows})
        if len(curves) > 1:
            rule = f"is ambiguous: {run_id} has curves {curves} (rule: name one)"
            raise StoreError("account, currency", (account, currency), rule)
        return [(r["ts_event"], r["equity"]) for r in rows]

    def records(self, run_id: str, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """The run's committed journal, in order."""
        self._require_run(run_id)
        return _journal(self._connection(), run_id, max(after, 0))

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("reader", self._path, "is closed")
        return self._conn

    def _require_run(self, run_id: str) -> None:
        found = (
            self._connection().execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        )
        if found is None:
            raise StoreError("run_id", run_id, f"is not a run in {self._path}")

    def _of_run(self, table: str, run_id: str, order: str) -> list[dict[str, Any]]:
        self._require_run(run_id)
        sql = f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}"
        return self._query(sql, (run_id,))

    def _of_journal(self, view: str, run_id: str) -> list[dict[str, Any]]:
        """A table or view keyed by journal_id, for one run: its key range, in seq order."""
        number = _run_number(self._connection(), run_id)
        if number is None:
            raise StoreError("run_id", run_id, f"is not a run in {self._path}")
        base = number << _SEQ_BITS
        sql = f"SELECT * FROM {view} WHERE journal_id > ? AND journal_id < ? ORDER BY journal_id"
        return self._query(sql, (base, base + _SEQ_LIMIT))

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        cursor = self._connection().execute(sql, args)
        names = [d[0] for d in cursor.description]
        money = [i for i, n in enumerate(names) if n in _MONEY]
        shown = [i for i, n in enumerate(names) if n not in _HIDDEN]
        out = []
        for row in cursor.fetchall():
            values = list(row)
            for i in money:
                if values[i] is not None:
                    values[i] = Decimal(values[i])
            out.append({names[i]: values[i] for i in shown})
        return out
