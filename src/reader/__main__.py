"""`python -m reader` runs the command-line entry point."""

from reader.cli import main

# The guard matters: the loader's worker processes (spawn/forkserver) re-import __main__.
if __name__ == "__main__":
    raise SystemExit(main())
