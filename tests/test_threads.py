"""PATRON_BLAS_THREADS: open_runtime (CLI, worker) and the ASGI app pin BLAS threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patron.config import load_settings
from patron.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh process: the pin is process-wide. BLAS starts at 2 threads so that 1 is news.
_SCRIPT = """
import json, sys
from threadpoolctl import threadpool_info, threadpool_limits
import numpy, scipy.linalg
threadpool_limits(limits=2, user_api="blas")
def blas():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
before = blas()
if sys.argv[1] == "asgi":
    import patron.asgi
else:
    from patron.runtime import open_runtime
    open_runtime(migrate=False)
print(json.dumps({"before": before, "after": blas()}))
"""


def _threads(tmp_path, entry: str, setting: str | None) -> dict:
    """BLAS thread counts before and after starting Patron in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATRON_SECRET_KEY="k")
    env["PATRON_DATABASE_URL"] = f"sqlite:///{tmp_path / 'patron.db'}"
    env.pop("PATRON_BLAS_THREADS", None)
    if setting is not None:
        env["PATRON_BLAS_THREADS"] = setting
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, entry],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("entry", ["runtime", "asgi"])
def test_start_pins_every_blas_library_to_one_thread_by_default(tmp_path, entry):
    counts = _threads(tmp_path, entry, None)
    assert counts["before"] and set(counts["before"]) == {2}
    assert counts["after"] == [1] * len(counts["before"])


def test_setting_zero_leaves_the_library_threads(tmp_path):
    counts = _threads(tmp_path, "runtime", "0")
    assert counts["after"] == counts["before"]


def test_explicit_setting_is_applied(tmp_path):
    assert set(_threads(tmp_path, "runtime", "1")["after"]) == {1}


def test_negative_thread_count_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="PATRON_BLAS_THREADS"):
        load_settings({"PATRON_BLAS_THREADS": "-1", "PATRON_SECRET_KEY": "k"})
    assert load_settings({"PATRON_SECRET_KEY": "k"}).blas_threads == 1
