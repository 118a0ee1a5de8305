"""Does the benchmark's interleaving (Keras and PyTorch in one process) slow either side?

    python scripts/bench_interleave_check.py torch|keras|both

Runs ``keras_cnns.bench``'s own ResNet-20 step functions (``train_on_batch`` / a plain PyTorch step,
batch 128, 32x32x3) alone or alternating in one process: 5 warm-up steps each, then 3 windows of 12
steps, and prints the images/s of each window.  Run each mode in a fresh process, one after another.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(mode: str) -> None:
    if mode not in ("torch", "keras", "both"):
        raise SystemExit(f"mode must be torch, keras or both; got {mode!r}")
    from keras_cnns import bench
    from keras_cnns.torch_resnet import torch_runner

    runners = {}
    if mode in ("keras", "both"):
        runners["keras"] = bench._keras_runner("resnet20", (32, 32, 3), 128)[0]
    if mode in ("torch", "both"):
        runners["torch"] = torch_runner((32, 32, 3), 128)[0]
    for step in runners.values():
        for _ in range(5):
            step()
    rates = {k: [] for k in runners}
    for _ in range(3):
        for k, step in runners.items():
            t = time.perf_counter()
            for _ in range(12):
                step()
            rates[k].append(round(12 * 128 / (time.perf_counter() - t), 1))
    print(mode, json.dumps(rates), flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "both")
