"""Does TensorFlow's fused BatchNorm kernel make ResNet-20 train faster on the CPU? (Measured: no.)

    python scripts/bench_fused_bn_check.py

Keras 3's BatchNormalization on the TensorFlow backend computes the batch moments and the
normalisation as separate ops (``tf.nn.moments`` + ``tf.nn.batch_normalization``); Keras 2 called
the fused kernel (``FusedBatchNormV3``). ``scripts/bench_parts_check.py`` measured BatchNorm at 31%
of TensorFlow's ResNet-20 throughput on an AVX2 host. This swaps every BatchNormalization layer of
the package's ResNet-20 for a subclass that calls the fused kernel (the same moving-average update
as Keras 3: the biased batch variance), checks that three training steps give the same losses, then
times both models alternating window by window (the benchmark's step: a fixed batch of 128, SGD).
"""
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_cnns import bench, models  # noqa: E402


class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization computed by TensorFlow's fused kernel (NHWC float32; else as Keras)."""

    def call(self, inputs, training=None, mask=None):
        if (keras.backend.backend() != "tensorflow" or mask is not None or self.renorm or self.synchronized
                or len(inputs.shape) != 4 or self.axis not in (-1, 3) or inputs.dtype != tf.float32):
            return super().call(inputs, training=training, mask=mask)
        scale = self.gamma if self.scale else tf.ones_like(self.moving_mean)
        offset = self.beta if self.center else tf.zeros_like(self.moving_mean)
        if training and self.trainable:
            y, mean, var = tf.compat.v1.nn.fused_batch_norm(inputs, scale, offset, epsilon=self.epsilon,
                                                            data_format="NHWC", is_training=True)
            n = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
            var = var * (n - 1.0) / n      # the kernel returns the Bessel-corrected variance; Keras keeps the biased one
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + var * (1.0 - self.momentum))
            return y
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(inputs, scale, offset, mean=self.moving_mean,
                                                   variance=self.moving_variance, epsilon=self.epsilon,
                                                   data_format="NHWC", is_training=False)
        return y


def build(fused):
    model = models.build("resnet20", input_shape=(32, 32, 3), classes=10)
    if not fused:
        return model
    return bench.swap_batchnorm(model, lambda layer: FusedBatchNormalization.from_config(layer.get_config()))


def main() -> int:
    keras.utils.set_random_seed(0)
    plain, fused = build(False), build(True)
    fused.set_weights(plain.get_weights())
    x = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, 32)
    for m in (plain, fused):
        m.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    losses = [[float(m.train_on_batch(x, y)) for _ in range(3)] for m in (plain, fused)]
    print("losses, 3 steps: Keras BatchNormalization", losses[0], " fused kernel", losses[1])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    steps = []
    for m in (build(False), build(True)):
        m.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
        xb = np.random.default_rng(0).standard_normal((128, 32, 32, 3)).astype("float32")
        yb = np.random.default_rng(1).integers(0, 10, 128)
        steps.append(lambda m=m, xb=xb, yb=yb: m.train_on_batch(xb, yb))
    rates, _ = bench._time_windows(steps, warmup=3, windows=4, steps_per_window=8, batch=128)
    print(bench.machine_line())
    for label, r in zip(("Keras BatchNormalization", "fused kernel"), (rates[0], rates[1])):
        print(f"{label:26s} img/s per window {[round(v) for v in r]}, median {statistics.median(r):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
