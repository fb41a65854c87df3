"""``python -m app``: the same command line as ``followups``."""

from app.cli import main

main()
