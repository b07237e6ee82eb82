"""Venue adapters: simulated (backtest, paper) and, later, ccxt (live)."""
