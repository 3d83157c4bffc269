"""Supervisors' reports (R-REPORT-1..7): every figure is a GROUP BY in the database.

Each report is a function `(session, report_filter) -> dataclass of figures`. The filter
carries the viewer, so every query adds `scope.visible(model, viewer)` (R-SCOPE-4), then
the chosen division, clerk and period. No report loads the rows it counts: a division of
a million customers comes back as a few dozen aggregated rows.
"""

from portal.services.reports.campaigns import campaign_results_of_period
from portal.services.reports.churn import churn_analysis
from portal.services.reports.compliance import followup_compliance
from portal.services.reports.composition import (
    DIMENSIONS,
    customer_composition,
    customer_compositions,
)
from portal.services.reports.contribution import contribution
from portal.services.reports.criteria import ReportFilter, last_month
from portal.services.reports.pipeline import pipeline
from portal.services.reports.pool import pool_analysis
from portal.services.reports.profile import customer_profiles
from portal.services.reports.service import service_analysis

__all__ = [
    "DIMENSIONS",
    "ReportFilter",
    "campaign_results_of_period",
    "churn_analysis",
    "contribution",
    "customer_composition",
    "customer_compositions",
    "customer_profiles",
    "followup_compliance",
    "last_month",
    "pipeline",
    "pool_analysis",
    "service_analysis",
]
