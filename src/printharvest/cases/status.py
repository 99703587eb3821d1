"""The one owner of case state: which status may follow which, and the one way to change it.

Every writer of a case's status (the case service for the data manager, the exporter, the
NRDR outbox with the registry's answers, the synthetic data) calls :func:`move`, which checks
:data:`TRANSITIONS` and writes the change with one audit entry (action ``status``, field
``status``, old, new) in the caller's transaction. Whether a case must also *validate* before
it moves is the case service's business (``CaseService.set_status``); the table here only says
which steps exist.
"""

from __future__ import annotations

from printharvest.cases.model import CASE_STATUSES
from printharvest.exceptions import ValidationError
from printharvest.store import Store
from printharvest.store.workflow import change_status

REGISTRY_ANSWERS: tuple[str, ...] = ("accepted", "rejected")
"""The statuses only the registry gives."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "needs_clinical": ("ready",),
    # ready -> accepted / rejected: the registry already answered this exact case version
    # (edited and edited back), so the case takes that answer again.
    "ready": ("needs_clinical", "exported", "submitted", *REGISTRY_ANSWERS),
    # exported -> exported: a case may be exported again (each export is recorded);
    # exported -> accepted / rejected: the registry's result for the uploaded file.
    "exported": ("ready", "needs_clinical", "exported", "submitted", *REGISTRY_ANSWERS),
    "submitted": (*REGISTRY_ANSWERS, "ready", "needs_clinical"),
    "accepted": ("ready", "needs_clinical"),
    "rejected": ("ready", "needs_clinical", "submitted"),
}
"""Which status may follow which (the registry's answers included)."""


class StatusTransitionError(ValidationError):
    """A status change the workflow does not allow."""

    def __init__(self, case_id: int, old: str, new: str, why: str = "") -> None:
        super().__init__("status", f"case {case_id} is {old} and cannot become {new}"
                                   + (f" ({why})" if why else ""))
        self.case_id = case_id
        self.old = old
        self.new = new


def allowed(old: str, new: str) -> bool:
    """True when a case of status ``old`` may become ``new`` (staying put always may)."""
    return new == old or new in TRANSITIONS.get(old, ())


def move(store: Store, case_id: int, status: str, actor: str) -> str:
    """Change a case's status if the table allows it, audited; return the old status.

    Call it inside the caller's transaction (the change commits with what caused it).
    Raises ValidationError for an unknown status, StatusTransitionError for a forbidden step.
    Staying at the same status writes nothing.
    """
    if status not in CASE_STATUSES:
        raise ValidationError("status", f"{status!r} is not one of {', '.join(CASE_STATUSES)}")
    old = store.case_row(case_id).status
    if not allowed(old, status):
        raise StatusTransitionError(case_id, old, status)
    return change_status(store, case_id, status, actor)
