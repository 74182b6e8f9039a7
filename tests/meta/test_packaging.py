"""What installing and starting fsm brings: packaging metadata and the make targets."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_is_an_spdx_expression_with_its_file():
    # a TOML table (`license = { text = ... }`) makes setuptools print a deprecation
    # warning on every install since PEP 639
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert all((ROOT / name).is_file() for name in project["license-files"])
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    assert any(req.startswith("setuptools>=77") for req in build["requires"])


def test_make_run_starts_python_once():
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nrun:", 1)[1]
    commands = [line for line in recipe.split("\n\n", 1)[0].splitlines() if line.startswith("\t")]
    assert commands == ["\t$(BIN)/fsm tui --demo"]


def test_every_install_takes_the_locked_versions():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and " -e " in line]
    assert installs, "the Makefile installs fsm somewhere"
    assert all("-c $(LOCK)" in line for line in installs), installs
    lock = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    pinned = {
        line.split("==")[0].lower()
        for line in lock.splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {
        dep.split(">")[0]
        .split("<")[0]
        .split("=")[0]
        .split("[")[0]
        .strip()
        .lower()
        .replace("_", "-")
        for dep in wanted
        if not dep.startswith("fsm")
    }
    assert names <= pinned, names - pinned
    assert any(dep.startswith("textual>=8.0,<9") for dep in project["dependencies"])
