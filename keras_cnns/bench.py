"""Training-throughput and memory benchmark, with head-to-head comparisons.

``python -m keras_cnns bench [--models ...] [--batch-size B] [--windows N] [--out results/bench.csv] [--quick]``

Each measurement runs in a **fresh subprocess** (so the resident-set high-water mark
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is that measurement's own peak) and times
``train_on_batch`` steps (SGD momentum 0.9, sparse cross-entropy, one fixed random batch,
so the input pipeline is not part of the number) in *windows* of a few steps after a
warm-up; the table reports the median window throughput and the min-max spread.

Comparisons are *interleaved*: both contestants live in the same subprocess and their
windows alternate (ours, theirs, ours, theirs, ...), so load from other processes on a
shared machine hits both alike; ratio = ours / theirs (median images/s).

* ``resnet50``, ``densenet121``, ``vgg16`` vs ``keras.applications`` (``weights=None``),
  224x224x3, same batch and optimiser. keras.applications' ResNet50 is **v1** (stride 2 in
  the first 1x1 conv of a downsampling block, conv biases); ours is **v1.5** like
  torchvision (stride in the 3x3 conv): the MACs differ (both are reported).
* ``resnet20`` (ours, Keras) vs a plain PyTorch ResNet-20 with option-A shortcuts
  (:func:`keras_cnns.torch_resnet.torch_resnet20`, 269,722 parameters as in He et al. 2015,
  Table 6) when torch is installed; ``torch.set_num_threads(os.cpu_count())``. PyTorch runs
  twice, in its default NCHW layout and in ``channels_last`` (NHWC, as its CPU performance guide
  recommends; ~1.3x faster on these hosts): the first rival is NCHW (our row's ratio, as in earlier
  runs), the second carries its own ratio (still ours / theirs).
* The same ``resnet20`` on the **Keras torch backend** (``KERAS_BACKEND=torch``, its own subprocess)
  against the same two PyTorch rivals, interleaved likewise (when torch is installed; not in ``--quick``).
* XLA: our ``resnet20`` compiled with ``jit_compile=True`` vs ``False``.
* The input pipeline (``make_pipelines(...).train`` iterated alone) against what resnet20
  consumes: ratio pipeline / model (> 1: the pipeline is not the bottleneck).

Peak RSS of a comparison subprocess is read after each contestant's warm-up; the first
(ours) is its own clean peak, the second includes the first (reported as such).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from keras_cnns.torch_resnet import torch_runner   # PyTorch is imported only when it runs

__all__ = ["CIFAR_MODELS", "IMAGENET_MODELS", "APPLICATIONS", "run_bench",
           "format_table"]

CIFAR_MODELS = ["resnet20", "resnet56", "densenet_bc_100_12", "resnext29_8x64d"]
IMAGENET_MODELS = ["resnet50", "densenet121", "vgg16"]
APPLICATIONS = {"resnet50": "ResNet50", "densenet121": "DenseNet121", "vgg16": "VGG16"}
COLUMNS = ["name", "impl", "model", "input", "batch", "device", "params", "macs", "windows",
           "steps_per_window", "median_img_s", "min_img_s", "max_img_s", "spread_pct", "peak_rss_mb",
           "compared_with", "ratio", "note"]


# ---------------------------------------------------------------------------- worker


def _peak_rss_mb() -> float:
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024, 1)


def _device() -> str:
    if os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        gpus = torch.cuda.device_count()
    else:
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    return f"GPU x{gpus}" if gpus else f"CPU ({os.cpu_count()} cores)"


def _keras_runner(spec, input_shape, batch, jit_compile=False, batchnorm=True):
    """A closure doing one training step of a Keras model, plus (params, macs).

    ``batchnorm=False``: the model cloned with an identity in place of each BatchNormalization layer.
    """
    import keras
    import numpy as np

    from keras_cnns import analysis, models
    from keras_cnns._backend import build_training_state

    if spec.startswith("app:"):
        fn = getattr(keras.applications, spec[4:])
        model = fn(weights=None, input_shape=tuple(input_shape), classes=10)
    else:
        model = models.build(spec, input_shape=tuple(input_shape), classes=10)
    if not batchnorm:
        class NoBatchNorm(keras.layers.Layer):  # takes BatchNormalization's call arguments, returns x
            def call(self, inputs, training=None, mask=None):
                return inputs

        model = swap_batchnorm(model, lambda layer: NoBatchNorm(name=layer.name))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(), jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *input_shape)).astype("float32")
    y = rng.integers(0, 10, batch)
    build_training_state(model, (x, y))

    def step():
        model.train_on_batch(x, y)

    return step, analysis.count_params(model), analysis.count_macs(model)


def swap_batchnorm(model, make):
    """A fresh copy of ``model`` with ``make(layer)`` in place of each BatchNormalization layer."""
    import keras

    return keras.models.clone_model(model, clone_function=lambda layer: (
        make(layer) if isinstance(layer, keras.layers.BatchNormalization)
        else layer.__class__.from_config(layer.get_config())))


def _pipeline_runner(dataset, batch, sample):
    from keras_cnns import data

    ds = data.load(dataset, sample=True) if sample else data.load(dataset)
    pipes = data.make_pipelines(ds, batch_size=batch, fast=False)
    it = iter(pipes.train.repeat())

    def step():
        next(it)

    return step, None, None, ds


def _time_windows(steps, warmup, windows, steps_per_window, batch):
    """Warm every runner up, then alternate timed windows; returns {i: [img/s, ...]} and rss list."""
    rss = []
    for step in steps:
        for _ in range(warmup):
            step()
        rss.append(_peak_rss_mb())
    rates = {i: [] for i in range(len(steps))}
    for _ in range(windows):
        for i, step in enumerate(steps):
            t0 = time.perf_counter()
            for _ in range(steps_per_window):
                step()
            rates[i].append(batch * steps_per_window / (time.perf_counter() - t0))
    return rates, rss


def _worker(job: dict) -> list[dict]:
    """Run one measurement (in its own process) and return result rows."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    batch, shape = job["batch"], job["input"]
    contestants = job["contestants"]  # [{"impl", "spec", "jit"}]
    steps, meta = [], []
    for c in contestants:
        if c["impl"] == "torch":
            step, params, macs = torch_runner(shape, batch, c.get("channels_last", False))
        elif c["impl"] == "tf.data":
            step, params, macs, ds = _pipeline_runner(c["spec"], batch, job.get("sample", False))
            shape = list(ds.input_shape)
        else:
            step, params, macs = _keras_runner(c["spec"], shape, batch, c.get("jit", False))
        steps.append(step)
        meta.append((params, macs))
    rates, rss = _time_windows(steps, job["warmup"], job["windows"], job["steps"], batch)
    rows = []
    for i, c in enumerate(contestants):
        r = rates[i]
        med = statistics.median(r)
        rows.append({
            "name": c["name"], "impl": c["impl"], "model": c["spec"].replace("app:", ""),
            "input": "x".join(map(str, shape)), "batch": batch, "device": _device(),
            "params": meta[i][0], "macs": meta[i][1], "windows": len(r), "steps_per_window": job["steps"],
            "median_img_s": round(med, 1), "min_img_s": round(min(r), 1), "max_img_s": round(max(r), 1),
            "spread_pct": round(100 * (max(r) - min(r)) / med, 1),
            "peak_rss_mb": rss[i], "note": c.get("note", "") + ("" if i == 0 else
                                                                  " (peak RSS includes the first contestant)"),
        })
    if len(rows) >= 2:  # ratio = ours / theirs, on our row against the first rival ...
        rows[0]["compared_with"] = rows[1]["name"]
        rows[0]["ratio"] = round(rows[0]["median_img_s"] / rows[1]["median_img_s"], 3)
    for row in rows[2:]:  # ... and on each further rival's own row (still ours / theirs)
        row["compared_with"] = f"{rows[0]['name']} / this"
        row["ratio"] = round(rows[0]["median_img_s"] / row["median_img_s"], 3)
    return rows


