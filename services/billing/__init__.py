"""Billing: attribute every message to the source or destination partner by the migration-complete instant."""
