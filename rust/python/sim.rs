//! `SimVenue` for Python: argument conversions only; the venue lives in `crate::sim`.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::args::choice;
use super::errors::side_arg;
use crate::accounting::{Contract, ContractFees, FeeRate, FeeSchedule, Liquidity};
use crate::money::Money;
use crate::event::Event;
use crate::fixed::Grid;
use crate::l2::Rule;
use crate::query::{Level, LevelSource};
use crate::sim::{
    Amend, ConfigError, Feed, OrderId, OrderRequest, OrderType, QueueModel, ReportKind, SimConfig, SimVenue,
    TimeInForce,
};
use crate::Side;
use crate::trigger::{TrailOffset, TriggerSource};

/// The order types by their Python names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Market,
    Limit,
    StopMarket,
    StopLimit,
    TakeProfitMarket,
    TakeProfitLimit,
    TrailingStopMarket,
}

impl Kind {
    const NAMES: [(&'static str, Kind); 7] = [
        ("market", Kind::Market),
        ("limit", Kind::Limit),
        ("stop_market", Kind::StopMarket),
        ("stop_limit", Kind::StopLimit),
        ("take_profit_market", Kind::TakeProfitMarket),
        ("take_profit_limit", Kind::TakeProfitLimit),
        ("trailing_stop_market", Kind::TrailingStopMarket),
    ];

    fn name(self) -> &'static str {
        Kind::NAMES.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }

    /// Types that carry a limit price.
    fn has_price(self) -> bool {
        matches!(self, Kind::Limit | Kind::StopLimit | Kind::TakeProfitLimit)
    }

    fn conditional(self) -> bool {
        !matches!(self, Kind::Market | Kind::Limit)
    }

