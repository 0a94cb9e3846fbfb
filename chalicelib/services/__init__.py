"""The domain: alert lifecycle, fan-out, subscriptions, reports, feeds. No HTTP here."""
