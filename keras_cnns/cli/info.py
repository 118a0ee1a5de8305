"""``list`` and ``summary``: what the package holds, and the size of one model."""

from __future__ import annotations

import json

from ._common import CommandError, _check_model, _fmt_count, _fmt_shape, _input_shape, _positive_int


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


