"""Backend facts the builders may ask for, without importing TensorFlow into them."""

import functools

import keras


@functools.lru_cache(maxsize=None)
def grouped_conv_gradient_is_slow() -> bool:
    """True when Keras runs on TensorFlow and it sees no GPU: its CPU grouped-conv gradient is slow."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")
