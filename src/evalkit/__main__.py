"""Allow ``python -m evalkit ...`` (see :mod:`evalkit.cli`)."""

from evalkit.cli import main

raise SystemExit(main())
