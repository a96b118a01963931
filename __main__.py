"""``python -m sarcoreg``: the same command line as the ``sarcoreg`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
