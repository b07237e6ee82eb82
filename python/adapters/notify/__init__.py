"""Notifier adapters: alerts to the log, or POSTed as JSON to a webhook."""
