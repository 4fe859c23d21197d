"""Real Kafka and PostgreSQL as local processes, for machines without a Docker engine."""
