"""All families, one budget: train each once on one dataset and tabulate the cost/accuracy trade-off.

>>> from keras_cnns import compare
>>> table = compare.compare(["alexnet", "resnet20"], dataset="fashion_mnist", budget_seconds=60)

Every model gets the *same wall-clock budget* (training time, measured by a Keras callback
that sets ``model.stop_training`` after the batch that exhausts it) and the same epoch cap,
the same optimiser (``optimizer``, cosine schedule) and batch size. Because a time budget
does not know how many steps it will allow, the cosine learning rate is driven by
*progress* = max(elapsed / budget, step / total steps): it reaches 0 when the budget (or the
epoch cap) runs out, so every model ends its run annealed, whatever its speed.

Model names are the registry's (``models.list_models()``), among them the two small CIFAR
representatives of :data:`DEFAULT_MODELS`: ``densenet_bc_40`` (DenseNet-BC, k=12) and
``resnext11_4x16d`` (``models.cifar_resnext(11, 4, 16)``).
"""

from __future__ import annotations

import ctypes
import gc
import time
from pathlib import Path

import numpy as np
import pandas as pd

# No TensorFlow at import: with isolate=True only the worker processes train (and import it).

__all__ = ["DEFAULT_MODELS", "FAMILIES", "build_model", "compare", "plot_accuracy", "sizes", "to_markdown"]

#: One representative per family, small-input (28x28 / 32x32) variants.
DEFAULT_MODELS = ["alexnet", "vgg11", "nin", "googlenet", "vgg11_bn", "resnet20", "densenet_bc_40",
                  "resnext11_4x16d"]

FAMILIES = {
    "alexnet": "AlexNet (2012)", "vgg11": "VGG (2014)", "vgg11_bn": "BatchNorm (2015, VGG-11-BN)",
    "nin": "NiN (2013)", "googlenet": "GoogLeNet (2014)", "resnet20": "ResNet (2015)",
    "densenet_bc_40": "DenseNet-BC (2017)", "resnext11_4x16d": "ResNeXt (2017)",
}


def __getattr__(name):   # the budget classes live in keras_cnns.budget (it imports TensorFlow)
    if name in ("BudgetCallback", "ProgressCosine"):
        from keras_cnns import budget

        return getattr(budget, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_model(name: str, input_shape, classes: int, **kwargs):
    """``models.build(name, input_shape=input_shape, classes=classes, **kwargs)``."""
    from keras_cnns import models

    return models.build(name, input_shape=input_shape, classes=classes, **kwargs)


def _spec(entry) -> tuple[str, dict]:
    """A ``sizes`` entry: a registry name, or a ``(name, builder keyword arguments)`` pair."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[0], str) and isinstance(entry[1], dict):
        return entry[0], dict(entry[1])
    raise ValueError(f"models must hold registry names or (name, kwargs) pairs, e.g. ('googlenet', "
                     f"{{'kernel_5x5': 3}}); got {entry!r}")


def _size_rows(specs, input_shape, classes) -> list[dict]:
    from keras_cnns import analysis

    rows = []
    for name, kwargs in map(_spec, specs):
        model = build_model(name, input_shape, classes, **kwargs)
        label = name + (f"({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})" if kwargs else "")
        rows.append({"model": label, "family": FAMILIES.get(name, name), "params": analysis.count_params(model),
                     "MACs (M)": round(analysis.count_macs(model) / 1e6, 1)})
        del model
    return rows


def sizes(models: list | None = None, input_shape=(28, 28, 1), classes: int = 10, *,
          isolate: bool = False) -> pd.DataFrame:
    """Trainable parameters and multiply-accumulates of each model for one input shape, before any training.

    ``models``: registry names, or ``(name, kwargs)`` pairs for a builder's options (e.g.
    ``("googlenet", {"kernel_5x5": 3})``); default :data:`DEFAULT_MODELS`.
    ``isolate=True`` builds the models in a fresh process: the caller never imports TensorFlow, and
    the memory the builds take goes away with that process (notebook 09's kernel stays under 0.3 GB;
    in notebook 04, building AlexNet and VGG-16 in the kernel left ~1.7 GB in TensorFlow's CPU
    allocator pool on an AVX-512 host).
    """
    names = [_spec(entry) for entry in (models or DEFAULT_MODELS)]
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels) of positive ints; got {input_shape!r}")
    if not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes must be an int >= 2; got {classes!r}")
    if isolate:
        rows = _in_fresh_process("sizes", names, shape, int(classes))
    else:
        from keras_cnns import notebook

        notebook.import_tensorflow()   # without its C++ start-up lines on stderr
        rows = _size_rows(names, shape, int(classes))
    return pd.DataFrame(rows)


def _in_fresh_process(task: str, *args):
    """Run ``keras_cnns._isolated.<task>(*args)`` in a spawned process and return its result."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from keras_cnns import _isolated

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_isolated.leave_quickly) as pool:
        return pool.submit(getattr(_isolated, task), *args).result()


