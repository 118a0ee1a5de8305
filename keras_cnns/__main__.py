"""``python -m keras_cnns``: the command line of :mod:`keras_cnns.cli`."""

from keras_cnns.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
