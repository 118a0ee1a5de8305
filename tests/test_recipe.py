"""training.recipe: the Keras code it prints rebuilds the optimiser, schedule and loss that ran."""

import keras
import pytest

from conftest import small_bn_cnn

from keras_cnns import training


@pytest.fixture(scope="module")
def results():
    """Two short real runs on the shipped MNIST sample: SGD defaults, and AdamW + warm-up + smoothing.
    (A small conv-BN network: the recipe is the optimiser, loss and data settings, whatever the model.)"""
    common = dict(fast=True, steps_per_epoch=2, verbose=0, validation_split=0.1)
    training.set_seed(0)
    sgd = training.train(small_bn_cnn(filters=(8, 16)), "mnist", epochs=1, **common)
    adamw = training.train(small_bn_cnn(filters=(8, 16)), "mnist", epochs=2, optimizer="adamw", warmup_epochs=1,
                           label_smoothing=0.1, **common)
    return sgd, adamw


def _rebuild(code: str, model):
    """Execute the recipe's schedule/optimiser/exclusion lines; return the optimiser they make."""
    lines = code.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("schedule = "))
    end = next(i for i, line in enumerate(lines) if line.startswith("model.compile("))
    namespace = {"keras": keras, "model": model}
    exec("\n".join(lines[start:end]), namespace)
    return namespace["optimizer"]


@pytest.mark.parametrize("which", [0, 1])
def test_recipe_rebuilds_the_optimizer_and_loss_that_ran(results, which):
    result = results[which]
    code = training.recipe(result)
    ran = result.model.optimizer
    rebuilt = _rebuild(code, result.model)
    assert type(rebuilt) is type(ran)
    expected, got = ran.get_config(), rebuilt.get_config()
    expected.pop("name"), got.pop("name")
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert got[key] == value, key
    assert len(rebuilt._exclude_from_weight_decay) == len(ran._exclude_from_weight_decay) > 0
    excluded = [v for v in result.model.trainable_variables if v.name in ("bias", "gamma", "beta")]
    assert f"{len(excluded)} variables: no decay" in code
    loss_line = next(line for line in code.splitlines() if line.startswith("model.compile("))
    loss_text = loss_line.split("loss=", 1)[1].rsplit(", metrics=", 1)[0]
    loss = eval(loss_text, {"keras": keras})
    assert loss.get_config() == {**result.model.loss.get_config(), "name": loss.get_config()["name"]}


def test_recipe_states_the_settings_of_the_run(results):
    sgd, adamw = (training.recipe(r) for r in results)
    assert "keras.optimizers.SGD(" in sgd and "nesterov=True" in sgd and "weight_decay=0.0005" in sgd
    assert "steps_per_epoch=2" in sgd and "epochs=1" in sgd and "fast=True" in sgd
    assert "keras.losses.SparseCategoricalCrossentropy()" in sgd
    assert "keras.optimizers.AdamW(" in adamw and "warmup_target=0.001" in adamw
    assert "CategoricalCrossentropy(label_smoothing=0.1)" in adamw and "one-hot" in adamw
    norm = results[0].model.layers[1].get_config()
    assert f"mean=[{round(float(norm['mean'][0]), 1)}]" in sgd


def test_recipe_refuses_an_uncompiled_model(results):
    import dataclasses

    fresh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="compiled model"):
        training.recipe(dataclasses.replace(results[0], model=fresh))
