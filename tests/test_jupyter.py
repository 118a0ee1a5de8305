"""JupyterLab starts on a free loopback port with token auth, serves the series, and stops.

One JupyterLab serves the whole module (starting it takes seconds); the shutdown test comes last.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERIES = ["00_introduction", "01_alexnet", "02_vgg", "03_nin", "04_googlenet", "05_batch_norm",
          "06_resnet", "07_densenet", "08_resnext", "09_comparison", "10_what_cnns_learn"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token=None, timeout=5):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("jupyter")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    # `jupyter lab` of the same environment as the tests.
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={ROOT}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:   # CI containers run as root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{base}/api/status", token, timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("JupyterLab did not start: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.5)
    yield base, token, proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_lab_lists_and_opens_the_notebooks(lab):
    base, token, proc = lab
    status, body = _get(f"{base}/api/contents/notebooks", token)
    listing = {item["name"] for item in json.loads(body)["content"]}
    expected = {f"{name}.ipynb" for name in SERIES}
    assert expected <= listing, f"missing from the series: {sorted(expected - listing)}"
    for name in sorted(expected):
        status, body = _get(f"{base}/api/contents/notebooks/{name}", token)
        model = json.loads(body)
        assert status == 200 and model["type"] == "notebook"
        assert model["content"]["cells"], name
    status, body = _get(f"{base}/lab", token)
    assert status == 200 and b"JupyterLab" in body


def test_lab_requires_the_token(lab):
    base, token, proc = lab
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(f"{base}/api/contents/notebooks")
    assert err.value.code == 403


def test_lab_shuts_down(lab):   # last: it stops the module's JupyterLab
    base, token, proc = lab
    req = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                 headers={"Authorization": f"token {token}"})
    urllib.request.urlopen(req, timeout=5)
    assert proc.wait(timeout=30) == 0
