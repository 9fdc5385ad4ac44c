"""A plain install of optlib runs its own doctests: what needs an extra is skipped, not failed.

A fresh virtual environment gets numpy and pytest only (the versions of this environment, from
the package registry), then ``pip install --no-deps`` of the package built from this checkout
(not editable), then ``pytest --doctest-modules --pyargs optlib``, the way a user checks an
install. The doctests that need SymPy (``optlib[symbolic]``) or matplotlib and IPython (the
animation) start with ``pytest.importorskip``, which pytest reports as a skip; everything
else must pass. Runs in ``make unit`` (about 20 s; it needs the registry, as CI has).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("sympy", "matplotlib", "IPython", "sklearn")


def _run(cmd, cwd, env, timeout=600):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def _copy_package_sources(dest: Path) -> Path:
    """What ``pip install .`` reads from the checkout, copied so the build leaves it clean.

    (setuptools writes ``build/`` and ``optlib.egg-info`` next to the sources it builds.)
    """
    src = dest / "src"
    src.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", src)
    shutil.copy2(ROOT / "README.md", src)  # the package's readme
    shutil.copytree(ROOT / "optlib", src / "optlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return src


def test_doctests_pass_in_a_fresh_venv_with_numpy_and_pytest_only(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV"))}
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    pins = [f"numpy=={version('numpy')}", f"pytest=={version('pytest')}"]
    _run([python, "-m", "pip", "install", "--quiet", *pins], tmp_path, env)
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps",
          str(_copy_package_sources(tmp_path))], tmp_path, env)

    # the environment is what a plain install gives: no extra, and optlib from site-packages
    probe = _run([python, "-c", "import importlib.util as u, optlib; print(optlib.__file__); "
                  f"print([m for m in {EXTRAS!r} if u.find_spec(m)])"], tmp_path, env)
    where, present = probe.stdout.splitlines()
    assert Path(where).is_relative_to(venv), where
    assert present == "[]", f"extras present in the plain venv: {present}"

    run_dir = tmp_path / "run"  # no pyproject.toml or optlib/ here: --pyargs finds the install
    run_dir.mkdir()
    report = tmp_path / "doctests.xml"
    result = subprocess.run(
        [python, "-m", "pytest", "--doctest-modules", "--pyargs", "optlib", "-p",
         "no:cacheprovider", "-rs", f"--junitxml={report}"],
        cwd=run_dir, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        "doctests of a plain install failed (an example that needs an extra must begin with "
        f"`pytest.importorskip(...)`, as optlib.adam_family.adam's does):\n{result.stdout}")

    cases = ET.parse(report).getroot().iter("testcase")
    passed, skipped = [], {}
    for case in cases:
        name = f"{case.get('classname')}.{case.get('name')}"
        skip = case.find("skipped")
        if skip is None:
            passed.append(name)
        else:
            skipped[name] = skip.get("message", "")
    # the examples that need an extra are skipped, for the missing extra and nothing else
    needs = {"optlib.adam_family.adam": "sympy", "optlib.runners.run": "sympy",
             "optlib.plotting.animation_html": "matplotlib",
             "optlib.learning.digits": "sklearn"}
    for test, module in needs.items():
        reasons = [message for name, message in skipped.items() if name.endswith(test)]
        assert reasons and f"could not import '{module}'" in reasons[0], (test, skipped)
    for name, message in skipped.items():
        assert any(f"could not import '{m}'" in message for m in EXTRAS), (name, message)
    # and the rest ran: every module's numeric examples, the problems' and backend's included
    for module in ("optlib._backend", "optlib.problems", "optlib.runners.grid",
                   "optlib.descent.gd", "optlib.plotting.method_style"):
        assert any(module in name for name in passed), (module, passed)
