"""Reference data from seeds/*.csv, upserted by natural code: running twice changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Boolean, Integer, select
from sqlalchemy.orm import Session

from portal.models import (
    CompanyNature,
    EmployeeBand,
    FeedbackReason,
    FollowupTemplate,
    Grade,
    Industry,
    LostReason,
    Region,
    RevenueBand,
    Role,
    ServicePriority,
    ServiceType,
    Source,
    Stage,
)

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

# file → model, in dependency order. Regions come last (parents before children by code).
REFERENCE_FILES = [
    ("roles.csv", Role),
    ("grades.csv", Grade),
    ("followup_templates.csv", FollowupTemplate),
    ("stages.csv", Stage),
    ("sources.csv", Source),
    ("industries.csv", Industry),
    ("company_natures.csv", CompanyNature),
    ("revenue_bands.csv", RevenueBand),
    ("employee_bands.csv", EmployeeBand),
    ("service_types.csv", ServiceType),
    ("service_priorities.csv", ServicePriority),
    ("feedback_reasons.csv", FeedbackReason),
    ("lost_reasons.csv", LostReason),
    ("regions.csv", Region),
]


def _typed(model, row: dict[str, str]) -> dict:
    """CSV text → column types; empty cells are NULL."""
    values = {}
    for key, text in row.items():
        column = model.__table__.c[key]
        if text == "":
            values[key] = None
        elif isinstance(column.type, Boolean):
            values[key] = text.strip() in ("1", "true", "True", "yes")
        elif isinstance(column.type, Integer):
            values[key] = int(text)
        else:
            values[key] = text
    return values


def read_rows(filename: str, model) -> list[dict]:
    with open(SEEDS_DIR / filename, encoding="utf-8", newline="") as handle:
        return [_typed(model, row) for row in csv.DictReader(handle)]


def load_reference_data(session: Session) -> dict[str, tuple[int, int]]:
    """Insert missing rows and update changed ones; returns {file: (inserted, updated)}."""
    summary = {}
    for filename, model in REFERENCE_FILES:
        key = "code"
        existing = {getattr(obj, key): obj for obj in session.scalars(select(model))}
        inserted = updated = 0
        for values in read_rows(filename, model):
            obj = existing.get(values[key])
            if obj is None:
                session.add(model(**values))
                inserted += 1
                continue
            changed = False
            for field, value in values.items():
                if getattr(obj, field) != value:
                    setattr(obj, field, value)
                    changed = True
            updated += changed
        session.flush()
        summary[filename] = (inserted, updated)
    return summary
