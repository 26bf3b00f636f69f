"""The Lambda layer holds the runtime package and its pinned dependencies, nothing else.

shared/Makefile builds it (`sam build`): the runtime package `postfeed` and exactly the packages pinned in
shared/requirements.txt (`pip install --no-deps`). These tests hold the pieces of that promise that can be checked
without building: the pinned list is closed (no dependency left for pip to add, so no second botocore), the runtime
package is what the functions import, and the babel locale data the build leaves out is never read. With
POSTFEED_BUILT_LAYER set (make sam-build sets it to .aws-sam/build/PostfeedLayer), the built layer itself is listed.
"""

from __future__ import annotations

import ast
import os
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "shared"
REQUIREMENTS = RUNTIME / "requirements.txt"
# What the Lambda Python runtime provides: the layer must not ship a second copy.
PROVIDED_BY_LAMBDA = frozenset({"boto3", "botocore", "s3transfer", "urllib3"})
# The functions' platform (template.yaml: python3.11, arm64), for the dependencies' environment markers.
LAMBDA_ENVIRONMENT = {
    "os_name": "posix",
    "implementation_version": "3.11.0",
    "platform_release": "",
    "platform_version": "",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def pinned_requirements() -> dict[str, Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    requirements = [Requirement(line) for line in lines if line]
    return {canonicalize_name(requirement.name): requirement for requirement in requirements}


def needed_by(requirement: Requirement) -> list[Requirement]:
    """What the pinned package requires on Lambda, with the extras the pin asks for."""
    declared = [Requirement(text) for text in distribution(requirement.name).requires or []]
    extras = ["", *sorted(requirement.extras)]
    return [
        needed
        for needed in declared
        if needed.marker is None or any(needed.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": e}) for e in extras)
    ]


def test_every_pin_is_exact_and_installed_at_that_version():
    for name, requirement in pinned_requirements().items():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{name}: pin it with =="
        assert distribution(name).version == specifier.version, f"{name}: the dev venv holds another version"


def test_the_pinned_list_is_closed_so_the_build_adds_nothing():
    pins = pinned_requirements()
    missing = {
        f"{canonicalize_name(needed.name)} (for {name})"
        for name, requirement in pins.items()
        for needed in needed_by(requirement)
        if canonicalize_name(needed.name) not in pins and canonicalize_name(needed.name) not in PROVIDED_BY_LAMBDA
    }
    assert not missing, f"pin these in shared/requirements.txt: {sorted(missing)}"


def test_the_layer_ships_no_package_the_lambda_runtime_provides():
    assert not set(pinned_requirements()) & PROVIDED_BY_LAMBDA


def module_names(root: Path) -> set[str]:
    return {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def imported_names(path: Path, module: str) -> set[str]:
    """Every module name `path` imports, at the top or inside a function ("from a import b" gives a and a.b)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def runtime_closure() -> set[str]:
    """The runtime modules the functions' code reaches through imports (lazy imports included)."""
    modules = module_names(RUNTIME)
    pending = [name for app in REPO.glob("functions/*/app.py") for name in imported_names(app, "app")]
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for prefix in (".".join(parts[:n]) for n in range(1, len(parts) + 1)):
            if prefix in modules and prefix not in reached:
                reached.add(prefix)
                path = RUNTIME / Path(*prefix.split("."))
                source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
                pending.extend(imported_names(source, prefix))
    return reached


def test_the_runtime_package_is_what_the_functions_import():
    # GIVEN every module of shared/ and the modules the three handlers reach
    # THEN nothing in the layer's package is unreachable from a function (tooling lives in postfeed_tools)
    assert module_names(RUNTIME) - runtime_closure() == set()


def test_the_runtime_package_imports_no_tool():
    tools = {"postfeed_tools", "moto", "tqdm", "functions", "tests"}
    offenders = {
        f"{module} imports {name}"
        for module in module_names(RUNTIME)
        for name in imported_names(
            RUNTIME
            / (module.replace(".", "/") + ("/__init__.py" if (RUNTIME / module.replace(".", "/")).is_dir() else ".py")),
            module,
        )
        if name.split(".")[0] in tools
    }
    assert not offenders


def test_liquid_reads_no_babel_locale_data(monkeypatch):
    # GIVEN the layer keeps babel's English locale data only (python-liquid imports babel for filters Jekyll lacks)
    import babel.localedata

    from postfeed.jekyll.liquid import render_liquid

    loaded: list[str] = []
    real_load = babel.localedata.load

    def recording_load(name, *args, **kwargs):
        loaded.append(name)
        return real_load(name, *args, **kwargs)

    monkeypatch.setattr(babel.localedata, "load", recording_load)
    body = (
        "{{ page.date | date: '%B %-d, %Y' }} {{ 1234.5 | round: 1 }} {{ 'x y' | capitalize }} "
        "{% assign n = 3 | times: 2 %}{{ n }} {{ '2024-03-01' | date_to_long_string }} "
        "{{ '2024-03-01' | date_to_rfc822 }} {{ 'a,b' | split: ',' | join: ' ' }} {{ 1.5 | plus: 2 }}"
    )
    # WHEN Jekyll's filters and tags run
    rendered, _reads, _depends = render_liquid("_posts/2024-03-01-a.md", body)
    # THEN none of them loads a locale
    assert "6" in rendered
    assert loaded == []


@pytest.mark.skipif(not os.environ.get("POSTFEED_BUILT_LAYER"), reason="make sam-build lists the built layer")
def test_the_built_layer_holds_the_runtime_and_its_pins_alone():
    layer = REPO / os.environ["POSTFEED_BUILT_LAYER"] / "python"
    entries = sorted(path.name for path in layer.iterdir())
    size = sum(path.stat().st_size for path in layer.rglob("*") if path.is_file())
    print(f"built layer {layer}: {size / 2**20:.1f} MiB, {len(entries)} entries:\n  " + "\n  ".join(entries))
    installed = {
        canonicalize_name(path.name.split("-")[0]) for path in layer.glob("*.dist-info")
    }  # e.g. aws_lambda_powertools-3.37.0.dist-info
    assert installed == set(pinned_requirements())
    assert not {name for name in entries if canonicalize_name(name) in PROVIDED_BY_LAMBDA}
    assert "postfeed_tools" not in entries
    assert module_names(layer / "postfeed") == module_names(RUNTIME / "postfeed")
