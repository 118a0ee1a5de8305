"""PyTorch ResNet-20 training step in its default NCHW layout vs channels_last, interleaved in one process.

    python scripts/bench_channels_last_check.py

The benchmark (keras_cnns.bench) times PyTorch in the default NCHW layout. The PyTorch reference
(scripts/torch_reference.py) trains ~1.4x faster than that step on the same host; its crop/flip
(permute, index, permute back) returns tensors with channels-last (NHWC) strides, which is the likely
reason: channels-last is the layout PyTorch's CPU performance guide recommends.
Same step as keras_cnns.bench._torch_runner (fixed random batch of 128, SGD momentum 0.9), 4 warm-up
steps, then 3 alternating windows of 10 steps; prints images/s per window.
"""
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from keras_cnns.bench import torch_resnet20  # noqa: E402

torch.set_num_threads(os.cpu_count())
def runner(cl):
    torch.manual_seed(0)
    model = torch_resnet20(10, 3)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((128, 3, 32, 32)).astype("float32"))
    y = torch.from_numpy(np.random.default_rng(1).integers(0, 10, 128))
    if cl:
        model = model.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9); f = torch.nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(set_to_none=True); f(model(x), y).backward(); opt.step()
    return step
r = {"nchw": runner(False), "channels_last": runner(True)}
for s in r.values():
    for _ in range(4): s()
out = {k: [] for k in r}
for w in range(3):
    for k, s in r.items():
        t = time.perf_counter()
        for _ in range(10): s()
        out[k].append(round(1280 / (time.perf_counter() - t)))
print(json.dumps(out))
