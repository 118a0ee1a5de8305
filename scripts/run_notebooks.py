"""Execute notebooks headless (their full setting unless KERAS_CNNS_FAST=1) and measure each one.

    python scripts/run_notebooks.py notebooks/06_resnet.ipynb ... [--csv results/notebooks.csv]
    python scripts/run_notebooks.py --watch --csv results/notebooks.csv   # measure runs started elsewhere

Each notebook is executed in place by ``jupyter nbconvert --execute --inplace`` (outputs
saved). While it runs, the resident memory (RSS) of its kernel process is sampled every
0.5 s; the CSV gets one row per notebook: wall seconds, peak kernel RSS (MB), setting.
``--watch`` samples every ipykernel started by an ``nbconvert`` process on this machine
(whoever started it) until interrupted, and records the same columns.
``--cell-memory FILE`` also appends, per code cell, its seconds, the peak RSS while it ran and
the RSS when it ended (the cells' execution timestamps, which nbconvert stores in the notebook,
matched against the samples): where a notebook's memory goes, cell by cell.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil

FIELDS = ["notebook", "setting", "wall_seconds", "peak_kernel_rss_mb", "exit_code", "finished"]


def _kernels(parent: psutil.Process) -> list[psutil.Process]:
    """The notebook kernels under ``parent`` and every process they started (e.g. ``compare``'s
    one-process-per-model workers): their resident memory is summed."""
    try:
        kernels = [p for p in parent.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    except psutil.Error:
        return []
    procs = list(kernels)
    for kernel in kernels:
        try:
            procs += [p for p in kernel.children(recursive=True) if p not in procs]
        except psutil.Error:
            pass
    return procs


def _rss_mb(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            total += p.memory_info().rss / 2**20
        except psutil.Error:
            pass
    return total


def _append(csv_path: Path | None, row: dict) -> None:
    print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if csv_path is None:
        return
    new = not csv_path.exists()
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def setting() -> str:
    return "fast" if os.environ.get("KERAS_CNNS_FAST", "0") not in ("", "0") else "full"


def _cell_memory(notebook: Path, samples: list[tuple[float, float]], csv_path: Path) -> None:
    """Append one row per executed code cell: seconds, peak RSS while it ran, RSS at its end."""
    cells = json.loads(notebook.read_text())["cells"]
    rows = []
    for index, cell in enumerate(cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if cell["cell_type"] != "code" or "iopub.execute_input" not in stamps:
            continue
        start, end = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00")).timestamp()
                      for k in ("iopub.execute_input", "shell.execute_reply"))
        during = [rss for t, rss in samples if start - 0.5 <= t <= end + 0.5]
        after = [rss for t, rss in samples if t <= end]   # the last sample before the cell ended
        source = "".join(cell["source"]).strip().splitlines()
        rows.append({"notebook": notebook.name, "cell": index, "seconds": round(end - start, 1),
                     "peak_rss_mb": round(max(during, default=float("nan"))),
                     "rss_at_end_mb": round(after[-1]) if after else "",
                     "first_line": (source[0][:60] if source else "")})
    new = not csv_path.exists()
    with csv_path.open("a", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]) if rows else ["notebook"])
        if new:
            writer.writeheader()
        writer.writerows(rows)


def run(notebook: Path, csv_path: Path | None, timeout: int, cell_memory: Path | None = None) -> int:
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
           f"--ExecutePreprocessor.timeout={timeout}", notebook.name]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=notebook.parent)
    parent, peak, samples = psutil.Process(proc.pid), 0.0, []
    while proc.poll() is None:
        rss = _rss_mb(_kernels(parent))
        peak = max(peak, rss)
        samples.append((time.time(), rss))
        time.sleep(0.5)
    if cell_memory is not None and proc.returncode == 0:
        _cell_memory(notebook, samples, cell_memory)
    _append(csv_path, {"notebook": notebook.name, "setting": setting(),
                       "wall_seconds": round(time.perf_counter() - start, 1),
                       "peak_kernel_rss_mb": round(peak), "exit_code": proc.returncode,
                       "finished": time.strftime("%Y-%m-%d %H:%M")})
    return proc.returncode


def watch(csv_path: Path | None) -> None:
    running: dict[int, dict] = {}   # nbconvert pid -> notebook, start, peak
    try:
        while True:
            seen = set()
            for p in psutil.process_iter(["pid", "cmdline"]):
                cmd = p.info["cmdline"] or []
                if cmd and "python" in Path(cmd[0]).name and "nbconvert" in " ".join(cmd) and "--execute" in cmd:
                    names = [Path(c).name for c in cmd if c.endswith(".ipynb")]
                    if not names:
                        continue
                    seen.add(p.pid)
                    state = running.setdefault(p.pid, {"notebook": names[0], "start": time.perf_counter(),
                                                       "peak": 0.0, "env": _env_setting(p)})
                    state["peak"] = max(state["peak"], _rss_mb(_kernels(p)))
            for pid in [pid for pid in running if pid not in seen]:
                state = running.pop(pid)
                _append(csv_path, {"notebook": state["notebook"], "setting": state["env"],
                                   "wall_seconds": round(time.perf_counter() - state["start"], 1),
                                   "peak_kernel_rss_mb": round(state["peak"]), "exit_code": "",
                                   "finished": time.strftime("%Y-%m-%d %H:%M")})
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


def _env_setting(p: psutil.Process) -> str:
    try:
        fast = p.environ().get("KERAS_CNNS_FAST", "0")
    except psutil.Error:
        return "?"
    return "fast" if fast not in ("", "0") else "full"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--csv", type=Path, default=None, help="append one row per notebook")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    parser.add_argument("--watch", action="store_true", help="measure nbconvert runs started elsewhere")
    parser.add_argument("--cell-memory", type=Path, default=None,
                        help="append per-cell seconds and memory (peak while running, at the end)")
    args = parser.parse_args(argv)
    if args.watch:
        watch(args.csv)
        return 0
    if not args.notebooks:
        parser.error("give notebooks to run, or --watch")
    codes = [run(nb.resolve(), args.csv, args.timeout, args.cell_memory) for nb in args.notebooks]
    return max(codes, default=0)


if __name__ == "__main__":
    sys.exit(main())
