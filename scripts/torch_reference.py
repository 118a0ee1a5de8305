"""A plain PyTorch ResNet-20 trained on the same CIFAR-10 data, split and epochs as our Keras run.

The reference for the README's CIFAR-10 row (issue: is the 86% of ``keras_cnns`` ResNet-20 the data
or the recipe?). Nothing from Keras or TensorFlow trains here: ``keras_cnns`` is used only to read the
same images (``keras_cnns.data.load("cifar10")``: the offline JPEG copy when ``KERAS_CNNS_DATA_DIR``
points at it) and to draw the same stratified 45,000 / 5,000 split (``validation_split=0.1``, seed 0,
as ``keras_cnns.data.make_pipelines``). The network is ``keras_cnns.torch_resnet.torch_resnet20`` (He et al.
option A, 269,722 parameters).

Recipe (He et al. 2015, Sec. 4.2, with a cosine schedule for an equal number of epochs): SGD,
learning rate 0.1, momentum 0.9 (not Nesterov), *coupled* weight decay 1e-4 on every parameter
(``torch.optim.SGD(weight_decay=1e-4)``), batch 128, pad-4 (zeros) random crop + horizontal flip,
per-channel normalisation with the training split's mean and std, Kaiming-normal (fan_out) conv
initialisation as torchvision's ResNets, cosine decay per step to 0.

It checkpoints after every epoch (``OUT/checkpoint.pt``: weights, optimiser, schedule and RNG
states) and resumes from it, so a run can span several sessions::

    KERAS_CNNS_DATA_DIR=/path/to/datasets python scripts/torch_reference.py --epochs 80 \
        --out results/cifar10_torch_reference

Writes ``metrics.csv`` (one row per epoch, same columns as ``keras_cnns``' run), ``summary.json``
and, when ``--compare`` names a ``keras_cnns`` run folder, ``curves_vs_keras.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np


def crop_flip(images, generator, pad: int = 4):
    """Pad-``pad`` zero padding, a random crop back to size and a random left-right flip, per image."""
    import torch
    import torch.nn.functional as F

    b, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator)
    rows = (offsets[:, :1] + torch.arange(h))[:, :, None]            # (B, H, 1)
    cols = (offsets[:, 1:] + torch.arange(w))[:, None, :]            # (B, 1, W)
    batch = torch.arange(b)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    flip = torch.rand(b, generator=generator) < 0.5
    cropped[flip] = cropped[flip].flip(3)
    return cropped


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/cifar10_torch_reference")
    parser.add_argument("--compare", default="results/cifar10_resnet20",
                        help="a keras_cnns run folder (metrics.csv) to overlay; '' for none")
    parser.add_argument("--max-epochs-now", type=int, default=None,
                        help="stop (checkpointed) after this many epochs in this invocation")
    args = parser.parse_args(argv)

    import torch
    import torch.nn.functional as F

    from keras_cnns import data
    from keras_cnns.torch_resnet import torch_param_count, torch_resnet20
    from keras_cnns.data.pipelines import channel_stats
    from keras_cnns.training import accuracy_ci95

    torch.set_num_threads(os.cpu_count() or 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ds = data.load("cifar10", fast=False)
    train_idx, val_idx = data.train_val_indices(ds.y_train, 0.1, args.seed)
    mean, std = channel_stats(ds.x_train[train_idx])                  # [0, 1] units, as keras_cnns

    def tensors(x, y):
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y.astype(np.int64))

    x_train, y_train = tensors(ds.x_train[train_idx], ds.y_train[train_idx])
    x_val, y_val = tensors(ds.x_train[val_idx], ds.y_train[val_idx])
    x_test, y_test = tensors(ds.x_test, ds.y_test)
    mean_t = torch.tensor(mean * 255.0).view(1, 3, 1, 1)
    std_t = torch.tensor(std * 255.0).view(1, 3, 1, 1)

    def normalise(x):
        return (x.float() - mean_t) / std_t

    torch.manual_seed(args.seed)
    model = torch_resnet20(10, 3)
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    steps_per_epoch = math.ceil(len(y_train) / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    generator = torch.Generator().manual_seed(args.seed)
    rows, start_epoch, elapsed = [], 0, 0.0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        rows, start_epoch, elapsed = state["rows"], state["epoch"], state["elapsed"]
        print(f"resumed after epoch {start_epoch} ({elapsed:.0f} s so far)", flush=True)

    def evaluate(x, y, batch=1000):
        model.eval()
        loss = correct = 0.0
        with torch.no_grad():
            for i in range(0, len(y), batch):
                logits = model(normalise(x[i:i + batch]))
                loss += float(F.cross_entropy(logits, y[i:i + batch], reduction="sum"))
                correct += int((logits.argmax(1) == y[i:i + batch]).sum())
        return loss / len(y), correct / len(y)

    done_now = 0
    for epoch in range(start_epoch, args.epochs):
        if args.max_epochs_now is not None and done_now >= args.max_epochs_now:
            break
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        lr = scheduler.get_last_lr()[0]
        loss_sum = correct = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            x = crop_flip(normalise(x_train[idx]), generator)
            logits = model(x)
            loss = F.cross_entropy(logits, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y_train[idx]).sum())
        seconds = time.perf_counter() - t0
        val_loss, val_acc = evaluate(x_val, y_val)
        elapsed += time.perf_counter() - t0
        rows.append({"epoch": epoch, "accuracy": correct / len(y_train), "images_per_sec": len(y_train) / seconds,
                     "loss": loss_sum / len(y_train), "lr": lr, "seconds": seconds,
                     "val_accuracy": val_acc, "val_loss": val_loss})
        print(f"epoch {epoch + 1}/{args.epochs}: loss {rows[-1]['loss']:.4f} acc {rows[-1]['accuracy']:.4f} "
              f"val_loss {val_loss:.4f} val_acc {val_acc:.4f} ({seconds:.0f} s, "
              f"{rows[-1]['images_per_sec']:.0f} img/s)", flush=True)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(), "rows": rows,
                    "epoch": epoch + 1, "elapsed": elapsed}, checkpoint.with_suffix(".tmp"))
        os.replace(checkpoint.with_suffix(".tmp"), checkpoint)   # a killed run never leaves half a checkpoint
        import pandas as pd

        pd.DataFrame(rows).to_csv(out / "metrics.csv", index=False)
        done_now += 1

    if len(rows) < args.epochs:
        print(f"stopped after epoch {len(rows)} of {args.epochs}; run again to resume", flush=True)
        return 0
    test_loss, test_acc = evaluate(x_test, y_test)
    n = len(y_test)
    low, high = accuracy_ci95(test_acc, n)    # the Wilson interval keras_cnns reports
    summary = {"framework": f"PyTorch {torch.__version__}", "model": "torch_resnet20 (He et al. option A)",
               "params": torch_param_count(model), "dataset": ds.describe(), "epochs": args.epochs,
               "batch_size": args.batch_size, "optimizer": "SGD momentum 0.9 (not Nesterov)",
               "learning_rate": args.lr, "schedule": "cosine per step to 0",
               "weight_decay": f"{args.weight_decay} coupled (L2 in the gradient), all parameters",
               "augment": "pad-4 zeros random crop + horizontal flip", "split": "45,000 / 5,000 as keras_cnns, seed 0",
               "test_accuracy": test_acc, "test_ci95": [low, high], "test_loss": test_loss,
               "n_test": n, "best_val_accuracy": max(r["val_accuracy"] for r in rows),
               "train_seconds": elapsed, "threads": torch.get_num_threads()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2), flush=True)
    if args.compare:
        plot(out, Path(args.compare))
    checkpoint.unlink()      # the run is complete; metrics and summary hold what is needed
    return 0


def plot(out: Path, keras_dir: Path) -> None:
    """Train and validation accuracy of both runs in one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    ours, ref = pd.read_csv(keras_dir / "metrics.csv"), pd.read_csv(out / "metrics.csv")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    for frame, label, colour in ((ours, "keras_cnns (Keras/TF)", "C0"), (ref, "PyTorch reference", "C3")):
        for column, style, kind in (("accuracy", "--", "train"), ("val_accuracy", "-", "validation")):
            axes[0].plot(frame["epoch"] + 1, frame[column], style, color=colour, label=f"{label}, {kind}")
        axes[1].plot(frame["epoch"] + 1, frame["val_loss"], "-", color=colour, label=f"{label}, validation")
        axes[1].plot(frame["epoch"] + 1, frame["loss"], "--", color=colour, label=f"{label}, train")
    axes[0].set(xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.0), title="ResNet-20, JPEG CIFAR-10: accuracy")
    axes[1].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "curves_vs_keras.png")


if __name__ == "__main__":
    raise SystemExit(main())
