"""The subcommands of ``needlewise``: one module each, registered in COMMANDS.

Each module has ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args) -> exit code``, and
imports no Textual.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType

from tui.commands import assess, check, diff, explain, records, rules, schema, test

COMMANDS: tuple[ModuleType, ...] = (assess, explain, check, test, diff, rules, schema, records)
"""Registered subcommands, in help order."""

Runner = Callable[[argparse.Namespace], int]
