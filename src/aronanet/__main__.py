"""``python -m aronanet``: the same as the ``aronanet`` command."""

import sys

from aronanet.cli import main

if __name__ == "__main__":
    sys.exit(main())
