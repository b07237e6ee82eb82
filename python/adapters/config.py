"""Run configuration: defaults < TOML file < environment (`QUANTX_...`, nested with `__`)
< command-line options. Every value is validated; an invalid one is a one-line error
naming its path, the value and the rule (`ConfigError`)."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from adapters.data import BUNDLED_BINANCE_DIR
from engine.domain.enums import TradingState
from engine.services.breakers import BreakerLimits
from engine.services.emergency import EmergencySettings
from engine.services.statistics import StatisticsParams

__all__ = [
    "DEMO_CAPTURE",
    "DEMO_STRATEGY",
    "ConfigError",
    "ConnectionSettings",
    "LiveConfig",
    "PaperAccountSettings",
    "PaperConfig",
    "RiskSettings",
    "RunConfig",
    "SafetySettings",
    "StatisticsSettings",
    "VenueSettings",
    "load_config",
    "load_live_config",
    "load_paper_config",
]

DEMO_CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
DEMO_STRATEGY = "engine.strategies.market_maker:MarketMaker"


_S = TypeVar("_S", bound=BaseSettings)


class ConfigError(ValueError):
    """An invalid configuration value or file, said on one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VenueSettings(_Strict):
    """The simulated venue: slippage cap default and command latencies."""

    default_slippage_bps: int = Field(default=50, ge=1, le=10_000)
    submit_latency_ns: int = Field(default=0, ge=0)
    cancel_latency_ns: int = Field(default=0, ge=0)
    modify_latency_ns: int = Field(default=0, ge=0)
    queue_model: Literal["conservative", "probabilistic"] = "conservative"


class RiskSettings(_Strict):
    """Limits of the pre-trade gate, the same for every instrument of a run."""

    max_notional: Decimal = Field(default=Decimal("1000000"), gt=0)
    max_position: Decimal = Field(default=Decimal("100"), gt=0)
    max_gross_exposure: Decimal = Field(default=Decimal("10000000"), gt=0)
    price_band_bps: int = Field(default=500, ge=1)
    rate_capacity: int = Field(default=1_000_000, ge=1)
    rate_refill_per_s: int = Field(default=1_000_000, ge=1)
    leverage: int = Field(default=1, ge=1, le=125)


class SafetySettings(_Strict):
    """Circuit breakers, the emergency stop, alerts and the health endpoint of a paper
    (or live) run. Drawdown and daily loss are fractions (0.10 = 10%) of the equity peak
    and of the UTC day's opening equity; null turns a breaker off. Defaults: drawdown
    above 10% halts, a daily loss above 5% allows reducing orders only, more than 20
    rejects and denials in 60 s halts. `kill` flattens with market orders capped at
    `flatten_slippage_bps` from the touch, at most `flatten_max_attempts` per instrument.
    `webhook_url`: alerts are also POSTed there. `health_port` 0 picks a free port."""

    max_drawdown: Decimal | None = Field(default=Decimal("0.10"), gt=0, lt=1)
    drawdown_state: Literal["REDUCING", "HALTED"] = "HALTED"
    max_daily_loss: Decimal | None = Field(default=Decimal("0.05"), gt=0, lt=1)
    daily_loss_state: Literal["REDUCING", "HALTED"] = "REDUCING"
    max_rejects: int | None = Field(default=20, ge=0)
    reject_window_s: float = Field(default=60.0, gt=0)
    flatten_slippage_bps: int = Field(default=100, ge=1, le=10_000)
    flatten_max_attempts: int = Field(default=20, ge=1, le=1_000)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    health_port: int = Field(default=0, ge=0, le=65_535)

    def breakers(self) -> BreakerLimits:
        return BreakerLimits(
            max_drawdown=self.max_drawdown,
            drawdown_state=TradingState(self.drawdown_state),
            max_daily_loss=self.max_daily_loss,
            daily_loss_state=TradingState(self.daily_loss_state),
            max_rejects=self.max_rejects,
            reject_window_ns=int(self.reject_window_s * 1e9),
        )

    def emergency(self) -> EmergencySettings:
        return EmergencySettings(
            slippage_bps=self.flatten_slippage_bps, max_attempts=self.flatten_max_attempts
        )


