"""The README and docs/*.md name the tests that pin each guarantee: those tests exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

# `tests/x.py::test_name`, `tests/x.py` alone, or `::test_name` (in the file named last)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    last = None
    for match in REFERENCE.finditer(text):
        path, name = match.groups()
        last = path or last
        if (path or name) and last is not None:
            found.append((last, name))
    return found


def functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_test_a_doc_names_exists() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        references = named_tests(page.read_text())
        for path, name in references:
            file = ROOT / path
            if not file.exists() or (name is not None and name not in functions(file)):
                missing.append(f"{page.name}: {path}{'::' + name if name else ''}")
    assert not missing, "\n".join(missing)
    assert len(named_tests((ROOT / "docs" / "consumer.md").read_text())) > 10


def test_a_reference_without_its_file_takes_the_file_named_before() -> None:
    text = "`tests/unit/a.py::test_one` and `::test_two`; `tests/unit/b.py` (every test)"
    assert named_tests(text) == [
        ("tests/unit/a.py", "test_one"),
        ("tests/unit/a.py", "test_two"),
        ("tests/unit/b.py", None),
    ]
