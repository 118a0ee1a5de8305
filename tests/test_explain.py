"""Tests of keras_cnns.explain: Grad-CAM against its closed form, its shape and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from keras_cnns import explain


def linear_gap_model(h=6, w=5, k=3, classes=4, seed=0):
    """Input A (h, w, k) -> global average pool -> Dense logits -> softmax.

    For it Grad-CAM has a closed form: y^c = sum_k W[k, c] mean_ij A^k_ij + b_c, so
    alpha_k^c = W[k, c] / (h w) and L^c = ReLU(sum_k W[k, c] A^k) / (h w), before scaling to max 1.
    """
    import keras

    inputs = keras.Input((h, w, k), name="features")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(inputs)
    x = keras.layers.Dense(classes, name="predictions_dense",
                           kernel_initializer=keras.initializers.RandomNormal(seed=seed))(x)
    outputs = keras.layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


def test_grad_cam_matches_its_closed_form():
    model = linear_gap_model()
    weights = model.get_layer("predictions_dense").get_weights()[0]  # (k, classes)
    a = np.random.default_rng(1).normal(size=(3, 6, 5, 3)).astype(np.float32)
    for c in range(4):
        maps = explain.grad_cam(model, a, class_index=c, layer="features", upsample=False)
        expected = np.maximum(a @ weights[:, c], 0)
        expected /= expected.max(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_grad_cam_default_class_is_the_prediction_and_maps_are_scaled():
    model = linear_gap_model()
    a = np.random.default_rng(2).normal(size=(4, 6, 5, 3)).astype(np.float32)
    predicted = model.predict(a, verbose=0).argmax(-1)
    by_default = explain.grad_cam(model, a, layer="features", upsample=False)
    explicit = explain.grad_cam(model, a, class_index=predicted, layer="features", upsample=False)
    np.testing.assert_allclose(by_default, explicit, atol=1e-6)
    assert by_default.shape == (4, 6, 5) and by_default.dtype == np.float32
    assert by_default.min() >= 0 and np.allclose(by_default.max(axis=(1, 2)), 1.0)


def test_grad_cam_on_a_cnn_upsamples_to_the_input_and_depends_on_the_class():
    from keras_cnns import models

    model = models.build("resnet20", input_shape=(32, 32, 3), classes=10)
    assert explain.last_conv_output_layer(model) == "conv4_block3_out"
    assert explain.score_layer(model) == "predictions_dense"
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.float32)
    maps = explain.grad_cam(model, images, class_index=[0, 1])
    assert maps.shape == (2, 32, 32) and 0.0 <= maps.min() and maps.max() <= 1.0 + 1e-6
    small = explain.grad_cam(model, images[0], class_index=0, upsample=False)
    assert small.shape == (8, 8)  # the last stage of a CIFAR ResNet: 32 / 4
    other = explain.grad_cam(model, images[0], class_index=5, upsample=False)
    assert np.abs(small - other).max() > 1e-3  # another class, another map


def test_explain_errors_name_the_problem():
    model = linear_gap_model()
    with pytest.raises(ValueError, match=r"layer_names: \['nope'\]"):
        explain.feature_model(model, ["nope"])
    with pytest.raises(ValueError, match="images must be"):
        explain.grad_cam(model, np.zeros((6, 5)), layer="features")