def _release_memory() -> None:
    """Free what the last model held before the next one is built.

    ``clear_session`` drops Keras' global state, ``gc.collect`` the reference cycles between the
    model, its traced functions and its ``tf.data`` pipelines, and on glibc ``malloc_trim`` hands
    the freed heap back to the system. (Measured on notebook 09 -- the eight default models on
    full Fashion-MNIST in one kernel: this took the peak only from 4,111 to 4,007 MB; see
    ``results/notebooks.csv``.)
    """
    import keras

    keras.backend.clear_session()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc (macOS, Windows, musl): nothing to trim
        pass



def _run_one(name: str, ds, *, budget_seconds, epochs, batch_size, augment, optimizer, seed, verbose, fast) -> dict:
    """Train ``name`` once under the budget; its row of the comparison table."""
    from keras_cnns import analysis, data, training
    from keras_cnns.budget import BudgetCallback, ProgressCosine

    training.set_seed(seed)
    model = build_model(name, ds.input_shape, ds.num_classes)
    pipes = data.make_pipelines(ds, batch_size=batch_size, augment=augment, seed=seed, fast=fast)
    steps = pipes.steps_per_epoch
    if fast:
        steps = min(steps, training.FAST_MAX_STEPS)
    schedule = ProgressCosine(training.default_learning_rate(optimizer, batch_size))
    budget = BudgetCallback(budget_seconds, epochs * steps, batch_size, schedule)
    t0 = time.perf_counter()
    result = training.train(model, pipes, epochs=epochs, optimizer=optimizer, learning_rate=schedule,
                            seed=seed, verbose=verbose, fast=fast, callbacks=[budget])
    wall = time.perf_counter() - t0
    test_seconds = time.perf_counter() - budget.end if budget.end is not None else float("nan")
    lo, hi = result.test_ci95
    return {
        "model": name,
        "family": FAMILIES.get(name, name),
        "params": analysis.count_params(model),
        "macs": analysis.count_macs(model),
        "train_images_per_sec": round(budget.images_per_sec, 1),
        "epochs": round(budget.steps / steps, 2),
        "steps": budget.steps,
        "train_seconds": round(budget.elapsed, 1),   # fit after its first batch, validation passes included
        "test_seconds": round(test_seconds, 1),      # the test evaluation after fit
        "wall_seconds": round(wall, 1),              # all of it: building, tracing, fit, test
        "test_accuracy": round(result.test_accuracy, 4),
        "ci95_low": round(lo, 4),
        "ci95_high": round(hi, 4),
        "n_test": result.n_test,
        "stopped_by": "budget" if budget.stopped_by_budget else "epochs",
    }



def compare(models: list[str] | None = None, dataset="fashion_mnist", budget_seconds: float | None = 180,
            epochs: int = 30, batch_size: int = 128, out_dir=None, *, augment=False, optimizer="sgd",
            seed: int = 0, verbose=0, fast: bool | None = None, data_dir=None,
            isolate: bool | None = None) -> pd.DataFrame:
    """Train each model once under one shared budget and return one row per model.

    Args:
        models: model names (default :data:`DEFAULT_MODELS`).
        dataset: dataset name (or a ``keras_cnns.data.Dataset``).
        budget_seconds: training wall-clock budget per model (``None``: epochs only).
        epochs: epoch cap per model.
        batch_size, augment, optimizer, seed: as in ``training.train``.
        out_dir: if given, writes ``comparison.csv``, ``comparison.md`` and the two plots.
        fast: fast setting (shipped sample, 20 steps per epoch); ``None`` = ``KERAS_CNNS_FAST``.
        isolate: train each model in a fresh process (``None``: in the full setting, not in the fast one).
            In one process TensorFlow's oneDNN CPU allocator keeps the memory of a large model's run
            (~0.9 GB after AlexNet and again after GoogLeNet on Fashion-MNIST): notebook 09 peaked
            at 4 GB. A process per model costs a few seconds of start-up each.

    Returns:
        DataFrame with columns model, family, params, macs, train_images_per_sec, epochs,
        steps, train_seconds (``fit`` after its first batch, validation passes included: what the budget
        limits), test_seconds (the test evaluation), wall_seconds (all of it), test_accuracy, ci95_low,
        ci95_high, n_test, stopped_by.
    """
    from keras_cnns import data

    models = list(models or DEFAULT_MODELS)
    fast = data.fast_mode(fast)
    isolate = (not fast) if isolate is None else bool(isolate)
    ds = data.load(dataset, data_dir, fast=fast) if isinstance(dataset, str) else dataset
    settings = dict(budget_seconds=budget_seconds, epochs=epochs, batch_size=batch_size, augment=augment,
                    optimizer=optimizer, seed=seed, verbose=verbose, fast=fast)
    rows = []
    if isolate:  # one fresh process per model: nothing one model's run kept can raise the next one's peak,
        # and this process never imports TensorFlow (the workers report the device they trained on)
        source = (dataset, data_dir) if isinstance(dataset, str) else (ds, None)
        meta = {}
        for name in models:
            row, meta = _in_fresh_process("run_one", name, source, settings)
            rows.append(row)
            if verbose:
                print(f"{name}: {rows[-1]}", flush=True)
    else:
        from keras_cnns import notebook

        notebook.import_tensorflow()   # without its C++ start-up lines on stderr
        from keras_cnns import training

        meta = {"device": {**training.configure_device(), "machine": notebook.machine()},
                "peak_learning_rate": training.default_learning_rate(optimizer, batch_size)}
        for name in models:
            rows.append(_run_one(name, ds, **settings))
            if verbose:
                print(f"{name}: {rows[-1]}")
            _release_memory()
    table = pd.DataFrame(rows)
    table.attrs.update(dataset=ds.describe() if hasattr(ds, "describe") else str(ds),
                       device=meta.get("device"), budget_seconds=budget_seconds, epochs_cap=epochs,
                       batch_size=batch_size, fast=fast, optimizer=optimizer, augment=bool(augment),
                       peak_learning_rate=meta.get("peak_learning_rate"))
    if out_dir is not None:
        save(table, out_dir)
    return table


