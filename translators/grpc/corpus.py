"""Load a folder of .proto files the way ``rosetta check`` does, and count what they expose.

Each ``.proto`` under the folder is compiled on its own with the folder's
import roots (every directory that is the base of some file's imports is
guessed by trying the file's ancestors), loaded into a descriptor pool and
turned into operations, so a file counts as loaded only when Rosetta could
serve it::

    report = check_corpus(Path("../shared/fixtures/protos"))
    loaded, failed, methods, bindings = report
    for path, reason in report.failures: print(path, reason)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from translators.grpc.descriptors import ProtoError, compile_protos, load_services
from translators.grpc.operations import build_operations

__all__ = ["CorpusReport", "check_corpus", "main"]


@dataclass(frozen=True, slots=True)
class CorpusReport:
    """Counts over a folder; unpacks as ``(loaded, failed, methods, bindings)``.

    ``failures`` pairs each file that failed with the reason; ``skipped``
    describes HTTP bindings left out because the router cannot read them.
    """

    loaded: int
    failed: int
    methods: int
    bindings: int
    failures: tuple[tuple[str, str], ...] = ()
    skipped: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[int]:
        return iter((self.loaded, self.failed, self.methods, self.bindings))


def check_corpus(folder: Path | str) -> CorpusReport:
    """Compile and load every ``.proto`` under ``folder``; count methods and HTTP bindings."""
    root = Path(folder).resolve()
    files = sorted(p for p in root.rglob("*.proto") if p.is_file())
    roots = _import_roots(root, files)
    loaded = methods = bindings = 0
    failures: list[tuple[str, str]] = []
    skipped: list[str] = []
    for path in files:
        try:
            services = load_services(compile_protos([path], roots))
            operations = build_operations(services, skipped=skipped)
        except ProtoError as exc:
            failures.append((str(path.relative_to(root)), str(exc)))
            continue
        loaded += 1
        own = [m for m in services.methods if _defined_in(m.descriptor.containing_service.file.name, path)]
        methods += len(own)
        names = {m.name for m in own}
        bindings += sum(1 for op in operations if op.name in names and op.extra.get("binding") is not None)
    return CorpusReport(loaded, len(failures), methods, bindings, tuple(failures), tuple(dict.fromkeys(skipped)))


def _defined_in(virtual: str, path: Path) -> bool:
    return path.as_posix().endswith("/" + virtual) or path.name == virtual


def _import_roots(root: Path, files: list[Path]) -> list[Path]:
    """Folders imports resolve from: any ancestor of a file that makes some import resolvable."""
    imports = {line.split('"')[1] for f in files for line in _import_lines(f)}
    roots: list[Path] = []
    for folder in sorted({p for f in files for p in f.parents if p.is_relative_to(root)}, key=lambda p: len(p.parts)):
        if any((folder / name).is_file() for name in imports) and folder not in roots:
            roots.append(folder)
    return roots


def _import_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip().startswith("import ") and '"' in line]


def main(folder: str) -> int:
    """Print the report for ``folder``; exit status 1 when any file failed."""
    report = check_corpus(folder)
    for path, reason in report.failures:
        print(f"error: {path}: {reason}")
    for problem in report.skipped:
        print(f"warning: {problem}")
    print(
        f"protos: {report.loaded} loaded, {report.failed} failed, "
        f"{report.methods} methods, {report.bindings} HTTP bindings"
    )
    return 1 if report.failed else 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/protos"))
