"""Gateway: the HTTP front door (partner API, Meta webhooks in); no business rules."""
