"""``train MODEL --dataset D``: train and write a run folder (metrics, curves, best.keras, summary)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import PROG, RUN_FILES, CommandError, _check_dataset, _check_model, _fmt_shape, _positive_int


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
    parser.add_argument("--strategy", choices=("default", "mirrored", "multi_worker"), default="default",
                        help="tf.distribute strategy (default: one device). mirrored: all local GPUs, or "
                        "KERAS_CNNS_CPU_REPLICAS logical CPU devices; --batch-size is then the global batch")
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
        "strategy": result.device.get("strategy", "default"),
        "replicas": int(result.device.get("replicas", 1)),
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
            seed=args.seed, fast=True if args.fast else None, steps_per_epoch=args.steps,
            strategy=args.strategy)
    except ValueError as error:
        raise CommandError(str(error)) from error


def run_train(args, parser) -> int:
    """Train and write metrics.csv, curves.png, best.keras and summary.json."""
    _check_model(args.model)
    _check_dataset(args.dataset)
    config = _train_config(args)
    from keras_cnns import plots, training

    if config.strategy == "mirrored":
        try:  # before TensorFlow starts its devices: KERAS_CNNS_CPU_REPLICAS logical CPUs
            training.configure_cpu_replicas()
        except (ValueError, RuntimeError) as error:
            raise CommandError(str(error)) from error

    ds = _load_dataset(args)
    if args.out is None:
        args.out = str(Path("runs") / f"{args.model}-{Path(args.dataset).name}")
    out = Path(args.out)
    try:  # train() seeds, then builds the model for the pipelines' input shape and classes
        result = training.train(args.model, ds, config=config, out_dir=out, resume=args.resume,
                                verbose=args.verbose)
    except ValueError as error:  # the model cannot take these images, or the strategy refuses the run
        if "strategy" in str(error) or "replicas" in str(error):
            raise CommandError(str(error)) from error
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

