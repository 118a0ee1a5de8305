"""Fidelity of the builders to the published numbers, and their error messages.

Every expected number below comes from the literature or a reference
library, never from this package:
  [TV]  torchvision model documentation, "num_params" and "GFLOPS" columns
        (https://pytorch.org/vision/stable/models.html); GFLOPS there = GMACs.
  [He]  He et al. 2015, "Deep Residual Learning", Table 6 (CIFAR-10, option A
        shortcuts: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M); the exact integers are
        those printed by the widely used reference port
        akamaster/pytorch_resnet_cifar10 (README), which implements option A.
        Plain nets: option-A shortcuts are parameter-free (Sec. 4.2), so plain-n
        has exactly ResNet-n's parameters.
  [Xie] Xie et al. 2017, "Aggregated Residual Transformations", Table 7
        (ResNeXt-29 8x64d: 34.4M, 16x64d: 68.1M on CIFAR-10).
  [Hu]  Huang et al. 2017, "Densely Connected Convolutional Networks", Table 2
        (DenseNet-BC L=100, k=12: 0.8M; exactly 769,162 with 10 classes).
  [Lin] Lin et al. 2013, "Network in Network": no total is published; the count
        is worked out by hand below from the authors' ImageNet layer table.
  The two small CIFAR models of notebook 09 (resnext11_4x16d, densenet_bc_40) are in
  no paper: their counts are worked out by hand below, by the rules of [Xie] and [Hu],
  each rule first checked against the paper's exact figure.

ImageNet-size models (up to 144 M parameters) are built one test at a time and
dropped after it (``_free_models``), never cached all together.
"""

import inspect
import sys
import types

import keras
import numpy as np
import pytest

from keras_cnns import analysis, compare, models
from keras_cnns.models import cifar_resnet, cifar_resnext, densenet_bc, vgg

# fmt: off
IMAGENET_PARAMS = {                       # [TV] num_params, 224x224x3, 1000 classes
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904, "resnext101_32x8d": 88_791_336,
    "densenet121": 7_978_856, "densenet169": 14_149_480, "densenet201": 20_013_928,
}
CIFAR_PARAMS = {                          # 32x32x3, 10 classes
    "resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586,     # [He]
    "resnet56": 853_018, "resnet110": 1_727_962,                       # [He]
    "plain20": 269_722, "plain56": 853_018,                            # [He] Sec. 4.2
    "resnext29_8x64d": 34_426_698,                                     # [Xie]
    "densenet_bc_100_12": 769_162,                                     # [Hu]
}
TV_GFLOPS = {  # [TV] GFLOPS column (multiply-accumulates), rounded as published
    "resnet18": 1.814, "resnet34": 3.664, "resnet50": 4.089, "resnet101": 7.801,
    "resnet152": 11.514, "resnext50_32x4d": 4.23, "alexnet": 0.71, "vgg16": 15.47,
    "densenet121": 2.83,
}
# fmt: on


@pytest.fixture(autouse=True)
def _free_models():
    """Each test builds its own models; drop Keras' global state after it (VGGs hold 0.5 GB each)."""
    yield
    keras.backend.clear_session()   # also runs gc.collect()


def built(name, **kwargs):
    """The model with uninitialised variables (built in a ``keras.StatelessScope(initialize_variables=False)``):
    the same layers and variable shapes, which is all the counts below read, without drawing ~25 M random
    initial values (resnet152's build: 3.2 s with them); ``test_small_inputs_build_and_run`` builds every
    family with initialised weights and runs it."""
    from keras.src.backend.common import global_state

    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = len(pending)
    with keras.StatelessScope(initialize_variables=False):
        model = models.build(name, **kwargs)
    # Keras lists the variables left uninitialised, and the next StatelessScope to close would initialise
    # them all (e.g. in a later test's build): take this model's off the list, so they never are
    del pending[before:]
    return model


def test_every_registered_model_has_a_reference():
    covered = set(IMAGENET_PARAMS) | set(CIFAR_PARAMS) | {
        "googlenet", "nin", "resnext29_16x64d", "resnext11_4x16d", "densenet_bc_40"}
    assert set(models.list_models()) == covered


@pytest.mark.parametrize("name", sorted(IMAGENET_PARAMS))
def test_imagenet_params_and_macs_match_torchvision(name):
    model = built(name)   # built once for both counts
    assert model.output.shape == (None, 1000)
    assert analysis.count_params(model) == IMAGENET_PARAMS[name]
    if name in TV_GFLOPS:
        digits = len(str(TV_GFLOPS[name]).split(".")[1])
        assert round(analysis.count_macs(model) / 1e9, digits) == TV_GFLOPS[name]


