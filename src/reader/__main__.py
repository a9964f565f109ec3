"""`python -m reader` runs the command-line entry point."""

from reader.cli import main

raise SystemExit(main())
