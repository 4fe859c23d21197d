"""SQL migrations of the shared runtime, applied into every service's schema."""
