#!/usr/bin/env python
"""Regenerate the small datasets shipped in ``keras_cnns/samples/`` from local copies of the full sets.

    KERAS_CNNS_DATA_DIR=/path/to/datasets python scripts/make_samples.py
    python scripts/make_samples.py --data-dir /path/to/datasets --only cifar10

The full sets are found by ``keras_cnns.data.load(name, data_dir, sample=False)`` (so
``$KERAS_CNNS_DATA_DIR``, Debian's ``/usr/share/datasets`` and the Keras cache all work). Each sample is
a stratified draw with a fixed seed; the output is byte-for-byte reproducible (fixed zip timestamps).
Keys: x_train, y_train, x_test, y_test (uint8 NHWC / int64), class_names (unicode), source, notes.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from keras_cnns import data  # noqa: E402

#: (train, test) images per sample. MNIST is drawn from the local MNIST *test* set (see notes).
SIZES = {"mnist": (2000, 500), "fashion_mnist": (2000, 500), "cifar10": (1200, 300)}  # <= ~6 MB in all
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def save_npz(path: Path, arrays: dict) -> None:
    """``np.savez_compressed`` equivalent with fixed timestamps, so reruns give identical bytes."""
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    os.replace(tmp, path)


def make_sample(name: str, data_dir: str | None, n_train: int, n_test: int, seed: int) -> dict:
    """Stratified draw of ``n_train`` / ``n_test`` images from the full local copy of ``name``."""
    ds = data.load(name, data_dir, sample=False)
    if ds.is_sample:
        raise SystemExit(f"{name}: only the shipped sample was found; need the full dataset")
    train_idx, _ = data.stratified_split(ds.y_train, min(n_train, len(ds.y_train)), seed=seed)
    test_idx, _ = data.stratified_split(ds.y_test, min(n_test, len(ds.y_test)), seed=seed)
    notes = (f"{len(train_idx):,} train / {len(test_idx):,} test images drawn (stratified, seed {seed}) "
             f"from {len(ds.y_train):,} / {len(ds.y_test):,} [{ds.source}]")
    if ds.notes:
        notes += f"; {ds.notes}"
    return {
        "x_train": ds.x_train[train_idx], "y_train": ds.y_train[train_idx].astype(np.int64),
        "x_test": ds.x_test[test_idx], "y_test": ds.y_test[test_idx].astype(np.int64),
        "class_names": np.array(ds.class_names, dtype=str),
        "source": np.array(ds.source), "notes": np.array(notes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder(s) holding the full datasets (default: $KERAS_CNNS_DATA_DIR)")
    parser.add_argument("--out", type=Path, default=REPO / "keras_cnns" / "samples", help="output folder")
    parser.add_argument("--only", nargs="+", choices=sorted(SIZES), default=sorted(SIZES),
                        help="which samples to make (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified draw (default: 0)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        arrays = make_sample(name, args.data_dir, *SIZES[name], seed=args.seed)
        path = args.out / f"{name}.npz"
        save_npz(path, arrays)
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB — {arrays['notes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