def test_macs_references_are_imagenet_models():
    assert set(TV_GFLOPS) <= set(IMAGENET_PARAMS)


def test_stage_table_follows_the_papers_stages():
    # He et al. (2016), Sec. 4.2: 6n+2 = 20 weight layers for n = 3; feature maps 32, 16, 8 with
    # 16, 32, 64 filters; the first 3x3 conv, 3 stages of 2n convs, then the fully-connected layer.
    model = built("resnet20")
    table = analysis.stage_table(model)
    assert list(table.index) == ["conv1", "conv2", "conv3", "conv4", "predictions"]
    assert table["layers"].tolist() == [1, 6, 6, 6, 1]
    assert table["output"].tolist() == ["32x32x16", "32x32x16", "16x16x32", "8x8x64", "10"]
    assert table["macs"].sum() == analysis.count_macs(model)
    bn_params = sum(int(np.prod(w.shape)) for l in model.layers if isinstance(l, keras.layers.BatchNormalization)
                    for w in l.trainable_weights)
    assert table["params"].sum() + bn_params == analysis.count_params(model)
    # An inception stage ends at its concatenation (Szegedy et al. 2015, Table 1: 3a outputs 28x28x256).
    googlenet = built("googlenet")
    inception = analysis.stage_table(googlenet, output=lambda s: f"{s}_concat" if s.startswith("inception") else None)
    assert inception.loc["inception3a", "output"] == "28x28x256"
    assert analysis.stage_table(googlenet).loc["inception3a", "output"] != "28x28x256"   # the last conv alone


@pytest.mark.parametrize("name", sorted(CIFAR_PARAMS))
def test_cifar_params_match_papers(name):
    model = built(name)
    assert tuple(model.input.shape) == (None, 32, 32, 3)
    assert analysis.count_params(model) == CIFAR_PARAMS[name]


