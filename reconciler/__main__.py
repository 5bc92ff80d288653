"""``python -m reconciler`` is the same as the ``itwin-access`` command."""

import sys

from reconciler.cli import main

if __name__ == "__main__":
    sys.exit(main())
