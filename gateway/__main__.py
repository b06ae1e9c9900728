"""``python -m gateway`` is the ``rosetta`` command."""

from gateway.cli import main

raise SystemExit(main())
