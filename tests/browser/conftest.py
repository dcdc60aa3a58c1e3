"""Browser tests: a real JupyterLab, started here, driven by headless Chromium through Playwright.

The session starts ``jupyter lab`` on 127.0.0.1 with a free port and a random token, in a temporary folder
that holds the notebooks under test, with GAN_COURSE_MODE=quick and its own checkpoint folder; it always
stops the server at the end. The browser is the system's Chromium (``CHROMIUM`` or ``chromium`` on PATH);
Playwright never downloads one. Screenshots of each state go to test-output/browser/.
"""
from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# JupyterLab settings for the test server: every cell stays in the page (no windowing), no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    reason = None
    if chromium_path() is None:
        reason = "Chromium is not installed (Debian/Ubuntu: apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "Playwright is not installed (pip install -e . installs it)"
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process: Linux sends it SIGTERM when pytest dies, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt   # pytest then runs the teardown that stops the server


class Server:
    def __init__(self, folder: Path):
        self.folder, self.port, self.token = folder, _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder.parent / "jupyter.log"

    def start(self) -> None:
        home = self.folder.parent
        for name, values in LAB_SETTINGS.items():
            path = home / "lab-settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k != "GAN_COURSE_LIVE"}   # real front-end detection
        env.update(GAN_COURSE_MODE="quick", GAN_COURSE_CHECKPOINTS=str(home / "checkpoints"),
                   PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])]),
                   JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.folder}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=", "--ServerApp.allow_root=True"]
        self.logfile = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.folder, env=env, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log}")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not answer within 60 s; see {self.log}")

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)   # the server and the kernels it started
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logfile.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab") / "notebooks"
    folder.mkdir()
    srv = Server(folder)
    signal.signal(signal.SIGTERM, _interrupt)   # e.g. `timeout` ending the run
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture
def lab(server, browser, shots, request):
    """A fresh browser page on the test server; its kernels are shut down afterwards."""
    from jupyterlab_driver import Lab

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    driver = Lab(page, server, shots / request.node.name.split("[")[0])
    try:
        yield driver
    finally:
        if getattr(request.node, "failed_call", False):
            driver.shot("at-failure")
        context.close()
        server.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed_call = True
