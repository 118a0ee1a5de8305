"""Test accuracy of a shipped model on the full test split, plain and with left-right flip averaging.

    KERAS_CNNS_DATA_DIR=/path/to/datasets python scripts/evaluate_shipped.py resnet20 cifar10

Flip averaging (test-time augmentation) averages the class probabilities of each test image and of
its mirror image; it is reported apart from the plain accuracy, never instead of it. The CIFAR
models were trained with random flips; the Fashion-MNIST ones were not (and its shoes all face
the same way), so there flip averaging is expected to hurt.
"""

from __future__ import annotations

import argparse
import os
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model name, e.g. resnet20")
    parser.add_argument("weights", help="shipped weights name, e.g. cifar10 (see keras_cnns/weights/)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras_cnns import data, pretrained

    model = pretrained.load(args.model, args.weights)
    card = model.model_card
    ds = data.load(card["dataset"], sample=False)
    if ds.class_names != card["class_names"]:
        ds = ds.select_classes(card["class_names"])
    print(f"{args.model} ({args.weights} weights, card: {card['test_accuracy']:.2%}) on {ds.describe()}", flush=True)
    for flip in (False, True):
        t0 = time.perf_counter()
        r = pretrained.evaluate(model, ds.x_test, ds.y_test, flip=flip)
        lo, hi = r["ci95"]
        label = "flip-averaged (test-time augmentation)" if flip else "plain"
        print(f"{label:40s} {r['accuracy']:.2%} (95% CI {lo:.2%}-{hi:.2%}, n={r['n']:,}), "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
