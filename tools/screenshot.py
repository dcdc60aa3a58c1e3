"""Screenshot an HTML report with headless Chromium, networking off (checks that it works offline).

    python tools/screenshot.py reports/01_vanilla_gan.html /tmp/01.png [--width 1200 --height 3000]

Chromium is a dev tool, not a project dependency: on Debian/Ubuntu `apt-get install chromium`.
Every request that would leave the machine goes to a dead proxy (127.0.0.1:9), so anything a
report still loads from the internet shows up as missing in the picture.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def screenshot(report: Path, out: Path, width: int = 1200, height: int = 3000, budget_ms: int = 15000) -> Path:
    browser = find_browser()
    if browser is None:
        raise SystemExit(
            "error: no Chromium found (looked for " + ", ".join(BROWSERS) + "); "
            "install it with `apt-get install chromium` (Debian/Ubuntu) and try again."
        )
    if not report.is_file():
        raise SystemExit(f"error: {report} does not exist.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # no network at all
            "--hide-scrollbars", f"--virtual-time-budget={budget_ms}",
            f"--window-size={width},{height}", f"--screenshot={out.resolve()}",
            report.resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if not out.exists():
        raise SystemExit(f"error: Chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--budget", type=int, default=15000, help="virtual time budget in ms (default 15000)")
    args = parser.parse_args(argv)
    print(screenshot(args.report, args.out, args.width, args.height, args.budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
