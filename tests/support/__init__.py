"""Helpers shared by the test tiers: Kafka I/O, service processes, the sandbox server."""
