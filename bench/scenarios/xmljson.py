"""XML ↔ JSON conversion: Rosetta's codec against bare xmltodict (see bench/xmljson_bench.py).

Targets: ≥ 1.5 × xmltodict's speed in both directions with default options,
≥ 1.0 × with an XSD driving arrays and types. Pure CPU work: no servers.
"""

from __future__ import annotations

from bench.harness import Harness
from bench.scenarios import scenario
from bench.xmljson_bench import collect, print_table


@scenario("xmljson", "XML<->JSON conversion vs bare xmltodict.parse/unparse", order=40)
def xmljson(h: Harness) -> None:
    rows = collect()
    print_table(rows)
    for row in rows:
        if row.ratio is not None and row.target is not None:
            label = f"{row.document} {row.direction} {row.variant} / xmltodict speed"
            h.ratio("xmljson", label, row.ratio, at_least=row.target)
