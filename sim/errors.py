"""Errors that speak to the user: the library names its parameters, the command line its flags.

:class:`ScenarioError` is any input that cannot be used, with a message meant for
the user as it stands. :class:`ParameterError` is one about an argument of a library function:
its message names the argument as ``{name}``, which a Python caller reads as ``name=`` and the
command line (:mod:`sim.cli`) as the flag ``--name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["ParameterError", "ScenarioError"]


class ScenarioError(ValueError):
    """An input that cannot be used (a scenario file, a design, an argument); the message is meant
    for the user as it stands. The command line prints it and exits with code 2."""


class ParameterError(ScenarioError):
    """A bad argument: ``template`` names arguments as ``{name}`` (see :meth:`render`)."""

    def __init__(self, template: str):
        self.template = template
        super().__init__(self.render())

    def render(self, name: Callable[[str], str] = lambda n: f"{n}=") -> str:
        """The message, each ``{argument}`` written as ``name(argument)``."""
        return re.sub(r"\{(\w+)\}", lambda m: name(m.group(1)), self.template)
