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
    # the sliced client (tests/kernel.py): a missed ZeroMQ wake-up costs 0.1 s, not the timeout
    client = NotebookClient(nb, timeout=300, kernel_name="python3", kernel_manager_class=SlicedKernelManager,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