def _run_job(job: dict, timeout: float = 1800) -> list[dict]:
    """Run :func:`_worker` in a fresh Python process; rows come back as JSON on the last line.

    The worker leaves with ``os._exit(0)`` once its rows are printed and flushed: Python's own shutdown
    took ~2.5 s taking TensorFlow's and PyTorch's modules apart (2026-12-07). A worker that fails ends
    with its traceback on stderr and a non-zero code, as before."""
    code = ("import json, os, sys; from keras_cnns.bench import _worker; "
            "print('@@' + json.dumps(_worker(json.loads(sys.argv[1]))), flush=True); os._exit(0)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if job.get("backend"):  # a Keras backend other than the caller's, e.g. "torch"
        env["KERAS_BACKEND"] = job["backend"]
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(job)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("@@"):
            return json.loads(line[2:])
    raise RuntimeError(f"benchmark worker failed ({job['contestants'][0]['name']}):\n{proc.stderr[-3000:]}")


# ------------------------------------------------------------------------------ plan


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def plan(models=None, batch_size=None, windows=None, quick=False, pipeline_dataset="cifar10") -> list[dict]:
    """The list of subprocess jobs of one benchmark run."""
    if quick:
        cifar, imagenet = ["resnet20"], []
        cb, ib, w, s, warm = batch_size or 32, 8, windows or 2, 3, 2
    else:
        chosen = models or CIFAR_MODELS + IMAGENET_MODELS
        cifar = [m for m in chosen if m not in IMAGENET_MODELS]
        imagenet = [m for m in chosen if m in IMAGENET_MODELS]
        cb, ib, w, s, warm = batch_size or 128, 8, windows or 5, 5, 3
    jobs = []
    for m in cifar:
        c = [{"name": m, "impl": "keras_cnns", "spec": m}]
        if m == "resnet20" and _torch_available():
            c.append({"name": "torch_resnet20", "impl": "torch", "spec": "torch_resnet20",
                      "note": "PyTorch, option-A shortcuts"})
            c.append({"name": "torch_resnet20 (channels_last)", "impl": "torch", "spec": "torch_resnet20",
                      "channels_last": True, "note": "PyTorch, option-A shortcuts, NHWC memory format"})
        jobs.append({"input": [32, 32, 3], "batch": cb, "warmup": warm, "windows": w, "steps": s,
                     "contestants": c})
    if "resnet20" in cifar and not quick and _torch_available():
        ours = next(j for j in jobs if j["contestants"][0]["name"] == "resnet20")
        # The same keras_cnns model on the Keras torch backend, against the same two PyTorch rivals
        # (its own process: a process has one Keras backend).
        jobs.append({"input": [32, 32, 3], "batch": cb, "warmup": warm, "windows": w, "steps": s,
                     "backend": "torch",
                     "contestants": [{"name": "resnet20 (Keras, torch backend)", "impl": "keras_cnns/torch",
                                      "spec": "resnet20", "note": "KERAS_BACKEND=torch"},
                                     *[dict(c) for c in ours["contestants"][1:]]]})
    if "resnet20" in cifar and not quick:  # XLA compiles for ~10 s on a CPU: not in the quick smoke run
        jobs.append({"input": [32, 32, 3], "batch": cb, "warmup": warm, "windows": w, "steps": s,
                     "contestants": [{"name": "resnet20+xla", "impl": "keras_cnns", "spec": "resnet20",
                                      "jit": True, "note": "jit_compile=True"},
                                     {"name": "resnet20 (no xla)", "impl": "keras_cnns", "spec": "resnet20",
                                      "note": "jit_compile=False"}]})
    if "resnet20" in cifar:
        jobs.append({"input": [32, 32, 3], "batch": cb, "warmup": 3, "windows": w, "steps": 4 * s,
                     "sample": quick, "contestants": [{"name": f"pipeline:{pipeline_dataset}",
                                                       "impl": "tf.data", "spec": pipeline_dataset}]})
    for m in imagenet:
        note = "ours v1.5 (stride in 3x3), applications v1 (stride in 1x1, conv biases)" if m == "resnet50" else ""
        jobs.append({"input": [224, 224, 3], "batch": ib, "warmup": 1, "windows": windows or 3, "steps": 2,
                     "contestants": [{"name": m, "impl": "keras_cnns", "spec": m, "note": note},
                                     {"name": f"keras.applications.{APPLICATIONS[m]}",
                                      "impl": "keras.applications", "spec": "app:" + APPLICATIONS[m]}]})
    return jobs


def run_bench(models=None, batch_size=None, windows=None, quick=False, out="results/bench.csv",
              pipeline_dataset="cifar10", verbose=True):
    """Run the benchmark; returns a DataFrame (also written to ``out`` as CSV)."""
    import pandas as pd

    rows = []
    for job in plan(models, batch_size, windows, quick, pipeline_dataset):
        if verbose:
            print(f"measuring {', '.join(c['name'] for c in job['contestants'])} ...", flush=True)
        try:
            rows += _run_job(job)
        except Exception as error:  # one failed measurement does not lose the others
            if verbose:
                print(f"  failed: {str(error)[-500:]}", flush=True)
            if any(c["impl"] == "tf.data" for c in job["contestants"]) and pipeline_dataset != "fashion_mnist":
                job["contestants"][0].update(name="pipeline:fashion_mnist", spec="fashion_mnist")
                rows += _run_job(job)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    pipe = table[table.impl == "tf.data"]
    model = table[(table.name == "resnet20")]
    if len(pipe) and len(model):
        i = pipe.index[0]
        table.loc[i, "compared_with"] = "resnet20 (train_on_batch)"
        table.loc[i, "ratio"] = round(pipe.median_img_s.iloc[0] / model.median_img_s.iloc[0], 2)
    table.attrs["machine"] = machine_line()
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        Path(out).with_suffix(".md").write_text(f"{machine_line()}\n\n{format_table(table)}")
    return table


def machine_line() -> str:
    import keras
    import tensorflow as tf

    line = (f"{platform.processor() or platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, "
            f"{_device_name()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
    if _torch_available():
        import torch

        line += f", PyTorch {torch.__version__}"
    return line


def cpu_name(cpuinfo="/proc/cpuinfo") -> str:
    """The CPU model and its widest vector extension (from /proc/cpuinfo on Linux).

    Hosts of the same kind differ in it (an AMD EPYC with AVX-512 or one with AVX2 only), and
    oneDNN, which TensorFlow's CPU convolutions use, picks its kernels by it: a ratio measured on
    one is not the ratio on the other.
    """
    try:
        info = Path(cpuinfo).read_text()
    except OSError:
        return platform.processor() or "CPU"
    model = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "CPU")
    flags = set(next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), []))
    isa = ("AVX-512" + (" + BF16" if "avx512_bf16" in flags else "") if "avx512f" in flags
           else "AVX2, no AVX-512" if "avx2" in flags else "no AVX2")
    return f"{model} ({isa})"


def _device_name() -> str:
    import tensorflow as tf

    return "GPU" if tf.config.list_physical_devices("GPU") else "no GPU"


def format_table(table) -> str:
    """Markdown table of the benchmark rows."""
    lines = ["| name | input | batch | device | params | MACs (M) | img/s median | min-max | "
             "peak RSS (MB) | vs | ratio |", "|---|---|---:|---|---:|---:|---:|---|---:|---|---:|"]
    for r in table.to_dict("records"):
        params = "" if r["params"] != r["params"] or r["params"] is None else f"{int(r['params']):,}"
        macs = "" if r["macs"] != r["macs"] or r["macs"] is None else f"{r['macs'] / 1e6:,.0f}"
        ratio = "" if r["ratio"] != r["ratio"] or r["ratio"] is None else f"{r['ratio']:.2f}"
        vs = "" if not isinstance(r["compared_with"], str) else r["compared_with"]
        lines.append(f"| {r['name']} | {r['input']} | {r['batch']} | {r['device']} | {params} | {macs} | "
                     f"{r['median_img_s']:.1f} | {r['min_img_s']:.1f}-{r['max_img_s']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} | {vs} | {ratio} |")
    return "\n".join(lines) + "\n"
