"""Front-end detection: which kernels count as a notebook, and which have a person watching."""
import sys
import types

import IPython
import pytest
from IPython.core.interactiveshell import InteractiveShell
from ipykernel.zmqshell import ZMQInteractiveShell

from helpers import display

FRONTEND_VARIABLES = ("JPY_SESSION_NAME", "VSCODE_PID", "COLAB_RELEASE_TAG", "GAN_COURSE_LIVE")


class ColabShell(ZMQInteractiveShell):
    """Like google.colab._shell.Shell: a subclass of ipykernel's shell with its own name."""


class TerminalInteractiveShell(InteractiveShell):
    """Like IPython's terminal shell (`ipython` in a console)."""


@pytest.fixture
def shell(monkeypatch):
    """Make get_ipython() return an instance of the given shell class (None: no IPython shell at all)."""
    for name in FRONTEND_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def use(cls):
        instance = None if cls is None else object.__new__(cls)   # only its type matters
        monkeypatch.setattr(IPython, "get_ipython", lambda: instance)
    return use


@pytest.mark.parametrize("variable, value", [("JPY_SESSION_NAME", "notebooks/01_vanilla_gan.ipynb"),  # JupyterLab
                                             ("JPY_SESSION_NAME", "01_vanilla_gan.ipynb"),            # Notebook 7
                                             ("VSCODE_PID", "4242")])                                 # VS Code
def test_jupyter_frontends_are_live(shell, monkeypatch, variable, value):
    shell(ZMQInteractiveShell)
    monkeypatch.setenv(variable, value)
    assert display.in_notebook() and display.live_frontend()


def test_colab_shell_subclass_is_a_live_notebook(shell, monkeypatch):
    shell(ColabShell)
    assert display.in_notebook() and not display.live_frontend()   # a subclass alone: a kernel, nobody known to watch
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert display.live_frontend()


def test_colab_environment_variable_is_live(shell, monkeypatch):
    shell(ColabShell)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261120-060000_RC00")
    assert display.live_frontend()


def test_kernel_without_frontend_is_not_live(shell):
    shell(ZMQInteractiveShell)       # nbconvert / nbval start kernels without a front end's variables
    assert display.in_notebook() and not display.live_frontend()


def test_terminal_ipython_is_no_notebook(shell, monkeypatch):
    shell(TerminalInteractiveShell)
    monkeypatch.setenv("VSCODE_PID", "4242")   # a terminal inside VS Code is still a terminal
    assert not display.in_notebook() and not display.live_frontend()


def test_plain_python_is_no_notebook(shell, monkeypatch):
    shell(None)
    assert not display.in_notebook() and not display.live_frontend()
    monkeypatch.setitem(sys.modules, "IPython", None)   # IPython not installed
    assert not display.in_notebook() and not display.live_frontend()


@pytest.mark.parametrize("cls", [None, ZMQInteractiveShell, ColabShell])
def test_gan_course_live_overrides(shell, monkeypatch, cls):
    shell(cls)
    monkeypatch.setenv("GAN_COURSE_LIVE", "1")
    assert display.live_frontend()
    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")
    monkeypatch.setenv("GAN_COURSE_LIVE", "0")
    assert not display.live_frontend()
