"""What BatchNorm and the option-A shortcuts cost, in Keras/TensorFlow and in PyTorch, interleaved in one process.

    python scripts/bench_parts_check.py [--windows 3] [--steps 8]

The benchmark gives TensorFlow / PyTorch for the whole ResNet-20. This splits it: the same ResNet-20
(a) as is, (b) without BatchNorm (an identity where each BatchNorm layer was), (c) without shortcuts
(plain-20: no add, no stride-2 slice, no zero-pad), each in Keras/TensorFlow, PyTorch NCHW and
PyTorch channels-last, all nine alternating window by window (the benchmark's own step functions,
``keras_cnns.bench``: a fixed random batch of 128 at 32x32x3, SGD momentum 0.9). Prints images/s
per window, the medians, and the TensorFlow / PyTorch ratio per variant: if one part is where
TensorFlow loses, the ratio moves when that part is taken out.
"""
import argparse
import json
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_cnns import bench  # noqa: E402
from keras_cnns.torch_resnet import torch_runner  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8, help="steps per timed window")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    shape, b = (32, 32, 3), args.batch
    variants = {"resnet20": dict(spec="resnet20"), "no BatchNorm": dict(spec="resnet20", batchnorm=False),
                "no shortcuts (plain20)": dict(spec="plain20")}
    names, steps = [], []
    for variant, kw in variants.items():
        tf_step = bench._keras_runner(kw["spec"], shape, b, batchnorm=kw.get("batchnorm", True))[0]
        torch_kw = dict(batchnorm=kw.get("batchnorm", True), shortcuts=kw["spec"] != "plain20")
        for impl, step in (("tensorflow", tf_step),
                           ("torch NCHW", torch_runner(shape, b, **torch_kw)[0]),
                           ("torch channels_last", torch_runner(shape, b, channels_last=True, **torch_kw)[0])):
            names.append((variant, impl))
            steps.append(step)
    rates, _ = bench._time_windows(steps, warmup=3, windows=args.windows, steps_per_window=args.steps, batch=b)
    print(bench.machine_line())
    median = {}
    for i, (variant, impl) in enumerate(names):
        median[(variant, impl)] = statistics.median(rates[i])
        print(f"{variant:24s} {impl:20s} img/s per window {[round(r) for r in rates[i]]}, median {median[(variant, impl)]:.0f}")
    summary = {}
    for variant in variants:
        tf, nchw, cl = (median[(variant, k)] for k in ("tensorflow", "torch NCHW", "torch channels_last"))
        summary[variant] = {"tensorflow": round(tf), "torch_nchw": round(nchw), "torch_channels_last": round(cl),
                            "ratio_vs_nchw": round(tf / nchw, 2), "ratio_vs_channels_last": round(tf / cl, 2)}
        print(f"{variant:24s} TF / PyTorch NCHW {tf / nchw:.2f}, TF / PyTorch channels-last {tf / cl:.2f}")
    print("@@" + json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
