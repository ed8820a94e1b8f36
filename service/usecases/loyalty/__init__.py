"""Loyalty: balances read from the ERP (balances), redemption holds at checkout (holds) and
their posting to the ERP at most once (relay)."""
