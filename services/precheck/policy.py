"""Which checks apply to which flow, to be read next to the source documents.

Programmatic migration (Meta's programmatic guide, 360dialog, Sinch): the BSP drives every step, so the
business ID, admin access and where the number runs today all matter. Embedded Signup (Meta's guides in
German and French): the customer signs in to their own portfolio inside the flow, which settles the
business and admin questions, and Meta takes numbers from either platform.
"""

from __future__ import annotations

from services.precheck import checks
from services.precheck.domain import Check

POLICY: dict[str, tuple[Check, ...]] = {
    "programmatic": checks.ALL_CHECKS,
    "embedded_signup": tuple(c for c in checks.ALL_CHECKS
                             if c not in (checks.same_business, checks.admin_access, checks.source_platform)),
}
