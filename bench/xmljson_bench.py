"""XML ↔ JSON conversion: Rosetta's codec side by side with bare xmltodict, in one run.

    python bench/xmljson_bench.py          # ~30 s: 2 KB SOAP-like and 1 MB record documents
    python bench/xmljson_bench.py --big    # also peak memory for 12.5/25/50 MB documents

For each document: XML → JSON (``xmltodict.parse`` vs ``xml_to_dict``, without
and with an XSD driving arrays and types) and JSON → XML (``xmltodict.unparse``
vs ``dict_to_xml``), as µs per document and MB/s of XML. Timings are the best
of several interleaved rounds, so both sides see the same machine load.
Ratios are xmltodict's time / ours (higher is better). Targets: ≥ 1.5 with
default options, ≥ 1.0 with an XSD. ``--big`` runs each conversion in a fresh
process and reports its peak memory growth per MB of input.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xmltodict  # noqa: E402

from translators.xmljson import XmlCodec, XmlOptions, dict_to_xml, load_schema, xml_to_dict  # noqa: E402

ORDERS_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:orders">
  <xs:element name="GetOrderResponse"><xs:complexType><xs:sequence>
    <xs:element name="Order"><xs:complexType><xs:sequence>
      <xs:element name="Customer"><xs:complexType><xs:sequence>
        <xs:element name="Name" type="xs:string"/><xs:element name="Email" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="Line" maxOccurs="unbounded"><xs:complexType><xs:sequence>
        <xs:element name="Sku" type="xs:string"/><xs:element name="Qty" type="xs:int"/>
        <xs:element name="Price" type="xs:decimal"/>
        <xs:element name="Note" type="xs:string" nillable="true"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="Total" type="xs:decimal"/><xs:element name="Paid" type="xs:boolean"/>
    </xs:sequence><xs:attribute name="id" type="xs:int"/></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""

ENVELOPE_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="http://schemas.xmlsoap.org/soap/envelope/">
  <xs:import namespace="urn:orders" schemaLocation="orders.xsd"/>
  <xs:element name="Envelope"><xs:complexType><xs:sequence>
    <xs:element name="Header" minOccurs="0"><xs:complexType><xs:sequence>
      <xs:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
    <xs:element name="Body"><xs:complexType><xs:sequence>
      <xs:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""

INVENTORY_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:inventory">
  <xs:element name="inventory"><xs:complexType><xs:sequence>
    <xs:element name="item" maxOccurs="unbounded"><xs:complexType><xs:sequence>
      <xs:element name="sku" type="xs:string"/><xs:element name="name" type="xs:string"/>
      <xs:element name="price"><xs:complexType><xs:simpleContent><xs:extension base="xs:decimal">
        <xs:attribute name="currency" type="xs:string"/></xs:extension></xs:simpleContent></xs:complexType></xs:element>
      <xs:element name="qty" type="xs:int"/><xs:element name="available" type="xs:boolean"/>
      <xs:element name="tags"><xs:complexType><xs:sequence>
        <xs:element name="tag" type="xs:string" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
      <xs:element name="updated" type="xs:dateTime"/>
    </xs:sequence><xs:attribute name="id" type="xs:long"/></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


def soap_document() -> bytes:
    """A ~2 KB SOAP 1.1 response: namespaces, attributes, a repeated line, xsi:nil."""
    lines = "".join(
        f"<Line><Sku>SKU-{i}</Sku><Qty>{i + 1}</Qty><Price>{i}.99</Price>"
        f'<Note xsi:nil="true"/></Line>\n        '
        for i in range(16)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '  <soap:Header><auth:Token xmlns:auth="urn:auth">abc123</auth:Token></soap:Header>\n'
        '  <soap:Body>\n    <GetOrderResponse xmlns="urn:orders">\n'
        '      <Order id="42">\n        <Customer><Name>Ada Lovelace</Name>'
        f"<Email>ada@example.com</Email></Customer>\n        {lines}"
        "<Total>123.45</Total><Paid>false</Paid>\n      </Order>\n"
        "    </GetOrderResponse>\n  </soap:Body>\n</soap:Envelope>\n"
    ).encode()


def records_document(size: int) -> bytes:
    """Repeated inventory records until the document is at least ``size`` bytes."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<inventory xmlns="urn:inventory">\n']
    total, i = len(parts[0]), 0
    while total < size:
        record = (
            f'  <item id="{i}">\n    <sku>SKU-{i:08d}</sku>\n    <name>Widget {i} &amp; co</name>\n'
            f'    <price currency="EUR">{i % 1000}.{i % 100:02d}</price>\n    <qty>{i % 50}</qty>\n'
            f"    <available>{'true' if i % 2 else 'false'}</available>\n"
            "    <tags><tag>red</tag><tag>blue</tag></tags>\n"
            f"    <updated>2024-01-{i % 28 + 1:02d}T10:00:00Z</updated>\n  </item>\n"
        )
        parts.append(record)
        total, i = total + len(record), i + 1
    parts.append("</inventory>\n")
    return "".join(parts).encode()


@dataclass
class Row:
    document: str
    direction: str
    variant: str
    seconds: float
    xml_bytes: int
    baseline: float | None = None  # xmltodict's seconds for the same work
    target: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else self.baseline / self.seconds


def best_times(funcs: dict[str, Callable[[], Any]], number: int, rounds: int) -> dict[str, float]:
    """Seconds per call for each function: the best of ``rounds`` interleaved rounds."""
    best = dict.fromkeys(funcs, float("inf"))
    for func in funcs.values():
        func()  # warm caches before measuring
    for _ in range(rounds):
        for label, func in funcs.items():
            started = time.perf_counter()
            for _ in range(number):
                func()
            best[label] = min(best[label], (time.perf_counter() - started) / number)
    return best


