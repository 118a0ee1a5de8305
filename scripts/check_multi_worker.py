"""Does Keras 3 ``model.fit`` train under ``tf.distribute.MultiWorkerMirroredStrategy``? Two workers on loopback.

    python scripts/check_multi_worker.py            # prints each worker's outcome; exit 0 if both trained

Starts two Python processes on this machine, each with a ``TF_CONFIG`` naming both (localhost ports),
builds a small dense model in the strategy's scope and calls ``fit`` on a ``tf.data`` dataset, as
TensorFlow's "Multi-worker training with Keras" tutorial does. The outcome on TensorFlow 2.21 / Keras
3.15 is in ``results/distribute/multi_worker.log`` (upstream: keras-team/keras#20585).
"""

import json
import os
import socket
import subprocess
import sys

WORKER = r"""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf, keras
strategy = tf.distribute.MultiWorkerMirroredStrategy()
x = np.random.RandomState(0).rand(256, 8).astype("float32"); y = (x.sum(1) > 4).astype("int32")
with strategy.scope():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
try:
    history = model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(32), epochs=2, verbose=0)
    print(f"trained: replicas={strategy.num_replicas_in_sync} loss={history.history['loss']}")
except Exception as error:
    lines = str(error).splitlines()
    print(f"fit failed: replicas={strategy.num_replicas_in_sync} {type(error).__name__}: {lines[0][:60]} ... {lines[-1][-90:]}")
    raise SystemExit(1)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def main() -> int:
    import keras
    import tensorflow as tf

    workers = [f"localhost:{free_port()}" for _ in range(2)]
    procs = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                                       "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True))
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}: MultiWorkerMirroredStrategy, 2 workers on loopback")
    codes = []
    for index, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=600)
        codes.append(proc.returncode)
        print(f"worker {index}: {out.strip() or '(no output)'}")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
