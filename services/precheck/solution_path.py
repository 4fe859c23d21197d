"""When a number may move by Meta's solution-migration intent instead of an ownership code (pure).

Meta's guides for Multi-Partner Solutions (migrating WABAs among solutions, migrating customers off a solution):
the customer's own business portfolio holds the WABA on both sides, the destination solution is ACTIVE, and the
number does not also run on the WhatsApp Business app (coexistence numbers cannot use these paths). Then the
customer accepts an intent instead of reading a code, and the number keeps serving while it moves. Not meeting
a condition blocks nothing: the migration takes the code path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.events import MigrationRequested, SolutionMigrationQualification

if TYPE_CHECKING:  # domain.py calls this module
    from services.precheck.domain import Facts


def _no(code: str, message: str, solution_id: str | None = None) -> SolutionMigrationQualification:
    """Worded so that, shown alone, it reads as the choice of a path and not as a blocker."""
    return SolutionMigrationQualification(qualifies=False, reason_code=code, message=message, solution_id=solution_id)


def _code_path(why: str) -> str:
    return f"The number moves with an ownership code: {why}"


def qualification(req: MigrationRequested, f: Facts) -> SolutionMigrationQualification:
    """The first condition not met, in the order a support agent would check them; else QUALIFIES."""
    if req.flow != "programmatic":
        return _no("NOT_PROGRAMMATIC", "The no-code path is for programmatic migrations; Embedded Signup proves "
                                       "ownership in the customer's own session.")
    if f.on_biz_app:
        return _no("COEXISTENCE_NUMBER", _code_path("it also runs on the WhatsApp Business app."))
    if f.source_waba_owner is None or f.source_waba_owner != f.destination_waba_owner:
        return _no("DIFFERENT_PORTFOLIO", _code_path("the two WABAs are not held by the same business portfolio."))
    if f.destination_solution_id is None:
        return _no("NO_DESTINATION_SOLUTION", _code_path("the destination WABA is on no Multi-Partner Solution."))
    if f.destination_solution_status != "ACTIVE":
        return _no("DESTINATION_SOLUTION_NOT_ACTIVE",
                   _code_path(f"the destination solution is {f.destination_solution_status}, not ACTIVE."),
                   f.destination_solution_id)
    return SolutionMigrationQualification(
        qualifies=True, reason_code="QUALIFIES", solution_id=f.destination_solution_id,
        message="Same business portfolio on both sides, the destination solution is ACTIVE and the number is not "
                "on the WhatsApp Business app: the customer accepts an intent, no code is needed.")
