"""The recipe ``train()`` used, written out as the Keras code a learner would type.

``recipe(result)`` reads the *compiled* model that ``train()`` returned (its optimiser, schedule,
loss, metrics and ``Normalization`` layer) and the resolved settings in ``result.config``, so the code
it prints cannot disagree with the run: it is what ran, not a description of the defaults.
"""

from __future__ import annotations

import keras

from .config import FAST_MAX_VAL_STEPS

LOSS_CLASSES = {"sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                "categorical_crossentropy": "CategoricalCrossentropy"}


def _value(value) -> str:
    if isinstance(value, float):
        text = repr(value)
        return text if len(text) <= 8 else f"{value:g}"   # 0.1, 0.0005; a float32 0.10000000149 -> 0.1
    return repr(value)


def _arguments(config: dict, defaults: dict, skip=("name",)) -> list[str]:
    """``key=value`` for every entry of ``config`` that differs from the class defaults."""
    return [f"{key}={_value(value)}" for key, value in config.items()
            if key not in skip and defaults.get(key, object()) != value]


def schedule_code(optimizer) -> str:
    """``keras.optimizers.schedules.X(...)`` for the optimiser's learning rate (or the float)."""
    rate = optimizer.get_config()["learning_rate"]
    if not isinstance(rate, dict):
        return _value(float(rate))
    cls = getattr(keras.optimizers.schedules, rate["class_name"])
    config = dict(rate["config"])
    defaults = {"alpha": 0.0, "warmup_target": None, "warmup_steps": 0, "name": config.get("name")}
    args = _arguments(config, defaults)
    return f"keras.optimizers.schedules.{cls.__name__}({', '.join(args)})"


def optimizer_code(optimizer) -> list[str]:
    """Lines that rebuild ``optimizer``: its schedule, its class with the non-default arguments, and the
    variables it leaves out of weight decay."""
    cls = type(optimizer)
    defaults = cls().get_config()
    config = optimizer.get_config()
    args = ["learning_rate=schedule"] + _arguments(config, defaults, skip=("name", "learning_rate"))
    lines = [f"schedule = {schedule_code(optimizer)}",
             f"optimizer = keras.optimizers.{cls.__name__}({', '.join(args)})"]
    excluded = len(getattr(optimizer, "_exclude_from_weight_decay", None) or ())
    if excluded:
        lines.append("optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables\n"
                     "                                              if v.name in (\"bias\", \"gamma\", \"beta\")])"
                     f"  # {excluded} variables: no decay")
    return lines


def loss_code(loss) -> str:
    """``keras.losses.X(...)`` for a compiled loss (only the non-default arguments)."""
    config = loss.get_config() if hasattr(loss, "get_config") else {"name": str(loss)}
    name = LOSS_CLASSES.get(config.get("name"), None)
    if name is None:
        return repr(loss)
    defaults = getattr(keras.losses, name)().get_config()
    return f"keras.losses.{name}({', '.join(_arguments(config, defaults, skip=('name', 'reduction')))})"


def recipe(result) -> str:
    """The Keras code of the run behind ``result`` (a :class:`~keras_cnns.training.TrainResult`).

    Shows the pipelines call, the ``Normalization`` layer with the training split's statistics, the
    optimiser with its schedule and weight-decay exclusions, ``compile``, ``fit`` and ``evaluate``.
    """
    model, cfg = result.model, result.config
    if getattr(model, "optimizer", None) is None:
        raise ValueError("recipe() needs the compiled model of a training.train() result (result.model)")
    lines = ["# what training.train ran, read back from the compiled model"]
    pipes = [f"batch_size={cfg.get('batch_size')}", f"validation_split={cfg.get('validation_split')}",
             f"augment={cfg.get('augment')}"]
    if cfg.get("image_size") is not None:
        pipes.append(f"image_size={cfg['image_size']!r}")
    pipes.append(f"seed={cfg.get('seed')}")
    if cfg.get("fast"):
        pipes.append("fast=True")
    lines.append(f"pipes = data.make_pipelines(ds, {', '.join(pipes)})   # raw pixels, 0-255")
    if cfg.get("label_smoothing"):
        lines.append("# (labels one-hot encoded in the pipelines: tf.one_hot, for label smoothing)")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if layers and isinstance(layers[0], keras.layers.Normalization):
        norm = layers[0].get_config()
        mean = [round(float(v), 1) for v in norm["mean"]]
        variance = [round(float(v), 1) for v in norm["variance"]]
        lines += [f"inputs = keras.Input(shape={tuple(model.input_shape[1:])})",
                  f"x = keras.layers.Normalization(mean={mean}, variance={variance})(inputs)"
                  "   # the training split's per-channel statistics",
                  f"model = keras.Model(inputs, {model.name}(x))   # {model.name}: the network being trained"]
    lines += optimizer_code(model.optimizer)
    metrics = (getattr(model, "_compile_config", None) and model._compile_config.config.get("metrics")) or ["accuracy"]
    lines.append(f"model.compile(optimizer=optimizer, loss={loss_code(model.loss)}, metrics={metrics!r})")
    fit = ["pipes.train", f"epochs={cfg.get('epochs')}"]
    if cfg.get("validation_split"):
        fit.insert(1, "validation_data=pipes.val" + (f".take({FAST_MAX_VAL_STEPS})" if cfg.get("fast") else ""))
    if cfg.get("fit_steps"):
        fit[0] = "pipes.train.repeat()"
        fit.append(f"steps_per_epoch={cfg['fit_steps']}")
    if cfg.get("callbacks"):
        fit.append(f"callbacks=[{', '.join(name + '(...)' for name in cfg['callbacks'])}]")
    lines.append(f"history = model.fit({', '.join(fit)})")
    lines.append("model.evaluate(pipes.test)   # the final weights, in inference mode")
    return "\n".join(lines)
