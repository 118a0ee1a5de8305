"""``predict MODEL IMAGE ...``: classify image files with a saved or shipped model."""

from __future__ import annotations

import json
import os
import sys

from ._common import CommandError, _check_model, _positive_int


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