def to_markdown(table: pd.DataFrame) -> str:
    """The comparison as a GitHub markdown table (accuracy in %, params/MACs in millions)."""
    lines = ["| model | family | params (M) | MACs (M) | train img/s | epochs | train s | test s | test acc. | 95% CI |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.model} | {r.family} | {r.params / 1e6:.2f} | {r.macs / 1e6:.0f} | "
                     f"{r.train_images_per_sec:.0f} | {r.epochs:.2f} | {r.train_seconds:.0f} | "
                     f"{getattr(r, 'test_seconds', float('nan')):.0f} | "
                     f"{100 * r.test_accuracy:.2f}% | {100 * r.ci95_low:.1f}–{100 * r.ci95_high:.1f}% |")
    return "\n".join(lines) + "\n"


def plot_accuracy(table: pd.DataFrame, x: str = "params"):
    """Test accuracy (with its 95% CI) against ``params``, ``macs`` or ``train_seconds``; log x-axis."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.6, 3.8), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    acc = 100 * table["test_accuracy"].to_numpy()
    err = np.vstack([acc - 100 * table["ci95_low"].to_numpy(), 100 * table["ci95_high"].to_numpy() - acc])
    xs = table[x].to_numpy(dtype=float)
    families = table["family"] if "family" in table else table["model"]
    markers = "osD^v<>ph*"
    for i, (xi, yi, name, family) in enumerate(zip(xs, acc, table["model"], families)):
        # one colour and marker per family, named in a legend outside the axes: no label covers a point
        ax.errorbar([xi], [yi], yerr=err[:, i:i + 1], fmt=markers[i % len(markers)], color=f"C{i % 10}",
                    capsize=3, markersize=7, label=f"{family}: {name}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    if x in ("params", "macs"):
        ax.set_xscale("log")
    label = {"params": "trainable parameters", "macs": "MACs per image",
             "train_seconds": "training seconds", "wall_seconds": "wall seconds"}.get(x, x)
    ax.set_xlabel(label + (" (log)" if x in ("params", "macs") else ""))
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"accuracy vs {label}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save(table: pd.DataFrame, out_dir) -> Path:
    """Write comparison.csv, comparison.md, accuracy_vs_params.png, accuracy_vs_time.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "comparison.csv", index=False)
    attrs = table.attrs
    device = attrs.get("device") or {}
    header = (f"Dataset: {attrs.get('dataset', '?')}. Budget {attrs.get('budget_seconds')} s of training "
              f"per model, at most {attrs.get('epochs_cap')} epochs, batch {attrs.get('batch_size')}, "
              f"{attrs.get('optimizer', '?')} (peak learning rate {attrs.get('peak_learning_rate', '?')}), cosine over the "
              f"budget, {'augmentation' if attrs.get('augment') else 'no augmentation'}. Hardware: "
              f"{device.get('device', '?')} ({device.get('cpu_count', '?')} cores)"
              f"{', fast setting' if attrs.get('fast') else ''}.\n\n")
    (out / "comparison.md").write_text(header + to_markdown(table))
    plot_accuracy(table, "params").savefig(out / "accuracy_vs_params.png")
    plot_accuracy(table, "train_seconds").savefig(out / "accuracy_vs_time.png")
    return out
