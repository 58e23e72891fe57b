"""The dashboard: its sliders agree with the schema, and a real browser can drive it."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.loading import load_scenario
from sim.scenario import Scenario, parameter_paths

from .conftest import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "results" / "dashboard"


def test_every_slider_takes_its_default_and_range_from_the_schema():
    from sim.app import SLIDERS, model_params

    params = model_params(Scenario())
    limits = parameter_paths()
    for name, (path, _) in SLIDERS.items():
        low, high, default = limits[path]
        assert params[name]["type"] == "SliderFloat"
        assert (params[name]["min"], params[name]["max"], params[name]["value"]) == (low, high, default)
        # the default lies on the slider's grid, so the slider does not move it
        steps = (default - low) / params[name]["step"]
        assert abs(steps - round(steps)) < 1e-6, name
    # starting from a shipped scenario: its values, the schema's ranges
    joined = model_params(load_scenario(SCENARIOS / "joined_up.toml"))
    assert joined["grants_budget"]["value"] == 20.0
    assert joined["grants_budget"]["max"] == limits["support.grants.budget"][1]


def test_dashboard_model_applies_the_sliders():
    from sim.app import DashboardModel, network_figure, uptake_figure

    model = DashboardModel(seed="3", evidence_budget=3.0, cut_severity=0.5)
    assert model.settings.support.evidence.budget == 3.0 and model.settings.fiscal.severity == 0.5
    for _ in range(3):
        model.step()
    assert model.year == 2013
    assert uptake_figure(model).axes and network_figure(model).axes
    with pytest.raises(TypeError):
        DashboardModel(no_such_slider=1.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM = shutil.which("chromium")  # Debian's (Playwright's own download does not work here)
NO_BROWSER = "no chromium on PATH (apt-get install chromium); required when CI or MUTUALS_BROWSER=1 is set"


def _need_browser() -> None:
    """Skip, with the reason, when there is no browser, unless CI (or MUTUALS_BROWSER=1) requires it."""
    if CHROMIUM is None:
        if os.environ.get("CI") or os.environ.get("MUTUALS_BROWSER") == "1":
            pytest.fail(NO_BROWSER)
        pytest.skip(NO_BROWSER)


@pytest.mark.slow
def test_a_real_browser_moves_a_slider_steps_the_model_and_sees_the_plot_change():
    _need_browser()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "solara", "run", "sim.app", "--host",
         "127.0.0.1", "--port", str(port), "--production"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "MUTUALS_SCENARIO": ""})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    log = server.communicate()[0].decode(errors="replace")[-2000:]
                    raise AssertionError(f"the dashboard server did not start:\n{log}") from None
                time.sleep(0.5)
        problems: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on("response", lambda r: problems.append(f"{r.status}: {r.url}")
                    if r.status >= 400 else None)
            page.goto(url)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            main = page.locator("main")
            main.locator("img").first.wait_for(timeout=60_000)
            first_plot = main.locator("img").first.get_attribute("src")

            # the evidence programme's slider (the sidebar's third slider is the first of the
            # model's: play interval, render interval, then grants, advice, evidence)
            slider = page.get_by_role("slider").nth(4)
            before = slider.get_attribute("aria-valuenow")
            slider.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            assert slider.get_attribute("aria-valuenow") != before
            page.wait_for_timeout(1500)  # let the new value reach the server
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Evidence, GBP m in all: 3", exact=True).wait_for(timeout=30_000)  # 3 steps of 1
            # untouched sliders keep their defaults, and every slider's value is shown
            page.get_by_text("Cut severity (1 = actual cuts): 1", exact=True).wait_for()
            assert page.locator("main span", has_text=":").count() >= 15
            for _ in range(6):
                step.click()
                page.wait_for_timeout(400)
            page.get_by_text("Year 2016").wait_for(timeout=30_000)  # six years on from 2010
            page.wait_for_timeout(1500)
            plot = main.locator("img").first.get_attribute("src")
            assert plot and plot != first_plot, "the uptake plot did not change"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
            browser.close()
        assert not problems, problems
    finally:
        server.terminate()
        server.communicate(timeout=20)  # reaps the process and closes its pipe


def _serves(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["terminated", "killed"])
def test_a_stopped_dashboard_takes_its_server_with_it(how):
    port = _free_port()
    parent = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: _serves(port), 90), "the dashboard did not start"
        parent.send_signal(how)
        parent.wait(timeout=30)
        assert _wait(lambda: not _serves(port), 20), "its server still serves the port"
    finally:
        if parent.poll() is None:
            parent.kill()


def _browser_test_without_chromium(**env: str) -> subprocess.CompletedProcess:
    """Run the browser test in a fresh pytest with a PATH that holds only this Python's folder."""
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "MUTUALS_BROWSER")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
         f"{__file__}::test_a_real_browser_moves_a_slider_steps_the_model_and_sees_the_plot_change"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean, "PATH": str(Path(sys.executable).parent), **env})


def test_without_chromium_the_browser_test_is_skipped_with_its_reason_unless_ci_requires_it():
    alone = _browser_test_without_chromium()
    assert alone.returncode == 0, alone.stdout
    assert "1 skipped" in alone.stdout and "no chromium on PATH" in alone.stdout, alone.stdout
    for env in ({"CI": "true"}, {"MUTUALS_BROWSER": "1"}):
        required = _browser_test_without_chromium(**env)
        assert required.returncode == 1 and "1 failed" in required.stdout, (env, required.stdout)
