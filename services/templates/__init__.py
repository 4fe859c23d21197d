"""Templates: duplicate APPROVED+GREEN templates to the destination WABA, up to its limit."""
