"""Load every WSDL under a folder the way a ``type: soap`` upstream would, and count.

For each ``*.wsdl`` file: parse it offline, choose its default port, compile
every operation's XSD model and JSON Schemas, and print its signature.
WSDLs that only exist to be imported (no SOAP port) load but expose nothing::

    python -m translators.soap.corpus ../shared/fixtures/wsdl      # exit 1 if one fails

    report = check_corpus(Path("wsdl"))
    report.loaded, report.failed, report.operations
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from translators.soap.binding import choose_port, describe_port
from translators.soap.loader import WsdlLoadError, load_document_sync
from translators.soap.schema import request_schema, response_schema, signature

__all__ = ["CorpusReport", "check_corpus", "check_wsdl", "main"]


@dataclass
class CorpusReport:
    """How a folder of WSDLs fared; ``lines`` is the printable detail."""

    loaded: int = 0
    failed: int = 0
    operations: int = 0
    lines: list[str] = field(default_factory=list)


def check_wsdl(path: Path) -> list[str]:
    """Signatures of the operations of the WSDL's default port; raise WsdlLoadError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zeep warns about parts it skips; the count shows them
        loaded = load_document_sync(str(path))
    try:
        port = choose_port(loaded.document, None, None)
    except ValueError:
        return []  # a WSDL imported by others: types and messages only
    signatures = []
    for model in describe_port(port, loaded.notes).values():
        request_schema(model.request)
        response_schema(model.response)
        signatures.append(f"{model.name}({signature(model.request)}) -> ({signature(model.response)})")
    return signatures


def check_corpus(folder: Path) -> CorpusReport:
    """Check every ``*.wsdl`` below ``folder``, in path order."""
    report = CorpusReport()
    for path in sorted(folder.rglob("*.wsdl")):
        name = path.relative_to(folder)
        try:
            signatures = check_wsdl(path)
        except WsdlLoadError as exc:
            report.failed += 1
            report.lines.append(f"FAIL {name}: {exc}")
            continue
        report.loaded += 1
        report.operations += len(signatures)
        report.lines.append(f"ok   {name}: {len(signatures)} operations")
        report.lines += [f"       {s}" for s in signatures]
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "wsdl")
    if not folder.is_dir():
        print(f"{folder}: no such folder", file=sys.stderr)
        return 2
    report = check_corpus(folder)
    print("\n".join(report.lines))
    print(f"{report.loaded} WSDLs loaded, {report.failed} failed, {report.operations} operations")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
