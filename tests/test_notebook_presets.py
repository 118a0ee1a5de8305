"""Every notebook's ``parameters`` cell: the fast, full and "gpu" presets it offers.

The "gpu" preset (``KERAS_CNNS_PRESET=gpu``) must be the paper-like run whose time the README's
"The series on one GPU" table estimates (``scripts/gpu_estimates.py``): the same epochs, every image.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_estimates  # noqa: E402

# 10 has no training run of its own to scale up (it explains the shipped ResNet-20 weights).
RUNS = {label.split()[0]: epochs for label, _, _, epochs, _ in gpu_estimates.RUNS if not label.startswith("10")}


def parameters(number: str, monkeypatch, preset=None, fast=False) -> dict:
    notebook = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    cells = json.loads(notebook.read_text())["cells"]
    cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    monkeypatch.setenv("KERAS_CNNS_FAST", "1" if fast else "0")
    if preset:
        monkeypatch.setenv("KERAS_CNNS_PRESET", preset)
    else:
        monkeypatch.delenv("KERAS_CNNS_PRESET", raising=False)
    namespace: dict = {}
    exec("".join(cell["source"]), namespace)
    return namespace


@pytest.mark.parametrize("number", sorted(RUNS))
def test_gpu_preset_is_the_estimated_run(number, monkeypatch):
    gpu = parameters(number, monkeypatch, preset="gpu")
    if number == "09":
        assert gpu["BUDGET_SECONDS"] is None
    else:
        assert gpu["TRAIN_LIMIT"] is None and gpu["STEPS_PER_EPOCH"] is None
    assert gpu["EPOCHS"] == RUNS[number]
    full = parameters(number, monkeypatch)             # the default (full) setting does not use the preset
    if number == "09":
        assert full["BUDGET_SECONDS"] is not None
    else:
        assert full["EPOCHS"] < gpu["EPOCHS"]
    assert parameters(number, monkeypatch, fast=True)["FAST"] is True


def test_the_estimates_cover_the_training_notebooks():
    assert sorted(RUNS) == ["01", "02", "03", "04", "05", "06", "07", "08", "09"]


def test_the_batch_norm_estimate_counts_the_notebooks_own_network():
    """05 trains a CNN it defines itself; the estimate builds it from the notebook's own cell."""
    from keras import layers

    runs = next(runs for label, runs, *_ in gpu_estimates.RUNS if label.startswith("05"))
    built = [gpu_estimates.build_run(run, (28, 28, 1), 10) for run in runs]
    # the notebook's ten runs: without BN at 0.1 and 0.01, with BN at momentum 0.9 and 0.99; then without
    # BN: seed 1, warm-up seeds 0 and 1; with BN: seed 1, label smoothing seeds 0 and 1
    assert [sum(isinstance(l, layers.BatchNormalization) for l in m.layers) > 0 for m in built] == \
        [False, False, True, True, False, False, False, True, True, True]
    assert all(m.input_shape == (None, 28, 28, 1) and m.output_shape == (None, 10) for m in built)


def test_the_resnext_estimate_is_the_gpu_presets_equal_cost_pair(monkeypatch):
    """08 trains its ResNeXt and the ResNet of equal cost (C = 1) once per seed; the estimate counts that."""
    gpu = parameters("08", monkeypatch, preset="gpu")
    runs = next(runs for label, runs, *_ in gpu_estimates.RUNS if label.startswith("08"))
    pair = [f"resnext{gpu['DEPTH']}_{gpu['CARDINALITY']}x{gpu['WIDTH']}d",
            f"resnext{gpu['DEPTH']}_1x{gpu['RESNET_WIDTH']}d"]
    assert [gpu_estimates.run_label(run) for run in runs] == pair * len(gpu["SEEDS"])


@pytest.mark.parametrize("number", sorted(RUNS))
def test_the_estimate_counts_the_images_the_gpu_preset_trains_on(number, monkeypatch):
    """Per epoch, the preset trains on the training split less its validation share, and so does the estimate."""
    from keras_cnns.training import TrainConfig

    # Training splits: Fashion-MNIST 60,000 (Xiao et al. 2017), CIFAR-10 50,000 (Krizhevsky 2009).
    train_split = {(28, 28, 1): 60_000, (32, 32, 3): 50_000}
    shape, _, images = next(data for label, _, data, *_ in gpu_estimates.RUNS if label.startswith(number))
    gpu = parameters(number, monkeypatch, preset="gpu")
    assert gpu.get("TRAIN_LIMIT") is None   # every image of the split
    split = gpu.get("VALIDATION_SPLIT") or TrainConfig().validation_split
    assert images == round(train_split[shape] * (1 - split))
