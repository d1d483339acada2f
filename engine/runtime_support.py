"""Pure support for the durable adapter: its errors, results and fact hygiene (no durable import).

Fact hygiene exists because durable misreads or crashes on some inputs (durable-rules-notes.md):
strings in numeric comparisons, facts with ~250 properties in a batch, null or lists in fields
compared with another fact's field, and 32-bit hash collisions of fact ids.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import orjson

MAX_FIELDS: Final = 64
"""Fields per fact; durable stops (and a later call segfaults) at about 250 in a batch."""
_FNV_OFFSET: Final = 0x811C9DC5
_FNV_PRIME: Final = 16777619
_HIGH_BIT: Final = 0x80
_RESERVED_FIELDS: Final = frozenset({"id", "sid"})
_PLAIN: Final = frozenset({str, bool, type(None)})
_INT64: Final = 2**63
_JSON_ENCODE: Final = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False
).encode


def encode_json(value: object) -> str:
    """JSON exactly as the adapter sends it to durable (also what ``durable_hashes`` hashes).

    For validated facts (str keys; str, bool, None, int64, finite float, lists of them) orjson
    writes the standard library's compact JSON, ten times faster. The text is the same except
    for how some floats are spelled (``0.00001`` for ``1e-05``, ``1.5e-7`` for ``1.5e-07``),
    which parse to the same numbers. Whatever orjson refuses (a lone surrogate, an int beyond
    64 bits) goes to the standard library, as before. NaN never gets here: ``normalize_fact``
    rejects it (orjson would write null).
    """
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _JSON_ENCODE(value)


ERROR_MEANINGS: Final[Mapping[int, str]] = {
    101: "out of memory",
    102: "unexpected type (e.g. a list literal, a float pri, a non-string regex)",
    103: "identifier too long",
    104: "unexpected value",
    105: "unexpected name (an unknown rule key)",
    106: "too many rules, or too many sibling conditions",
    107: "too many $nex conditions or $or branches under one node (fan-out)",
    108: "too many patterns ending on one condition chain (fan-out)",
    109: "an alias without a name",
    111: "invalid handle",
    112: "too many rulesets",
    113: "too many expressions in one pattern",
    201: "cannot parse a value",
    202: "cannot parse a string (e.g. an unknown operator)",
    203: "cannot parse a number",
    204: "cannot parse an object",
    205: "cannot parse an array",
    302: "a fact with too many properties",
    303: "too many conditions match one fact at once",
    304: "more than 16 patterns in one rule",
    305: "message not found",
    306: "location not found",
    307: "session node deleted (concurrent use of one session)",
    308: "node dispatching",
    309: "session id not found",
    310: "no action available",
    311: "property not found",
    312: "operation not supported (null or a list compared with another fact's field)",
    313: "fact too large",
    314: "fact property too large",
    501: "cannot parse a regex",
    502: "regex: too many transitions",
    503: "regex: too many states",
    504: "regex: queue full",
    505: "regex: list full",
    506: "regex: set full",
    507: "regex: conflict",
    508: "regex: invalid",
}


class EngineRuntimeError(Exception):
    """Base of every error the durable adapter raises while building or running a ruleset."""


class RulesetRejected(EngineRuntimeError):  # noqa: N818 - public contract
    """durable refused to register the ruleset."""

    def __init__(self, code: int | None, detail: str) -> None:
        """Keep durable's numeric code and add its meaning from rules.h."""
        self.code = code
        self.meaning = ERROR_MEANINGS.get(code, "unknown error") if code is not None else detail
        super().__init__(f"durable rejected the ruleset (error {code}: {self.meaning}): {detail}")


class FactRejected(EngineRuntimeError):  # noqa: N818 - public contract
    """A fact that must not reach durable (it would be misread or crash the engine)."""

    def __init__(self, fid: str | None, field: str | None, reason: str) -> None:
        """Name the fact and the field."""
        self.fid = fid
        self.field = field
        self.reason = reason
        where = f"fact {fid!r}" + (f" field {field!r}" if field is not None else "")
        super().__init__(f"{where}: {reason}")


class ActionFailed(EngineRuntimeError):  # noqa: N818 - public contract
    """A rule action failed (the cause is chained); durable itself would have swallowed it."""

    def __init__(self, rule_id: str | None, detail: str) -> None:
        """Name the rule whose action failed."""
        self.rule_id = rule_id
        super().__init__(f"action of rule {rule_id!r} failed: {detail}")


