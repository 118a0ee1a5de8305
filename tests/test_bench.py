"""The benchmark's quick run and the PyTorch reference ResNet-20 (no timing assertions)."""

import math

import pandas as pd
import pytest

from keras_cnns import bench
from keras_cnns.torch_resnet import torch_param_count, torch_resnet20


def test_torch_resnet20_has_he_et_al_parameter_count():
    pytest.importorskip("torch")
    # He et al. 2015, Table 6: ResNet-20 has 0.27M parameters; option A adds none.
    assert torch_param_count(torch_resnet20()) == 269_722


def test_quick_bench_writes_finite_positive_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNNS_FAST", "1")
    out = tmp_path / "bench.csv"
    bench.run_bench(quick=True, out=str(out), verbose=False)
    table = pd.read_csv(out)
    assert list(table.columns) == bench.COLUMNS
    assert "resnet20" in set(table["name"])
    for value in table[["median_img_s", "min_img_s", "max_img_s", "peak_rss_mb"]].to_numpy().ravel():
        assert math.isfinite(value) and value > 0
    ours = table[table["name"] == "resnet20"].iloc[0]
    assert ours["params"] == 269_722  # the Keras model at 32x32x3 matches the PyTorch one
    assert any(table["impl"] == "tf.data")
    if bench._torch_available():  # PyTorch in both layouts; each rival's ratio is ours / theirs
        nchw = table[table["name"] == "torch_resnet20"].iloc[0]
        nhwc = table[table["name"] == "torch_resnet20 (channels_last)"].iloc[0]
        assert nchw["params"] == nhwc["params"] == 269_722
        assert ours["compared_with"] == "torch_resnet20"
        assert ours["ratio"] == pytest.approx(ours["median_img_s"] / nchw["median_img_s"], abs=0.01)
        assert nhwc["ratio"] == pytest.approx(ours["median_img_s"] / nhwc["median_img_s"], abs=0.01)
    assert (out.with_suffix(".md")).exists()


def test_full_plan_measures_the_keras_torch_backend_against_pytorch(monkeypatch):
    monkeypatch.setattr(bench, "_torch_available", lambda: True)
    jobs = bench.plan(models=["resnet56", "resnet20"])
    backend_jobs = [j for j in jobs if j.get("backend") == "torch"]
    assert len(backend_jobs) == 1
    names = [c["name"] for c in backend_jobs[0]["contestants"]]
    assert names == ["resnet20 (Keras, torch backend)", "torch_resnet20", "torch_resnet20 (channels_last)"]
    assert not any(j.get("backend") for j in bench.plan(quick=True))   # the quick smoke run stays short


@pytest.mark.parametrize("flags, isa", [("fpu avx avx2 fma", "AVX2, no AVX-512"),
                                         ("avx2 avx512f avx512bw", "AVX-512"),
                                         ("avx2 avx512f avx512_bf16", "AVX-512 + BF16"),
                                         ("sse4_2", "no AVX2")])
def test_machine_line_names_the_vector_extension_oneDNN_picks_its_kernels_by(tmp_path, flags, isa):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: {flags}\n\n"
                    f"processor\t: 1\nmodel name\t: AMD EPYC 9R14\nflags\t\t: {flags}\n")
    assert bench.cpu_name(info) == f"AMD EPYC 9R14 ({isa})"
    assert bench.cpu_name(tmp_path / "missing")  # no /proc (macOS, Windows): still a name


def test_part_variants_for_the_cost_check_match_across_frameworks():
    pytest.importorskip("torch")
    import keras

    from keras_cnns import models

    # He et al. 2015, Table 6: ResNet-20 0.27M parameters. Without BatchNorm it loses 2 x 16+32+64
    # channels' (gamma, beta) per conv: 19 convs = 1 stem (16) + 6 x 16 + 6 x 32 + 6 x 64 channels.
    bn_params = 2 * (16 + 6 * 16 + 6 * 32 + 6 * 64)
    assert torch_param_count(torch_resnet20(batchnorm=False)) == 269_722 - bn_params
    assert torch_param_count(torch_resnet20(shortcuts=False)) == 269_722  # option A adds none
    plain = models.build("plain20", input_shape=(32, 32, 3), classes=10)
    assert plain.count_params() - sum(int(v.numpy().size) for l in plain.layers
                                      if isinstance(l, keras.layers.BatchNormalization)
                                      for v in l.non_trainable_weights) == 269_722
    step, params, _ = bench._keras_runner("resnet20", (32, 32, 3), 4, batchnorm=False)
    step()  # trains
    assert params == 269_722 - bn_params
