"""The documentation keeps up with the code: every problem type, link and command it names exists.

Pure and fast: reads the Markdown pages and the error classes, starts nothing.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.errors import GatewayError

ROOT = Path(__file__).resolve().parent.parent
ERRORS_DOC = ROOT / "docs" / "errors.md"
PAGES = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])
# A row of the errors.md table: | 404 | `no-route` | when … |
_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*`([a-z0-9-]+)`\s*\|", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _modules_defining_slugs() -> Iterator[str]:
    """Modules of gateway/ and translators/ with a class that sets ``slug`` (read, not imported)."""
    for package in ("gateway", "translators"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(_sets_slug(item) for item in node.body):
                    yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                    break


def _sets_slug(node: ast.stmt) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return any(isinstance(target, ast.Name) and target.id == "slug" for target in targets)


@functools.cache
def _error_classes() -> tuple[type[GatewayError], ...]:
    """GatewayError and every subclass defined in gateway/ or translators/."""
    for module in set(_modules_defining_slugs()):
        importlib.import_module(module)
    found: list[type[GatewayError]] = [GatewayError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return tuple(cls for cls in found if cls.__module__.startswith(("gateway.", "translators.")))


def _documented_rows() -> set[tuple[int, str]]:
    return {(int(status), slug) for status, slug in _ROW.findall(ERRORS_DOC.read_text(encoding="utf-8"))}


def test_every_error_class_is_in_the_errors_page_with_its_status():
    rows = _documented_rows()
    missing = [f"{cls.__name__}: {cls.status} {cls.slug}" for cls in _error_classes() if (cls.status, cls.slug) not in rows]
    assert not missing, f"docs/errors.md has no table row for: {missing}"


def test_the_errors_page_lists_no_problem_type_that_does_not_exist():
    slugs = {cls.slug for cls in _error_classes()}
    stale = sorted(slug for _, slug in _documented_rows() if slug not in slugs)
    assert not stale, f"docs/errors.md lists problem types no error class has: {stale}"


def test_the_slug_finder_sees_error_classes_outside_the_error_tree_module():
    modules = {cls.__module__ for cls in _error_classes()}
    assert {"gateway.limits", "gateway.auth.gate"} <= modules


def _prose(text: str) -> str:
    """``text`` without fenced code blocks or inline code, where brackets are not links."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: Counter[str] = Counter()
    anchors = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = _anchor(heading)
        anchors.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return anchors


def _relative_links(page: Path) -> Iterator[str]:
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto: …
            yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page: Path):
    broken = []
    for target in _relative_links(page):
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
            broken.append(f"{target} (no heading for #{fragment})")
    assert not broken, f"{page.relative_to(ROOT)} links to: {broken}"


def test_the_anchor_rule_matches_github_for_a_heading_with_code_and_punctuation():
    assert _anchor("`upstreams.NAME (type: rest)`") == "upstreamsname-type-rest"
    assert _anchor("XML ↔ JSON") == "xml--json"


def test_the_readme_links_every_documentation_page():
    linked = {target.partition("#")[0] for target in _relative_links(ROOT / "README.md")}
    unlinked = [f"docs/{page.name}" for page in sorted((ROOT / "docs").glob("*.md")) if f"docs/{page.name}" not in linked]
    assert not unlinked, f"README.md does not link: {unlinked}"


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {name for line in re.findall(r"^([A-Za-z][\w .-]*):(?!=)", text, re.MULTILINE) for name in line.split()}


def test_the_readme_states_the_two_commands_and_the_makefile_has_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Two commands\s+```sh\n(.*?)```", readme, re.DOTALL)
    assert block is not None, "README.md has no '## Two commands' block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    assert {"run", "test"} <= _make_targets()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_make_target_a_page_names_exists(page: Path):
    named = set(re.findall(r"`make ([a-z][\w-]*)", page.read_text(encoding="utf-8")))
    assert named <= _make_targets(), f"{page.relative_to(ROOT)} names make targets the Makefile lacks: {named - _make_targets()}"