class RuleBudgetExceeded(EngineRuntimeError):  # noqa: N818 - public contract
    """More firings than ``max_firings``: most likely a rule chain that never ends."""

    def __init__(self, limit: int, partial: RunResult) -> None:
        """Keep what happened before the budget ran out, for diagnosis."""
        self.limit = limit
        self.partial = partial
        super().__init__(f"more than {limit} rule firings in one run (endless chaining?)")


class EngineFailure(EngineRuntimeError):  # noqa: N818 - public contract
    """durable failed while asserting or draining (its error code is kept when it gave one)."""

    def __init__(self, detail: str) -> None:
        """Parse durable's numeric error code out of its message."""
        self.code = error_code(detail)
        meaning = f" ({ERROR_MEANINGS.get(self.code, 'unknown')})" if self.code else ""
        super().__init__(f"{detail}{meaning}")


class Firing(NamedTuple):
    """One rule firing: which facts matched and which facts it concluded.

    An immutable record, a tuple because a run records some thirty-five (ADR 0002).
    """

    rule_id: str
    premises: tuple[tuple[str, str], ...]
    """(alias, fid) in pattern order; gate aliases included (their facts have kind ``$phase``)."""
    conclusions: tuple[str, ...]
    """Fids the action produced, new or already known."""
    phase: int
    """0 for the input batch, k after the k-th gate fact."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """Everything one run produced."""

    firings: tuple[Firing, ...]
    facts: Mapping[str, Mapping[str, Any]]
    """fid -> fact: inputs, derived facts and gate facts, as registered (lists become tuples)."""


def error_code(message: str) -> int | None:
    """The numeric error code in one of durable's messages, if any."""
    found = re.search(r"error code: (\d+)", message)
    return int(found.group(1)) if found else None


def durable_hashes(durable_id: str) -> tuple[int, ...]:
    """Return durable's ``fnv1Hash32`` of a fact id, for signed and unsigned ``char`` (state.c).

    ``fact_hashes`` is the cached form, for fact ids; session ids never repeat.
    """
    # The id as it sits in the JSON text durable parses.
    raw = encode_json(durable_id)[1:-1].encode()
    variants = (False,) if raw.isascii() else (False, True)
    hashes = []
    for signed in variants:
        value = _FNV_OFFSET
        for byte in raw:
            # x86-64 char is signed: durable XORs a sign-extended byte.
            octet = byte | 0xFFFFFF00 if signed and byte >= _HIGH_BIT else byte
            value = ((value ^ octet) * _FNV_PRIME) & 0xFFFFFFFF
        hashes.append(value)
    return tuple(hashes)


fact_hashes: Final = functools.lru_cache(maxsize=8192)(durable_hashes)
"""``durable_hashes``, kept for fact ids: they repeat across assessments (client, plan, ...)."""


