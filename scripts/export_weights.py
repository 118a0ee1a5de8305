#!/usr/bin/env python
"""Ship a training run's ``best.keras`` as package weights, with a model card measured on the full test set.

    python scripts/export_weights.py runs/weights/cifar10_resnet20 --name cifar10 [--data-dir DIR]

Steps: load ``RUN_DIR/best.keras`` (``compile=False``), check it is the run's architecture and takes raw
pixels (``Normalization`` first), re-save it without optimizer state as
``keras_cnns/weights/<model>_<name>.keras``, reload *that* file and evaluate it on the **full** test set
of its dataset (raw uint8 pixels through the model, nothing else; a run trained on some classes only is
evaluated on the same classes, relabelled alike), and write ``<model>_<name>.json`` (the model card)
and ``keras_cnns/weights/README.md`` (the table of every shipped file).  Everything else on the card
comes from ``RUN_DIR/summary.json`` (written by ``python -m keras_cnns train``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_cnns import pretrained  # noqa: E402

WEIGHTS_LICENCE = ("MIT: the weights are a product of this project (trained by its code with the command "
                   "on this card) and are released under the same MIT licence as the code")
DATASET_LICENCES = {
    "cifar10": "CIFAR-10: Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009; "
               "freely distributed for research (cite the report)",
    "fashion_mnist": "Fashion-MNIST: (c) Zalando SE (Zalando Research), MIT licence",
    "mnist": "MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges; CC BY-SA 3.0",
}
CHECKPOINT = ("best.keras of the run: the epoch with the best validation accuracy (Keras ModelCheckpoint, "
              "monitor val_accuracy), not necessarily the last epoch")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="run folder with best.keras and summary.json")
    parser.add_argument("--name", required=True, help="weights name, e.g. cifar10, fashion_mnist, cifar10_0to4")
    parser.add_argument("--data-dir", default=None, help="folder(s) to search for the full dataset first")
    parser.add_argument("--out-dir", type=Path, default=pretrained.WEIGHTS_DIR,
                        help="where to write the .keras file, its card and README.md (default: keras_cnns/weights)")
    parser.add_argument("--command", default=None,
                        help="the training command, if summary.json predates its 'command' field")
    parser.add_argument("--hardware", default=None, help="override the hardware description")
    parser.add_argument("--note", default=None,
                        help="how the run went, if not as the command says (e.g. resumed with other epochs)")
    parser.add_argument("--wall-seconds", type=float, default=None,
                        help="total training time when the run was resumed (default: summary.json's)")
    parser.add_argument("--batch-size", type=int, default=250, help="evaluation batch size (default: 250)")
    parser.add_argument("--allow-fast", action="store_true",
                        help="accept a run trained in the fast setting / on the shipped sample (to test this "
                        "script only: such weights are not worth shipping)")
    return parser.parse_args(argv)


def cpu_model() -> str | None:
    """The CPU's model name (Linux /proc/cpuinfo), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def describe_hardware(device) -> str:
    """e.g. ``"CPU: 2 cores, float32 (AMD EPYC ...; ...)"`` from summary.json's ``device`` record."""
    if not isinstance(device, dict):
        return str(device)
    if device.get("gpus"):
        text = f"GPU: {device.get('gpu_name') or 'unknown'} (x{device['gpus']})"
    else:
        model = cpu_model()
        text = f"CPU: {device.get('cpu_count', '?')} cores, {device.get('dtype_policy', 'float32')}"
        return text + (f" ({model}; model name read at export)" if model else "")
    return f"{text}, {device.get('dtype_policy', 'float32')}"


def best_epoch(run_dir: Path) -> tuple[int | None, float | None]:
    """(1-based epoch, val_accuracy) of the best row of metrics.csv, if there is one."""
    import csv

    try:
        with open(run_dir / "metrics.csv", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("val_accuracy")]
    except OSError:
        return None, None
    if not rows:
        return None, None
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    return int(best["epoch"]) + 1, float(best["val_accuracy"])


def test_split(summary: dict, data_dir):
    """The full dataset of the run, reduced to the run's classes (in the run's label order)."""
    from keras_cnns import data

    ds = data.load(summary["dataset"], data_dir, sample=False)
    if ds.is_sample:
        raise SystemExit(f"{summary['dataset']}: only the shipped sample was found; the card needs the full "
                         "test set (give --data-dir or set KERAS_CNNS_DATA_DIR)")
    names = summary.get("class_names")
    if names is None:  # summary.json of an older run: all classes of the dataset, in its order
        if summary.get("classes") not in (None, ds.num_classes):
            raise SystemExit(f"summary.json names no classes and has {summary['classes']} of "
                             f"{ds.num_classes}: cannot tell which; retrain or add class_names to it")
        names = list(ds.class_names)
    if list(ds.class_names) != list(names):
        ds = ds.select_classes(list(names))
    return ds


