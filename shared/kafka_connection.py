"""How every numport Kafka client reaches the brokers: plaintext, TLS, or SASL (PLAIN, SCRAM) over either.

One description serves aiokafka's producers and admin clients and FastStream's broker, so a cluster that
demands TLS or SASL (Strimzi's `tls` listener, a managed Kafka) needs settings, not code.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap: str
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)  # never logged: only the clients hold it
    ssl_cafile: str | None = None  # the cluster's CA (Strimzi: <cluster>-cluster-ca-cert, key ca.crt)

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        return create_ssl_context(cafile=self.ssl_cafile) if self.uses_tls else None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password)
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same for FastStream's broker."""
        if self.uses_sasl:
            return SASL[self.sasl_mechanism](self.sasl_username or "", self.sasl_password or "",
                                             ssl_context=self.ssl_context(), use_ssl=self.uses_tls)
        if self.uses_tls:
            return BaseSecurity(ssl_context=self.ssl_context(), use_ssl=True)
        return None