def _resnext29_params(cardinality, d=64, classes=10, depth=29):
    """ResNeXt-29 CxD for CIFAR counted by hand from Xie et al. Sec. 5.3 / Table 7.

    3x3 stem to 64; three stages of (depth - 2) / 9 bottlenecks (three for 29 layers:
    1x1 -> grouped 3x3 -> 1x1), outputs 256/512/1024, inner width C*d doubling per stage;
    a 1x1 projection on the first block of each stage; BN (2 params per channel) after every conv.
    """
    total = 3 * 9 * 64 + 2 * 64
    cin = 64
    for stage, out in enumerate((256, 512, 1024)):
        width = cardinality * d * 2 ** stage
        for block in range((depth - 2) // 9):
            total += cin * width + 2 * width                            # 1x1 reduce
            total += width * (width // cardinality) * 9 + 2 * width     # grouped 3x3
            total += width * out + 2 * out                              # 1x1 expand
            if block == 0:
                total += cin * out + 2 * out                             # projection
            cin = out
    return total + 1024 * classes + classes


def test_resnext29_16x64d_params():
    # The hand count is checked against the paper's exact 8x64d figure first.
    assert _resnext29_params(8) == 34_426_698
    expected = _resnext29_params(16)
    assert expected // 100_000 == 681      # [Xie] Table 7 prints 68.1M (34.4M for 8x64d)
    assert analysis.count_params(built("resnext29_16x64d")) == expected


def test_resnext11_4x16d_params():
    # Notebook 09's ResNeXt: one bottleneck per stage, C=4, d=16; the rule is [Xie]'s (above).
    assert _resnext29_params(8) == 34_426_698
    assert analysis.count_params(built("resnext11_4x16d")) == _resnext29_params(4, 16, depth=11)


def _densenet_bc_params(depth, k, classes=10):
    """DenseNet-BC for CIFAR counted by hand from Huang et al. Sec. 3-4.

    3x3 stem to 2k (no bias); three dense blocks of (depth - 4) / 6 layers, each
    BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k (no biases); transitions BN-ReLU-1x1
    conv halving the channels; final BN and the classifier. BN: 2 params per channel.
    """
    c, total = 2 * k, 3 * 3 * 3 * 2 * k
    for block in range(3):
        for _ in range((depth - 4) // 6):
            total += 2 * c + c * 4 * k + 2 * 4 * k + 9 * 4 * k * k
            c += k
        if block < 2:
            total += 2 * c + c * (c // 2)
            c //= 2
    return total + 2 * c + c * classes + classes


def test_densenet_bc_40_params():
    # The hand count is checked against [Hu]'s exact L=100, k=12 figure first.
    assert _densenet_bc_params(100, 12) == 769_162
    assert analysis.count_params(built("densenet_bc_40")) == _densenet_bc_params(40, 12)


def test_googlenet_params_and_macs():
    # [TV] GoogLeNet 6,624,904: torchvision's "5x5" branch is a 3x3 conv (weight compatibility).
    tv_form = built("googlenet", kernel_5x5=3)
    assert analysis.count_params(tv_form) == 6_624_904
    assert round(analysis.count_macs(tv_form) / 1e9, 2) == 1.5  # [TV]
    del tv_form
    # The paper's 5x5 branch adds (25 - 9) * reduce * out weights in each of the nine
    # Inception blocks (reduce/out from Szegedy et al. 2014, Table 1).
    reduce_out = [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64), (32, 128),
                  (32, 128), (48, 128)]
    extra = sum(16 * r * o for r, o in reduce_out)
    assert analysis.count_params(built("googlenet")) == 6_624_904 + extra


def test_nin_params_from_layer_table():
    # [Lin] ImageNet NiN: (kernel, in, out) of each conv, weights + biases, classes=1000.
    convs = [(11, 3, 96), (1, 96, 96), (1, 96, 96),
             (5, 96, 256), (1, 256, 256), (1, 256, 256),
             (3, 256, 384), (1, 384, 384), (1, 384, 384),
             (3, 384, 1024), (1, 1024, 1024), (1, 1024, 1000)]
    expected = sum(k * k * cin * cout + cout for k, cin, cout in convs)
    assert analysis.count_params(built("nin")) == expected


def test_cifar_resnet_option_b_adds_only_projections():
    a = analysis.count_params(cifar_resnet(20))
    b = analysis.count_params(cifar_resnet(20, shortcut="projection"))
    # two 1x1 projections (16->32, 32->64) with BN: 16*32 + 2*32 + 32*64 + 2*64
    assert b - a == 16 * 32 + 64 + 32 * 64 + 128


def test_layers_are_named_after_their_place():
    names = {layer.name for layer in built("resnet50").layers}
    for expected in ("conv1_conv", "conv2_block1_1_conv", "conv2_block1_0_conv",
                     "conv5_block3_3_bn", "conv5_block3_add", "predictions"):
        assert expected in names
    resnext = built("resnext50_32x4d")
    assert "conv2_block1_2_conv" in {l.name for l in resnext.layers}
    grouped = resnext.get_layer("conv2_block1_2_conv")
    assert grouped.groups == 32 and grouped.filters == 128


@pytest.mark.parametrize("name,order", [
    # torchvision alexnet.classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear
    ("alexnet", ["flatten", "fc1_dropout", "fc1", "fc2_dropout", "fc2", "predictions_dense", "predictions"]),
    # torchvision vgg.classifier: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear
    ("vgg11", ["flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", "predictions_dense", "predictions"]),
    ("vgg16_bn", ["flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", "predictions_dense", "predictions"]),
])
def test_fc_head_places_dropout_as_torchvision(name, order):
    model = models.build(name, input_shape=(32, 32, 3), classes=10)
    names = [layer.name for layer in model.layers]
    assert names[names.index("flatten"):] == order


SMALL = ["alexnet", "vgg11", "vgg16_bn", "nin", "googlenet", "resnet18", "resnet20",
         "plain20", "densenet121", "densenet_bc_100_12", "resnext50_32x4d"]


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("name", SMALL)
def test_small_inputs_build_and_run(name, shape, samples):
    ds = samples["mnist" if shape[-1] == 1 else "cifar10"]
    model = models.build(name, input_shape=shape, classes=10)
    probs = np.asarray(model(ds.x_train[:4].astype("float32") / 255.0, training=False))
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)


# --- the registry and the builders' signatures -----------------------------------------------

@pytest.mark.parametrize("name", models.list_models())
def test_builders_have_real_signatures_and_docstrings(name):
    fn = getattr(models, name)
    assert models._get(name) is fn and fn.__name__ == name
    params = inspect.signature(fn).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())
    for arg in ("input_shape", "classes", "include_top", "pooling", "classifier_activation",
                "small_input", "resize_to"):
        assert arg in params
    doc = inspect.getdoc(fn)
    assert "parameters" in doc.split("Args:")[0]   # the count, with its reference
    for arg in params:
        assert f"    {arg}: " in doc, arg


def test_compare_and_bench_names_are_registered():
    from keras_cnns import bench

    registered = set(models.list_models())
    assert set(compare.DEFAULT_MODELS) <= registered and set(compare.FAMILIES) <= registered
    assert set(bench.CIFAR_MODELS + bench.IMAGENET_MODELS + list(bench.APPLICATIONS)) <= registered


def test_weights_are_loaded_by_pretrained(monkeypatch):
    """``build(..., weights=...)`` hands over to ``keras_cnns.pretrained.load``, imported on demand."""
    import keras_cnns

    calls = []
    fake = types.ModuleType("keras_cnns.pretrained")
    fake.load = lambda *args, **kwargs: calls.append((args, kwargs)) or "loaded"
    monkeypatch.setitem(sys.modules, "keras_cnns.pretrained", fake)
    monkeypatch.setattr(keras_cnns, "pretrained", fake, raising=False)
    assert models.build("resnet20", (28, 28, 1), 10, weights="fashion_mnist", pooling="avg") == "loaded"
    assert calls == [(("resnet20", "fashion_mnist"),
                      {"input_shape": (28, 28, 1), "classes": 10, "pooling": "avg"})]
    with pytest.raises(ValueError, match="resnet19"):
        models.build("resnet19", weights="cifar10")


def test_include_top_false_and_pooling():
    feats = models.build("resnet20", include_top=False)
    assert tuple(feats.output.shape) == (None, 8, 8, 64)
    pooled = models.build("resnet20", include_top=False, pooling="avg")
    assert tuple(pooled.output.shape) == (None, 64)
    logits = models.build("resnet20", classifier_activation=None)
    assert logits.layers[-1].get_config()["activation"] == "linear"


def test_resize_to_resizes_on_the_fly():
    model = models.build("alexnet", input_shape=(28, 28, 1), classes=10, resize_to=224)
    assert model.get_layer("resize").output.shape[1:3] == (224, 224)
    assert model.get_layer("pool5").output.shape[1:3] == (6, 6)


# --- bad input ------------------------------------------------------------------------------

def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match=r"`name`.*resnet20.*densenet121"):
        models.build("resnet19")