class StatisticsSettings(_Strict):
    """How performance figures are computed (definitions in `rust/stats/mod.rs`): returns
    sampled every `interval_s`, annualised with `periods_per_year` of them (crypto trades
    around the clock: 525,600 minutes a year), `risk_free_rate` a year."""

    interval_s: float = Field(default=60.0, gt=0)
    periods_per_year: float = Field(default=525_600.0, gt=0)
    risk_free_rate: float = Field(default=0.0, ge=-1)

    def params(self) -> StatisticsParams:
        """The service's parameters (the interval in whole nanoseconds)."""
        return StatisticsParams(
            interval_ns=int(self.interval_s * 1e9),
            periods_per_year=self.periods_per_year,
            risk_free_rate=self.risk_free_rate,
        )


class _Settings(BaseSettings):
    """Settings whose explicit values (the TOML file merged with the command line) beat
    the environment, and no other source is read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


class RunConfig(_Settings):
    """Everything a backtest needs; the defaults are the demo."""

    model_config = SettingsConfigDict(
        env_prefix="QUANTX_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data: list[Path] = Field(default_factory=lambda: [DEMO_CAPTURE])
    strategy: str = DEMO_STRATEGY
    params: dict[str, Any] = Field(default_factory=dict)
    cash: Decimal = Field(default=Decimal("100000"), gt=0)
    out: Path = Path("quantx-data")
    equity_interval_s: float = Field(default=1.0, gt=0)
    venue: VenueSettings = VenueSettings()
    risk: RiskSettings = RiskSettings()
    statistics: StatisticsSettings = StatisticsSettings()


class PaperAccountSettings(_Strict):
    """One virtual account: a name, the recordings (or, live, the markets) of the
    instruments it trades, and its starting balances (asset -> amount, >= 0)."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")
    data: list[Path] = Field(default_factory=list)
    exchange: Literal["binance", "binanceusdm", "upbit"] | None = None
    symbols: list[str] = Field(default_factory=list)
    balances: dict[str, Decimal] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> PaperAccountSettings:
        if bool(self.data) == bool(self.exchange):
            raise ValueError(
                f"account {self.name!r} needs either data (recordings) or exchange and "
                "symbols (live data), not both or neither"
            )
        if self.exchange and not self.symbols:
            raise ValueError(f"account {self.name!r}: exchange given without symbols")
        return self

    @field_validator("balances")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for asset, amount in value.items():
            if not re.fullmatch(r"[A-Z0-9]{1,12}", asset):
                raise ValueError(f"asset {asset!r} is not an upper-case code of 1-12 characters")
            if amount < 0:
                raise ValueError(f"balance {asset} = {amount} is negative (rule: >= 0)")
        return value


def _demo_accounts() -> list[PaperAccountSettings]:
    return [
        PaperAccountSettings(
            name="binance-usdm", data=[DEMO_CAPTURE], balances={"USDT": Decimal("100000")}
        )
    ]


