"""Stage 2: the typed knowledge model. These pydantic models are the knowledge file format.

Every model is frozen and forbids unknown keys, so a typo in a YAML key is a located error
instead of a silently ignored setting. The JSON Schema that editors use is generated from here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalar = str | int | float | bool | None
Tier = Literal[
    "regulator", "peer_reviewed", "society", "manufacturer", "clinic", "consumer", "seed"
]
Level = Literal["absolute", "relative", "caution", "info"]
Action = Literal["decline", "defer", "refer", "decline_zone", "modify", "counsel"]
Decision = Literal[
    "PROCEED",
    "PROCEED_WITH_MODIFICATIONS",
    "NEEDS_ANSWERS",
    "DECLINE_AREA",
    "REFER_FOR_CLEARANCE",
    "DEFER",
    "DECLINE",
]
TermKind = Literal["medication", "condition", "substance", "procedure", "site"]
FieldType = Literal["boolean", "integer", "number", "enum", "term", "site", "text", "date"]

RULE_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
CODE = r"^[A-Z][A-Z0-9_]*$"
NAME = r"^[a-z][a-z0-9_]*$"

TIER_RANK: dict[str, int] = {
    "regulator": 0,
    "peer_reviewed": 1,
    "society": 2,
    "manufacturer": 3,
    "clinic": 4,
    "seed": 5,
    "consumer": 6,
}
"""Strength of evidence, strongest first (the order of DESIGN.md section 6)."""

LEVEL_RANK: dict[str, int] = {"absolute": 0, "relative": 1, "caution": 2, "info": 3}
"""Severity of a finding level, most severe first."""


class Frozen(BaseModel):
    """Base: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Manifest(Frozen):
    """``knowledge.yaml``: what this knowledge base is and who reviewed this release."""

    name: Annotated[str, Field(pattern=NAME)]
    """Machine name, e.g. ``microneedling``."""
    version: str
    """Release version of the knowledge (not of the software)."""
    title: str
    description: str = ""
    reviewed_by: str | None = None
    """Who clinically reviewed this release (``check`` warns when empty)."""
    reviewed_on: dt.date | None = None
    disclaimer: str
    """Shown on every assessment: decision support, not diagnosis."""


class Source(Frozen):
    """One entry of the source register."""

    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    title: str
    address: str | list[str]
    """Web address(es) where the source was read."""
    tier: Tier
    note: str = ""
    """What was read (abstract only, secondary summary...)."""


class SourceFile(Frozen):
    """``sources.yaml``."""

    sources: list[Source]


class CatalogueEntry(Frozen):
    """One finding code: its default level, what to do about it, and how to explain it."""

    code: Annotated[str, Field(pattern=CODE)]
    level: Level
    action: Action
    title: str
    description: str
    advice: str
    """What the practitioner does (may be refined by the rule that raises it)."""


class CatalogueFile(Frozen):
    """``catalogue.yaml``."""

    findings: list[CatalogueEntry]


class FieldSpec(Frozen):
    """One intake question: a field of a fact kind."""

    type: FieldType
    question: str = ""
    """The question as asked of the practitioner."""
    help: str = ""
    unit: str = ""
    values: list[Scalar] | None = None
    """Allowed values (``enum``)."""
    aliases: dict[str, Scalar] = Field(default_factory=dict)
    """Accepted spellings mapped to a canonical value (e.g. ``IV: 4``)."""
    min: float | None = None
    max: float | None = None
    terms: list[TermKind] = Field(default_factory=list)
    """Terminology kinds a ``term`` field is matched against."""
    optional: bool = False
    """Optional in the v1 contract: its absence is never a missing answer."""
    default: Scalar = None
    """Value used when the key is absent (the field then never counts as unanswered)."""
    has_default: bool = False
    """True when ``default`` applies (so that a default of ``null``/``false`` is expressible)."""
    default_from: str | None = None
    """Case path whose value is used when absent (e.g. ``plan.indication``)."""
    null_means: Scalar = None
    """Value stored when the answer is an explicit null (``never``/``none``)."""
    ask_when: dict[str, Any] | None = None
    """Only asked when these tests on the same entry hold (a follow-up question)."""