@pytest.mark.parametrize("builder,depth,pattern", [
    (cifar_resnet, 21, r"`depth` must be 6n \+ 2"),
    (vgg, 12, r"`depth` must be one of \[11, 13, 16, 19\]"),
    (densenet_bc, 99, r"`depth` must be 6n \+ 4"),
    (cifar_resnext, 30, r"`depth` must be 9n \+ 2"),
])
def test_unsupported_depth(builder, depth, pattern):
    with pytest.raises(ValueError, match=pattern):
        builder(depth)


def test_cardinality_must_divide_width():
    import keras
    from keras_cnns.blocks import bottleneck_block

    with pytest.raises(ValueError, match=r"`groups`.*divide the width.*100.*32"):
        bottleneck_block(keras.Input((8, 8, 64)), 64, groups=32, width=100)


@pytest.mark.parametrize("filters", [0, -3, 2.5])
def test_non_positive_filters(filters):
    import keras
    from keras_cnns.blocks import residual_block, vgg_block

    with pytest.raises(ValueError, match=r"`filters` must be a positive integer"):
        residual_block(keras.Input((8, 8, 16)), filters)
    with pytest.raises(ValueError, match=r"`filters` must be a positive integer"):
        vgg_block(keras.Input((8, 8, 16)), 2, filters)


@pytest.mark.parametrize("name,shape,kwargs,minimum", [
    ("resnet50", (16, 16, 3), {"small_input": False}, 32),
    ("resnet20", (2, 2, 3), {}, 4),
    ("alexnet", (32, 32, 3), {"small_input": False}, 63),
    ("vgg16", (8, 8, 3), {}, 16),
])
def test_input_smaller_than_total_stride(name, shape, kwargs, minimum):
    with pytest.raises(ValueError, match=rf"`input_shape`.*too small.*at least {minimum}"):
        models.build(name, input_shape=shape, classes=10, **kwargs)


@pytest.mark.parametrize("kwargs,pattern", [
    ({"classes": 0}, r"`classes` must be a positive integer"),
    ({"pooling": "mean"}, r"`pooling` must be one of None, 'avg', 'max'"),
    ({"input_shape": (32, 32)}, r"`input_shape` must be \(height, width, channels\)"),
    ({"shortcut": "option_c"}, r"`shortcut` must be one of 'zero_pad', 'projection'"),
])
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        models.build("resnet20", **kwargs)


def test_builders_use_only_keras():
    """No TensorFlow inside builders, so they run on the JAX and PyTorch backends too."""
    from pathlib import Path

    import keras_cnns

    root = Path(keras_cnns.__file__).parent
    for path in list((root / "blocks").glob("*.py")) + list((root / "models").glob("*.py")):
        text = path.read_text()
        assert "tensorflow" not in text and "tf." not in text, path.name
