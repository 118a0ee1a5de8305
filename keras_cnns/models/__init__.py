"""Model builders returning ``keras.Model``, with ``keras.applications``-style arguments.

>>> from keras_cnns import models
>>> model = models.build("resnet20", input_shape=(32, 32, 3), classes=10)
>>> "resnext50_32x4d" in models.list_models()
True
"""

# Imported in the series' order, which is the registry's order.
from . import alexnet as _alexnet, vgg as _vgg, nin as _nin  # noqa: F401
from . import googlenet as _googlenet, resnet as _resnet, densenet as _densenet  # noqa: F401
from ._common import _REGISTRY
from .alexnet import alexnet
from .densenet import (densenet, densenet121, densenet169, densenet201, densenet_bc, densenet_bc_40,
                       densenet_bc_100_12)
from .googlenet import googlenet
from .nin import nin
from .resnet import (cifar_resnet, cifar_resnext, plain20, plain56, resnet, resnet18, resnet20,
                     resnet32, resnet34, resnet44, resnet50, resnet56, resnet101, resnet110,
                     resnet152, resnext11_4x16d, resnext29_8x64d, resnext29_16x64d,
                     resnext50_32x4d, resnext101_32x8d)
from .vgg import vgg, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn


def list_models():
    """Names accepted by :func:`build`, in the series' order."""
    return list(_REGISTRY)


def default_input_shape(name):
    """The input shape a model is defined for: (224, 224, 3) for ImageNet models, (32, 32, 3) for CIFAR ones."""
    return _get(name).default_input_shape


def _get(name):
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model name {name!r} for `name`; valid names: "
                         f"{', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


def build(name, input_shape=None, classes=None, *, weights=None, **kwargs):
    """Build the model registered as ``name``.

    Args:
        name: one of :func:`list_models`.
        input_shape: (height, width, channels); default :func:`default_input_shape`.
        classes: defaults to 1000 for ImageNet models and 10 for CIFAR ones.
        weights: None (random init), a shipped weights name such as "cifar10" /
            "fashion_mnist", or a path to a ``.keras`` file (see ``keras_cnns.pretrained``).
        **kwargs: the builder's other arguments (``include_top``, ``pooling``,
            ``classifier_activation``, ``small_input``, ``resize_to``, ...): see
            ``help(models.<name>)``.
    """
    fn = _get(name)
    if weights is not None:
        from keras_cnns import pretrained

        return pretrained.load(name, weights, input_shape=input_shape, classes=classes, **kwargs)
    if classes is not None:
        kwargs["classes"] = classes
    return fn(input_shape=input_shape, **kwargs)