    /// The venue's order type, with the limit price where the type has one.
    fn order_type(self, price: i64) -> OrderType {
        match self {
            Kind::Market => OrderType::Market,
            Kind::Limit => OrderType::Limit { price },
            Kind::StopMarket => OrderType::StopMarket,
            Kind::StopLimit => OrderType::StopLimit { price },
            Kind::TakeProfitMarket => OrderType::TakeProfitMarket,
            Kind::TakeProfitLimit => OrderType::TakeProfitLimit { price },
            Kind::TrailingStopMarket => OrderType::TrailingStopMarket,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tif {
    Gtc,
    Ioc,
    Fok,
    Gtd,
}

fn missing(arg: &str, what: &str, value: &str) -> PyErr {
    PyValueError::new_err(format!("{arg} is missing: {what} {value:?} requires it"))
}

fn not_allowed(arg: &str, value: impl std::fmt::Display, rule: &str) -> PyErr {
    PyValueError::new_err(format!("{arg} {value} is not allowed ({rule})"))
}

fn bps_arg(arg: &str, bps: i64) -> PyResult<u32> {
    u32::try_from(bps).map_err(|_| {
        PyValueError::new_err(format!("{arg} {bps} is out of range (rule: 0 <= {arg} <= {})", u32::MAX))
    })
}

fn order_id_arg(order_id: i64) -> PyResult<OrderId> {
    OrderId::try_from(order_id).map_err(|_| {
        PyValueError::new_err(format!("order_id {order_id} is negative (rule: ids come from submit, >= 1)"))
    })
}

fn report_kind_name(k: &ReportKind) -> &'static str {
    match k {
        ReportKind::Accepted => "accepted",
        ReportKind::Rejected { .. } => "rejected",
        ReportKind::Filled { .. } => "filled",
        ReportKind::Canceled { .. } => "canceled",
        ReportKind::Expired => "expired",
        ReportKind::CancelRejected { .. } => "cancel_rejected",
        ReportKind::Modified { .. } => "modified",
        ReportKind::ModifyRejected { .. } => "modify_rejected",
        ReportKind::Triggered { .. } => "triggered",
    }
}

/// One report as (ts, order_id, kind, price, qty, liquidity, fee, leaves, reason).
type ReportRow = (i64, u64, &'static str, i64, i64, &'static str, String, i64, &'static str);

/// The order a `submit` or a `restore` describes, with the argument checks of the
/// bindings (the venue's own checks come later, as reports or a RestoreError).
#[allow(clippy::too_many_arguments)]
fn request(
    side: i64,
    order_type: &str,
    qty: i64,
    price: Option<i64>,
    trigger_price: Option<i64>,
    trigger_source: &str,
    trail_offset_ticks: Option<i64>,
    trail_offset_bps: Option<i64>,
    tif: &str,
    expiry: Option<i64>,
    post_only: bool,
    reduce_only: bool,
    slippage_bps: Option<i64>,
    client_id: Option<String>,
) -> PyResult<OrderRequest> {
    let side = side_arg(side)?;
    let kind = choice("order_type", order_type, &Kind::NAMES)?;
    let tif_kind = choice(
        "tif",
        tif,
        &[("gtc", Tif::Gtc), ("ioc", Tif::Ioc), ("fok", Tif::Fok), ("gtd", Tif::Gtd)],
    )?;
    let name = kind.name();
    let price = match (kind.has_price(), price) {
        (true, Some(p)) => p,
        (true, None) => return Err(missing("price", "order_type", name)),
        (false, Some(p)) => {
            return Err(not_allowed(
                "price",
                p,
                &format!(
                    "order_type {name:?} has no limit price; limit, stop_limit and take_profit_limit do"
                ),
            ))
        }
        (false, None) => 0,
    };
    let tif = match (tif_kind, expiry) {
        (Tif::Gtd, Some(e)) => TimeInForce::Gtd { expiry: e },
        (Tif::Gtd, None) => return Err(missing("expiry", "tif", "gtd")),
        (_, Some(e)) => return Err(not_allowed("expiry", e, "only tif \"gtd\" takes an expiry")),
        (Tif::Gtc, None) => TimeInForce::Gtc,
        (Tif::Ioc, None) => TimeInForce::Ioc,
        (Tif::Fok, None) => TimeInForce::Fok,
    };
    if let Some(b) = slippage_bps {
        if kind.has_price() {
            return Err(not_allowed(
                "slippage_bps",
                b,
                &format!("order_type {name:?} is a limit order; only market types take a slippage cap"),
            ));
        }
    }
    let slippage_bps = slippage_bps.map(|b| bps_arg("slippage_bps", b)).transpose()?;
    let source = choice(
        "trigger_source",
        trigger_source,
        &[
            ("last", TriggerSource::Last),
            ("bid_ask", TriggerSource::BidAsk),
            ("mark", TriggerSource::Mark),
        ],
    )?;
    if !kind.conditional() {
        let rule = format!("order_type {name:?} is not a conditional order");
        if let Some(t) = trigger_price {
            return Err(not_allowed("trigger_price", t, &rule));
        }
        if source != TriggerSource::Last {
            return Err(not_allowed("trigger_source", format!("{trigger_source:?}"), &rule));
        }
    } else if trigger_price.is_none() && kind != Kind::TrailingStopMarket {
        return Err(missing("trigger_price", "order_type", name));
    }
    let trail_offset = if kind == Kind::TrailingStopMarket {
        match (trail_offset_ticks, trail_offset_bps) {
            (Some(t), None) => Some(TrailOffset::Ticks(t)),
            (None, Some(b)) => Some(TrailOffset::Bps(bps_arg("trail_offset_bps", b)?)),
            (None, None) => {
                return Err(missing("trail_offset_ticks or trail_offset_bps", "order_type", name))
            }
            (Some(_), Some(b)) => {
                let rule = "trail_offset_ticks is given; rule: exactly one";
                return Err(not_allowed("trail_offset_bps", b, rule));
            }
        }
    } else {
        let rule = format!("order_type {name:?} is not trailing_stop_market");
        if let Some(t) = trail_offset_ticks {
            return Err(not_allowed("trail_offset_ticks", t, &rule));
        }
        if let Some(b) = trail_offset_bps {
            return Err(not_allowed("trail_offset_bps", b, &rule));
        }
        None
    };
    let req = OrderRequest {
        client_id,
        side,
        qty,
        order_type: kind.order_type(price),
        tif,
        post_only,
        slippage_bps,
        reduce_only,
        trigger_price,
        trigger_source: source,
        trail_offset,
    };
    Ok(req)
}

/// The simulated venue of one instrument (see `crate::sim` for every rule).
#[pyclass(module = "engine._core", name = "SimVenue")]
pub(crate) struct PySimVenue {
    inner: SimVenue,
    grid: Grid,
}

impl PySimVenue {
    /// The touch of `side` in whichever book the feed builds (L2 or L3).
    fn touch(&self, side: Side) -> Option<Level> {
        let m = self.inner.market();
        m.best_price(side).map(|p| (p, m.volume_at(side, p)))
    }
}

#[pymethods]
impl PySimVenue {
    #[new]
    #[pyo3(signature = (
        tick_size, lot_size, *, rule = "futures", maker_fee, taker_fee, fee_decimals = 8,
        default_slippage_bps = 50, submit_latency_ns = 0, cancel_latency_ns = 0,
        modify_latency_ns = 0, queue_model = "conservative", queue_power = 2, feed = "l2"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        tick_size: &str,
        lot_size: &str,
        rule: &str,
        maker_fee: &str,
        taker_fee: &str,
        fee_decimals: i64,
        default_slippage_bps: i64,
        submit_latency_ns: i64,
        cancel_latency_ns: i64,
        modify_latency_ns: i64,
        queue_model: &str,
        queue_power: u32,
        feed: &str,
    ) -> PyResult<PySimVenue> {
        let config_err = |e: ConfigError| PyValueError::new_err(e.to_string());
        let queue_model = QueueModel::parse(queue_model, queue_power).map_err(config_err)?;
        let feed = Feed::parse(feed).map_err(config_err)?;
        let rule = choice("rule", rule, &[("spot", Rule::Spot), ("futures", Rule::Futures)])?;
        let grid = Grid::new(tick_size, lot_size)
            .map_err(|e| super::errors::FixedPointError::new_err(format!("tick_size/lot_size: {e}")))?;
        let contract =
            Contract::new(&grid).map_err(|e| PyValueError::new_err(format!("tick_size/lot_size: {e}")))?;
        for (arg, rate) in [("maker_fee", maker_fee), ("taker_fee", taker_fee)] {
            FeeRate::parse(rate).map_err(|e| PyValueError::new_err(format!("{arg}: {e}")))?;
        }
        let decimals = u32::try_from(fee_decimals).ok().filter(|d| *d <= Money::SCALE).ok_or_else(|| {
            PyValueError::new_err(format!(
                "fee_decimals {fee_decimals} is out of range (rule: 0 <= fee_decimals <= {})",
                Money::SCALE
            ))
        })?;
        let schedule = FeeSchedule::new(maker_fee, taker_fee, decimals)
            .map_err(|e| PyValueError::new_err(format!("fees: {e}")))?;
        let cfg = SimConfig {
            submit_latency_ns,
            cancel_latency_ns,
            modify_latency_ns,
            queue_model,
            feed,
            ..SimConfig::new(
                rule,
                bps_arg("default_slippage_bps", default_slippage_bps)?,
                ContractFees::new(schedule, &contract),
            )
        };
        let inner = SimVenue::try_new(cfg).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PySimVenue { inner, grid })
    }

    /// Market-data rows (EVENT_DTYPE), applied with the GIL released. Returns how many
    /// reports are waiting to be drained (0: a caller can skip `drain_reports`).
    #[pyo3(signature = (events, row_offset = 0))]
    fn apply_events(
        &mut self,
        py: Python<'_>,
        events: PyReadonlyArray1<'_, Event>,
        row_offset: u64,
    ) -> PyResult<usize> {
        let rows = events.as_slice().map_err(|_| {
            PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)")
        })?;
        let venue = &mut self.inner;
        py.detach(|| venue.on_events(rows, row_offset));
        Ok(self.inner.reports().len())
    }

