"""docs/authoring.md, executed: the tutorial cannot rot.

The shipped knowledge is copied to ``<tmp>/repo/knowledge/microneedling`` and the tutorial is run
from ``<tmp>/repo`` exactly as written, block by block:

* a fenced block ```` ```yaml file=PATH ```` writes PATH (``append`` appends to it);
* in a ```` ```console ```` block, each ``$ needlewise ...`` line runs through ``tui.cli.main``
  (``$ cp -r SRC DST`` copies a directory; any other command fails the test) and must exit 0,
  or N when the line ends with ``# exits N``;
* the lines under a command are its expected output: each must match an output line, in order;
  ``...`` stands for any text (a line of only ``...`` for any lines), runs of spaces for any
  spaces. Other fenced blocks are illustrations and are not run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from knowledge import DEFAULT_KNOWLEDGE
from tui.cli import main

DOC = Path(__file__).resolve().parent.parent / "docs" / "authoring.md"
FENCE = re.compile(
    r"^```(?P<lang>[\w-]+)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)
EXIT = re.compile(r"#\s*exits?\s+(\d+)\s*$")


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        found = EXIT.search(self.line)
        return int(found.group(1)) if found else 0

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.line, comments=True)


@dataclass
class Step:
    kind: str
    """``file`` or ``console``."""
    number: int
    path: str = ""
    append: bool = False
    text: str = ""
    commands: list[Command] = field(default_factory=list)


def steps() -> list[Step]:
    found: list[Step] = []
    for number, block in enumerate(FENCE.finditer(DOC.read_text(encoding="utf-8")), 1):
        info = block.group("info").split()
        body = block.group("body")
        if block.group("lang") == "yaml":
            target = [i.removeprefix("file=") for i in info if i.startswith("file=")]
            if target:
                found.append(
                    Step(
                        kind="file",
                        number=number,
                        path=target[0],
                        append="append" in info,
                        text=body,
                    )
                )
        elif block.group("lang") == "console":
            step = Step(kind="console", number=number)
            for line in body.splitlines():
                if line.startswith("$ "):
                    step.commands.append(Command(line=line[2:]))
                elif step.commands:
                    step.commands[-1].expected.append(line)
            found.append(step)
    return found


def pattern(expected: str) -> re.Pattern[str]:
    parts = [re.sub(r"(\\ )+", " +", re.escape(p)) for p in expected.rstrip().split("...")]
    return re.compile(".*".join(parts))


def check_output(command: Command, output: str) -> None:
    lines = output.splitlines()
    at = 0
    for expected in command.expected:
        if expected.strip() in {"", "..."}:
            continue
        wanted = pattern(expected)
        while at < len(lines) and not wanted.fullmatch(lines[at].rstrip()):
            at += 1
        assert at < len(lines), (
            f"`$ {command.line}`: expected a line matching\n  {expected}\nin order, in:\n{output}"
        )
        at += 1


def run(command: Command, capsys: pytest.CaptureFixture[str]) -> str:
    argv = command.argv
    if argv[:2] == ["cp", "-r"] and len(argv) == 4:
        shutil.copytree(argv[2], argv[3])
        return ""
    assert argv[0] == "needlewise", (
        f"the tutorial may only run needlewise and cp -r: {command.line}"
    )
    code = main(argv[1:])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == command.exit_code, (
        f"`$ {command.line}` exited {code}, the tutorial says {command.exit_code}:\n{output}"
    )
    return output


def test_the_tutorial_has_every_kind_of_step():
    found = steps()
    commands = [c.argv[1] for s in found for c in s.commands if c.argv[0] == "needlewise"]
    assert {"rules", "check", "test", "diff", "explain"} <= set(commands)
    assert any("--coverage" in c.line for s in found for c in s.commands)
    written = {s.path.split("/")[2] for s in found if s.kind == "file"}
    assert {"catalogue.yaml", "cases", "terminology", "rules"} <= written
    assert all(s.path.startswith("knowledge/microneedling/") for s in found if s.kind == "file")


def test_the_tutorial_runs_as_written(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(
        DEFAULT_KNOWLEDGE,
        repo / "knowledge" / "microneedling",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    monkeypatch.chdir(repo)
    for step in steps():
        if step.kind == "file":
            path = repo / step.path
            if step.append:
                text = path.read_text(encoding="utf-8")
                path.write_text(text.rstrip("\n") + "\n" + step.text, encoding="utf-8")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(step.text, encoding="utf-8")
            continue
        for command in step.commands:
            check_output(command, run(command, capsys))
    assert (repo / "coverage.md").is_file()


@pytest.mark.parametrize(
    ("expected", "line", "matches"),
    [
        ("  rules: ... fired (...%)", "  rules:      52/122 fired (42.6%)", True),
        ("PASS a: note", "PASS a: note", True),
        ("PASS a: note", "PASS a: other", False),
        ("x ...", "x", False),
    ],
)
def test_expected_output_patterns(expected, line, matches):
    assert bool(pattern(expected).fullmatch(line)) is matches
