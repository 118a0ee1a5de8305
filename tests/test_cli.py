"""Tests of the command line (``python -m keras_cnns``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, run_python

from keras_cnns.cli import main


def run_as_main(*args: str) -> subprocess.CompletedProcess:
    """``python -m keras_cnns ARGS`` (its exit code), then a last line ``@@ True|False``: whether the run
    imported ``keras_cnns.bench``. The process leaves with ``os._exit`` and the command's exit code, as
    ``sys.exit`` would give it, without Python's teardown of TensorFlow's modules (see ``run_python``)."""
    code = ("import os, runpy, sys\nsys.argv[0] = 'keras_cnns'\ncode = 0\n"
            "try:\n    runpy.run_module('keras_cnns', run_name='__main__')\n"
            "except SystemExit as exit:\n"
            "    code = 0 if exit.code is None else exit.code\n"
            "    if not isinstance(code, int):\n        print(code, file=sys.stderr)\n        code = 1\n"
            "print('@@', 'keras_cnns.bench' in sys.modules, flush=True)\nsys.stderr.flush()\nos._exit(code)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


def test_module_help_lists_commands():
    proc = run_as_main("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("list", "summary", "train", "predict", "compare", "bench"):
        assert command in proc.stdout
    assert "absl" not in proc.stderr  # --help does not import TensorFlow
    assert "usage: python -m keras_cnns" in proc.stdout


@pytest.mark.parametrize("command", ["list", "summary", "train", "predict", "compare", "bench"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"python -m keras_cnns {command}" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_list_shows_models_and_datasets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("alexnet", "resnet20", "resnext50_32x4d", "densenet121", "mnist", "cifar10"):
        assert name in out


def test_summary_resnet20_matches_published_count(capsys):
    assert main(["summary", "resnet20", "--input-shape", "32,32,3", "--classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "269,722" in out  # He et al. 2015: ResNet-20 for CIFAR-10 has 0.27M parameters
    assert "(None, 10)" in out and "MACs" in out and "layers" in out


def test_summary_json(capsys):
    assert main(["summary", "resnet20", "--input-shape", "32x32x3", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["trainable_params"] == 269722 and info["output_shape"] == [10]
    assert info["macs"] > 40_000_000


def test_unknown_model_exits_2_listing_valid_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "resnet21"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "resnet21" in err and "resnet20" in err and "vgg16" in err and "Traceback" not in err


def test_unknown_model_exits_2_from_the_shell():
    proc = run_as_main("train", "lenet", "--dataset", "mnist", "--out", "unused")
    assert proc.returncode == 2
    assert "valid models" in proc.stderr and "resnet20" in proc.stderr
    assert "Traceback" not in proc.stderr
    # checking the name loaded the model registry (as ``list`` does), and not the benchmark
    assert proc.stdout.splitlines()[-1] == "@@ False"


def test_unknown_dataset_exits_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "resnet20", "--dataset", "imagenet22k", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "imagenet22k" in err and "mnist" in err and "cifar10" in err
    assert not (tmp_path / "x").exists()


def test_bad_input_shape_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "resnet20", "--input-shape", "32,32"])
    assert exit_info.value.code == 2
    assert "HEIGHT,WIDTH,CHANNELS" in capsys.readouterr().err


def only_shipped_samples(monkeypatch, tmp_path):
    """Nothing but the samples shipped in the package can be found (no download, no data folder)."""
    for name, value in {"KERAS_CNNS_OFFLINE": "1", "KERAS_HOME": str(tmp_path),
                        "KERAS_CNNS_DATA_DIR": str(tmp_path), "KERAS_CNNS_SYSTEM_DATA_DIR": ""}.items():
        monkeypatch.setenv(name, value)


def test_train_fast_writes_run_folder(tmp_path, capsys, monkeypatch):
    """Also ``--fast`` on MNIST with only the shipped samples (the other datasets: the test below)."""
    monkeypatch.chdir(tmp_path)  # relative --out, as a user would type it
    only_shipped_samples(monkeypatch, tmp_path)
    code = main(["train", "resnet20", "--dataset", "mnist", "--epochs", "1", "--fast", "--steps", "2",
                 "--batch-size", "32", "--verbose", "0"])   # no --out: the default folder
    assert code == 0
    out = tmp_path / "runs" / "resnet20-mnist"
    for name in ("metrics.csv", "curves.png", "best.keras", "summary.json"):
        assert (out / name).is_file(), name
    text = (out / "summary.json").read_text()
    summary = json.loads(text)
    assert summary["is_sample"] is True and summary["fast"] is True and summary["config"]["fast"] is True
    assert summary["model"] == "resnet20" and summary["dataset"] == "mnist"
    assert summary["command"].startswith("python -m keras_cnns train resnet20 --dataset mnist")
    assert summary["epochs"] == 1 and summary["batch_size"] == 32 and summary["steps_per_epoch"] == 2
    assert 0.0 <= summary["test_ci95"][0] <= summary["test_accuracy"] <= summary["test_ci95"][1] <= 1.0
    assert summary["params"] > 250_000 and summary["n_test"] == 500
    for machine_path in (str(tmp_path), str(REPO), str(Path.home())):
        assert machine_path not in text  # no absolute paths of this machine
    assert pd.read_csv(out / "metrics.csv")["epoch"].tolist() == [0]
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "test accuracy" in capsys.readouterr().out


def test_missing_dataset_exits_1_with_advice(tmp_path, capsys, monkeypatch):
    for name, value in {"KERAS_CNNS_OFFLINE": "1", "KERAS_CNNS_DATA_DIR": str(tmp_path),
                        "KERAS_HOME": str(tmp_path), "KERAS_CNNS_SYSTEM_DATA_DIR": "",
                        "KERAS_CNNS_FAST": "0"}.items():
        monkeypatch.setenv(name, value)
    code = main(["train", "resnet20", "--dataset", "cifar100", "--epochs", "1", "--out", str(tmp_path / "r")])
    assert code == 1
    err = capsys.readouterr().err
    assert "cifar100" in err.lower() and "KERAS_CNNS_DATA_DIR" in err and "Traceback" not in err


# --fast on every listed dataset; MNIST's run is test_train_fast_writes_run_folder's (ResNet-20)
FAST_DATASETS = ["fashion_mnist", "cifar10", "cifar100"]


def test_fast_is_tested_on_every_listed_dataset():
    from keras_cnns import data

    assert sorted(data.list_datasets()) == sorted(["mnist", *FAST_DATASETS])


@pytest.mark.parametrize("dataset", FAST_DATASETS)
def test_fast_works_for_every_listed_dataset(dataset, tmp_path, capsys, monkeypatch):
    """--fast: the shipped sample where there is one; otherwise the full data, or one clear error (exit 1)."""
    from keras_cnns import data

    only_shipped_samples(monkeypatch, tmp_path)
    # NiN: the model does not matter here, and it builds and traces in about half ResNet-20's time
    code = main(["train", "nin", "--dataset", dataset, "--epochs", "1", "--fast", "--steps", "1",
                 "--batch-size", "16", "--verbose", "0", "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    if dataset in data.sample_names():
        assert code == 0, captured.err
        summary = json.loads((tmp_path / "run" / "summary.json").read_text())
        assert summary["is_sample"] is True and summary["config"]["fast"] is True
        assert summary["command"].startswith("python -m keras_cnns train nin --dataset " + dataset)
    else:  # no sample of CIFAR-100 ships: the loader's one clear error, no traceback
        assert code == 1
        assert "No copy of 'cifar100' was found" in captured.err and "no shipped sample of cifar100" in captured.err
        assert "Traceback" not in captured.err


def test_compare_fast_writes_the_table(tmp_path, capsys):
    code = main(["compare", "--fast", "--models", "nin", "resnet20", "--dataset", "mnist",
                 "--budget-seconds", "1", "--epochs", "1", "--out", str(tmp_path / "cmp")])
    assert code == 0
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert table["model"].tolist() == ["nin", "resnet20"]
    assert (table["params"] > 0).all() and table["test_accuracy"].between(0, 1).all()
    assert (tmp_path / "cmp" / "comparison.md").is_file()
    assert "resnet20" in capsys.readouterr().out


def test_commands_other_than_bench_do_not_import_it():
    """``python -m keras_cnns train --help`` does not import ``keras_cnns.bench`` (nor does a command
    that loads the models: ``test_unknown_model_exits_2_from_the_shell``)."""
    proc = run_as_main("train", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "@@ False"


def test_bench_help_lists_the_bench_defaults(capsys):
    from keras_cnns import bench, cli

    assert cli.BENCH_DEFAULT_MODELS == bench.CIFAR_MODELS + bench.IMAGENET_MODELS
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    assert " ".join(bench.CIFAR_MODELS) in " ".join(capsys.readouterr().out.split())


def test_compare_can_train_each_model_in_its_own_process(samples):
    """``isolate=True`` (the full setting's default): the same table, each model trained in a fresh process."""
    import multiprocessing

    from keras_cnns import compare

    before = {p.pid for p in multiprocessing.active_children()}
    table = compare.compare(["resnet20"], dataset=samples["mnist"], budget_seconds=1, epochs=1, fast=True,
                            isolate=True)
    row = table.iloc[0]
    assert row["model"] == "resnet20" and row["params"] == 269_434   # 28x28x1 input: 269,722 - 288
    # the training clock stops at the end of fit: the test evaluation is timed apart, and both fit in the wall time
    assert row["test_seconds"] > 0 and row["train_seconds"] + row["test_seconds"] < row["wall_seconds"]
    assert row["steps"] >= 1 and 0.0 <= row["test_accuracy"] <= 1.0
    assert {p.pid for p in multiprocessing.active_children()} <= before   # the worker is gone
    assert "CPU cores" in table.attrs["device"]["machine"]   # reported by the worker that trained
    assert table.attrs["peak_learning_rate"] == pytest.approx(0.1)   # SGD's default at batch 128


def test_isolated_compare_keeps_tensorflow_out_of_the_caller():
    """Notebook 09's kernel: sizes built in a worker, and no TensorFlow in the process that asks."""
    code = ("import sys\n"
            "from keras_cnns import compare, notebook\n"
            "notebook.setup(tensorflow=False)\n"
            "t = compare.sizes(['resnet20'], (28, 28, 1), 10, isolate=True)\n"
            "print(dict(zip(t['model'], t['params'])), 'tensorflow' in sys.modules)\n")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    # ResNet-20: 269,722 parameters at 32x32x3 (He et al. 2015, Table 6 port) minus the stem's 2x3x3x16
    # weights of the two missing input channels
    assert out.stdout.split("}")[0] + "}" == "{'resnet20': 269434}"
    assert out.stdout.strip().endswith("False")


def test_sizes_takes_builder_options_per_model():
    """Notebook 04's table: ``(name, kwargs)`` entries reach the builder; bad entries are named."""
    from keras_cnns import compare

    t = compare.sizes(["googlenet", ("googlenet", {"kernel_5x5": 3})], (28, 28, 1), 10)
    assert list(t["model"]) == ["googlenet", "googlenet(kernel_5x5=3)"]
    # The paper's 5x5 branch has (25 - 9) * reduce * out more weights than torchvision's 3x3 in each of
    # the nine Inception blocks (reduce/out from Szegedy et al. 2014, Table 1), whatever the input size.
    reduce_out = [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64), (32, 128), (32, 128), (48, 128)]
    assert t["params"].iloc[0] - t["params"].iloc[1] == sum(16 * r * o for r, o in reduce_out)
    with pytest.raises(ValueError, match=r"models must hold registry names or \(name, kwargs\) pairs"):
        compare.sizes([("googlenet", 3)])
