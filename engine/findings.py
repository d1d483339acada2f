"""Accumulates what rules raise into one finding per code (zones merged, waits and rules kept)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.logic import LogicRule


@dataclass(slots=True)
class Raised:
    """Everything known about one raised code before policy is applied."""

    rules: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    zones: set[str] = field(default_factory=set)
    whole: bool = False
    """Raised at least once for the whole treatment (not for a zone)."""
    disputed: list[str] = field(default_factory=list)
    waits: list[dt.date | None] = field(default_factory=list)
    advice: str | None = None

    @property
    def wait_until(self) -> dt.date | None:
        """The latest lapse date, when every raising firing is time-limited."""
        if not self.waits or any(w is None for w in self.waits):
            return None
        return max(w for w in self.waits if w is not None)


@dataclass(slots=True)
class FindingBook:
    """Raised codes in the order first raised."""

    raised: dict[str, Raised] = field(default_factory=dict)

    def add(
        self,
        code: str,
        rule: LogicRule,
        *,
        zone: object = None,
        wait: dt.date | None = None,
        advice: str | None = None,
    ) -> None:
        """Record one firing that raised ``code``."""
        info = self.raised.get(code)
        if info is None:
            info = self.raised[code] = Raised()
        if rule.id not in info.rules:
            info.rules.append(rule.id)
        info.sources.extend(s for s in rule.sources if s not in info.sources)
        if zone:
            info.zones.add(str(zone))
        else:
            info.whole = True
        if rule.disputed and rule.disputed not in info.disputed:
            info.disputed.append(rule.disputed)
        info.waits.append(wait)
        if advice and info.advice is None:
            info.advice = advice

    def __contains__(self, code: object) -> bool:
        """True when ``code`` was raised."""
        return code in self.raised
