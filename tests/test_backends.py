"""Every family builds and takes one training step on every Keras backend installed here.

The builders use only ``keras.layers`` / ``keras.ops``, so the same code runs on
TensorFlow, JAX and PyTorch. TensorFlow is always installed; JAX and torch are
tested when present (CI installs torch's CPU build).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import keras_cnns

SAMPLE = Path(keras_cnns.__file__).parent / "samples" / "cifar10.npz"
# One member of each family; ResNeXt and DenseNet-BC by their smallest registered depth (the same
# block code as resnext29_8x64d / densenet_bc_100_12, at a fraction of the build time).
FAMILIES = ["alexnet", "vgg11_bn", "nin", "googlenet", "resnet20", "plain20",
            "resnext11_4x16d", "densenet_bc_40", "resnet18"]
BACKENDS = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]

SCRIPT = r"""
import json, sys
import numpy as np
import keras
from keras_cnns import models, analysis
data = np.load(sys.argv[1], allow_pickle=False)
x = data["x_train"][:4].astype("float32") / 255.0
y = data["y_train"][:4]
out = {"backend": keras.backend.backend()}
for name in sys.argv[2:]:
    keras.utils.set_random_seed(0)
    model = models.build(name, input_shape=(32, 32, 3), classes=10)
    # Eager: one step does not pay for tracing a graph (much faster on TensorFlow).
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  run_eagerly=True)
    before = [np.array(w) for w in model.trainable_weights[:1]]
    loss = float(model.train_on_batch(x, y))
    moved = float(np.abs(np.array(model.trainable_weights[0]) - before[0]).max())
    out[name] = {"loss": loss, "moved": moved, "params": analysis.count_params(model)}
print("RESULT " + json.dumps(out))
"""


def test_torch_is_installed_in_ci():
    """CI installs torch so the second backend is really exercised there."""
    if os.environ.get("CI"):
        assert "torch" in BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_training_step_per_family(backend, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(SAMPLE), *FAMILIES], env=env,
                          capture_output=True, text=True, timeout=600)
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
