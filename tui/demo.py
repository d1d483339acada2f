"""``--demo``: a records database seeded with a few sample clients and consultations.

The samples are assessed with the knowledge in use and saved through the records API, exactly
as consultations saved from the app are. No real person is described.
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.assessment import Assessor
from engine.case import case_from_data
from engine.errors import CaseError
from engine.records import RecordStore

DEMO_PRACTITIONER = "Demo Practitioner RN"

CLEAN_CASE: dict[str, Any] = {
    "client": {
        "age": 36,
        "sex": "F",
        "fitzpatrick": 2,
        "pregnant": False,
        "breastfeeding": False,
        "keloid_history": False,
        "hsv_history": False,
        "active_acne": "none",
        "conditions": [],
        "medications": [],
        "allergies": [],
        "sun": {"sunburn_days_ago": None, "tan_days_ago": None},
        "recent_procedures": [],
        "last_microneedling_days_ago": None,
        "pain_tolerance": "normal",
    },
    "plan": {
        "indication": "fine_lines",
        "device": "automated_pen",
        "areas": [{"zone": "forehead", "depth_mm": 0.5}, {"zone": "cheeks", "depth_mm": 1.0}],
        "serums": ["device-supplied hydrogel"],
        "anesthetic": "topical lidocaine",
        "sessions": 3,
        "interval_days": 28,
    },
}
"""A complete, clean case (as examples/clean-client.yaml); the demo clients vary it."""


def _case(changes: Mapping[str, Any], days_ago: int, today: dt.date) -> dict[str, Any]:
    """The clean case with ``client``/``plan`` keys replaced, dated ``days_ago``."""
    data = copy.deepcopy(CLEAN_CASE)
    for part in ("client", "plan"):
        data[part].update(changes.get(part, {}))
    for key in ("clearances", "overrides"):
        if key in changes:
            data[key] = copy.deepcopy(changes[key])
    data["consultation_date"] = (today - dt.timedelta(days=days_ago)).isoformat()
    for clearance in data.get("clearances", []):
        clearance.setdefault("date", data["consultation_date"])
    return data


SAMPLES: tuple[tuple[str, str, tuple[tuple[int, Mapping[str, Any], str], ...]], ...] = (
    ("Alex Morgan", "DEMO-001", ((21, {}, "first course of three"),)),
    (
        "Sam Patel",
        "DEMO-002",
        (
            (
                35,
                {
                    "client": {
                        "age": 58,
                        "conditions": [{"name": "atrial fibrillation", "status": "controlled"}],
                        "medications": [{"name": "Eliquis", "status": "current"}],
                    },
                },
                "anticoagulant: GP asked for clearance",
            ),
            (
                7,
                {
                    "client": {
                        "age": 58,
                        "conditions": [{"name": "atrial fibrillation", "status": "controlled"}],
                        "medications": [{"name": "Eliquis", "status": "current"}],
                    },
                    "clearances": [
                        {
                            "code": "ANTICOAG_ANTIPLATELET",
                            "by": "Dr A. Smith (GP)",
                            "note": "demo clearance",
                        },
                    ],
                },
                "cleared by the GP",
            ),
        ),
    ),
    ("Jordan Lee", "DEMO-003", ((3, {"client": {"age": 31, "pregnant": True}}, "deferred"),)),
    (
        "Riley Chen",
        "DEMO-004",
        (
            (
                14,
                {
                    "client": {"age": 33, "sex": "M"},
                    "plan": {
                        "indication": "acne_scars_atrophic",
                        "areas": [{"zone": "cheeks", "depth_mm": 2.4}],
                        "sessions": 4,
                        "interval_days": 30,
                    },
                },
                "planned too deep: see the depth suggestion",
            ),
        ),
    ),
    (
        "Casey Novak",
        "DEMO-005",
        (
            (
                1,
                {
                    "client": {
                        "age": 29,
                        "fitzpatrick": 3,
                        "conditions": [
                            {"name": "atopic dermatitis", "status": "active", "site": "forearms"}
                        ],
                        "medications": [{"name": "hydrocortisone cream", "status": "current"}],
                    },
                },
                "eczema away from the treated zones",
            ),
        ),
    ),
)
"""(name, reference, ((days ago, changes to the clean case, note), ...))."""


def demo_db_path(path: Path | None = None) -> Path:
    """The demo database: ``path``, or a new file in a private temporary directory."""
    if path is not None:
        return path
    return Path(tempfile.mkdtemp(prefix="needlewise-demo-")) / "demo.sqlite3"


def seed(store: RecordStore, assessor: Assessor, *, today: dt.date | None = None) -> int:
    """Add the sample clients and consultations unless the store already has clients.

    Returns the number of consultations saved (0 when the store was not empty).
    """
    if store.clients(include_erased=True):
        return 0
    when = today or dt.date.today()  # noqa: DTZ011 - a local calendar day
    knowledge = assessor.knowledge
    saved = 0
    for name, reference, visits in SAMPLES:
        client = store.add_client(name, reference=reference, by=DEMO_PRACTITIONER)
        for days_ago, changes, note in visits:
            data = _case(changes, days_ago, when)
            try:
                case = case_from_data(knowledge, data, file=f"demo {reference}")
            except CaseError:
                continue  # a knowledge that asks other questions: skip this sample
            store.save_consultation(
                client.id,
                case_data=data,
                assessment=assessor.assess(case),
                knowledge=knowledge,
                practitioner=DEMO_PRACTITIONER,
                note=note,
            )
            saved += 1
    return saved
