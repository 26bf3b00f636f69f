"""The `postfeed` command line. Each subcommand lives in `postfeed_tools.commands.<name>` and is imported
only when it runs, so `postfeed parse` never pays for boto3 or moto."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> one-line help; the module postfeed_tools.commands.<name> provides add_arguments(parser) and run(args).
COMMANDS: dict[str, str] = {
    "parse": "parse posts as Jekyll does and print what it would publish",
    "run": "run the whole pipeline locally on moto over a site's posts; feeds and report.json land in --out",
    "build": "render a site's feeds straight from its folder, no AWS (for CI publishing); same files as run",
    "serve": "keep the local stack up: upload posts to its S3 endpoint, read their feeds over HTTP",
    "import": "upload an existing Jekyll site's _config.yml and _posts/ to a posts bucket (resumable)",
    "bench": "measure the pipeline on the local stack: cost vs size, bursts, cold start, memory, cost per post",
    "redrive": "move the ingest dead-letter queue's messages back to the ingest queue (after a fix)",
    "rebuild": "re-ingest every post and re-render every feed under the current settings (full rebuild)",
}

# Commands whose module name differs from the command's (`import` is a Python keyword).
MODULES: dict[str, str] = {"import": "import_site"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postfeed", description="Jekyll posts in, feeds out.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command = importlib.import_module(f"postfeed_tools.commands.{MODULES.get(name, name)}")
        command.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = importlib.import_module(f"postfeed_tools.commands.{MODULES.get(args.command, args.command)}")
    code: int = command.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
