"""Command line interface: ``python -m keras_cnns COMMAND ...`` (or ``keras-cnns``).

Commands::

    list                                   models and datasets
    summary MODEL [--input-shape 32,32,3] [--classes 10]
    train MODEL --dataset D [--out DIR] [--epochs N] [--batch-size B] [--fast] [--resume] ...
    predict MODEL IMAGE [IMAGE ...] [--weights NAME] [--top K] [--json]
    compare, bench                         experiments (see their --help)

Each command is a pair of functions: ``add_<name>_parser(subparsers)`` declares
the arguments and sets ``func`` to ``run_<name>(args, parser) -> exit code``.  To
add a command, write such a pair and append the ``add_`` function to
:data:`SUBCOMMANDS`.

TensorFlow is imported only by the commands that need it, so ``--help`` is fast.
Invalid names (model, dataset) exit with code 2 and list the valid choices.
"""

from __future__ import annotations

import argparse
import sys

from ._common import PROG, RUN_FILES, CommandError, _quiet_tensorflow
from .experiments import BENCH_DEFAULT_MODELS, add_bench_parser, add_compare_parser, run_bench, run_compare
from .info import add_list_parser, add_summary_parser, run_list, run_summary
from .predict import add_predict_parser, run_predict
from .train import add_train_parser, run_train


SUBCOMMANDS = [add_list_parser, add_summary_parser, add_train_parser, add_compare_parser, add_bench_parser,
               add_predict_parser]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Classic CNNs (AlexNet to ResNeXt) in Keras 3: list, inspect and train them.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    parser.set_defaults(subparsers=subparsers.choices)  # name -> subparser, for error messages
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the command; returns the exit code.

    Usage errors (bad arguments, unknown model or dataset) exit through
    ``SystemExit(2)`` with the command's usage line, like argparse's own errors;
    a dataset that cannot be found returns 1.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    _quiet_tensorflow()
    command_parser = args.subparsers.get(args.command, parser)
    try:
        return int(args.func(args, command_parser) or 0)
    except CommandError as error:
        if error.code == 2:
            command_parser.error(str(error))  # prints usage + message, exits 2
        print(f"{command_parser.prog}: error: {error}", file=sys.stderr)
        return error.code


__all__ = ["BENCH_DEFAULT_MODELS", "PROG", "RUN_FILES", "SUBCOMMANDS", "CommandError", "build_parser", "main",
           "run_bench", "run_compare", "run_list", "run_predict", "run_summary", "run_train"]
