"""Stage 4 adapter: the ONLY module that imports durable_rules; it contains every durable defect.

One ``RuleEngine`` registers one ruleset (a unique, versioned name) on its own ``QuietHost`` and
runs one session per ``run()``. The guards, each against a measured defect of durable-rules 2.0.28
(section numbers of ``durable-rules-notes.md``):

* no timer threads (``QuietHost._run`` does nothing): the default host races batch asserts (2.4, 9);
* one raw batch assert, then the agenda drained through durable's C calls
  (``start_action_for_state`` / ``complete_and_start_action``): ``Host.assert_facts`` fires
  nothing when one fact in the batch is unmatched (1.3), and durable's Python loop costs three
  quarters of each firing (Closure, Promise, clock reads, re-sending the unchanged state);
* input hygiene before asserting: types, at most 64 fields (a big fact segfaults a batch), numbers
  or null for numeric fields (``$gt`` compares strings lexicographically), and no null or list in
  a field that a rule compares with another fact's field (error 312, then heap corruption);
* a firing budget that skips action bodies so the agenda drains (5.3);
* exceptions in actions captured and re-raised after the drain (durable's own loop would swallow
  them into the session state, 5.2), plus a check of the state's ``exception`` all the same;
* a fact registry cross-checked against false duplicates (32-bit hash of the fact id): inputs are
  given colliding-free ids up front, derived facts are re-asserted under a salted id (5.4);
* a sentinel firing before ``delete_state``, which segfaults on sessions where nothing fired (5.6);
* ``delete_state`` in ``finally`` and at most one live session (1,024 live sessions max) (2.2);
* ``close()`` frees the C ruleset, so knowledge can be reloaded without leaks (2.3);
* gate facts asserted only at quiescence, so ``$not`` placed after a gate is correct (3.3).

Two measures only save time and change nothing that fires: rules with identical conditions are
registered once and their shared action records a firing for each
(``engine.definition_plan.share_conditions``), and derived facts of a kind no rule matches are
registered but not asserted (durable would drop them).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from types import MappingProxyType
from typing import Any, Final, Self

import durable_rules_engine
import orjson
from durable import engine as durable_engine

from engine.definition_plan import (
    SENTINEL_RULE,
    adapter_issues,
    binding_orders,
    present_aliases,
    share_conditions,
)
from engine.durable_check import InvalidDefinition, check_definition
from engine.memo import content_key, remember
from engine.runtime_support import (
    ActionFailed,
    EngineFailure,
    EngineRuntimeError,
    FactRejected,
    FactShape,
    Firing,
    RuleBudgetExceeded,
    RulesetRejected,
    RunResult,
    durable_hashes,
    encode_json,
    error_code,
    fact_hashes,
    normalize_fact,
)

__all__ = [
    "ENGINE_VERSION",
    "ActionFailed",
    "ActionFn",
    "EngineFailure",
    "EngineRuntimeError",
    "FactRejected",
    "Firing",
    "RuleBudgetExceeded",
    "RuleEngine",
    "RulesetRejected",
    "RunResult",
]

ActionFn = Callable[[str, Mapping[str, Mapping[str, Any]]], Sequence[dict[str, Any]]]
"""``conclude(rule_id, bindings) -> derived facts``; bindings map alias -> registered fact."""


def _engine_version() -> str:
    try:
        return metadata.version("durable-rules")
    except metadata.PackageNotFoundError:  # pragma: no cover - a build without dist metadata
        return "unknown"


ENGINE_VERSION: Final = _engine_version()
"""The durable-rules version in use (a vendored build carries a local label)."""

PHASE_KIND: Final = "$phase"
_SENTINEL_KIND: Final = "$nw_sentinel"
_MAX_SALTS: Final = 16
_NAMES = itertools.count(1)
_log = logging.getLogger(__name__)


class _Session:
    """The state of one run, i.e. of one durable session id."""

    __slots__ = (
        "error",
        "fired",
        "firings",
        "offset",
        "over_budget",
        "phase",
        "registry",
        "sid",
        "started",
        "stopped",
        "touched",
    )

    def __init__(self, sid: str, registry: dict[str, Mapping[str, Any]]) -> None:
        self.sid = sid
        self.registry = registry
        self.firings: list[Firing] = []
        self.phase = 0
        self.started = 0  # actions durable started, the sentinel included
        self.fired = 0  # firings counted against the budget
        self.stopped = False  # skip action bodies from now on (budget or failure)
        self.over_budget = False
        self.error: tuple[str, BaseException] | None = None
        self.offset = 0  # durable's state offset of the sid, what do_actions takes
        self.touched = False  # durable may hold state for the sid

    def result(self) -> RunResult:
        return RunResult(firings=tuple(self.firings), facts=MappingProxyType(self.registry))


class _Core:
    """What the action closures share with the engine (they must not reference the engine)."""

    def __init__(
        self,
        conclude: ActionFn,
        max_firings: int,
        shape: FactShape,
        orders: Mapping[str, tuple[tuple[str, ...], bool]],
    ) -> None:
        self.conclude = conclude
        self.max_firings = max_firings
        self.shape = shape
        self.orders = orders
        self.handle = 0
        self.session: _Session | None = None
        self.actions: dict[str, Callable[[Mapping[str, Any]], None]] = {}
        self.members: dict[str, tuple[str, ...]] = {}
        """durable rule -> the rule ids that share its conditions (see ``share_conditions``)."""
        self.fixed: dict[str, tuple[Mapping[str, Any], ...]] = {}
        """rule id -> its conclusions, normalized once, when they do not depend on bindings."""
        self.normals: dict[tuple[object, ...], Mapping[str, Any]] = {}
        """Derived fact content (with each value's type) -> its normalized form (``normal``)."""

    def action(self, rule_id: str) -> Callable[[Mapping[str, Any]], None]:
        """What runs when ``rule_id`` fires, given durable's match (alias -> fact); cached."""
        cached = self.actions.get(rule_id)
        if cached is None:
            cached = self.actions[rule_id] = self._make_action(rule_id)
        return cached

    def _make_action(self, rule_id: str) -> Callable[[Mapping[str, Any]], None]:
        if rule_id == SENTINEL_RULE:

            def sentinel(_matched: Mapping[str, Any]) -> None:
                if self.session is not None:
                    self.session.started += 1

            return sentinel
        members = self.members.get(rule_id, (rule_id,))
        orders = [(member, *self.orders[member]) for member in members]

        def action(matched: Mapping[str, Any]) -> None:
            session = self.session
            if session is None:  # pragma: no cover - durable only fires inside run()
                return
            session.started += 1
            for member, order, plain in orders:
                if session.stopped:
                    return
                if session.fired >= self.max_firings:
                    # Skip the body: no new facts, so the agenda drains (notes 5.3).
                    session.over_budget = session.stopped = True
                    return
                session.fired += 1
                try:
                    aliases = order if plain else present_aliases(order, matched)
                    self.fire(session, member, aliases, matched)
                except BaseException as exc:  # noqa: BLE001 - durable would swallow it
                    session.error = session.error or (member, exc)
                    session.stopped = True

        return action

    def drain(self, offset: int) -> None:
        """Run the session's agenda to quiescence through durable's C calls.

        durable's own loop (``Ruleset.do_actions``) wraps every firing in a Closure and a
        Promise, reads the clock twice and serialises the unchanged session state back with
        ``update_state``: three quarters of its cost per firing. Our actions never touch the
        state and never raise (they record the exception for ``run()``), so the agenda is
        driven directly: start, then complete-and-start until nothing is left.
        """
        handle = self.handle
        started = durable_rules_engine.start_action_for_state(handle, offset)
        if not started:
            return
        messages: str | None = started[1]
        while messages:
            for rule_id, matched in _decode(messages).items():
                self.action(rule_id)(matched)
                break
            messages = durable_rules_engine.complete_and_start_action(handle, offset)

    def fire(
        self, s: _Session, rule_id: str, aliases: Sequence[str], matched: Mapping[str, Any]
    ) -> None:
        registry = s.registry
        premises = tuple([(alias, matched[alias]["fid"]) for alias in aliases])
        fixed = self.fixed.get(rule_id)
        if fixed is None:
            bindings = {alias: registry[fid] for alias, fid in premises}
            derived = self.conclude(rule_id, bindings)
            conclusions = tuple([self.admit(s, self.normal(f)) for f in derived])
        else:
            for _, fid in premises:
                if fid not in registry:  # durable matched a fact this run never registered
                    raise KeyError(fid)
            conclusions = tuple([self.admit(s, normal) for normal in fixed])
        s.firings.append(Firing(rule_id, premises, conclusions, s.phase))

    def normal(self, fact: Mapping[str, Any]) -> Mapping[str, Any]:
        """``normalize_fact`` of a derived fact, kept between runs for the same content.

        Rules derive the same few facts again and again (``content_key`` tells True from 1).
        """
        try:
            return remember(
                self.normals,
                content_key(fact),
                lambda: MappingProxyType(normalize_fact(fact, self.shape)),
                _MAX_NORMALS,
            )
        except (AttributeError, TypeError):  # not a mapping, or an unhashable value (a list)
            return normalize_fact(fact, self.shape)

    def admit(self, s: _Session, normal: Mapping[str, Any]) -> str:
        """Register a (normalized) derived fact and assert it, unless its fid is known."""
        fid: str = normal["fid"]
        known = s.registry.get(fid)
        if known is not None:
            if known is not normal and known != normal:
                raise FactRejected(fid, None, "derived again with different content")
            return fid
        s.registry[fid] = (
            normal if isinstance(normal, MappingProxyType) else MappingProxyType(normal)
        )
        consumed = self.shape.consumed
        if consumed is None or normal["kind"] in consumed:
            # A kind no rule matches would only be dropped by durable ("not handled").
            self.assert_one(s, normal)
        return fid

    def assert_one(self, s: _Session, fact: Mapping[str, Any]) -> None:
        """Assert one fact; a false duplicate (notes 5.4) is re-asserted under a salted id."""
        fid = fact["fid"]
        payload = {**fact, "sid": s.sid, "id": fid}
        s.touched = True
        for salt in range(1, _MAX_SALTS + 1):
            try:
                code, offset = durable_rules_engine.assert_fact(self.handle, encode_json(payload))
            except MemoryError as exc:
                raise _session_cap(s) from exc
            except durable_rules_engine.error as exc:
                msg = f"asserting {fid!r}: {exc}"
                raise EngineFailure(msg) from exc
            s.offset = offset
            if code != _OBSERVED:  # 0 stored, 1 no rule consumes it (it stays in our registry)
                return
            # Our registry did not know the fid: durable saw another fact with the same 32-bit
            # hash of its id. Re-assert under another id so the fact really reaches memory.
            payload["id"] = f"{fid}#{salt}"
        msg = f"no free durable id for fact {fid!r} after {_MAX_SALTS} tries"
        raise EngineFailure(msg)

    def assert_batch(self, s: _Session, facts: Sequence[Mapping[str, Any]]) -> None:
        """Assert the inputs in one raw batch, with ids whose durable hashes cannot collide."""
        taken = set(durable_hashes(f"sid-{s.sid}"))  # durable's state fact shares the index
        payloads = []
        for fact in facts:
            fid = fact["fid"]
            durable_id, salt = fid, 0
            hashes = fact_hashes(fid)
            # A batch cannot tell which fact durable dropped as "already observed" (notes 5.4),
            # so salt any id whose hash is taken before asserting.
            while not taken.isdisjoint(hashes):
                salt += 1
                durable_id = f"{fid}#{salt}"
                hashes = fact_hashes(durable_id)
            taken.update(hashes)
            payloads.append({**fact, "sid": s.sid, "id": durable_id})
        s.touched = True
        try:
            code, s.offset = durable_rules_engine.assert_facts(self.handle, encode_json(payloads))
        except MemoryError as exc:
            raise _session_cap(s) from exc
        except durable_rules_engine.error as exc:
            msg = f"asserting the input batch: {exc}"
            raise EngineFailure(msg) from exc
        if code == _OBSERVED:  # pragma: no cover - only if durable's hash differs from ours
            msg = "durable dropped an input fact as already observed (id hash collision)"
            raise EngineFailure(msg)


_OBSERVED: Final = 2  # rules.h ERR_EVENT_OBSERVED
_MAX_NORMALS: Final = 4096  # derived fact contents kept by _Core.normal


def _decode(text: str) -> dict[str, Any]:
    """Decode durable's match message (JSON).

    orjson parses it 3-4x faster than ``json``; the standard library is the fallback for
    anything orjson's stricter parser refuses.
    """
    try:
        decoded: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:
        decoded = json.loads(text)
    return decoded


def _session_cap(s: _Session) -> EngineFailure:
    # durable's MemoryError: 1,024 live sessions (or malloc failed). The new session's node is
    # half-built; any further call on it segfaults, so cleanup must leave it alone.
    s.touched = False
    return EngineFailure("durable is out of sessions (1,024 live at most) or of memory")


class QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A durable host that starts no timer threads and resolves actions through a callback."""

    def __init__(self, resolve: Callable[[str], Callable[[Mapping[str, Any]], None]]) -> None:
        """Register nothing yet; ``resolve`` maps an action name to its closure."""
        self._resolve = resolve
        super().__init__()

    def _run(self) -> None:
        """Start nothing: the default host's two timer threads race synchronous asserts."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        """The closure for a rule's ``run`` name, as durable's own loop would call it."""
        run = self._resolve(action_name)

        def from_closure(c: Any) -> None:
            run(c._m)  # noqa: SLF001 - durable's only exact binding: alias -> fact

        return from_closure


def _release(host: QuietHost, name: str, handle: int) -> None:
    """Unregister the ruleset and free its C memory (durable has no public way, notes 2.3)."""
    ruleset = host._ruleset_directory.pop(name, None)  # noqa: SLF001 - no public unregister
    if ruleset is not None:
        host._ruleset_list.remove(ruleset)  # noqa: SLF001
    durable_rules_engine.delete_ruleset(handle)


class RuleEngine:
    """One registered durable ruleset, run once per assessment.

    Args:
        definition: durable JSON for ONE ruleset: rule id -> ``{"all": [...], "run": rule id}``.
            It is checked (``check_definition``), deep-copied and never mutated.
        conclude: called for every firing with the rule id and alias -> fact bindings. Bindings
            include aliases bound to gate facts (kind ``$phase``); the caller filters them.
        phases: gate facts ``{"kind": "$phase", "n": k}`` asserted after the inputs, each once
            the agenda has drained, for k in 1..phases.
        max_firings: firings per run before ``RuleBudgetExceeded``.
        numeric_fields: kind -> fields that must hold numbers or null (never strings or booleans);
            durable never matches null in a constant comparison, like a missing field.
        fixed: rule id -> the facts it always concludes, whatever it matched; ``conclude`` is
            not called for these rules, and the facts are validated once, here.

    ``run`` holds a lock: one session is live at a time. durable's C engine is not thread-safe
    and never releases the GIL, so the lock costs no parallelism, and it keeps this ruleset far
    below durable's cap of 1,024 live sessions. Use processes to scale.

    Raises:
        InvalidDefinition: the definition has issues (durable's grammar or this adapter's needs).
        RulesetRejected: durable refused the definition anyway.
    """

    def __init__(
        self,
        definition: Mapping[str, Any],
        conclude: ActionFn,
        *,
        phases: int = 0,
        max_firings: int = 10_000,
        numeric_fields: Mapping[str, frozenset[str]] | None = None,
        fixed: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        if phases < 0 or max_firings < 1:
            msg = f"need phases >= 0 and max_firings >= 1, got {phases} and {max_firings}"
            raise ValueError(msg)
        issues = adapter_issues(definition)
        spec: dict[str, Any] = copy.deepcopy(dict(definition))  # durable deletes every "run"
        spec[SENTINEL_RULE] = {"all": [{"s": {"kind": _SENTINEL_KIND}}], "run": SENTINEL_RULE}
        issues.extend(check_definition(spec))
        if issues:
            raise InvalidDefinition(issues)
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
        self.name: Final = f"nw{next(_NAMES)}_{digest}"
        """The durable ruleset name: unique per instance, versioned by content."""
        self.phases: Final = phases
        shape = FactShape.of(spec, numeric_fields or {})
        self._core = _Core(conclude, max_firings, shape, binding_orders(spec))
        registered, self._core.members = share_conditions(spec)
        self._core.fixed = {
            rule_id: tuple(MappingProxyType(normalize_fact(f, shape)) for f in facts)
            for rule_id, facts in (fixed or {}).items()
        }
        self._host = QuietHost(self._core.action)
        try:
            self._host.register_rulesets({self.name: registered})
        except durable_rules_engine.error as exc:
            raise RulesetRejected(error_code(str(exc)), str(exc)) from exc
        except Exception as exc:
            raise RulesetRejected(None, f"{type(exc).__name__}: {exc}") from exc
        self._ruleset = self._host.get_ruleset(self.name)
        self._core.handle = self._ruleset._handle  # noqa: SLF001 - the raw C calls need it
        self._lock = threading.RLock()
        self._sids = itertools.count(1)
        self._closed = False
        self._release = weakref.finalize(self, _release, self._host, self.name, self._core.handle)
        self._release.atexit = False  # the process frees everything anyway

    def __enter__(self) -> Self:
        """Use as a context manager that closes the engine."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the engine."""
        self.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    def close(self) -> None:
        """Unregister and free the C ruleset (idempotent); a new engine may then reuse the rules.

        Raises:
            EngineRuntimeError: when called from inside one of this engine's actions.
        """
        with self._lock:
            if self._core.session is not None:
                msg = "close() called from inside an action of the same engine"
                raise EngineRuntimeError(msg)
            self._closed = True
            self._release()

    def run(self, facts: Sequence[Mapping[str, Any]]) -> RunResult:
        """Assert the facts, run every phase to quiescence, and return what fired.

        Args:
            facts: input facts: a str ``fid`` and ``kind`` plus scalar or list-of-scalar fields.

        Returns:
            Firings in the order durable ran them, and every fact by fid.

        Raises:
            FactRejected: an input fact is malformed (nothing was asserted).
            ActionFailed: ``conclude`` or asserting a derived fact failed (the cause is chained).
            RuleBudgetExceeded: more than ``max_firings`` firings.
            EngineFailure: durable itself failed.
            EngineRuntimeError: the engine is closed, or run() was called from an action.
        """
        with self._lock:
            if self._closed:
                msg = f"engine {self.name} is closed"
                raise EngineRuntimeError(msg)
            core = self._core
            if core.session is not None:
                msg = "run() called from inside an action of the same engine"
                raise EngineRuntimeError(msg)
            inputs, registry = self._inputs(facts)
            session = _Session(str(next(self._sids)), registry)
            core.session = session
            try:
                try:
                    self._execute(session, inputs)
                except BaseException:
                    self._finish(session, raising=False)
                    raise
                self._finish(session, raising=True)
            finally:
                core.session = None
            return session.result()

    def _inputs(
        self, facts: Sequence[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Mapping[str, Any]]]:
        inputs = []
        registry: dict[str, Mapping[str, Any]] = {}
        shape = self._core.shape
        for fact in facts:
            normal = normalize_fact(fact, shape)
            fid = normal["fid"]
            if fid in registry:
                raise FactRejected(fid, "fid", "two input facts share this fid")
            registry[fid] = MappingProxyType(normal)
            inputs.append(normal)
        return inputs, registry

    def _execute(self, session: _Session, inputs: Sequence[Mapping[str, Any]]) -> None:
        core = self._core
        if inputs:
            core.assert_batch(session, inputs)
            self._drain(session)
        for k in range(1, self.phases + 1):
            # Quiescence before each gate is what makes a $not placed after the gate correct.
            session.phase = k
            fid = f"{PHASE_KIND}:{k}"
            gate = {"fid": fid, "kind": PHASE_KIND, "n": k}
            session.registry[fid] = MappingProxyType(gate)
            core.assert_one(session, gate)
            self._drain(session)

    def _drain(self, session: _Session) -> None:
        try:
            self._core.drain(session.offset)
        except durable_rules_engine.error as failure:
            msg = f"durable failed while draining: {failure}"
            raise EngineFailure(msg) from failure
        if session.error is not None:
            rule_id, exc = session.error
            if not isinstance(exc, Exception):
                raise exc  # KeyboardInterrupt, SystemExit: as they are
            raise ActionFailed(rule_id, f"{type(exc).__name__}: {exc}") from exc
        state = durable_rules_engine.get_state(self._core.handle, session.sid)
        if '"exception"' in state:
            detail = json.loads(state).get("exception")
            raise ActionFailed(None, f"durable recorded an exception: {detail}")
        if session.over_budget:
            raise RuleBudgetExceeded(self._core.max_firings, session.result())

    def _finish(self, session: _Session, *, raising: bool) -> None:
        """Delete the session; first make sure something fired, or delete_state segfaults."""
        if not session.touched:
            return
        try:
            if session.started == 0:
                session.stopped = True  # leftover activations must not run user code now
                sentinel = {"fid": "$sentinel", "kind": _SENTINEL_KIND}
                self._core.assert_one(session, sentinel)
                self._core.drain(session.offset)
            if session.started == 0:  # pragma: no cover - the sentinel rule always fires
                _log.error("leaking durable session %s: nothing fired", session.sid)
                return
            durable_rules_engine.delete_state(self._core.handle, session.sid)
        except Exception as exc:
            if raising:
                msg = f"could not delete durable session {session.sid}: {exc}"
                raise EngineFailure(msg) from exc
            _log.exception("could not delete durable session %s", session.sid)