class FactSpec(Frozen):
    """How one part of the case file becomes facts of one kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    title: str
    source: Annotated[str, Field(alias="from")]
    """Case path the facts come from, e.g. ``client`` or ``client.medications``."""
    entries: bool = False
    """True when the path holds a list: one fact per entry."""
    scalar_field: str | None = None
    """For a list of plain strings: the field each string is stored in."""
    key_field: str | None = None
    """Field whose value identifies an entry (e.g. the zone of a planned area)."""
    site_field: str | None = None
    """Field holding a site; facts get ``zone`` and ``relation`` per planned zone it touches."""
    site_default: str | None = None
    """Site used when the site field is absent (e.g. ``exposed``)."""
    fields: dict[str, FieldSpec]


class VocabularyFile(Frozen):
    """``vocabulary.yaml``: the intake questions, grouped by the fact kind they feed."""

    facts: dict[str, FactSpec]


class Zone(Frozen):
    """A treatment zone."""

    id: Annotated[str, Field(pattern=NAME)]
    title: str
    region: str
    """``face`` or ``body``."""
    exposed: bool = True
    """Sun-exposed zone (receives a sunburn reported without a site)."""
    near: list[str] = Field(default_factory=list)
    """Zones close enough that a lesion there counts as near this one."""


class Site(Frozen):
    """A body part or region a condition can be on: the zones it covers."""

    id: Annotated[str, Field(pattern=NAME)]
    title: str
    covers: list[str] = Field(default_factory=list)
    """Zones inside this site (empty: a body part outside every zone)."""


class SitesFile(Frozen):
    """``sites.yaml``."""

    zones: list[Zone]
    sites: list[Site]


class Term(Frozen):
    """A canonical term with the names it is also known by."""

    id: Annotated[str, Field(pattern=NAME)]
    kind: TermKind
    title: str = ""
    synonyms: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    is_a: list[str] = Field(default_factory=list)
    """Classes this term belongs to (transitively through classes)."""
    intradermal: bool | None = None
    """For topicals: intended for intradermal use (sterile, procedure-labelled)."""


class TermClass(Frozen):
    """A class of terms, e.g. ``anticoagulant``."""

    id: Annotated[str, Field(pattern=NAME)]
    kind: TermKind
    title: str
    synonyms: list[str] = Field(default_factory=list)
    is_a: list[str] = Field(default_factory=list)


class TerminologyFile(Frozen):
    """``terminology/*.yaml``."""

    classes: list[TermClass] = Field(default_factory=list)
    terms: list[Term] = Field(default_factory=list)


class CareItem(Frozen):
    """One pre-care or aftercare instruction."""

    when: str
    """When it applies, e.g. ``0-24 h`` or ``before``."""
    text: str


class EffectItem(Frozen):
    """An expected side effect for a depth band."""

    band: str
    text: str


class Wait(Frozen):
    """A time-limited finding: it clears ``days`` after the day counted by ``since``."""

    days: int
    since: str
    """Reference ``alias.field`` holding a day count (days ago)."""


class Conclusion(Frozen):
    """What a rule concludes: one of finding, state, precare, aftercare, expected_effects."""

    finding: Annotated[str, Field(pattern=CODE)] | None = None
    state: Annotated[str, Field(pattern=NAME)] | None = None
    zone: str | None = None
    """Reference ``alias.field`` giving the zone the conclusion applies to."""
    wait: Wait | None = None
    advice: str | None = None
    precare: list[CareItem] = Field(default_factory=list)
    aftercare: list[CareItem] = Field(default_factory=list)
    expected_effects: list[EffectItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _exactly_one(self) -> Conclusion:
        kinds = [
            self.finding is not None,
            self.state is not None,
            bool(self.precare),
            bool(self.aftercare),
            bool(self.expected_effects),
        ]
        if sum(kinds) != 1:
            msg = "give exactly one of: finding, state, precare, aftercare, expected_effects"
            raise ValueError(msg)
        if (self.wait is not None or self.advice is not None) and self.finding is None:
            msg = "'wait' and 'advice' only go with 'finding'"
            raise ValueError(msg)
        return self


class Silence(Frozen):
    """A warning the authors have reviewed and accept, with their reason."""

    warning: str
    reason: Annotated[str, Field(min_length=10)]


class Rule(Frozen):
    """A rule: when every pattern matches (and no negated one does), conclude ``then``."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    title: str
    rationale: str
    sources: Annotated[list[str], Field(min_length=1)]
    disputed: str | None = None
    """Where sources disagree: shown with every conclusion of this rule."""
    when: Annotated[list[dict[str, Any]], Field(min_length=1)]
    """Patterns, e.g. ``- medication: {is_a: anticoagulant, status: current}``."""
    then: Conclusion
    silence: list[Silence] = Field(default_factory=list)


class RuleFile(Frozen):
    """``rules/*.yaml``."""

    rules: list[Rule]


class DepthLimit(Frozen):
    """A row of the depth table: limits for zones x indications."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    title: str
    zones: Annotated[list[str], Field(min_length=1)]
    """Zones or sites (a site stands for the zones it covers)."""
    indications: list[str] | None = None
    """Indications the row applies to; absent means every indication."""
    soft_mm: float | None = None
    hard_mm: float | None = None
    recommended_mm: tuple[float, float] | None = None
    no_sourced_limit: bool = False
    """No source gives a number for this row: say so, never invent one."""
    do_not_treat: Annotated[str, Field(pattern=CODE)] | None = None
    """Finding code raised when a planned zone matches this row (the zone is not treated)."""
    rationale: str
    sources: Annotated[list[str], Field(min_length=1)]
    disputed: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> DepthLimit:
        numbered = self.soft_mm is not None or self.hard_mm is not None
        marks = int(numbered) + int(self.no_sourced_limit) + int(self.do_not_treat is not None)
        if marks != 1:
            msg = "give limits (soft_mm/hard_mm), or no_sourced_limit: true, or do_not_treat: CODE"
            raise ValueError(msg)
        if self.soft_mm is not None and self.hard_mm is not None and self.soft_mm > self.hard_mm:
            msg = f"soft_mm {self.soft_mm} is above hard_mm {self.hard_mm}"
            raise ValueError(msg)
        return self


class DepthAdjustment(Frozen):
    """A client/plan factor that lowers the limits of some zones (combined by the minimum)."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    title: str
    when: Annotated[list[dict[str, Any]], Field(min_length=1)]
    zones: Annotated[list[str], Field(min_length=1)]
    indications: list[str] | None = None
    soft_mm: float | None = None
    hard_mm: float | None = None
    rationale: str
    sources: Annotated[list[str], Field(min_length=1)]
    disputed: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> DepthAdjustment:
        if self.soft_mm is None and self.hard_mm is None:
            msg = "an adjustment must lower soft_mm or hard_mm"
            raise ValueError(msg)
        return self


class VerdictFindings(Frozen):
    """Finding codes raised by depth verdicts."""

    above_soft: Annotated[str, Field(pattern=CODE)]
    exceeds_hard: Annotated[str, Field(pattern=CODE)]
    no_sourced_limit: Annotated[str, Field(pattern=CODE)]


class DepthFile(Frozen):
    """``depth.yaml``."""

    verdict_findings: VerdictFindings
    limits: list[DepthLimit]
    adjustments: list[DepthAdjustment] = Field(default_factory=list)


class ActionDecision(Frozen):
    """Maps a finding action to the decision it produces."""

    action: Action
    decision: Decision


class Policy(Frozen):
    """``policy.yaml``: how findings combine into a decision (DESIGN.md section 4)."""

    actions: list[ActionDecision]
    """Most severe first; the decision is the first whose action is present."""
    no_findings: Decision = "PROCEED"
    needs_answers_levels: list[Level]
    """An unanswered question that could raise these levels ..."""
    needs_answers_replaces: list[Decision]
    """... turns these decisions into NEEDS_ANSWERS."""
    provisional_levels: list[Level]
    """``provisional`` is set while a question that could raise these is unanswered."""
    clearable_levels: list[Level]
    """Levels that a documented clearance can lift."""
    overridable_levels: list[Level]
    """Levels that a documented practitioner override can lift."""


class ConsistencyCheck(Frozen):
    """Answers that contradict each other: reported, and the named fields count as unanswered."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    message: str
    when: Annotated[list[dict[str, Any]], Field(min_length=1)]
    unanswer: Annotated[list[str], Field(min_length=1)]
    """Case paths (e.g. ``client.hsv_history``) that become unanswered."""


class ConsistencyFile(Frozen):
    """``consistency.yaml``."""

    checks: list[ConsistencyCheck]
