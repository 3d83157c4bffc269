"""Service analysis (R-REPORT-5, R-SERVICE-3): per handler, type and month.

The figures are services/service_requests.py's `service_metrics` (one GROUP BY each), so
the report, the dashboard card and the service pages agree on what "response time" is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.services.reports.criteria import ReportFilter
from portal.services.service_requests import MetricsRow, service_metrics


@dataclass
class ServiceAnalysis:
    total: MetricsRow
    by_handler: list[MetricsRow]
    by_type: list[MetricsRow]
    by_month: list[MetricsRow]


def service_analysis(session: Session, f: ReportFilter) -> ServiceAnalysis:
    """Requests created in the period, within scope and division (and handled by the
    report's clerk, if one is chosen), grouped three ways."""
    groups = {
        group: service_metrics(
            session,
            f.user,
            start=f.start,
            end=f.end,
            division_id=f.division_id,
            handler_id=f.clerk_id,
            group_by=group,
        )
        for group in ("handler", "type", "month")
    }
    return ServiceAnalysis(
        total=groups["handler"]["total"],
        by_handler=groups["handler"]["rows"],
        by_type=groups["type"]["rows"],
        by_month=groups["month"]["rows"],
    )