    fn advance_to(&mut self, ts: i64) {
        self.inner.advance_to(ts);
    }

    #[pyo3(signature = (
        ts, side, order_type, qty, *, price = None, trigger_price = None, trigger_source = "last",
        trail_offset_ticks = None, trail_offset_bps = None, tif = "gtc", expiry = None,
        post_only = false, reduce_only = false, slippage_bps = None, client_id = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &mut self,
        ts: i64,
        side: i64,
        order_type: &str,
        qty: i64,
        price: Option<i64>,
        trigger_price: Option<i64>,
        trigger_source: &str,
        trail_offset_ticks: Option<i64>,
        trail_offset_bps: Option<i64>,
        tif: &str,
        expiry: Option<i64>,
        post_only: bool,
        reduce_only: bool,
        slippage_bps: Option<i64>,
        client_id: Option<String>,
    ) -> PyResult<u64> {
        let req = request(
            side, order_type, qty, price, trigger_price, trigger_source, trail_offset_ticks,
            trail_offset_bps, tif, expiry, post_only, reduce_only, slippage_bps, client_id,
        )?;
        Ok(self.inner.submit(ts, req))
    }

    /// An order held before a restart, put back under its id with `filled` lots of `qty`
    /// filled; no report (rules: `crate::sim::restore`).
    #[pyo3(signature = (
        order_id, side, order_type, qty, *, filled = 0, price = None, trigger_price = None,
        trigger_source = "last", trail_offset_ticks = None, trail_offset_bps = None, tif = "gtc",
        expiry = None, post_only = false, reduce_only = false, client_id = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn restore(
        &mut self,
        order_id: i64,
        side: i64,
        order_type: &str,
        qty: i64,
        filled: i64,
        price: Option<i64>,
        trigger_price: Option<i64>,
        trigger_source: &str,
        trail_offset_ticks: Option<i64>,
        trail_offset_bps: Option<i64>,
        tif: &str,
        expiry: Option<i64>,
        post_only: bool,
        reduce_only: bool,
        client_id: Option<String>,
    ) -> PyResult<()> {
        let id = order_id_arg(order_id)?;
        let req = request(
            side, order_type, qty, price, trigger_price, trigger_source, trail_offset_ticks,
            trail_offset_bps, tif, expiry, post_only, reduce_only, None, client_id,
        )?;
        self.inner.restore(id, req, filled).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Ids below `next_id` are never handed out again.
    fn reserve_ids(&mut self, next_id: i64) -> PyResult<()> {
        self.inner.reserve_ids(order_id_arg(next_id)?);
        Ok(())
    }

    /// The id the next submit gets.
    #[getter]
    fn next_order_id(&self) -> u64 {
        self.inner.next_order_id()
    }

    fn cancel(&mut self, ts: i64, order_id: i64) -> PyResult<()> {
        self.inner.cancel(ts, order_id_arg(order_id)?);
        Ok(())
    }

    #[pyo3(signature = (ts, order_id, *, price = None, qty = None, trigger_price = None))]
    fn modify(
        &mut self,
        ts: i64,
        order_id: i64,
        price: Option<i64>,
        qty: Option<i64>,
        trigger_price: Option<i64>,
    ) -> PyResult<()> {
        self.inner.amend(ts, order_id_arg(order_id)?, Amend { price, qty, trigger_price });
        Ok(())
    }

    /// A mark price at `ts` (market data, like a row).
    fn on_mark(&mut self, ts: i64, price: i64) -> PyResult<()> {
        self.inner.on_mark(ts, price).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Every report since the last drain, oldest first.
    fn drain_reports(&mut self) -> Vec<ReportRow> {
        self.inner
            .drain_reports()
            .map(|r| {
                let name = report_kind_name(&r.kind);
                let (ts, id) = (r.ts, r.order);
                match r.kind {
                    ReportKind::Filled { price, qty, liquidity, fee, leaves } => {
                        let liq = match liquidity {
                            Liquidity::Maker => "maker",
                            Liquidity::Taker => "taker",
                        };
                        (ts, id, name, price, qty, liq, fee.to_string(), leaves, "")
                    }
                    ReportKind::Modified { price, qty } => {
                        (ts, id, name, price, qty, "", String::new(), 0, "")
                    }
                    ReportKind::Triggered { price } => (ts, id, name, price, 0, "", String::new(), 0, ""),
                    ReportKind::Rejected { reason }
                    | ReportKind::Canceled { reason }
                    | ReportKind::CancelRejected { reason }
                    | ReportKind::ModifyRejected { reason } => {
                        (ts, id, name, 0, 0, "", String::new(), 0, reason.as_str())
                    }
                    ReportKind::Accepted | ReportKind::Expired => {
                        (ts, id, name, 0, 0, "", String::new(), 0, "")
                    }
                }
            })
            .collect()
    }

    #[getter]
    fn position(&self) -> i64 {
        self.inner.position()
    }

    fn set_position(&mut self, lots: i64) {
        self.inner.set_position(lots);
    }

    /// Resting orders, ascending id: (id, client_id, side, price, qty, filled).
    fn open_orders(&self) -> Vec<(u64, Option<String>, u8, i64, i64, i64)> {
        let mut v: Vec<_> = self
            .inner
            .open_orders()
            .map(|o| (o.id, o.client_id.clone(), o.side as u8, o.price, o.qty, o.filled))
            .collect();
        v.sort_unstable_by_key(|o| o.0);
        v
    }

    fn best_bid(&self) -> Option<Level> {
        self.touch(Side::Bid)
    }

    fn best_ask(&self) -> Option<Level> {
        self.touch(Side::Ask)
    }

    /// (best bid, best ask) of the market book in one call: what `L2Book.top()` gives
    /// for the same rows (a kernel reads the venue's book instead of keeping a copy).
    fn top(&self) -> (Option<Level>, Option<Level>) {
        (self.touch(Side::Bid), self.touch(Side::Ask))
    }

    /// Up to `n` levels of the market book's `side` (0 bid, 1 ask), best first, as
    /// `L2Book.depth`.
    fn depth(&self, side: i64, n: usize) -> PyResult<Vec<Level>> {
        let m = self.inner.market();
        Ok(crate::query::BookQueries::depth(&m, side_arg(side)?, n))
    }

    #[getter]
    fn stale(&self) -> bool {
        self.inner.market().is_stale()
    }

    #[getter]
    fn clock(&self) -> i64 {
        self.inner.clock()
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("rows", s.rows)?;
        d.set_item("book_messages", s.book_messages)?;
        d.set_item("level_rows", s.level_rows)?;
        d.set_item("trades", s.trades)?;
        d.set_item("gaps", s.gaps)?;
        d.set_item("book_errors", s.book_errors)?;
        d.set_item("ignored_rows", s.ignored_rows)?;
        d.set_item("orders", s.orders)?;
        d.set_item("fills", s.fills)?;
        d.set_item("pending_commands", self.inner.pending_commands())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "SimVenue(tick_size={:?}, lot_size={:?}, clock={}, position={}, open_orders={})",
            self.grid.tick.as_str(),
            self.grid.lot.as_str(),
            self.inner.clock(),
            self.inner.position(),
            self.inner.open_order_count()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimVenue>()?;
    Ok(())
}
