"""Does bfloat16 mixed precision make ResNet-20 train faster on a CPU with AVX-512 BF16?

    python scripts/bench_bf16_check.py [--windows 4]

``training.configure_device(mixed_precision=True)`` selects Keras' ``mixed_bfloat16`` policy on a
CPU (off by default there). On CPUs with the AVX-512 BF16 instructions, oneDNN can run bfloat16
convolutions natively. This builds the package's ResNet-20 (32x32x3, batch 128) twice, in float32
and under ``mixed_bfloat16``, and times ``train_on_batch`` on a fixed batch, alternating window by
window (the benchmark's step: SGD, a fresh batch of 128 Gaussian images; one process). With PyTorch
installed, the same alternation also times the PyTorch ResNet-20 of the benchmark in channels-last
memory, in float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (PyTorch's CPU mixed
precision), so that the two frameworks are also compared at the same precision. The machine line
names the CPU's widest vector extension. Nothing is asserted; the numbers are printed.
"""
import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_cnns import bench, models  # noqa: E402
from keras_cnns.torch_resnet import torch_runner  # noqa: E402


def step_for(policy: str):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = models.build("resnet20", input_shape=(32, 32, 3), classes=10)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    keras.mixed_precision.set_global_policy("float32")
    xb = np.random.default_rng(0).standard_normal((128, 32, 32, 3)).astype("float32")
    yb = np.random.default_rng(1).integers(0, 10, 128)
    return lambda: model.train_on_batch(xb, yb)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=4)
    args = parser.parse_args(argv)
    labels = ["float32", "mixed_bfloat16"]
    steps = [step_for(p) for p in labels]
    if bench._torch_available():
        labels += ["torch NHWC float32", "torch NHWC bf16 autocast"]
        # the benchmark's own PyTorch step, channels-last, in float32 and under bfloat16 autocast
        steps += [torch_runner((32, 32, 3), 128, channels_last=True, bf16=b)[0] for b in (False, True)]
    rates, _ = bench._time_windows(steps, warmup=3, windows=args.windows, steps_per_window=8, batch=128)
    print(bench.machine_line())
    for i, label in enumerate(labels):
        r = rates[i]
        print(f"{label:25s} img/s per window {[round(v) for v in r]}, median {statistics.median(r):.0f}")
    med = [statistics.median(rates[i]) for i in range(len(labels))]
    print(f"ratio mixed_bfloat16 / float32 (medians): {med[1] / med[0]:.2f}")
    if len(med) == 4:
        print(f"PyTorch bf16 autocast / float32: {med[3] / med[2]:.2f}; Keras / PyTorch channels-last: "
              f"float32 {med[0] / med[2]:.2f}, bfloat16 {med[1] / med[3]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
