"""Kafka over plaintext, TLS or SASL: one description feeds aiokafka and FastStream alike, and hides the password."""

from __future__ import annotations

import ssl

import pytest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram512

from shared.kafka_connection import KafkaConnection
from shared.settings import ServiceSettings, kafka_connection


def test_plaintext_is_just_the_address():
    plain = KafkaConnection("kafka:9092")
    assert plain.client_options() == {"bootstrap_servers": "kafka:9092", "security_protocol": "PLAINTEXT"}
    assert plain.faststream_security() is None


def test_tls_brings_a_verifying_context():
    tls = KafkaConnection("kafka:9093", "SSL")
    options = tls.client_options()
    assert options["security_protocol"] == "SSL" and isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED and "sasl_mechanism" not in options
    security = tls.faststream_security()
    assert type(security) is BaseSecurity and security.use_ssl


@pytest.mark.parametrize("mechanism, kind", [("PLAIN", SASLPlaintext), ("SCRAM-SHA-512", SASLScram512)])
def test_sasl_over_tls_and_the_password_stays_out_of_reprs(mechanism, kind):
    sasl = KafkaConnection("kafka:9094", "SASL_SSL", mechanism, "numport", "s3cr3t-pass")
    options = sasl.client_options()
    assert options["sasl_mechanism"] == mechanism and options["sasl_plain_username"] == "numport"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    security = sasl.faststream_security()
    assert type(security) is kind and security.use_ssl
    assert "s3cr3t-pass" not in repr(sasl)


def test_settings_name_the_connection(monkeypatch):
    monkeypatch.setenv("NUMPORT_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("NUMPORT_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("NUMPORT_KAFKA_SASL_USERNAME", "numport")
    monkeypatch.setenv("NUMPORT_KAFKA_SASL_PASSWORD", "s3cr3t-pass")
    settings = ServiceSettings(kafka_bootstrap="kafka:9092", database_url="postgresql://x@y/z")
    connection = kafka_connection(settings)
    assert connection.security_protocol == "SASL_PLAINTEXT" and connection.sasl_password == "s3cr3t-pass"
    assert "s3cr3t-pass" not in repr(settings) and not connection.uses_tls
