"""The blocks: shapes, shortcut rules, docstring examples, and the classic residual-block example."""

import doctest

import keras
import numpy as np
import pytest
from keras import layers

import keras_cnns.blocks as blocks
from keras_cnns import analysis
from keras_cnns.blocks import (bottleneck_block, dense_block, inception_block, residual_block,
                               transition_block)


@pytest.mark.parametrize("module", ["_common", "vgg", "nin", "inception", "residual", "dense"])
def test_docstring_examples_run(module):
    mod = getattr(blocks, module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_residual_block_shortcut_rules():
    x = keras.Input((16, 16, 32))
    identity = keras.Model(x, residual_block(x, 32, name="a"))
    assert not any(l.name.startswith("a_0_") for l in identity.layers)
    # Two 3x3 convs without bias + two BNs (gamma, beta): 2*(9*32*32) + 4*32.
    assert analysis.count_params(identity) == 2 * 9 * 32 * 32 + 4 * 32
    proj = keras.Model(x, residual_block(x, 64, strides=2, name="b"))
    assert tuple(proj.output.shape) == (None, 8, 8, 64)
    assert "b_0_conv" in {l.name for l in proj.layers}
    pad = keras.Model(x, residual_block(x, 64, strides=2, shortcut="zero_pad", name="c"))
    assert analysis.count_params(pad) == 9 * 32 * 64 + 9 * 64 * 64 + 4 * 64
    plain = keras.Model(x, residual_block(x, 32, shortcut="none", name="d"))
    assert not any(isinstance(l, layers.Add) for l in plain.layers)
    with pytest.raises(ValueError, match="shortcut='identity'"):
        residual_block(x, 64, shortcut="identity")


def test_residual_block_computes_f_of_x_plus_x():
    """y = ReLU(F(x) + x): with the second BN's gamma at zero, F(x) = beta = 0 and y = ReLU(x)."""
    x = keras.Input((8, 8, 4))
    model = keras.Model(x, residual_block(x, 4, name="r"))
    model.get_layer("r_2_bn").gamma.assign(np.zeros(4, "float32"))
    data = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(model(data, training=False), np.maximum(data, 0), atol=1e-6)


def test_zero_pad_shortcut_subsamples_and_pads():
    from keras_cnns.blocks import ChannelPad

    data = np.arange(2 * 4 * 4 * 2, dtype="float32").reshape(2, 4, 4, 2)
    out = np.asarray(ChannelPad(6, 2)(data))
    assert out.shape == (2, 2, 2, 6)
    np.testing.assert_array_equal(out[..., 2:4], data[:, ::2, ::2, :])
    assert not out[..., :2].any() and not out[..., 4:].any()


def test_bottleneck_is_resnext_with_groups():
    x = keras.Input((14, 14, 256))
    plain = keras.Model(x, bottleneck_block(x, 64, name="p"))
    grouped = keras.Model(x, bottleneck_block(x, 64, groups=32, width_per_group=4, name="g"))
    assert plain.get_layer("p_2_conv").filters == 64
    assert grouped.get_layer("g_2_conv").filters == 128 and grouped.get_layer("g_2_conv").groups == 32
    # ResNeXt-50 conv2 block: 256*128 + 128*(128/32)*9 + 128*256, plus BN 2*(128+128+256).
    assert analysis.count_params(grouped) == 256 * 128 + 128 * 4 * 9 + 128 * 256 + 2 * 512


def test_inception_and_dense_channel_bookkeeping():
    x = keras.Input((28, 28, 192))
    assert inception_block(x, 64, (96, 128), (16, 32), 32).shape[-1] == 256  # 3a: Table 1
    y = dense_block(keras.Input((8, 8, 24)), 16, 12)
    assert y.shape[-1] == 24 + 16 * 12
    assert tuple(transition_block(y, 0.5).shape) == (None, 4, 4, 108)
    with pytest.raises(ValueError, match="`compression` must be in"):
        transition_block(y, 1.5)


def test_classic_residual_block_example_runs(samples):
    """The well-known Keras residual-block MNIST example, with our block imported
    in place of its own definition, trains and predicts on real MNIST images."""
    from keras_cnns.blocks import residual_block  # noqa: F811 -- replaces the example's own

    ds = samples["mnist"]
    x_train = ds.x_train[:256].astype("float32") / 255.0
    y_train = ds.y_train[:256]

    keras.utils.set_random_seed(0)
    input_tensor = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(64, 3, padding="same")(input_tensor)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = residual_block(x, 64, 3)
    x = residual_block(x, 64, 3)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(input_tensor, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    preds = model.predict(ds.x_test[:8].astype("float32") / 255.0, verbose=0)
    assert preds.shape == (8, 10)
    assert len([l for l in model.layers if isinstance(l, layers.Add)]) == 2


def _grouped_model(split):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 32))
    conv = blocks.GroupedConv2D(32, 3, padding="same", groups=8, use_bias=True, split=split, name="g")
    return keras.Model(inputs, conv(inputs))


def test_grouped_conv_split_equals_fused_in_outputs_and_training():
    # Xie et al. 2017, Fig. 3: G convolutions on channel slices, concatenated, are one grouped conv.
    fused, split = _grouped_model(False), _grouped_model(True)
    split.set_weights(fused.get_weights())
    assert fused.get_layer("g").kernel.shape == (3, 3, 4, 32)      # Conv2D(groups=8)'s own kernel shape
    assert isinstance(split.get_layer("g"), layers.Conv2D) and split.get_layer("g").groups == 8
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 8, 8, 32)).astype("float32")
    y = rng.normal(size=(4, 8, 8, 32)).astype("float32")
    np.testing.assert_allclose(fused.predict(x, verbose=0), split.predict(x, verbose=0), atol=1e-4)
    for m in (fused, split):               # one SGD step: equal gradients give equal new weights
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        m.train_on_batch(x, y)
    for a, b in zip(fused.get_weights(), split.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_resnext_bottleneck_uses_grouped_conv_that_reloads(tmp_path):
    x = keras.Input((8, 8, 64))
    model = keras.Model(x, bottleneck_block(x, 16, groups=4, width_per_group=8, name="b"))
    conv = model.get_layer("b_2_conv")
    assert isinstance(conv, blocks.GroupedConv2D) and conv.groups == 4
    assert not isinstance(model.get_layer("b_1_conv"), blocks.GroupedConv2D)   # groups=1: plain Conv2D
    path = tmp_path / "b.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    probe = np.random.default_rng(1).normal(size=(2, 8, 8, 64)).astype("float32")
    np.testing.assert_allclose(model.predict(probe, verbose=0), again.predict(probe, verbose=0), atol=1e-5)


def test_grouped_conv_rejects_bad_split():
    with pytest.raises(ValueError, match="`split`"):
        blocks.GroupedConv2D(8, 3, groups=2, split="yes")
