"""Command line interface: ``python -m keras_cnns COMMAND ...`` (or ``keras-cnns``).

Commands::

    list                                   models and datasets
    summary MODEL [--input-shape 32,32,3] [--classes 10]
    train MODEL --dataset D [--out DIR] [--epochs N] [--batch-size B] [--fast] [--resume] ...

Each command is a pair of functions: ``add_<name>_parser(subparsers)`` declares
the arguments and sets ``func`` to ``run_<name>(args, parser) -> exit code``.  To
add a command, write such a pair and append the ``add_`` function to
:data:`SUBCOMMANDS`.

TensorFlow is imported only by the commands that need it, so ``--help`` is fast.
Invalid names (model, dataset) exit with code 2 and list the valid choices.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

PROG = "python -m keras_cnns"
RUN_FILES = ("metrics.csv", "curves.png", "best.keras", "summary.json")


class CommandError(Exception):
    """A user error detected by a command: printed as ``error: ...`` with an exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------- helpers


def _quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ info logs (only if the user has not chosen a level)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _input_shape(text: str) -> tuple[int, int, int]:
    """argparse type: ``"32,32,3"`` or ``"32x32x3"`` -> ``(32, 32, 3)``."""
    parts = text.replace("x", ",").replace("X", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHT,WIDTH,CHANNELS such as 32,32,3; got {text!r}"
        )
    return shape


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _check_model(name: str) -> None:
    """Raise :class:`CommandError` (exit 2) unless ``name`` is a registered model."""
    from keras_cnns import models

    valid = models.list_models()
    if name not in valid:
        raise CommandError(f"unknown model {name!r}; valid models: {', '.join(valid)}")


def _check_dataset(name: str) -> None:
    """Raise :class:`CommandError` (exit 2) unless ``name`` is a known dataset or a path."""
    from keras_cnns import data

    valid = data.list_datasets()
    if name in valid or os.path.exists(name):
        return
    canonical = getattr(getattr(data, "core", None), "canonical_name", None)
    if canonical is not None and canonical(name) is not None:  # e.g. "fashion-mnist"
        return
    raise CommandError(
        f"unknown dataset {name!r}; valid datasets: {', '.join(valid)} (or a path to image folders)"
    )


def _fmt_count(value: int) -> str:
    """``269722`` -> ``"269,722"``."""
    return f"{int(value):,}"


def _fmt_shape(shape) -> str:
    """``(32, 32, 3)`` -> ``"32x32x3"``."""
    return "x".join(str(d) for d in shape)


# ------------------------------------------------------------------------ list


def add_list_parser(subparsers) -> None:
    """``list``: the registered models and the known datasets."""
    parser = subparsers.add_parser(
        "list",
        help="list models and datasets",
        description="List the model names accepted by summary/train and the datasets.",
    )
    parser.set_defaults(func=run_list)


def run_list(args, parser) -> int:
    """Print models (with their default input shape) and datasets (with samples)."""
    from keras_cnns import data, models

    names = models.list_models()
    print(f"models ({len(names)}):")
    width = max(len(n) for n in names)
    for name in names:
        shape = models.default_input_shape(name) if hasattr(models, "default_input_shape") else None
        suffix = f"  default input {_fmt_shape(shape)}" if shape else ""
        print(f"  {name:<{width}}{suffix}".rstrip())
    samples = set(data.sample_names()) if hasattr(data, "sample_names") else set()
    datasets = data.list_datasets()
    print(f"datasets ({len(datasets)}):")
    width = max(len(n) for n in datasets)
    for name in datasets:
        suffix = "  (shipped sample: --fast / --sample)" if name in samples else ""
        print(f"  {name:<{width}}{suffix}".rstrip())
    return 0


# --------------------------------------------------------------------- summary