def export(args) -> dict:
    import keras

    from keras_cnns import training

    run_dir = args.run_dir
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    command = args.command or summary.get("command")
    if not command:
        raise SystemExit("summary.json has no 'command'; pass the training command with --command")
    if (summary.get("is_sample") or summary.get("fast")) and not args.allow_fast:
        raise SystemExit(f"{run_dir} was trained on the shipped sample / in the fast setting: not shippable")
    model_name = summary["model"]
    model = pretrained.load_model(run_dir / "best.keras", compile=False)
    pretrained.check_architecture(model, model_name, str(run_dir / "best.keras"))
    if not training.has_normalization(model):
        raise SystemExit(f"{run_dir}/best.keras does not start with a Normalization layer: it would not take "
                         "raw pixels (train it with this version of keras_cnns.training.train)")
    ds = test_split(summary, args.data_dir)
    if ds.num_classes != int(model.output_shape[-1]):
        raise SystemExit(f"{run_dir}/best.keras has {model.output_shape[-1]} outputs, the test split "
                         f"{ds.num_classes} classes")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / f"{model_name}_{args.name}.keras"
    tmp = target.with_name(f".{target.stem}.tmp.keras")
    model.save(tmp)  # loaded with compile=False: no optimizer state
    os.replace(tmp, target)
    shipped = pretrained.load_model(target, compile=False)  # evaluate the file as shipped
    result = pretrained.evaluate(shipped, ds.x_test, ds.y_test, batch_size=args.batch_size)
    epoch, val_accuracy = best_epoch(run_dir)
    canon = summary["dataset"]
    card = {
        "model": model_name,
        "weights": args.name,
        "file": target.name,
        "size_bytes": target.stat().st_size,
        "sha256": pretrained.sha256(target),
        "dataset": canon,
        "dataset_source": summary.get("source"),
        "dataset_notes": summary.get("notes"),
        "classes": ds.num_classes,
        "class_names": list(ds.class_names),
        "input_shape": [int(d) for d in shipped.input_shape[1:]],
        "input": "raw pixels, uint8 0-255, height x width x channels: the model's first layer is a "
                 "Normalization with the training split's per-channel mean and variance",
        "test_accuracy": result["accuracy"],
        "test_ci95": list(result["ci95"]),
        "n_test": result["n"],
        "test_set": f"every image of the card's classes in the {canon} test split loaded at export "
                    f"({ds.describe()})",
        "checkpoint": CHECKPOINT,
        "best_epoch": epoch,
        "best_val_accuracy": val_accuracy if val_accuracy is not None else summary.get("best_val_accuracy"),
        "run_test_accuracy": summary.get("test_accuracy"),
        "run_test_accuracy_note": "test accuracy the training run reported for its final-epoch model",
        "command": command,
        "epochs": summary.get("epochs"),
        "batch_size": summary.get("batch_size"),
        "optimizer": summary.get("optimizer"),
        "learning_rate": summary.get("learning_rate"),
        "weight_decay": summary.get("weight_decay"),
        "augment": summary.get("augment"),
        "seed": summary.get("seed"),
        "validation_split": (summary.get("config") or {}).get("validation_split"),
        "wall_seconds": args.wall_seconds if args.wall_seconds is not None else summary.get("wall_seconds"),
        "training_note": args.note,
        "hardware": args.hardware or describe_hardware(summary.get("device")),
        "versions": summary.get("versions"),
        "trainable_params": summary.get("params"),
        "licence": WEIGHTS_LICENCE,
        "dataset_licence": DATASET_LICENCES.get(canon, "see the dataset's own terms"),
        "exported": {"date": _dt.date.today().isoformat(), "keras": keras.__version__,
                     "script": "scripts/export_weights.py"},
    }
    card_file = target.with_suffix(".json")
    card_file.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_readme(args.out_dir)
    return card


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def _dataset_cell(card: dict) -> str:
    """``Fashion-MNIST`` for all classes, ``CIFAR-10, 5 classes: airplane, ...`` for a subset."""
    from keras_cnns.data import core

    name = core.DISPLAY_NAMES.get(card["dataset"], card["dataset"])
    if card["class_names"] == core.CLASS_NAMES.get(card["dataset"]):
        return f"{name} ({card['classes']} classes)"
    return f"{name}, {card['classes']} classes only: {', '.join(card['class_names'])}"


