"""Every exception class postfeed and postfeed_tools define derives from PostfeedError, under its package's base,
and has a stable code (the class's name in snake_case unless it sets its own): users see it in logs and reports."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import postfeed
import postfeed_tools
from postfeed.errors import PostfeedError, snake_case
from postfeed.jekyll.errors import CONFIG_YAML, ConfigError, JekyllError
from postfeed.pipeline.errors import PipelineError
from postfeed.pipeline.failures import error_fields
from postfeed.store.errors import StoreError
from postfeed_tools.errors import ToolsError

# Classes left out of the hierarchy, with the reason (none today).
EXEMPT: dict[str, str] = {}

# Each package's base, by module prefix.
BASES: dict[str, type[PostfeedError]] = {
    "postfeed.jekyll.": JekyllError,
    "postfeed.store.": StoreError,
    "postfeed.pipeline.": PipelineError,
    "postfeed_tools.": ToolsError,
}

# The codes users see, by class name: a class renamed must set `code` to its old one (moving it is fine).
CODES = {
    "PostfeedError": "postfeed_error",
    "JekyllError": "jekyll_error",
    "PostError": "post_error",
    "ConfigError": "config_error",
    "LiquidFailure": "liquid_failure",
    "SiteFileError": "site_file_error",
    "StoreError": "store_error",
    "ObjectTooLargeError": "object_too_large_error",
    "EventShapeError": "event_shape_error",
    "ConcurrentUpdateError": "concurrent_update_error",
    "TooManyActionsError": "too_many_actions_error",
    "LeaseBusyError": "lease_busy_error",
    "WorkItemError": "work_item_error",
    "PipelineError": "pipeline_error",
    "RenderGroupFailed": "render_group_failed",
    "_Permanent": "websub_refused",
    "ToolsError": "tools_error",
    "RebuildError": "rebuild_error",
    "StackOutputError": "stack_output_error",
    "RedriveError": "redrive_error",
    "RunError": "run_error",
    "UnresolvableError": "unresolvable_error",
}


def all_modules() -> list[ModuleType]:
    modules: list[ModuleType] = []
    for package in (postfeed, postfeed_tools):
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            modules.append(importlib.import_module(info.name))
    return modules


def defined_errors() -> dict[str, type[BaseException]]:
    """Every exception class defined (not imported) in a postfeed or postfeed_tools module, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for module in all_modules():
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{obj.__qualname__}"] = obj
    return found


ERRORS = defined_errors()


def named(name: str) -> type[BaseException]:
    (error,) = (error for error in ERRORS.values() if error.__qualname__ == name)
    return error


@pytest.mark.parametrize("name", sorted(set(ERRORS) - set(EXEMPT)))
def test_every_error_derives_from_postfeed_error_with_a_stable_code(name: str) -> None:
    error = ERRORS[name]
    assert issubclass(error, PostfeedError)
    base = next((base for prefix, base in BASES.items() if name.startswith(prefix)), PostfeedError)
    assert issubclass(error, base)
    code = error.code
    assert isinstance(code, str)
    assert code
    assert CODES.get(error.__qualname__) == code, f"{name}: code {code!r} is not the pinned one (set `code` to keep it)"
    assert error.__doc__, f"{name} has no docstring of its own"


def test_every_pinned_code_still_has_its_class() -> None:
    assert set(CODES) <= {error.__qualname__ for error in ERRORS.values()}


def test_built_in_bases_are_kept() -> None:
    assert issubclass(named("WorkItemError"), ValueError)
    assert issubclass(named("LeaseBusyError"), RuntimeError)
    unresolvable = named("UnresolvableError")
    assert issubclass(unresolvable, KeyError)
    assert str(unresolvable("X.Arn")) == "'X.Arn'"  # KeyError's own message


def test_an_instance_code_is_the_one_users_see() -> None:
    error = ConfigError(CONFIG_YAML, "not YAML")
    assert (error.code, type(error).code) == (CONFIG_YAML, "config_error")
    assert error_fields(error)["code"] == CONFIG_YAML
    assert error_fields(named("LeaseBusyError")("busy"))["code"] == "lease_busy_error"


@pytest.mark.parametrize(
    ("name", "code"), [("LeaseBusyError", "lease_busy_error"), ("_Permanent", "permanent"), ("HTTPError", "http_error")]
)
def test_snake_case(name: str, code: str) -> None:
    assert snake_case(name) == code