def add_summary_parser(subparsers) -> None:
    """``summary MODEL``: parameters, MACs, output shape, layers."""
    parser = subparsers.add_parser(
        "summary",
        help="parameters, MACs and output shape of a model",
        description="Build MODEL and print its trainable parameters, multiply-accumulates "
        "per image, output shape and number of layers.",
    )
    parser.add_argument("model", help="model name (see `list`)")
    parser.add_argument(
        "--input-shape",
        type=_input_shape,
        default=None,
        metavar="H,W,C",
        help="input shape, e.g. 32,32,3 (default: the model's own, 224,224,3 for ImageNet models)",
    )
    parser.add_argument(
        "--classes", type=_positive_int, default=None, help="number of classes (default: the model's)"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.set_defaults(func=run_summary)


def run_summary(args, parser) -> int:
    """Build the model and print its size."""
    _check_model(args.model)
    from keras_cnns import analysis, models

    try:
        model = models.build(args.model, input_shape=args.input_shape, classes=args.classes)
    except ValueError as error:
        raise CommandError(f"cannot build {args.model}: {error}") from error
    info = {
        "model": args.model,
        "input_shape": list(model.input_shape[1:]),
        "output_shape": list(model.output_shape[1:]),
        "trainable_params": int(analysis.count_params(model)),
        "macs": int(analysis.count_macs(model)),
        "layers": len(model.layers),
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{args.model}: input {_fmt_shape(info['input_shape'])}")
    print(f"  trainable parameters  {_fmt_count(info['trainable_params'])}")
    print(f"  MACs per image        {_fmt_count(info['macs'])} ({info['macs'] / 1e6:,.1f} M)")
    print(f"  output shape          {tuple(model.output_shape)}")
    print(f"  layers                {info['layers']}")
    return 0


# ----------------------------------------------------------------------- train


def add_train_parser(subparsers) -> None:
    """``train MODEL --dataset D --out DIR``: train and write a run folder."""
    optimizers = ("sgd", "adamw")  # keep in sync with keras_cnns.training.OPTIMIZERS
    parser = subparsers.add_parser(
        "train",
        help="train a model on a dataset",
        description="Build MODEL for the dataset's input shape and classes, train it, evaluate it "
        "on the test set, and write " + ", ".join(RUN_FILES) + " into --out.",
    )
    parser.add_argument("model", help="model name (see `list`)")
    parser.add_argument("--dataset", required=True, help="dataset name (see `list`) or image-folder path")
    parser.add_argument("--out", default=None,
                        help="run folder for the outputs (default: runs/MODEL-DATASET)")
    parser.add_argument("--epochs", type=_positive_int, default=10, help="epochs (default: 10)")
    parser.add_argument("--batch-size", type=_positive_int, default=128, help="batch size (default: 128)")
    parser.add_argument("--optimizer", choices=optimizers, default="sgd", help="default: sgd")
    parser.add_argument(
        "--lr", type=float, default=None, help="peak learning rate (default: 0.1*batch/128 for sgd, 1e-3 for adamw)"
    )
    parser.add_argument(
        "--weight-decay", type=float, default=None, help="decoupled weight decay (default: 5e-4 sgd, 0.05 adamw)"
    )
    parser.add_argument("--warmup-epochs", type=int, default=0, help="linear warm-up epochs (default: 0)")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="default: 0")
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random crop + flip (default: on for RGB, off for grey images)",
    )
    parser.add_argument(
        "--image-size", type=_positive_int, default=None, help="resize images to this square size"
    )
    parser.add_argument("--steps", type=_positive_int, default=None, help="at most this many batches per epoch")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="fast setting (as KERAS_CNNS_FAST=1): shipped sample, at most 20 steps per epoch",
    )
    parser.add_argument("--sample", action="store_true", help="use the shipped sample of the dataset")
    parser.add_argument("--only-classes", default=None, metavar="NAMES",
                        help="train on these classes only, comma-separated names or labels "
                        "(e.g. airplane,automobile,bird,cat,deer), relabelled 0..k-1")
    parser.add_argument("--resume", action="store_true", help="continue a killed run in --out")
    parser.add_argument("--data-dir", default=None, help="folder(s) to search for the dataset first")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2, help="fit verbosity (default: 2)")
    parser.set_defaults(func=run_train)


