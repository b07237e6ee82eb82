"""Exchanges through ccxt: error classification, retry timing, rate limits, and the
asyncio loop the (synchronous) kernel reaches ccxt through."""
