"""A kernel client for running the notebooks in tests, immune to a missed wake-up.

jupyter_client's asyncio channels wait for a message with ``await socket.poll(timeout)``, and
pyzmq's asyncio poll learns of a message from ZeroMQ's edge-triggered file descriptor. Now and
then the edge is missed (pyzmq issues 1558 and 1865; nbclient issue 312): the reply has arrived
and the kernel is idle, but the poll sleeps until its timeout (a cell's whole 300 s) and only
then sees the message. On this 2-core machine, with two busy processes beside it, that happened
in 19 of 45 runs of notebook 02, on the widget and dashboard cells (`benchmarks/notebook_stall.py`).
Polling in short slices bounds the cost of a missed edge to one slice: each slice ends with a
real ZeroMQ poll. With it, none of 45 runs stalled.
"""

from __future__ import annotations

from queue import Empty
from time import monotonic

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

SLICE = 0.1
"""Seconds a channel waits before asking ZeroMQ again."""


class SlicedChannel(AsyncZMQSocketChannel):
    """A channel whose wait for a message is a series of polls of at most :data:`SLICE`."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            step = SLICE if deadline is None else min(SLICE, max(deadline - monotonic(), 0.0))
            try:
                return await super().get_msg(timeout=step)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise


class SlicedClient(AsyncKernelClient):
    """An asyncio kernel client whose shell and IOPub channels are :class:`SlicedChannel`."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)


class SlicedKernelManager(AsyncKernelManager):
    """A kernel manager whose clients are :class:`SlicedClient`; give it to
    ``nbclient.NotebookClient(kernel_manager_class=...)``, which then owns and shuts it down.

    ``client_factory`` is what makes the client (``AsyncKernelManager`` declares it again, so
    the base class's default taken from ``client_class`` never applies); both are set."""

    client_class = DottedObjectName("tests.kernel.SlicedClient")
    client_factory = Type(klass=SlicedClient)