def _run_dir(command: str) -> str:
    """The ``--out`` folder of a training command (``RUN_DIR`` if it has none)."""
    import shlex

    words = shlex.split(command)
    for i, word in enumerate(words):
        if word == "--out" and i + 1 < len(words):
            return shlex.quote(words[i + 1])
        if word.startswith("--out="):
            return shlex.quote(word.split("=", 1)[1])
    return "RUN_DIR"


def write_readme(folder: Path) -> Path:
    """``README.md``: one table row per model card in ``folder``, total size, licences, how to regenerate."""
    cards = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and {"model", "weights", "file"} <= set(record):
            cards.append(record)
    rows = [
        f"| `{c['model']}` | `{c['weights']}` | {_dataset_cell(c)} | {_pct(c['test_accuracy'])} "
        f"({_pct(c['test_ci95'][0])}–{_pct(c['test_ci95'][1])}, n={c['n_test']:,}) | "
        f"{c['epochs']} epoch{'s' * (c['epochs'] != 1)}, {_duration(c['wall_seconds'])}, "
        f"{c['hardware'].split(' (')[0]} | "
        f"`{c['file']}` {_mb(c['size_bytes'])} |" for c in cards]
    total = sum(c["size_bytes"] for c in cards)
    commands = "\n".join(c["command"] for c in cards)
    exports = "\n".join(f"python scripts/export_weights.py {_run_dir(c['command'])} --name {c['weights']}"
                        for c in cards)
    licences = sorted({c["dataset_licence"] for c in cards})
    cifar_note = ("CIFAR-10 here is the JPEG (quality 75) re-encoding of the public CIFAR-10-images repository, "
                  "for training\nand test alike: pixels differ slightly from the original binary release, and "
                  "accuracy on the\noriginal images may differ slightly too (see each card's dataset_notes).\n\n"
                  if any(c["dataset"] == "cifar10" for c in cards) else "")
    text = f"""# Shipped weights

Trained weights for `keras_cnns.models.build(name, weights=...)`, `keras_cnns.pretrained.load(name, weights)`
and `python -m keras_cnns predict`.  Each `<model>_<weights>.keras` file has a model card
`<model>_<weights>.json` beside it (dataset and caveats, training command, accuracy, class names in
label order, input shape, licence, size, SHA-256).  The models take **raw pixels** (uint8 0-255,
height x width x channels): their first layer is a `Normalization` with the training split's statistics.

The test accuracy is that of the shipped file, measured by `scripts/export_weights.py` on the full
test split (raw pixels through the model, nothing else), with its Wilson 95% interval. The file is the
run's `best.keras`: the epoch with the best validation accuracy (on a held-out part of the training
split, `validation_split` on the card), not necessarily the last epoch.

| model | weights | dataset | test accuracy (95% CI, n) | training | file |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows) if rows else "| (none yet) | | | | | |"}

Total: {_mb(total)} in {len(cards)} file(s).

{cifar_note}## Licence

The weights are a product of this project and are released under its MIT licence, like the code.
The datasets they were trained on keep their own terms:

{chr(10).join(f"* {text}" for text in licences) if licences else "* (none yet)"}

## Regenerating

Train (the exact commands, from the cards; with the full datasets under `KERAS_CNNS_DATA_DIR`), then export:

```bash
{commands or "# (none yet)"}
{exports}
```

`export_weights.py` re-saves `RUN_DIR/best.keras` without optimizer state, evaluates it on the full
test set and rewrites the card and this README.  `keras_cnns.pretrained.load` refuses a file whose
SHA-256 differs from its card, and `tests/test_pretrained.py` checks that each card's accuracy agrees
with the file's accuracy on the shipped test sample.
"""
    path = folder / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    card = export(args)
    lo, hi = card["test_ci95"]
    print(f"{card['file']}: {card['model']} on {card['dataset']}, test accuracy {_pct(card['test_accuracy'])} "
          f"(95% CI {_pct(lo)}–{_pct(hi)}, n={card['n_test']:,}), {_mb(card['size_bytes'])}, "
          f"sha256 {card['sha256'][:12]}…")
    print(f"wrote {card['file']}, {Path(card['file']).stem}.json and README.md to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
