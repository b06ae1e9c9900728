"""Rosetta: a protocol-translating integration gateway.

REST/JSON at the front door; SOAP, gRPC and REST/XML behind it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
