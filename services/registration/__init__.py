"""Registration saga: OBO, add number, ownership code, register on Cloud API, credit line, webhooks, API key."""