def _load_dataset(args):
    """Load ``args.dataset`` (``data.load`` decides fast / sample / full); missing data -> exit 1."""
    from keras_cnns import data

    try:
        ds = data.load(args.dataset, args.data_dir, sample=True if args.sample else None,
                       fast=True if args.fast else None)
    except data.DatasetNotFoundError as error:
        hint = ""
        if args.dataset in data.sample_names() and not (args.fast or args.sample):
            hint = "\n(hint: --fast or --sample use the shipped sample)"
        raise CommandError(f"{error}{hint}", code=1) from error
    except ValueError as error:
        raise CommandError(str(error)) from error
    if args.only_classes:
        wanted = [int(c) if c.strip().isdigit() else c.strip() for c in args.only_classes.split(",")]
        try:
            ds = ds.select_classes(wanted)
        except ValueError as error:
            raise CommandError(f"--only-classes: {error}") from error
    return ds


def _command_line(argv) -> str:
    """The command as typed (``python -m keras_cnns train ...``), for summary.json and model cards."""
    import shlex

    return " ".join([PROG] + [shlex.quote(a) for a in argv])


def _summary_record(args, ds, result, model) -> dict:
    """The JSON written to ``summary.json`` (no absolute paths)."""
    import keras
    import tensorflow as tf

    from keras_cnns import analysis

    lo, hi = result.test_ci95
    config = result.config
    return {
        "model": args.model,
        "dataset": ds.name,
        "source": ds.source,
        "is_sample": bool(ds.is_sample),
        "notes": ds.notes,
        "command": _command_line(args.argv) if getattr(args, "argv", None) else None,
        "input_shape": list(model.input_shape[1:]),
        "classes": int(ds.num_classes),
        "class_names": list(ds.class_names),
        "epochs": int(result.epochs),
        **{key: config[key] for key in ("batch_size", "steps_per_epoch", "optimizer", "learning_rate",
                                        "weight_decay", "warmup_epochs", "label_smoothing", "augment",
                                        "fast", "seed")},
        "config": config,
        "test_accuracy": result.test_accuracy,
        "test_ci95": [lo, hi],
        "test_loss": result.test_loss,
        "n_test": result.n_test,
        "best_val_accuracy": float(result.metrics["val_accuracy"].max())
        if "val_accuracy" in result.metrics
        else None,
        "params": int(analysis.count_params(model)),
        "macs": int(analysis.count_macs(model)),
        "wall_seconds": round(result.wall_seconds, 2),
        "device": result.device,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "summary": result.summary(),
    }


def _train_config(args):
    """The ``TrainConfig`` of the command's options (its checks name the culprit)."""
    from keras_cnns.training import TrainConfig

    try:
        return TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, learning_rate=args.lr,
            weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs,
            label_smoothing=args.label_smoothing, augment=args.augment, image_size=args.image_size,
            seed=args.seed, fast=True if args.fast else None, steps_per_epoch=args.steps)
    except ValueError as error:
        raise CommandError(str(error)) from error


def run_train(args, parser) -> int:
    """Train and write metrics.csv, curves.png, best.keras and summary.json."""
    _check_model(args.model)
    _check_dataset(args.dataset)
    config = _train_config(args)
    from keras_cnns import plots, training

    ds = _load_dataset(args)
    if args.out is None:
        args.out = str(Path("runs") / f"{args.model}-{Path(args.dataset).name}")
    out = Path(args.out)
    try:  # train() seeds, then builds the model for the pipelines' input shape and classes
        result = training.train(args.model, ds, config=config, out_dir=out, resume=args.resume,
                                verbose=args.verbose)
    except ValueError as error:  # the model cannot take these images
        shape = _fmt_shape((args.image_size, args.image_size, ds.input_shape[-1]) if args.image_size
                           else ds.input_shape)
        raise CommandError(f"cannot build {args.model} for {shape} images: {error} (try --image-size)") from error
    figure = plots.learning_curves(result, title=f"{args.model} on {ds.name}")
    figure.savefig(out / "curves.png")
    record = _summary_record(args, ds, result, result.model)
    (out / "summary.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.model} on {ds.name}: {result.summary()}")
    print(f"wrote {', '.join(RUN_FILES)} to {args.out}")
    return 0


