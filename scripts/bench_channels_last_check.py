"""PyTorch ResNet-20 training step in its default NCHW layout vs channels_last, interleaved in one process.

    python scripts/bench_channels_last_check.py

The PyTorch reference (scripts/torch_reference.py) trained ~1.4x faster than the benchmark's NCHW step
on the same host; its crop/flip (permute, index, permute back) returns tensors with channels-last (NHWC)
strides, which is the likely reason: channels-last is the layout PyTorch's CPU performance guide
recommends. This runs ``keras_cnns.bench``'s own PyTorch step (fixed random batch of 128, SGD momentum
0.9) in both layouts: 4 warm-up steps each, then 3 alternating windows of 10 steps; prints images/s per
window. (``python -m keras_cnns bench`` now times both layouts itself.)
"""
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_cnns.torch_resnet import torch_runner  # noqa: E402

runners = {"nchw": torch_runner((32, 32, 3), 128)[0],
           "channels_last": torch_runner((32, 32, 3), 128, channels_last=True)[0]}
for step in runners.values():
    for _ in range(4):
        step()
rates = {k: [] for k in runners}
for _ in range(3):
    for k, step in runners.items():
        t = time.perf_counter()
        for _ in range(10):
            step()
        rates[k].append(round(1280 / (time.perf_counter() - t)))
print(json.dumps(rates))
