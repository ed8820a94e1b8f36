"""``python -m service.cli``: the ``omnistock`` command."""

from service.cli.main import main

raise SystemExit(main())
