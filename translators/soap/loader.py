"""Load a WSDL once, offline, into a zeep :class:`~zeep.wsdl.Document`.

Imports and includes resolve against local files. The only well-known remote
document a WSDL may pull in, the SOAP 1.1 encoding schema, ships with Rosetta
(``soap-encoding.xsd``, W3C Software License, notice kept in the file), so
rpc/encoded WSDLs load with no network. Any other http(s) URL is refused unless
the upstream sets ``allow_remote_wsdl``. Parsing is synchronous (zeep): the
translator runs it in a worker thread::

    loaded = await asyncio.to_thread(load_document_sync, "wsdl/calculator.wsdl")
    loaded.document.services
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
from zeep import Settings, Transport
from zeep.wsdl import Document

from translators.soap.wsdlnotes import WsdlNotes, read_notes

__all__ = ["SOAP_ENCODING_XSD", "LoadedWsdl", "OfflineLoader", "WsdlLoadError", "load_document_sync"]

SOAP_ENCODING_XSD = Path(__file__).with_name("soap-encoding.xsd")
# URLs under which WSDLs refer to the SOAP 1.1 encoding schema.
_SHIPPED = {
    "http://schemas.xmlsoap.org/soap/encoding/": SOAP_ENCODING_XSD,
    "http://schemas.xmlsoap.org/soap/encoding": SOAP_ENCODING_XSD,
    "https://schemas.xmlsoap.org/soap/encoding/": SOAP_ENCODING_XSD,
}


class WsdlLoadError(Exception):
    """A WSDL could not be loaded; the message names the file and the cause."""


class OfflineLoader(Transport):  # type: ignore[misc]
    """A zeep transport used only to *load* documents: files, shipped schemas, nothing else.

    With ``allow_remote`` it fetches http(s) documents too (once, at start-up).
    """

    def __init__(self, allow_remote: bool = False, timeout: float = 30.0) -> None:
        # zeep's Transport opens a requests session we never use: skip its __init__.
        self.cache = None
        self.load_timeout = timeout
        self.operation_timeout = timeout
        self.allow_remote = allow_remote
        self._close_session = False
        #: Every document loaded, by location (read again for notes zeep drops).
        self.documents: dict[str, bytes] = {}

    def load(self, url: str) -> bytes:
        if not url:
            raise WsdlLoadError("an import without a location")
        content = self.documents.get(url)
        if content is None:
            content = self.documents[url] = self._load(url)
        return content

    def _load(self, url: str) -> bytes:
        shipped = _SHIPPED.get(url)
        if shipped is not None:
            return shipped.read_bytes()
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            return self._remote(url)
        path = unquote(parsed.path) if parsed.scheme == "file" else os.path.expanduser(url)
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise WsdlLoadError(f"cannot read {path}: {exc.strerror or exc}") from None

    def _remote(self, url: str) -> bytes:
        if not self.allow_remote:
            raise WsdlLoadError(
                f"refusing to fetch {url}: WSDLs load offline "
                "(keep a local copy, or set allow_remote_wsdl: true)"
            )
        try:
            response = httpx.get(url, timeout=self.load_timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise WsdlLoadError(f"cannot fetch {url}: {exc}") from None
        return response.content

    def __del__(self) -> None:  # zeep's Transport closes its session here
        pass


def zeep_settings(strict: bool = True) -> Settings:
    """zeep settings Rosetta loads and parses with: no DTDs, no entities, no huge trees."""
    return Settings(
        strict=strict,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=False,  # the loader itself refuses remote documents
        xml_huge_tree=False,
    )


@dataclass(frozen=True, slots=True)
class LoadedWsdl:
    """A parsed WSDL and the notes zeep does not keep (documentation, encoded bindings)."""

    document: Document
    notes: WsdlNotes
    sources: tuple[str, ...] = ()  # every document read, in order (the WSDL first)


def load_document_sync(location: str, strict: bool = True, allow_remote: bool = False) -> LoadedWsdl:
    """Parse the WSDL at ``location`` (blocking); raise :class:`WsdlLoadError`."""
    loader = OfflineLoader(allow_remote=allow_remote)
    try:
        document = Document(location, loader, settings=zeep_settings(strict))  # type: ignore[arg-type]
        return LoadedWsdl(document, read_notes(loader.documents.values()), tuple(loader.documents))
    except WsdlLoadError as exc:
        raise WsdlLoadError(f"cannot load WSDL {location}: {exc}") from None
    except Exception as exc:  # zeep raises many unrelated types while parsing
        cause = str(exc).strip() or type(exc).__name__
        raise WsdlLoadError(f"cannot load WSDL {location}: {cause}") from None
