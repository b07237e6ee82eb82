"""Venue adapters: simulated (backtest, paper) and ccxt (live: `ccxt_venue.CcxtVenue`)."""