# ------------------------------------------------------------------------ main

def add_compare_parser(subparsers) -> None:
    """``compare``: all families under one time budget (``keras_cnns.compare``)."""
    parser = subparsers.add_parser(
        "compare", help="train several families under one time budget and tabulate them",
        description="Train each model once on one dataset with the same wall-clock budget; write "
        "comparison.csv, comparison.md and accuracy plots into --out.")
    parser.add_argument("--models", nargs="+", default=None,
                        help="model names (default: one per family, as in notebook 09)")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--budget-seconds", type=float, default=180.0, help="training seconds per model")
    parser.add_argument("--epochs", type=int, default=30, help="epoch cap per model")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=["sgd", "adamw"], default="adamw",
                        help="one recipe for all models (default: adamw, as notebook 09)")
    parser.add_argument("--augment", action="store_true", help="random crop + flip")
    parser.add_argument("--fast", action="store_true", help="shipped sample, 20 steps per epoch")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/comparison", help="output folder")
    parser.set_defaults(func=run_compare)


def run_compare(args, parser=None) -> int:
    from .compare import compare, to_markdown

    table = compare(args.models, dataset=args.dataset, budget_seconds=args.budget_seconds,
                    epochs=args.epochs, batch_size=args.batch_size, out_dir=args.out,
                    augment=args.augment, optimizer=args.optimizer, seed=args.seed,
                    verbose=2 if not args.fast else 0,
                    fast=True if args.fast else None, data_dir=args.data_dir)
    print(to_markdown(table))
    print(f"wrote comparison.csv, comparison.md, accuracy_vs_params.png, accuracy_vs_time.png to {args.out}")
    return 0


def add_bench_parser(subparsers) -> None:
    """``bench``: throughput and peak memory, with comparisons (``keras_cnns.bench``, imported by the run)."""
    parser = subparsers.add_parser(
        "bench", help="training throughput and peak memory per model, with comparisons",
        description="Time train_on_batch windows per model (fresh subprocess each), compare with "
        "keras.applications, a PyTorch ResNet-20, XLA on/off and the input pipeline.")
    parser.add_argument("--models", nargs="+", default=None,
                        help="default: " + " ".join(BENCH_DEFAULT_MODELS))
    parser.add_argument("--batch-size", type=int, default=None, help="CIFAR models (default 128; ImageNet: 8)")
    parser.add_argument("--windows", type=int, default=None, help="timed windows per model (default 5)")
    parser.add_argument("--pipeline-dataset", default="cifar10")
    parser.add_argument("--out", default="results/bench.csv")
    parser.add_argument("--quick", action="store_true", help="tiny run for tests: resnet20 only, 2 windows")
    parser.set_defaults(func=run_bench)


#: ``bench.CIFAR_MODELS + bench.IMAGENET_MODELS``, for ``bench --help`` (tests/test_cli.py checks it).
BENCH_DEFAULT_MODELS = ["resnet20", "resnet56", "densenet_bc_100_12", "resnext29_8x64d", "resnet50",
                        "densenet121", "vgg16"]


def run_bench(args, parser=None) -> int:
    from keras_cnns import bench

    table = bench.run_bench(args.models, args.batch_size, args.windows, args.quick, args.out,
                            args.pipeline_dataset)
    print(bench.machine_line())
    print(bench.format_table(table))
    print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------- predict


