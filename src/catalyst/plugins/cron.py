"""Cron expressions: validation and fire times.

Cron format
    Five fields, ``minute hour day-of-month month day-of-week`` (``*/5 * * * *``: every five
    minutes), or six with the seconds FIRST, ``second minute hour day-of-month month
    day-of-week`` (``*/10 * * * * *``: every ten seconds), as in node-cron, which the original
    Catalyst used, and Quartz. (croniter on its own reads a sixth field as seconds *last*; we pass
    ``second_at_beginning=True``.) croniter's aliases (``@hourly``, ``@daily``…) work too.
    Expressions are evaluated in UTC. A malformed expression, or one that never fires
    (``0 0 31 4 *``), is a ``ValueError`` naming the expression and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, final

from croniter import croniter


@final
class CronSchedule:
    """A validated cron expression (see the module docstring) that computes fire times."""

    def __init__(self, expr: str) -> None:
        if not isinstance(expr, str):
            raise TypeError(f"cron expression must be a str, not {type(expr).__name__}")
        fields = expr.split()
        if not (len(fields) in (5, 6) or (len(fields) == 1 and fields[0].startswith("@"))):
            raise ValueError(
                f"invalid cron expression {expr!r}: expected 5 fields (minute hour day month "
                f"weekday) or 6 with seconds first (second minute hour day month weekday), "
                f"got {len(fields)}"
            )
        self.expr: Final = " ".join(fields)
        try:
            self.next_after(datetime(2000, 1, 1, tzinfo=UTC))
        except ValueError as exc:  # croniter's errors are ValueErrors
            reason = "it never fires" if "find next date" in str(exc) else str(exc)
            raise ValueError(f"invalid cron expression {expr!r}: {reason}") from exc

    def next_after(self, when: datetime) -> datetime:
        """The first fire time strictly after ``when`` (aware, UTC)."""
        it = croniter(self.expr, when.astimezone(UTC), second_at_beginning=True)
        return it.get_next(datetime).astimezone(UTC)

    def __repr__(self) -> str:
        return f"CronSchedule({self.expr!r})"
