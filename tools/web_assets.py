"""The reports' web assets, kept locally so that a report opens without a network.

nbconvert's ``lab`` template loads MathJax, require.js and the widget renderer (``embed-amd.js`` from
``@jupyter-widgets/html-manager``) from public CDNs; the reports (:mod:`tools.reports`) use copies in
``<out>/_static/``, referenced relatively:

* MathJax 2.7: the PyPI package ``jupyter-server-mathjax`` (a dependency).
* require.js and the html-manager: no PyPI package ships an html-manager that renders
  ipywidgets 8 state, so both come from the npm registry (``npm pack``), fetched once per
  environment into ``<sys.prefix>/share/gan-course/web/`` by ``python -m tools.reports --fetch-assets``
  (or by the first build that needs them).
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from helpers.config import CourseError

# npm packages: name, version, {file in the tarball: name in the cache}; pinned so reports are reproducible.
# html-manager 1.x renders the widget state of ipywidgets 8 (and 7).
NPM_ASSETS = {
    "html-manager": ("@jupyter-widgets/html-manager", "1.0.15", {"package/dist/embed-amd.js": "embed-amd.js"}),
    "requirejs": ("requirejs", "2.3.7", {"package/require.js": "require.js"}),
}
# embed-amd.js looks for its icon fonts (Font Awesome) next to the page's URL, not next to itself, and
# builds that URL from `location.origin`, which is "null" for file:// pages: the icons never load. So
# at fetch time each `<publicPath>+"<hash>.woff2"` in the bundle becomes a data: URL (browsers pick
# the woff2 source of each @font-face first; the other formats are never requested).
WEBPACK_WOFF2 = re.compile(r'\b\w\.p\+"([0-9a-f]{20}\.woff2)"')
ASSET_CACHE = Path(sys.prefix) / "share" / "gan-course" / "web"

# Paths inside <out>/_static/, relative to the HTML files.
MATHJAX_URL = "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
REQUIRE_JS_URL = "_static/requirejs/require.js"
WIDGET_RENDERER_URL = "_static/html-manager/embed-amd.js"


def _asset_dir(key: str) -> Path:
    return ASSET_CACHE / f"{key}-{NPM_ASSETS[key][1]}"


def fetch_web_assets() -> None:
    """Fetch require.js and the widget html-manager from the npm registry unless already cached."""
    for key, (package, version, files) in NPM_ASSETS.items():
        target = _asset_dir(key)
        if target.is_dir():
            continue
        npm = shutil.which("npm")
        if npm is None:
            raise CourseError(
                f"The reports need {package}@{version} from the npm registry and npm is not installed; "
                "install Node.js and npm, then run `python -m tools.reports --fetch-assets`."
            )
        ASSET_CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ASSET_CACHE) as tmp:  # same filesystem: the final rename is atomic
            done = subprocess.run(
                [npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                cwd=tmp, capture_output=True, text=True,
            )
            tarballs = list(Path(tmp).glob("*.tgz"))
            if done.returncode != 0 or not tarballs:
                raise CourseError(
                    f"`npm pack {package}@{version}` failed ({done.stderr.strip()[-300:] or 'no output'}); "
                    "check that the npm registry is reachable and run `python -m tools.reports --fetch-assets` again."
                )
            partial = Path(tmp) / key
            partial.mkdir()
            with tarfile.open(tarballs[0]) as tar:

                def read(name: str) -> bytes:
                    return tar.extractfile(name).read()

                for member, name in files.items():
                    data = read(member)
                    if name == "embed-amd.js":
                        data = WEBPACK_WOFF2.sub(
                            lambda m: '"data:font/woff2;base64,%s"'
                            % base64.b64encode(read(f"package/dist/{m.group(1)}")).decode(),
                            data.decode("utf-8"),
                        ).encode("utf-8")
                    (partial / name).write_bytes(data)
                (partial / "package.json").write_bytes(read("package/package.json"))  # version and license
            partial.rename(target)
        print(f"fetched {package}@{version} into {target}")


def install_static(out_dir: Path | str) -> Path:
    """Copy MathJax, require.js and the html-manager into ``out_dir/_static`` (the reports' assets)."""
    import jupyter_server_mathjax

    static = Path(out_dir) / "_static"
    sources = {"mathjax": Path(jupyter_server_mathjax.__file__).parent / "static"}
    try:
        fetch_web_assets()
        sources.update({"requirejs": _asset_dir("requirejs"), "html-manager": _asset_dir("html-manager")})
    except CourseError as err:  # reports still build; widgets then show as text
        print(f"warning: widgets in the reports will not render: {err}", file=sys.stderr)
    stamp = static / "versions.json"  # skip the copy (16 MB, 800 files) when it is already there
    versions = {"mathjax": metadata.version("jupyter-server-mathjax"),
                **{k: v[1] for k, v in NPM_ASSETS.items() if k in sources}}
    if stamp.exists() and json.loads(stamp.read_text()) == versions:
        return static
    for name, source in sources.items():
        shutil.rmtree(static / name, ignore_errors=True)
        shutil.copytree(source, static / name)
    stamp.write_text(json.dumps(versions))
    return static
