"""Counting what a model costs: trainable parameters and multiply-accumulates (MACs).

Convention: 1 MAC (one multiply + one add) is counted as one "FLOP", as in
He et al. (2015, Table 1: 3.6 billion FLOPs for ResNet-34, 3.8 billion for ResNet-50) and in torchvision's
GFLOPS column (ResNet-18 1.814, ResNet-50 4.089). Only convolutions and dense
layers are counted; BN, activations, pooling and additions are left out, as
they are there.
"""

import numpy as np
from keras import layers


def count_params(model):
    """Trainable parameters: what torchvision's ``num_params`` counts.

    Keras' ``count_params()`` also counts BatchNorm moving mean/variance, which
    PyTorch keeps as buffers; those are left out here.
    """
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def layer_macs(layer):
    """MACs of one Conv2D / Dense layer for a single example (0 for other layers)."""
    if isinstance(layer, layers.Conv2D):
        _, h, w, cout = layer.output.shape
        kh, kw = layer.kernel_size
        cin = layer.input.shape[-1]
        return int(h * w * cout * kh * kw * cin // layer.groups)
    if isinstance(layer, layers.Dense):
        return int(np.prod(layer.kernel.shape))
    return 0


def count_macs(model):
    """Multiply-accumulates of one forward pass of one example (conv and dense layers).

    >>> from keras_cnns import models, analysis
    >>> round(analysis.count_macs(models.build("resnet18")) / 1e9, 3)   # torchvision: 1.814
    1.814
    """
    return int(sum(layer_macs(layer) for layer in model.layers))


def macs_table(model):
    """A pandas DataFrame of MACs and parameters per conv/dense layer."""
    import pandas as pd

    rows = [{"layer": l.name, "type": type(l).__name__, "macs": layer_macs(l),
             "params": int(sum(np.prod(w.shape) for w in l.trainable_weights))}
            for l in model.layers if isinstance(l, (layers.Conv2D, layers.Dense))]
    return pd.DataFrame(rows)


def _stage(name):
    return name.split("_")[0]


def stage_table(model, stage=_stage, output=None):
    """Per stage: conv/dense ``layers``, their ``params`` and ``macs``, and the stage's ``output`` shape.

    Layers are grouped by ``stage(layer_name)`` (default: the name's first ``_``-separated part, as
    in ``conv2_block1_1_conv`` -> ``conv2``), in model order. ``output(stage)`` names the layer whose
    output ends the stage (e.g. a pooling or concatenation after the last convolution); when it is
    ``None`` or returns ``None``, the stage's last conv/dense layer is taken. Shapes read ``HxWxC``.

    >>> from keras_cnns import models, analysis
    >>> table = analysis.stage_table(models.build("resnet20"))   # CIFAR input, 32x32x3
    >>> print(table.loc["conv4", "layers"], table.loc["conv4", "output"])
    6 8x8x64
    """
    costs = macs_table(model)
    costs["stage"] = costs["layer"].map(stage)
    table = costs.groupby("stage", sort=False).agg(layers=("layer", "size"), params=("params", "sum"),
                                                   macs=("macs", "sum"), last=("layer", "last"))
    ends = [(output(s) if output else None) or last for s, last in zip(table.index, table.pop("last"))]
    table["output"] = ["x".join(map(str, model.get_layer(name).output.shape[1:])) for name in ends]
    return table
