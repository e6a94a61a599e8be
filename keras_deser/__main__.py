"""``python -m keras_deser``: the ``keras-deser`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m keras_deser"))
