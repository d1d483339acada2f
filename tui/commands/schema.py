"""``needlewise schema``: regenerate the JSON Schemas that editors use for completion."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import KnowledgeError, load_knowledge
from engine.schema import write_schemas
from knowledge import KNOWLEDGE_ROOT
from tui.commands.common import EXIT_BAD_INPUT, EXIT_OK, add_knowledge_option, report_problems

NAME = "schema"
HELP = "write the JSON Schemas of the knowledge files and case files"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``schema``."""
    parser.add_argument("--out", type=Path, default=KNOWLEDGE_ROOT / "schema")
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    """Write the schemas."""
    try:
        knowledge = load_knowledge(args.knowledge)
    except KnowledgeError as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    for path in write_schemas(args.out, knowledge):
        sys.stdout.write(f"wrote {path}\n")
    return EXIT_OK
