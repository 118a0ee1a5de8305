"""ResNet (He et al., 2015), its CIFAR family and plain twins, and ResNeXt (Xie et al., 2017).

One generic builder, :func:`resnet`, stacks stages of :func:`residual_block`
(basic) or :func:`bottleneck_block`; ResNeXt is the bottleneck with ``groups``
and ``width_per_group`` (as in torchvision), not a copy. Layers are named
``conv{stage}_block{b}_{op}`` as in ``keras.applications``.

* ImageNet stem: 7x7/2 conv (64) + BN + ReLU + 3x3/2 max pool; stages of
  64-128-256-512 planes with strides 1-2-2-2; total stride 32.
  Small inputs (under 64 px, automatically): the usual CIFAR adaptation, a
  3x3/1 conv stem and no max pool (total stride 8).
* CIFAR stem (He et al. Sec. 4.2): 3x3 conv (16) and three stages of n blocks
  with 16-32-64 filters: depth = 6n + 2. Shortcuts default to the paper's
  option A (zero padding, parameter-free); ``shortcut="projection"`` is option B.
* ResNeXt-29 (Xie et al. Sec. 5.3): 3x3 conv (64) and three stages of three
  bottlenecks with 256-512-1024 output channels, cardinality C, width d.
"""

import keras
from keras import layers

from ..blocks._common import check_choice, check_positive_int, conv_bn_act
from ..blocks.residual import bottleneck_block, residual_block
from ._common import check_head, check_input, head, make_input, register

IMAGENET_DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
                   50: ("bottleneck", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3)),
                   152: ("bottleneck", (3, 8, 36, 3))}


def stack(x, block, planes, num_blocks, strides, stage, groups=1, width_per_group=64,
          shortcut="auto"):
    """One stage: ``num_blocks`` blocks, the first with ``strides``; names ``conv{stage}_block{b}``."""
    for b in range(1, num_blocks + 1):
        s = strides if b == 1 else 1
        name = f"conv{stage}_block{b}"
        if block == "basic":
            x = residual_block(x, planes, 3, s, shortcut=shortcut, name=name)
        else:
            x = bottleneck_block(x, planes, s, groups, width_per_group, shortcut=shortcut,
                                 name=name)
    return x


