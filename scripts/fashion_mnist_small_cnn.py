"""Small VGG-style BatchNorm CNNs on full Fashion-MNIST: more attempts at ">= 93% within 5 minutes".

    python scripts/fashion_mnist_small_cnn.py --widths 32,M,64,64,M,128,128 --epochs 6

``--widths`` lists the layers: a number is a 3x3 conv + BatchNorm + ReLU of that width
(``blocks.conv_bn_act``), ``M`` a 2x2 max pool; then global average pooling (``--head gap``) or
flatten (``--head flat``, optional ``--drop`` dropout) and a softmax.  The series' recipe
(``training.train``: SGD + Nesterov 0.1, cosine, weight decay 5e-4, batch 128, 54,000 / 6,000 split,
seed 0).  ``--augment``: the package's pad-4 crop + flip; ``--flip``: a ``RandomFlip("horizontal")``
layer only; ``--stem2``: a 4x4/2 conv (32) first, so no layer works at 28x28.  Prints one line per epoch,
the test accuracy averaged with the left-right flip (``TTA``, test-time augmentation, reported apart)
and a ``RESULT`` line with the test accuracy, its 95% interval and the wall times.
Logs of 2026-12-07 in ``results/fashion_mnist_5min/``.
"""
import os, sys, time, argparse
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
t00 = time.perf_counter()
import keras
from keras import layers
from keras_cnns import data, training
from keras_cnns.blocks._common import conv_bn_act
p = argparse.ArgumentParser()
p.add_argument("--widths", default="32,M,64,64,M,128,128")
p.add_argument("--head", default="gap")
p.add_argument("--drop", type=float, default=0.0)
p.add_argument("--epochs", type=int, default=6)
p.add_argument("--ls", type=float, default=0.0)
p.add_argument("--wd", type=float, default=None)
p.add_argument("--lr", type=float, default=None)
p.add_argument("--augment", action="store_true")
p.add_argument("--vs", type=float, default=0.1)
p.add_argument("--mp", default="auto")
p.add_argument("--flip", action="store_true")
p.add_argument("--stem2", action="store_true")
a = p.parse_args()
ds = data.load("fashion_mnist", fast=False)
keras.utils.set_random_seed(0)
inp = keras.Input(ds.input_shape); x = inp
if a.flip: x = layers.RandomFlip("horizontal")(x)
if a.stem2: x = conv_bn_act(x, 32, 4, 2, name="stem")
for i, w in enumerate(a.widths.split(",")):
    x = layers.MaxPooling2D(2)(x) if w == "M" else conv_bn_act(x, int(w), 3, name=f"c{i}")
x = layers.GlobalAveragePooling2D()(x) if a.head == "gap" else layers.Flatten()(x)
if a.drop: x = layers.Dropout(a.drop)(x)
x = layers.Dense(ds.num_classes, activation="softmax")(x)
m = keras.Model(inp, x)
print(vars(a), m.count_params(), flush=True)
t0 = time.perf_counter()
kw = dict(weight_decay=a.wd, learning_rate=a.lr, label_smoothing=a.ls, augment=a.augment, validation_split=a.vs)
r = training.train(m, ds, a.epochs, batch_size=128, seed=0, verbose=2, **kw)
import numpy as np
xt = ds.x_test
pr = r.model.predict(xt, batch_size=500, verbose=0) + r.model.predict(xt[:, :, ::-1], batch_size=500, verbose=0)
print("TTA", (pr.argmax(1) == ds.y_test).mean(), flush=True)
print(f"RESULT {vars(a)} test {r.test_accuracy:.4f} ci {r.test_ci95} train+eval {time.perf_counter()-t0:.0f}s all {time.perf_counter()-t00:.0f}s", flush=True)
