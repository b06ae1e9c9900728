"""The ``grpc`` translator: gRPC services as REST/JSON, described by protos or server reflection.

See ``docs/grpc.md`` for the mapping rules. Internals live in this package:
``settings`` (config model), ``descriptors`` (protos → descriptor pool),
``httprule`` (``google.api.http`` bindings), ``codec`` and ``fielderrors``
(JSON ↔ protobuf), ``schema`` (JSON Schemas), ``status`` and ``boundary``
(gRPC errors → Rosetta errors), ``streaming`` (NDJSON/SSE/JSON array),
``calls`` and ``channel`` (the network side), ``corpus`` (``rosetta check``).
"""

import os

# grpc's C core writes connection events (GOAWAY, reconnects) to stderr at INFO,
# outside Rosetta's JSON log. Keep it to errors unless the operator asks for more.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from translators.grpc.settings import GrpcSettings, TlsSettings  # noqa: E402
from translators.grpc.translator import GrpcTranslator  # noqa: E402

__all__ = ["GrpcSettings", "GrpcTranslator", "TlsSettings"]
