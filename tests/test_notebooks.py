"""Every notebook runs top to bottom (each ends with assertions on what it computed)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .kernel import SlicedKernelManager

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_four_numbered_notebooks_with_outputs_stripped():
    assert [p.stem[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
        assert "sys.path" not in path.read_text()


def test_the_notebooks_kernel_client_polls_in_slices():
    from .kernel import SlicedChannel, SlicedClient

    client = SlicedKernelManager().client()
    assert isinstance(client, SlicedClient)
    assert client.shell_channel_class is SlicedChannel and client.iopub_channel_class is SlicedChannel


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    _execute(nb, path)  # raises CellExecutionError, with the failing cell, on any error


def _execute(nb, path: Path):
    # the sliced client (tests/kernel.py): a missed ZeroMQ wake-up costs 0.1 s, not the timeout
    client = NotebookClient(nb, timeout=300, kernel_name="python3", kernel_manager_class=SlicedKernelManager,
                            resources={"metadata": {"path": str(path.parent)}})
    return client.execute()


@pytest.mark.slow
def test_notebook_02_shows_its_figure_and_table_without_a_live_kernel_and_holds_for_other_values():
    path = next(p for p in NOTEBOOKS if p.stem.startswith("02_"))
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "VALUES = (0.3, 0.5, 0.7)" in c.source)
    cell.source = cell.source.replace("VALUES = (0.3, 0.5, 0.7)", "VALUES = (0.05, 0.42, 0.95, 1.0)")
    _execute(nb, path)  # its checks, written for any values, hold for these
    outputs = [(c.source, o) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    # a figure and a table in percent, outside the widget, in the saved notebook
    static = [o for src, o in outputs if "interactive" not in src]
    assert any("image/png" in o.get("data", {}) for o in static)
    tables = [o["data"]["text/html"] for o in static if "text/html" in o.get("data", {})]
    assert any("mean risk aversion" in t and "(%)" in t and "0.95" in t for t in tables)
