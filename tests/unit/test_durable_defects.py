"""Crash-class defects of durable-rules 2.0.28 and the RuleEngine guards against them.

Crashing code runs in a subprocess (sys.executable -c ...), so a segfault fails one test
instead of killing the test run. Section numbers refer to shared/durable-rules-notes.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from engine.runtime import RuleEngine

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_sessions_where_nothing_fires_do_not_crash() -> None:
    """Notes 5.6: delete_state() segfaults for a session on which no action ever ran.

    300 such sessions of four kinds (unrelated fact, partial join, a gate nobody waits for,
    a failed input check) run through RuleEngine, whose sentinel firing prevents the crash.
    """
    result = run_python(
        """
        from engine.runtime import FactRejected, RuleEngine

        definition = {
            "join": {"all": [{"a": {"kind": "a"}}, {"b": {"kind": "b"}}], "run": "join"},
        }
        engine = RuleEngine(definition, lambda rule_id, bindings: [], phases=1)
        for i in range(75):
            assert engine.run([{"fid": f"x{i}", "kind": "unrelated"}]).firings == ()
            assert engine.run([{"fid": f"a{i}", "kind": "a"}]).firings == ()
            assert engine.run([]).firings == ()
            try:
                engine.run([{"fid": "x", "kind": "a"}, {"kind": "a"}])
            except FactRejected:
                pass
        engine.close()
        print("survived")
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "survived"), result.stderr


def test_raw_durable_still_crashes_without_the_guard() -> None:
    """Notes 5.6: documents the defect the sentinel guards against; skipped on a patched build."""
    result = run_python(
        """
        import json
        import durable_rules_engine
        from durable import engine

        class Quiet(engine.Host):
            def _run(self):
                pass

            def get_action(self, name):
                return lambda c: None

        host = Quiet()
        host.register_rulesets({"rs": {"r": {"all": [{"a": {"kind": "a"}}], "run": "r"}}})
        ruleset = host.get_ruleset("rs")
        for i in range(300):
            fact = json.dumps([{"id": "x", "kind": "unrelated", "sid": str(i)}])
            code, offset = durable_rules_engine.assert_facts(ruleset._handle, fact)
            ruleset.do_actions(offset, lambda error, state: None)
            ruleset.delete_state(str(i))
        print("survived")
        """
    )
    if result.returncode == 0:
        pytest.skip("this durable build does not crash: it carries the createStateNode patch")
    assert result.returncode != 0


def test_rule_engine_host_starts_no_timer_threads() -> None:
    """Notes 2.4 and 9: the default Host's timer threads race synchronous batch asserts.

    Measured: wrong findings for 30 of 303 clients at 2,000 rules, then error 307 and a
    segfault. QuietHost starts none; the default Host starts two per instance (checked in a
    subprocess, as those threads never end).
    """
    before = {t.ident for t in threading.enumerate()}
    engines = [
        RuleEngine({"r": {"all": [{"a": {"kind": "a"}}], "run": "r"}}, lambda _rule, _bindings: [])
        for _ in range(10)
    ]
    for engine in engines:
        engine.run([{"fid": "a", "kind": "a"}])
    started = [t for t in threading.enumerate() if t.ident not in before]
    for engine in engines:
        engine.close()
    assert started == []

    default = run_python(
        """
        import threading
        from durable import engine

        before = threading.active_count()
        engine.Host()
        print(threading.active_count() - before)
        """
    )
    assert default.stdout.strip() == "2", default.stderr
