"""Does a notebook run stall? Runs notebook 02 again and again, with the stock kernel client and
with the tests' sliced one (tests/kernel.py), and prints, per run, the wall time, the slowest
cell as the client saw it and as the kernel timed it (execute_input to execute_reply).

    .venv/bin/python benchmarks/notebook_stall.py --runs 20 [--hogs 2]

``--hogs N`` starts N busy processes beside it (the load under which the stall was seen). A
stall shows as a cell the client waited on for about the cell timeout (here 60 s) while the
kernel took a second or two.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.kernel import SlicedKernelManager  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "02_tweak_parameters.ipynb"
TIMEOUT = 60


def busy() -> None:
    while True:
        pass


def one_run(sliced: bool) -> tuple[float, int, float, float]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    manager = SlicedKernelManager if sliced else AsyncKernelManager
    started: dict[int, float] = {}
    waited: dict[int, float] = {}

    def execute(cell, cell_index):
        started[cell_index] = time.perf_counter()

    def executed(cell, cell_index, execute_reply):
        waited[cell_index] = time.perf_counter() - started[cell_index]

    client = NotebookClient(nb, kernel_name="python3", kernel_manager_class=manager, timeout=TIMEOUT,
                            record_timing=True,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
                            on_cell_execute=execute, on_cell_executed=executed)
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start

    def kernel_seconds(cell) -> float:
        ex = cell.metadata.get("execution", {})
        at = {k: datetime.fromisoformat(v.replace("Z", "+00:00")) for k, v in ex.items()}
        return (at["shell.execute_reply"] - at["iopub.execute_input"]).total_seconds()

    slowest = max(waited, key=waited.get)
    return wall, slowest, waited[slowest], kernel_seconds(nb.cells[slowest])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--hogs", type=int, default=2)
    args = parser.parse_args()
    hogs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.hogs)]
    for h in hogs:
        h.start()
    try:
        for sliced in (False, True):
            name = "sliced client" if sliced else "stock client"
            stalls = 0
            for k in range(args.runs):
                wall, cell, client_s, kernel_s = one_run(sliced)
                stalled = client_s > TIMEOUT / 2
                stalls += stalled
                print(f"{name} run {k + 1:2d}: {wall:5.1f} s; slowest cell ({cell}) waited {client_s:5.1f} s, "
                      f"kernel took {kernel_s:4.2f} s{'  STALL' if stalled else ''}", flush=True)
            print(f"{name}: {stalls} stalls in {args.runs} runs", flush=True)
    finally:
        for h in hogs:
            h.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