class PaperConfig(_Settings):
    """Everything a paper run needs; the defaults replay the bundled futures capture in
    real time with the sample market maker and one account."""

    model_config = SettingsConfigDict(
        env_prefix="QUANTX_PAPER_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    strategy: str = DEMO_STRATEGY
    params: dict[str, Any] = Field(default_factory=dict)
    accounts: list[PaperAccountSettings] = Field(default_factory=_demo_accounts, min_length=1)
    speed: float = Field(default=1.0, gt=0, le=10_000)
    duration_s: float | None = Field(default=None, gt=0)
    out: Path = Path("quantx-data")
    equity_interval_s: float = Field(default=1.0, gt=0)
    venue: VenueSettings = VenueSettings()
    risk: RiskSettings = RiskSettings()
    safety: SafetySettings = SafetySettings()
    exchange_setup: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ConnectionSettings(_Strict):
    """How a live run keeps its exchange connections: reconnects wait `backoff_initial_s`
    doubling to `backoff_max_s` (equal jitter), and after `max_retries` failures in a
    row the feed gives up (trading HALTED, an alert); a symbol without an update for
    `stale_after_s` holds trading at REDUCING; a failed reconciliation is retried every
    `reconcile_retry_s` and start-up waits for one at most `reconcile_timeout_s`;
    each REST call is bounded by `call_timeout_s` and tried at most `max_attempts` times;
    book messages carry the top `depth` levels."""

    backoff_initial_s: float = Field(default=1.0, gt=0, le=60)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)
    max_retries: int = Field(default=10, ge=1, le=1000)
    stale_after_s: float = Field(default=5.0, gt=0)
    reconcile_retry_s: float = Field(default=5.0, gt=0)
    reconcile_timeout_s: float = Field(default=60.0, gt=0)
    call_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=5, ge=1, le=50)
    depth: int = Field(default=20, ge=1, le=1000)


class LiveConfig(_Settings):
    """Everything a live run needs. `exchange` is a ccxt id; `symbols` are ccxt unified
    symbols; `exchange_setup` (`module:function`) is called with the ccxt exchange
    before it connects (a testnet, a proxy, the tests' local fake exchange). API keys
    never come from here (see `adapters.exchanges.credentials`); `key_file` only names
    the file."""

    model_config = SettingsConfigDict(
        env_prefix="QUANTX_LIVE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    exchange: Literal["binance", "binanceusdm", "upbit"]
    symbols: list[str] = Field(min_length=1)
    strategy: str = DEMO_STRATEGY
    params: dict[str, Any] = Field(default_factory=dict)
    out: Path = Path("quantx-data")
    duration_s: float | None = Field(default=None, gt=0)
    equity_interval_s: float = Field(default=1.0, gt=0)
    key_file: Path | None = None
    exchange_setup: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    risk: RiskSettings = RiskSettings()
    safety: SafetySettings = SafetySettings()
    connection: ConnectionSettings = ConnectionSettings()


def load_live_config(path: Path | None = None, **overrides: Any) -> LiveConfig:
    """The live configuration from `path` (TOML; a `[live]` table or top-level keys),
    the environment and `overrides` (None values are ignored)."""
    return _load(LiveConfig, "live", path, overrides)


def load_paper_config(path: Path | None = None, **overrides: Any) -> PaperConfig:
    """The paper configuration from `path` (TOML; a `[paper]` table or top-level keys),
    the environment and `overrides` (None values are ignored)."""
    return _load(PaperConfig, "paper", path, overrides)


def load_config(path: Path | None = None, **overrides: Any) -> RunConfig:
    """The configuration from `path` (TOML; a `[backtest]` table or top-level keys),
    the environment and `overrides` (None values are ignored)."""
    return _load(RunConfig, "backtest", path, overrides)


def _load(model: type[_S], table: str, path: Path | None, overrides: dict[str, Any]) -> _S:
    values: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
        values = dict(doc.get(table, doc))
        if table == "paper":  # an account's data paths are relative to the config file
            for account in values.get("accounts", []):
                if isinstance(account, dict) and isinstance(account.get("data"), list):
                    account["data"] = [
                        str(path.parent / d)
                        if isinstance(d, str) and not Path(d).is_absolute()
                        else d
                        for d in account["data"]
                    ]
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return model(**values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        source = f"{path}: " if path is not None else ""
        if first["type"] == "missing":
            raise ConfigError(f"{source}config value {where}: missing (rule: required)") from None
        raise ConfigError(
            f"{source}config value {where} = {first.get('input')!r}: {first['msg']}"
        ) from None
