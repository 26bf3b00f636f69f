"""Reading `template.yaml` for the local stack: CloudFormation's short-form tags and the few intrinsic
functions the template uses, resolved against local names. The local stack is built from the template
itself, so it cannot drift from what `sam deploy` creates."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postfeed_tools.errors import ToolsError


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref x`, `!Sub s`, `!GetAtt a.b`… as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_TemplateLoader)
    return data


class UnresolvableError(ToolsError, KeyError):
    """The template refers to something the local stack does not have (e.g. a CloudFront domain)."""


# `AWS::NoValue`: what it stands in for is left out of the list or mapping holding it.
NO_VALUE = object()


@dataclass
class Resolver:
    """Evaluates intrinsic functions with local values: parameters, resource names and attributes."""

    parameters: Mapping[str, Any]
    refs: Mapping[str, str]  # logical id -> physical id (name, URL…)
    attributes: Mapping[tuple[str, str], str]  # (logical id, attribute) -> value
    conditions: Mapping[str, Any] = field(default_factory=dict)
    pseudo: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            handler = self._functions().get(name)
            if handler is not None:
                return handler(argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": lambda arg: self._attribute(arg[0], arg[1]),
            "Fn::If": self._if,
            "Fn::Equals": lambda arg: self.resolve(arg[0]) == self.resolve(arg[1]),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(str(arg[0])),
            "Condition": lambda arg: self.condition(arg),
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvableError(name)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise UnresolvableError(f"{logical_id}.{attribute}") from None

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self._attribute(logical_id, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)
