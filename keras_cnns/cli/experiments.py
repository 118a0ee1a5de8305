"""``compare`` (all families under one budget) and ``bench`` (throughput and memory)."""

from __future__ import annotations


def add_compare_parser(subparsers) -> None:
    """``compare``: all families under one time budget (``keras_cnns.compare``)."""
    parser = subparsers.add_parser(
        "compare", help="train several families under one time budget and tabulate them",
        description="Train each model once on one dataset with the same wall-clock budget; write "
        "comparison.csv, comparison.md and accuracy plots into --out.")
    parser.add_argument("--models", nargs="+", default=None,
                        help="model names (default: one per family, as in notebook 09)")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--budget-seconds", type=float, default=180.0, help="training seconds per model")
    parser.add_argument("--epochs", type=int, default=30, help="epoch cap per model")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=["sgd", "adamw"], default="adamw",
                        help="one recipe for all models (default: adamw, as notebook 09)")
    parser.add_argument("--augment", action="store_true", help="random crop + flip")
    parser.add_argument("--fast", action="store_true", help="shipped sample, 20 steps per epoch")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/comparison", help="output folder")
    parser.set_defaults(func=run_compare)


def run_compare(args, parser=None) -> int:
    from keras_cnns.compare import compare, to_markdown

    table = compare(args.models, dataset=args.dataset, budget_seconds=args.budget_seconds,
                    epochs=args.epochs, batch_size=args.batch_size, out_dir=args.out,
                    augment=args.augment, optimizer=args.optimizer, seed=args.seed,
                    verbose=2 if not args.fast else 0,
                    fast=True if args.fast else None, data_dir=args.data_dir)
    print(to_markdown(table))
    print(f"wrote comparison.csv, comparison.md, accuracy_vs_params.png, accuracy_vs_time.png to {args.out}")
    return 0


def add_bench_parser(subparsers) -> None:
    """``bench``: throughput and peak memory, with comparisons (``keras_cnns.bench``, imported by the run)."""
    parser = subparsers.add_parser(
        "bench", help="training throughput and peak memory per model, with comparisons",
        description="Time train_on_batch windows per model (fresh subprocess each), compare with "
        "keras.applications, a PyTorch ResNet-20, XLA on/off and the input pipeline.")
    parser.add_argument("--models", nargs="+", default=None,
                        help="default: " + " ".join(BENCH_DEFAULT_MODELS))
    parser.add_argument("--batch-size", type=int, default=None, help="CIFAR models (default 128; ImageNet: 8)")
    parser.add_argument("--windows", type=int, default=None, help="timed windows per model (default 5)")
    parser.add_argument("--pipeline-dataset", default="cifar10")
    parser.add_argument("--out", default="results/bench.csv")
    parser.add_argument("--quick", action="store_true", help="tiny run for tests: resnet20 only, 2 windows")
    parser.set_defaults(func=run_bench)


#: ``bench.CIFAR_MODELS + bench.IMAGENET_MODELS``, for ``bench --help`` (tests/test_cli.py checks it).
BENCH_DEFAULT_MODELS = ["resnet20", "resnet56", "densenet_bc_100_12", "resnext29_8x64d", "resnet50",
                        "densenet121", "vgg16"]


def run_bench(args, parser=None) -> int:
    from keras_cnns import bench

    table = bench.run_bench(args.models, args.batch_size, args.windows, args.quick, args.out,
                            args.pipeline_dataset)
    print(bench.machine_line())
    print(bench.format_table(table))
    print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------- predict