def resnet(block, layers_per_stage, planes=(64, 128, 256, 512), stem="imagenet",
           input_shape=None, classes=1000, include_top=True, pooling=None,
           classifier_activation="softmax", groups=1, width_per_group=64, shortcut="auto",
           small_input=None, resize_to=None, name="resnet"):
    """Generic ResNet/ResNeXt builder.

    Args:
        block: "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1, x4 expansion).
        layers_per_stage: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        planes: filters per stage (output = planes * 4 for bottlenecks).
        stem: "imagenet" (7x7/2 + max pool), "cifar" (3x3 conv to ``planes[0]``), or
            "cifar64" (3x3 conv to 64, ResNeXt-29).
        groups, width_per_group: ResNeXt cardinality and width per group.
        shortcut: see :func:`keras_cnns.blocks.residual_block`; "none" makes a plain net.
    """
    check_choice(block, "block", ("basic", "bottleneck"))
    check_choice(stem, "stem", ("imagenet", "cifar", "cifar64"))
    check_head(classes, include_top, pooling, classifier_activation)
    for n in layers_per_stage:
        check_positive_int(n, "layers_per_stage")
    if len(planes) != len(layers_per_stage):
        raise ValueError(f"`planes` ({len(planes)} stages) and `layers_per_stage` "
                         f"({len(layers_per_stage)} stages) must have the same length.")
    if stem == "imagenet":
        input_shape, small = check_input(input_shape, (224, 224, 3), 32, name, small_input,
                                         small_min=8, resize_to=resize_to)
    else:
        total = 2 ** (len(planes) - 1)
        input_shape, small = check_input(input_shape, (32, 32, 3), total, name,
                                         small_input, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    if stem == "imagenet" and not small:
        x = conv_bn_act(x, 64, 7, 2, name="conv1")
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    else:
        x = conv_bn_act(x, 16 if stem == "cifar" and block == "basic" else 64, 3, name="conv1")
    for i, (n, p) in enumerate(zip(layers_per_stage, planes)):
        x = stack(x, block, p, n, 1 if i == 0 else 2, stage=i + 2, groups=groups,
                  width_per_group=width_per_group, shortcut=shortcut)
    x = head(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name)


def _imagenet(depth, groups=1, width_per_group=64, name=None):
    block, layers_per_stage = IMAGENET_DEPTHS[depth]
    name = name or f"resnet{depth}"

    def build(input_shape=None, classes=1000, **kwargs):
        return resnet(block, layers_per_stage, input_shape=input_shape, classes=classes,
                      groups=groups, width_per_group=width_per_group, name=name, **kwargs)

    build.__name__ = name
    build.__doc__ = (f"{name}: {block} blocks {layers_per_stage}"
                     + (f", cardinality {groups}, width {width_per_group}" if groups > 1 else "")
                     + " (ImageNet stem). See :func:`resnet` for arguments.")
    return register(name)(build)


resnet18, resnet34, resnet50, resnet101, resnet152 = (
    _imagenet(d) for d in (18, 34, 50, 101, 152))
resnext50_32x4d = _imagenet(50, 32, 4, "resnext50_32x4d")
resnext101_32x8d = _imagenet(101, 32, 8, "resnext101_32x8d")


def cifar_resnet(depth, input_shape=None, classes=10, shortcut="zero_pad", plain=False,
                 **kwargs):
    """He et al.'s CIFAR ResNet of ``depth = 6n + 2`` layers (20, 32, 44, 56, 110, 1202...).

    ``shortcut``: "zero_pad" (option A, default, the paper's Table 6) or
    "projection" (option B: a 1x1 projection where the shape changes, identity
    elsewhere). ``plain=True`` removes every shortcut.
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"`depth` must be 6n + 2 for a CIFAR ResNet (valid: 8, 14, 20, 32, 44, "
                         f"56, 110, ...), got {depth!r}.")
    check_choice(shortcut, "shortcut", ("zero_pad", "projection"))
    n = (depth - 2) // 6
    name = f"{'plain' if plain else 'resnet'}{depth}"
    return resnet("basic", (n, n, n), (16, 32, 64), stem="cifar", input_shape=input_shape,
                  classes=classes, name=name, **kwargs,
                  shortcut="none" if plain else {"zero_pad": "zero_pad", "projection": "auto"}[shortcut])


def _cifar(depth, plain=False):
    name = f"{'plain' if plain else 'resnet'}{depth}"

    def build(input_shape=None, classes=10, **kwargs):
        return cifar_resnet(depth, input_shape, classes, plain=plain, **kwargs)

    build.__name__ = name
    build.__doc__ = (f"{'Plain' if plain else 'Residual'} CIFAR network of {depth} layers "
                     "(He et al. 2015, Sec. 4.2). See :func:`cifar_resnet`.")
    return register(name, (32, 32, 3))(build)


resnet20, resnet32, resnet44, resnet56, resnet110 = (_cifar(d) for d in (20, 32, 44, 56, 110))
plain20, plain56 = _cifar(20, plain=True), _cifar(56, plain=True)


def cifar_resnext(depth=29, cardinality=8, width=64, input_shape=None, classes=10, **kwargs):
    """ResNeXt-{depth} ({cardinality}x{width}d) for CIFAR: depth = 9n + 2 (29 -> 3 blocks per stage)."""
    if not isinstance(depth, int) or depth < 11 or (depth - 2) % 9:
        raise ValueError(f"`depth` must be 9n + 2 for a CIFAR ResNeXt (valid: 11, 20, 29, ...), "
                         f"got {depth!r}.")
    check_positive_int(cardinality, "cardinality")
    check_positive_int(width, "width")
    n = (depth - 2) // 9
    return resnet("bottleneck", (n, n, n), (64, 128, 256), stem="cifar64",
                  input_shape=input_shape, classes=classes, groups=cardinality,
                  width_per_group=width, name=f"resnext{depth}_{cardinality}x{width}d", **kwargs)


@register("resnext29_8x64d", (32, 32, 3))
def resnext29_8x64d(input_shape=None, classes=10, **kwargs):
    """ResNeXt-29 (8x64d), Xie et al. 2017 Table 7. See :func:`cifar_resnext`."""
    return cifar_resnext(29, 8, 64, input_shape, classes, **kwargs)


@register("resnext29_16x64d", (32, 32, 3))
def resnext29_16x64d(input_shape=None, classes=10, **kwargs):
    """ResNeXt-29 (16x64d), Xie et al. 2017 Table 7. See :func:`cifar_resnext`."""
    return cifar_resnext(29, 16, 64, input_shape, classes, **kwargs)