def _scalar_ok(value: object) -> str | None:
    """None when durable reads the value as written, else why not."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int):
        return None if -_INT64 <= value < _INT64 else "integer out of the 64-bit range"
    if isinstance(value, float):
        return None if math.isfinite(value) else "NaN or infinity is not JSON"
    return f"expected a JSON scalar or a list of them, got {type(value).__name__}"


def _checked(fid: str, key: str, value: object) -> object:
    """The registered form of a value that is not a plain str, bool, None, int or float."""
    problem = _scalar_ok(value)
    if problem is not None and isinstance(value, list | tuple):
        value = tuple(value)  # the registered copy is immutable
        problem = next((p for p in map(_scalar_ok, value) if p is not None), None)
    if problem is not None:
        raise FactRejected(fid, key, problem)
    return value


_NUMBERS: Final = frozenset({int, float})


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def normalize_fact(fact: object, shape: FactShape) -> dict[str, Any]:
    """Validate one fact and return the copy we register (lists become tuples)."""
    if type(fact) is not dict and not isinstance(fact, Mapping):  # the ABC check is slow
        raise FactRejected(None, None, f"expected a mapping, got {type(fact).__name__}")
    fid, kind = fact.get("fid"), fact.get("kind")
    if not isinstance(fid, str) or not fid:
        raise FactRejected(None, "fid", "every fact needs a non-empty string 'fid'")
    if not isinstance(kind, str) or not kind:
        raise FactRejected(fid, "kind", "every fact needs a non-empty string 'kind'")
    if fid[0] == "$" or kind[0] == "$":
        raise FactRejected(fid, "fid", "fids and kinds starting with '$' are the engine's own")
    if len(fact) > MAX_FIELDS:
        raise FactRejected(fid, None, f"{len(fact)} fields; at most {MAX_FIELDS} are allowed")
    out = _fields(fid, fact)
    for name in shape.numeric.get(kind, ()):
        value = out.get(name)
        # null is "answered: none"; durable never matches it in a constant comparison.
        if value is not None and type(value) not in _NUMBERS and not _is_number(value):
            msg = f"expected a number (or null), got {type(value).__name__} {value!r}"
            raise FactRejected(fid, name, msg)
    for name in shape.joined.get(kind, shape.joined_any):
        if name in out and (out[name] is None or isinstance(out[name], tuple)):
            msg = "null or a list in a field that rules compare with another fact's field"
            raise FactRejected(fid, name, f"{msg} (durable error 312, then heap corruption)")
    return out


@dataclass(frozen=True, slots=True)
class FactShape:
    """Per-kind field constraints that the definition and the caller impose on facts."""

    numeric: Mapping[str, frozenset[str]]
    joined: Mapping[str, frozenset[str]]
    """kind -> fields on the left of a reference comparison (joined_any included)."""
    joined_any: frozenset[str]
    """The same for patterns whose kind cannot be read off the condition: every kind."""
    consumed: frozenset[str] | None = None
    """Kinds some rule matches; None when a pattern's kind cannot be read (any may be)."""

    @classmethod
    def of(cls, definition: Mapping[str, Any], numeric: Mapping[str, frozenset[str]]) -> FactShape:
        """Read the joined fields off a definition; numeric fields come from the vocabulary."""
        by_kind: dict[str | None, set[str]] = {}
        for rule in definition.values():
            pending: list[Any] = list(rule.get("all", rule.get("any", [])))
            while pending:
                ((alias, cond),) = pending.pop().items()
                if alias.endswith(("$all", "$any")):
                    pending.extend(cond)
                else:
                    by_kind.setdefault(_kind_of(cond), set()).update(_joined(cond))
        consumed = None if None in by_kind else frozenset(k for k in by_kind if k)
        anywhere = frozenset(by_kind.pop(None, ()))
        joined = {kind: frozenset(fields) | anywhere for kind, fields in by_kind.items() if kind}
        return cls(numeric=dict(numeric), joined=joined, joined_any=anywhere, consumed=consumed)


def _kind_of(cond: Mapping[str, Any]) -> str | None:
    parts = cond.get("$and", [cond])
    kinds = [p["kind"] for p in parts if isinstance(p.get("kind"), str)]
    return kinds[0] if kinds else None


def _joined(cond: Mapping[str, Any]) -> set[str]:
    """Fields compared (<, <=, >, >=, !=) with a reference or an expression."""
    found: set[str] = set()
    for key, value in cond.items():
        if key in {"$and", "$or"}:
            for sub in value:
                found |= _joined(sub)
        elif key in {"$lt", "$lte", "$gt", "$gte", "$neq"}:
            found.update(field for field, operand in value.items() if isinstance(operand, Mapping))
    return found


def _fields(fid: str, fact: Mapping[Any, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fact.items():
        if type(key) is not str or not key or key[0] == "$" or key in _RESERVED_FIELDS:
            raise FactRejected(fid, str(key), "field names are non-empty strings, not id/sid/$...")
        kind_of = type(value)
        # Fast paths for the exact JSON types; everything else goes through _checked.
        if kind_of in _PLAIN:
            pass
        elif kind_of is int:
            if not -_INT64 <= value < _INT64:  # type: ignore[operator]
                raise FactRejected(fid, key, "integer out of the 64-bit range")
        elif kind_of is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise FactRejected(fid, key, "NaN or infinity is not JSON")
        elif kind_of is list or kind_of is tuple:
            items: tuple[object, ...] = tuple(value)  # type: ignore[arg-type]
            value = items  # noqa: PLW2901 - the registered copy is immutable
            for item in items:
                if type(item) not in _PLAIN:
                    problem = _scalar_ok(item)
                    if problem is not None:
                        raise FactRejected(fid, key, problem)
        else:
            value = _checked(fid, key, value)  # noqa: PLW2901 - the registered form
        out[key] = value
    return out
