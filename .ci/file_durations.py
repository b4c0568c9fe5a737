"""Seconds each test file took, from a pytest JUnit XML report: the table the test ordering reads.

    uv run pytest --junitxml=/tmp/junit.xml
    uv run python .ci/file_durations.py /tmp/junit.xml > tests/file_durations.json

A test's time in the report is its setup, call and teardown together (so a module fixture's
cost lands on the file's first test); a file's entry is the sum over its tests, rounded to the
second, for files of at least MIN_SECONDS (the rest keep their collection order after them).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

MIN_SECONDS = 5.0
ROOT = Path(__file__).resolve().parents[1]


def file_of(classname: str) -> str | None:
    """The file a JUnit classname (dotted module, maybe a class after it) names, or None."""
    parts = classname.split(".")
    for base in (ROOT, ROOT / "src"):
        for end in range(len(parts), 0, -1):
            path = base.joinpath(*parts[:end]).with_suffix(".py")
            if path.is_file():
                return path.relative_to(ROOT).as_posix()
    return None


def file_durations(report: Path) -> dict[str, float]:
    """{file relative to the root: seconds} over every test case of `report`."""
    totals: dict[str, float] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = file_of(case.get("classname", ""))
        if name is not None:
            totals[name] = totals.get(name, 0.0) + float(case.get("time", 0.0))
    return {name: round(seconds) for name, seconds in
            sorted(totals.items(), key=lambda item: -item[1]) if seconds >= MIN_SECONDS}


if __name__ == "__main__":
    json.dump(file_durations(Path(sys.argv[1])), sys.stdout, indent=1)
    sys.stdout.write("\n")
