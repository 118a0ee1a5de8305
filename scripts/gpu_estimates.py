"""On paper: how long each notebook's paper-like run would train on one modern GPU. ESTIMATES, not measurements.

    python scripts/gpu_estimates.py            # prints the markdown table in the README

For each notebook's main model(s) at the paper-like setting (the paper's epochs where it trained on the
same dataset; 30 epochs of full Fashion-MNIST for the 2012-2015 notebooks, whose papers trained on
ImageNet), the training work is ``3 x 2 x MACs x images`` FLOPs (forward = 2 FLOPs per multiply-
accumulate, backward about twice the forward; images = the preset's training images per epoch times its
epochs), with the MACs counted from the real Keras graph (``analysis.count_macs``). Time = work / sustained rate, for two published anchors on one NVIDIA A100:

* 58 TFLOP/s: NVIDIA DeepLearningExamples, TensorFlow ResNet-50 v1.5, 1x A100 40GB, mixed precision
  + XLA, 2,375 images/s (4.1 G MACs per 224x224 image: 2375 x 6 x 4.1e9 = 58e12 FLOP/s);
* 77 TFLOP/s: airbench (Jordan 2024), "standard ResNet-18 training" on CIFAR-10, 32.3 PFLOPs in
  7 min on one A100 (PyTorch).

Small 28x28/32x32 networks with a few MACs per layer rarely keep a GPU that busy (kernel launches,
the input pipeline): the "10x slower" column divides the first anchor by ten as a pessimistic bound.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ANCHORS = {"NVIDIA RN50 (58 TFLOP/s)": 58e12, "airbench RN18 (77 TFLOP/s)": 77e12}
# Images per epoch: the gpu presets hold 10% of the training split out for validation (``TrainConfig``'s
# default), so they train on 54,000 of Fashion-MNIST's 60,000 and 45,000 of CIFAR-10's 50,000 (as He et
# al., who kept 5,000 for validation).
FMNIST = ((28, 28, 1), 10, 54_000)
CIFAR = ((32, 32, 3), 10, 45_000)



def notebook_function(notebook: str, name: str):
    """A model-building function defined in a notebook's own code cell (``def name(``), so that the
    estimate counts the network the notebook trains, not a copy of it."""
    import json

    import keras
    from keras import layers

    from keras_cnns.blocks import conv_bn_act

    path = Path(__file__).resolve().parent.parent / "notebooks" / notebook
    cells = json.loads(path.read_text())["cells"]
    source = next("".join(c["source"]) for c in cells
                  if c["cell_type"] == "code" and "".join(c["source"]).startswith(f"def {name}("))
    namespace = {"keras": keras, "layers": layers, "conv_bn_act": conv_bn_act}
    exec(source.split("\n\n\n")[0], namespace)  # the function only, not the cell's later lines
    return namespace[name]


def _bn_cnn(batch_norm):
    return lambda: notebook_function("05_batch_norm.ipynb", "small_cnn")(batch_norm, "with_bn" if batch_norm else "plain")


def _cifar_resnext(cardinality, width):
    """08's pair: ResNeXt-29 (C x d) of its gpu preset, built by the notebook's builder."""
    def build():
        from keras_cnns import models
        return models.cifar_resnext(29, cardinality, width, input_shape=(32, 32, 3), classes=10)
    return f"resnext29_{cardinality}x{width}d", build


# notebook -> (the training runs, dataset, epochs, where the epochs come from). A run is a registry name
# or (label, zero-argument builder) for a network the notebook defines itself; one entry per run.
RUNS = [
    ("01 AlexNet", ["alexnet", "alexnet"], FMNIST, 30, "30 epochs of full Fashion-MNIST; two runs (dropout on, off)"),
    ("02 VGG", ["vgg11"], FMNIST, 30, "30 epochs of full Fashion-MNIST"),
    ("03 NiN", ["nin"], FMNIST, 30, "30 epochs of full Fashion-MNIST"),
    ("04 GoogLeNet", ["googlenet"], FMNIST, 30, "30 epochs of full Fashion-MNIST"),
    ("05 BatchNorm", [("small CNN", _bn_cnn(False))] * 2 + [("small CNN + BN", _bn_cnn(True))] * 2
     + [("small CNN", _bn_cnn(False))] * 3 + [("small CNN + BN", _bn_cnn(True))] * 3, FMNIST, 30,
     "30 epochs of full Fashion-MNIST; ten runs (the notebook's own CNN without BN at two learning rates, with BN "
     "at two momenta; without BN with and without warm-up, with BN with and without label smoothing, second seeds)"),
    ("06 ResNet", ["plain20", "plain56", "resnet20", "resnet56"], CIFAR, 182,
     "He et al.: 64k iterations x 128 on 45k images = 182 epochs"),
    ("07 DenseNet", ["densenet_bc_100_12"], CIFAR, 300, "Huang et al.: 300 epochs"),
    ("08 ResNeXt", [_cifar_resnext(8, 64), _cifar_resnext(1, 220)] * 2, CIFAR, 300,
     "Xie et al.: 300 epochs; ResNeXt-29 (8x64d) and the ResNet of equal cost (1x220d), two seeds each"),
    ("09 comparison", None, FMNIST, 30, "every family, 30 epochs of full Fashion-MNIST"),
    ("10 what CNNs learn", ["resnet20"], CIFAR, 182, "ResNet-20 as He et al.: 182 epochs"),
]


def build_run(run, shape, classes):
    """The model of one run: a registry name, or (label, builder) for a notebook's own network."""
    from keras_cnns import models

    if isinstance(run, str):
        return models.build(run, input_shape=shape, classes=classes)
    return run[1]()


def run_label(run) -> str:
    return run if isinstance(run, str) else run[0]


def fmt_time(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table() -> str:
    from keras_cnns import analysis, compare

    rows = ["| notebook | models | setting | MACs per image (M) | training PFLOPs | "
            + " | ".join(ANCHORS) + " | 10x slower than NVIDIA |",
            "|---|---|---|---:|---:|" + "---:|" * (len(ANCHORS) + 1)]
    for notebook, runs, (shape, classes, n_images), epochs, note in RUNS:
        runs = runs or list(compare.DEFAULT_MODELS)
        macs = [analysis.count_macs(build_run(run, shape, classes)) for run in runs]
        flops = sum(6.0 * m * n_images * epochs for m in macs)
        times = [fmt_time(flops / rate) for rate in ANCHORS.values()]
        rows.append(f"| {notebook} | {', '.join(map(run_label, runs))} | {note} | {' + '.join(f'{m / 1e6:.0f}' for m in macs)} | "
                    f"{flops / 1e15:.2f} | " + " | ".join(times) + f" | {fmt_time(10 * flops / 58e12)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table())
