"""More seeds for notebook 06's degradation experiment, outside the notebook.

    KERAS_CNNS_DATA_DIR=/path/to/datasets python scripts/degradation_seeds.py --seeds 1 2 [--nets plain20 plain56]

Notebook 06 trains plain-20/56 and ResNet-20/56 once (seed 0) on 6,000 CIFAR-10 training images
(stratified, subset seed 0; 10% of them validate) for 4 epochs of batch 64 with ``training.train``'s
recipe, and tests on 2,000 test images. One seed cannot say whether plain-56's deficit is beyond the
seed-to-seed spread. This repeats the same runs with other seeds: a seed sets the initial weights,
the training/validation split and the batch order (the subset and the test images stay those of the
notebook). One CSV row per run, appended to ``--out`` as each run ends (so a stopped job keeps what it
finished), and one log line per epoch.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

FIELDS = ["seed", "network", "epochs", "steps_per_epoch", "final_train_loss", "final_train_error",
          "final_val_accuracy", "test_accuracy", "test_ci_low", "test_ci_high", "n_test", "wall_seconds",
          "host"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--nets", nargs="+", default=["plain20", "plain56", "resnet20", "resnet56"])
    parser.add_argument("--out", default="results/degradation_seeds/runs.csv")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from keras_cnns import bench, data, models, training

    # the notebook's full setting (06_resnet.ipynb, parameters cell)
    epochs, batch_size, train_limit, test_limit = 4, 64, 6000, 2000
    cifar = data.load("cifar10").subset(train_limit, test_limit, seed=0)
    print(cifar.describe(), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for seed in args.seeds:
            for name in args.nets:
                keras.utils.set_random_seed(seed)
                model = models.build(name, input_shape=(32, 32, 3), classes=10)
                t0 = time.perf_counter()
                r = training.train(model, cifar, epochs, batch_size=batch_size, seed=seed, verbose=2)
                m = r.metrics.iloc[-1]
                row = {"seed": seed, "network": name, "epochs": r.epochs,
                       "steps_per_epoch": r.config["steps_per_epoch"],
                       "final_train_loss": round(float(m["loss"]), 4),
                       "final_train_error": round(1 - float(m["accuracy"]), 4),
                       "final_val_accuracy": round(float(m["val_accuracy"]), 4),
                       "test_accuracy": round(r.test_accuracy, 4), "test_ci_low": round(r.test_ci95[0], 4),
                       "test_ci_high": round(r.test_ci95[1], 4), "n_test": r.n_test,
                       "wall_seconds": round(time.perf_counter() - t0, 1), "host": bench.cpu_name()}
                writer.writerow(row)
                f.flush()
                print(f"seed {seed} {name}: {r}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
