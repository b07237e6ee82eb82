"""Market-data feeds: the MarketDataFeed port for paper and live runs."""
