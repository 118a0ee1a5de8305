"""The benchmark's PyTorch reference: ResNet-20 for CIFAR as He et al. 2015 describe it, in plain PyTorch.

``torch_resnet20`` (option-A zero-padding shortcuts, 269,722 parameters: He et al. 2015, Table 6) is the
rival of ``keras_cnns``' ``resnet20`` in ``python -m keras_cnns bench`` and in ``scripts/torch_reference.py``;
``torch_runner`` is one training step of it. PyTorch is imported inside the functions, so importing this
module (and ``keras_cnns.bench``) needs no PyTorch.
"""

from __future__ import annotations

import os

__all__ = ["torch_resnet20", "torch_param_count", "torch_runner"]


def torch_resnet20(num_classes: int = 10, in_channels: int = 3, batchnorm: bool = True, shortcuts: bool = True):
    """Plain PyTorch ResNet-20 for CIFAR with option-A (zero-padding) shortcuts: 269,722 parameters.

    ``batchnorm=False`` puts identities where the BatchNorm layers were, ``shortcuts=False`` drops
    the shortcuts (plain-20): variants for measuring what each part costs.
    """
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout) if batchnorm else nn.Identity()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout) if batchnorm else nn.Identity()
            self.stride, self.pad = stride, cout - cin

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if not shortcuts:
                return F.relu(out)
            shortcut = x
            if self.stride != 1 or self.pad:
                shortcut = x[:, :, ::self.stride, ::self.stride]
                shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
            return F.relu(out + shortcut)

    class ResNet20(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
            self.bn = nn.BatchNorm2d(16) if batchnorm else nn.Identity()
            blocks, cin = [], 16
            for cout, stride in ((16, 1), (32, 2), (64, 2)):
                for i in range(3):
                    blocks.append(Block(cin, cout, stride if i == 0 else 1))
                    cin = cout
            self.blocks = nn.Sequential(*blocks)
            self.fc = nn.Linear(64, num_classes)

        def forward(self, x):
            x = self.blocks(F.relu(self.bn(self.conv(x))))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    return ResNet20()


def torch_param_count(model) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def torch_runner(input_shape, batch, channels_last=False, batchnorm=True, shortcuts=True, bf16=False):
    """One PyTorch training step of :func:`torch_resnet20` (SGD momentum 0.9, one fixed random batch) for
    the benchmark; returns ``(step, parameters, None)``.

    ``channels_last``: model and batch in NHWC memory format (PyTorch's CPU performance guide recommends
    it; the default NCHW is ~1.3x slower on these hosts); ``bf16``: the forward pass under
    ``torch.autocast("cpu", dtype=torch.bfloat16)`` (PyTorch's CPU mixed precision).
    """
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    model = torch_resnet20(10, input_shape[-1], batchnorm=batchnorm, shortcuts=shortcuts)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((batch, input_shape[2], *input_shape[:2]))
                         .astype("float32"))
    y = torch.from_numpy(np.random.default_rng(1).integers(0, 10, batch))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step, torch_param_count(model), None
