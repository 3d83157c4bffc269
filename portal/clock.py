"""The portal's notion of "now": naive local time of the company (Asia/Shanghai).

Follow-up days and "overdue at the end of the day" are local-calendar rules, so
timestamps are stored as naive local times; one function makes that explicit
and lets the CLI simulate another day (sweep --date).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(ZONE).replace(tzinfo=None, microsecond=0)