def measure_document(
    name: str, data: bytes, codec: XmlCodec, number: int, rounds: int
) -> list[Row]:
    """The six rows of one document: both directions, xmltodict / ours / ours with XSD."""
    plain = xmltodict.parse(data)
    typed = codec.to_dict(data)
    options = XmlOptions(max_bytes=len(data) + 1)
    times = best_times(
        {
            "parse": lambda: xmltodict.parse(data),
            "ours": lambda: xml_to_dict(data, options),
            "ours+xsd": lambda: codec.to_dict(data),
            "unparse": lambda: xmltodict.unparse(plain),
            "write": lambda: dict_to_xml(plain),
            "unparse-typed": lambda: xmltodict.unparse(typed),
            "write-typed": lambda: dict_to_xml(typed),
        },
        number,
        rounds,
    )
    size = len(data)
    return [
        Row(name, "XML→JSON", "xmltodict.parse", times["parse"], size),
        Row(name, "XML→JSON", "rosetta", times["ours"], size, times["parse"], 1.5),
        Row(name, "XML→JSON", "rosetta + XSD", times["ours+xsd"], size, times["parse"], 1.0),
        Row(name, "JSON→XML", "xmltodict.unparse", times["unparse"], size),
        Row(name, "JSON→XML", "rosetta", times["write"], size, times["unparse"], 1.5),
        Row(
            name,
            "JSON→XML",
            "rosetta, typed (XSD) dict",
            times["write-typed"],
            size,
            times["unparse-typed"],
            1.0,
        ),
    ]


def schema_codecs(folder: Path) -> tuple[XmlCodec, XmlCodec]:
    """Codecs with XSD hints for the SOAP-like and the records document."""
    (folder / "orders.xsd").write_text(ORDERS_XSD)
    (folder / "envelope.xsd").write_text(ENVELOPE_XSD)
    (folder / "inventory.xsd").write_text(INVENTORY_XSD)
    big = XmlOptions(max_bytes=64 * 1024 * 1024)
    return (
        XmlCodec(big, load_schema(folder / "envelope.xsd")),
        XmlCodec(big, load_schema(folder / "inventory.xsd")),
    )


def collect(rounds: int = 7) -> list[Row]:
    """Every timing row of the default run."""
    with tempfile.TemporaryDirectory(prefix="rosetta-xmljson-") as tmp:
        soap_codec, records_codec = schema_codecs(Path(tmp))
        soap = soap_document()
        records = records_document(1_000_000)
        rows = measure_document(f"SOAP {len(soap) / 1024:.1f} KB", soap, soap_codec, 400, rounds)
        rows += measure_document(
            f"records {len(records) / 1e6:.1f} MB", records, records_codec, 1, rounds
        )
    return rows


def print_table(rows: list[Row]) -> None:
    print("XML ↔ JSON conversion, best of interleaved rounds; ratio = xmltodict's time / ours\n")
    print(
        f"{'document':<16} {'direction':<9} {'variant':<26} {'µs/doc':>11} {'MB/s':>7} {'ratio':>6}  target"
    )
    previous = ("", "")
    for row in rows:
        document = row.document if row.document != previous[0] else ""
        direction = row.direction if (row.document, row.direction) != previous else ""
        previous = (row.document, row.direction)
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "1.00"
        verdict = ""
        if row.target is not None and row.ratio is not None:
            verdict = f"≥ {row.target:g}  {'ok' if row.ratio >= row.target else 'MISSED'}"
        mbps = row.xml_bytes / row.seconds / 1e6
        print(
            f"{document:<16} {direction:<9} {row.variant:<26} {row.seconds * 1e6:>11.1f} {mbps:>7.1f} {ratio:>6}  {verdict}"
        )


# -- peak memory (--big) -----------------------------------------------------------


def _peak_child(path: str, kind: str) -> None:
    """In a fresh process: read the document, convert it, print the RSS growth in bytes."""
    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "rosetta":
        result: Any = xml_to_dict(data, XmlOptions(max_bytes=len(data) + 1, max_elements=10**8))
    else:
        result = xmltodict.parse(data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"grown": (after - before) * 1024, "kept": result is not None}))


def _peak(path: Path, kind: str) -> float:
    command = [sys.executable, __file__, "--peak-child", str(path), kind]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600).stdout
    return float(json.loads(output)["grown"])


def print_memory(sizes_mb: tuple[float, ...] = (12.5, 25.0, 50.0)) -> None:
    """Peak memory growth per MB of input; constant across sizes means linear growth."""
    print("\nPeak memory for XML → JSON (fresh process each; RSS growth / input size)\n")
    print(f"{'input MB':>9} {'rosetta MB/MB':>14} {'xmltodict MB/MB':>16}")
    with tempfile.TemporaryDirectory(prefix="rosetta-xmljson-") as tmp:
        for size in sizes_mb:
            path = Path(tmp) / f"records-{size}.xml"
            path.write_bytes(records_document(int(size * 1e6)))
            actual = path.stat().st_size
            ours = _peak(path, "rosetta") / actual
            theirs = (
                f"{_peak(path, 'xmltodict') / actual:>16.1f}"
                if size == sizes_mb[-1]
                else f"{'-':>16}"
            )
            print(f"{actual / 1e6:>9.1f} {ours:>14.1f} {theirs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", action="store_true", help="also measure peak memory up to 50 MB")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure (7)")
    parser.add_argument("--peak-child", nargs=2, metavar=("PATH", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_child:
        _peak_child(*args.peak_child)
        return 0
    started = time.monotonic()
    rows = collect(args.rounds)
    print_table(rows)
    if args.big:
        print_memory()
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
