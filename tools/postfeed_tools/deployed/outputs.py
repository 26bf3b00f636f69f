"""A deployed stack's outputs, for the commands that act on a deployment (`rebuild`, `redrive`)."""

from __future__ import annotations

from typing import Any

from postfeed_tools.errors import ToolsError


class StackOutputError(ToolsError):
    """The stack cannot be read, or lacks the output."""


def stack_output(cloudformation: Any, stack: str, key: str, *, missing_hint: str = "") -> str:
    """The value of output `key` of `stack` (`cloudformation`: a boto3 CloudFormation client)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as exc:
        raise StackOutputError(f"stack {stack}: {exc.response.get('Error', {}).get('Message', exc)}") from exc
    outputs = {o.get("OutputKey"): o.get("OutputValue") for s in stacks for o in s.get("Outputs", [])}
    value = outputs.get(key)
    if not value:
        raise StackOutputError(f"stack {stack} has no {key} output" + (f" ({missing_hint})" if missing_hint else ""))
    return str(value)
