"""SOAP upstreams: any WSDL becomes a typed JSON API (``type: soap``).

See :mod:`translators.soap.translator` and docs/soap.md.
"""

from translators.soap.settings import SoapSettings
from translators.soap.translator import SoapTranslator

__all__ = ["SoapSettings", "SoapTranslator"]
