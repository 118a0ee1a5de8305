"""Every family builds and takes one training step on every Keras backend installed here.

The builders use only ``keras.layers`` / ``keras.ops``, so the same code runs on
TensorFlow, JAX and PyTorch. TensorFlow is always installed; JAX and torch are
tested when present (CI installs torch's CPU build).
"""

import importlib.util
import json
import os
from pathlib import Path

import pytest

import keras_cnns
from conftest import run_python

SAMPLE = Path(keras_cnns.__file__).parent / "samples" / "cifar10.npz"
# One member of each family; ResNeXt and DenseNet-BC by their smallest registered depth (the same
# block code as resnext29_8x64d / densenet_bc_100_12, at a fraction of the build time).
FAMILIES = ["alexnet", "vgg11_bn", "nin", "googlenet", "resnet20", "plain20",
            "resnext11_4x16d", "densenet_bc_40", "resnet18"]
BACKENDS = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]


def one_step_per_family(sample, names) -> dict:
    """Build each model and take one eager SGD step on 4 real CIFAR-10 images, on the current backend."""
    import keras
    import numpy as np

    from keras_cnns import analysis, models

    data = np.load(sample, allow_pickle=False)
    x = data["x_train"][:4].astype("float32") / 255.0
    y = data["y_train"][:4]
    out = {"backend": keras.backend.backend()}
    for name in names:
        keras.utils.set_random_seed(0)
        model = models.build(name, input_shape=(32, 32, 3), classes=10)
        # Eager: one step does not pay for tracing a graph (much faster on TensorFlow).
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                      run_eagerly=True)
        before = keras.ops.convert_to_numpy(model.trainable_weights[0])
        loss = float(model.train_on_batch(x, y))
        moved = float(np.abs(keras.ops.convert_to_numpy(model.trainable_weights[0]) - before).max())
        out[name] = {"loss": loss, "moved": moved, "params": analysis.count_params(model)}
    return out


# Another backend needs its own process (a process has one Keras backend).
SCRIPT = """
import json, sys
sys.path[:0] = [{tests!r}, {repo!r}]
from test_backends import one_step_per_family
print("RESULT " + json.dumps(one_step_per_family(sys.argv[1], sys.argv[2:])))
"""


def test_torch_is_installed_in_ci():
    """CI installs torch so the second backend is really exercised there."""
    if os.environ.get("CI"):
        assert "torch" in BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_training_step_per_family(backend):
    import keras

    if backend == keras.backend.backend():  # the tests' own backend: in this process (no second import)
        result = one_step_per_family(SAMPLE, FAMILIES)
    else:
        code = SCRIPT.format(tests=str(Path(__file__).parent), repo=str(Path(__file__).parent.parent))
        proc = run_python(code, SAMPLE, *FAMILIES, env={"KERAS_BACKEND": backend}, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
    assert result["backend"] == backend
    for name in FAMILIES:
        r = result[name]
        assert r["loss"] > 0 and r["loss"] == r["loss"], (name, r)   # finite, not NaN
        assert r["moved"] > 0, f"{name}: the SGD step did not change the weights"
    # The same architecture has the same parameter count on every backend ([He] Table 6).
    assert result["resnet20"]["params"] == 269_722
