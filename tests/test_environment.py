"""The lock, requirements.in and environment.yml must describe one environment."""

from __future__ import annotations

import re

import yaml

from evalkit import paths


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements_in() -> set[str]:
    names = set()
    for line in (paths.project_root() / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(_norm(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0]))
    return names


def _lock() -> dict[str, str]:
    pins = {}
    for line in (paths.project_root() / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock line {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _environment_yml() -> dict[str, str]:
    env = yaml.safe_load((paths.project_root() / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python=", "python ")) and dep != "pip":
            name, _, version = dep.partition("=")
            pins[_norm(name)] = version
        if isinstance(dep, dict):  # the pip: list, for packages conda-forge lacks (name==version)
            for pip_dep in dep.get("pip", []):
                name, _, version = str(pip_dep).partition("==")
                if version:
                    pins[_norm(name)] = version
    return pins


def test_environment_yml_lists_the_same_packages_as_requirements_in():
    assert set(_environment_yml()) == _requirements_in()


def test_environment_yml_versions_match_the_lock():
    lock = _lock()
    for name, version in _environment_yml().items():
        assert lock.get(name) == version, f"{name}: environment.yml says {version}, requirements.lock {lock.get(name)}"


def test_every_direct_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = _requirements_in() - set(lock)
    assert not missing, f"requirements.in packages missing from requirements.lock: {sorted(missing)}"


def test_nbconvert_is_recent_enough():
    major, minor, patch = (int(x) for x in _lock()["nbconvert"].split(".")[:3])
    assert (major, minor, patch) >= (7, 17, 1)