def add_predict_parser(subparsers) -> None:
    """``predict MODEL IMAGE ...``: classify image files with a .keras file or shipped weights."""
    from keras_cnns import pretrained  # reads the model cards only (no TensorFlow)

    shipped = ", ".join(f"{m} --weights {w}" for m, w in pretrained.available()) or "none"
    parser = subparsers.add_parser(
        "predict",
        help="classify image files with a trained model",
        description="Classify IMAGE files with MODEL: a .keras file (e.g. a run's best.keras) or a model "
        "name with --weights NAME (shipped weights). Images of any size, RGB or greyscale, PNG/JPEG/BMP, "
        "are converted to the model's input; each conversion is reported (stderr, or \"notes\" in --json).",
        epilog=f"shipped weights: {shipped}. Exit code 1 if any image failed (the others are still printed).",
    )
    parser.add_argument("model", metavar="MODEL",
                        help="a .keras file or a run folder with best.keras, or a model name (see `list`) with --weights")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--weights", default=None, metavar="NAME", help="shipped weights of MODEL, e.g. cifar10")
    parser.add_argument("--top", type=_positive_int, default=3, help="classes shown per image (default: 3)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"path", "top": [{"class", "probability"}], "notes"} '
                        '(or {"path", "error"})')
    parser.add_argument("--class-names", default=None, metavar="A,B,C",
                        help="class names in label order, for a model that names none ('index': 0, 1, ...)")
    parser.add_argument("--fit", choices=("crop", "stretch"), default="crop",
                        help="other aspect ratios: crop the centre (default) or stretch the whole image")
    parser.set_defaults(func=run_predict)


def _predict_model(args):
    """The model named by ``args.model`` / ``args.weights``; CommandError (1: bad file, 2: bad name)."""
    from keras_cnns import pretrained

    text = args.model
    if os.path.isfile(os.path.join(text, "best.keras")):  # a run folder
        text = os.path.join(text, "best.keras")
    if text.endswith(".keras") or os.sep in text or os.path.exists(text):
        if args.weights:
            raise CommandError(f"give a .keras file or a model name with --weights, not both ({text!r})")
        try:
            return pretrained.load_model(text, compile=False)
        except pretrained.WeightsError as error:
            raise CommandError(str(error), code=1) from error
    _check_model(text)
    if not args.weights:
        names = [w for m, w in pretrained.available() if m == text]
        hint = f"{text} has weights: {', '.join(names)}" if names else f"{text} has no shipped weights"
        raise CommandError(f"{text} is a model name: add --weights NAME ({hint}), or give a .keras file")
    try:
        pretrained.card_path(text, args.weights)
    except pretrained.WeightsError as error:
        raise CommandError(str(error)) from error
    try:
        return pretrained.load(text, args.weights)
    except pretrained.WeightsError as error:
        raise CommandError(str(error), code=1) from error


def _print_notes(results) -> None:
    """One ``note:`` line per kind of conversion on stderr, naming (up to 3 of) the images it concerns."""
    grouped: dict[str, list[str]] = {}
    for result in results:
        for note in result.get("notes", []):
            grouped.setdefault(note, []).append(result["path"])
    for note, paths in grouped.items():
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        print(f"note: {note}: {shown}", file=sys.stderr)


def run_predict(args, parser) -> int:
    """Print the top classes of each image; exit 1 if any image failed."""
    from keras_cnns import predict

    model = _predict_model(args)
    class_names = None
    if args.class_names == "index":
        class_names = [str(i) for i in range(int(model.output_shape[-1]))]
    elif args.class_names:
        class_names = [name.strip() for name in args.class_names.split(",")]
    try:
        results = predict.predict(model, args.images, top=args.top, class_names=class_names, fit=args.fit)
    except ValueError as error:
        raise CommandError(f"{args.model}: {error}") from error
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        _print_notes(results)
        for result in results:
            print(predict.format_result(result), file=sys.stderr if "error" in result else sys.stdout)
    return 1 if any("error" in result for result in results) else 0


#: One ``add_<command>_parser`` per subcommand, in the order ``--help`` lists them.
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
