"""Does tf.data's autotuning cost time here? The pipelines as they were (tuned) and as they are, interleaved.

    python scripts/autotune_probe.py [--rounds 2] [--out results/autotune]

ResNet-20 (28x28x1), batch 128, Adam: ``fit`` for 2 epochs on 6,000 Fashion-MNIST training images
(a stratified subset, seed 0), then ``evaluate`` on the 10,000 test images, alternating between
the pipelines as the package built them until 2026-12-07 (``map(num_parallel_calls=AUTOTUNE)``,
``prefetch(AUTOTUNE)``, tf.data's autotuning on: :func:`tuned`, the same steps written out here)
and as it builds them now (fixed parallelism, ``prefetch(2)``, autotuning off), after one traced
warm-up step each. Wall seconds per call go to ``probe.csv``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path


def tuned(x, y, batch_size: int, training: bool, seed: int = 0):
    """The package's pipeline before 2026-12-07 (no augmentation, no resize): tuned by tf.data."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if training:
        data = data.shuffle(min(10000, len(y)), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size).map(lambda i, l: (tf.cast(i, tf.float32), l), num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/autotune"))
    args = parser.parse_args(argv)

    from keras_cnns import data, models, training

    ds = data.load("fashion_mnist", fast=False)
    small = ds.subset(6000, 1000, seed=0)
    train = data.make_pipelines(small, 128, validation_split=0.0, fast=False).train
    test = data.make_pipelines(ds, 128, fast=False).test
    variants = {"tuned (before)": (tuned(small.x_train, small.y_train, 128, True), tuned(ds.x_test, ds.y_test, 128, False)),
                "fixed (package)": (train, test)}
    for name, (tr, te) in variants.items():
        print(f"{name}: options().autotune.enabled = {tr.options().autotune.enabled}, "
              f"{te.options().autotune.enabled}", flush=True)
    rows = []
    for round_ in range(args.rounds):
        for name, (tr, te) in variants.items():
            training.set_seed(0)
            model = models.build("resnet20", input_shape=ds.input_shape, classes=ds.num_classes)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(tr.take(2), epochs=1, verbose=0)        # trace the train step
            model.evaluate(te.take(2), verbose=0)             # and the test step
            for task, call in (("fit 2 epochs, 6,000 images", lambda: model.fit(tr, epochs=2, verbose=0)),
                               ("evaluate 10,000 test images", lambda: model.evaluate(te, verbose=0))):
                start = time.perf_counter()
                call()
                seconds = time.perf_counter() - start
                rows.append({"round": round_, "pipelines": name, "task": task, "seconds": round(seconds, 2)})
                print(rows[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "probe.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
