"""A digest of every file `postfeed build` and `postfeed run` write for each site: the check that a refactor
changed no output byte.

Run: .venv/bin/python bench/output_digests.py --out before.json [SITE ...]
     (default sites: the three corpus sites in ../shared/corpus, examples/site and a generated 600-post site
     with the long tail of tags; about two minutes). Then, after the change, `--out after.json` and
     `diff before.json after.json` (or `--compare before.json`, which exits 1 on a difference).

Each site goes through the installed `postfeed` command (whatever package layout provides it), into a
temporary folder; every file under it is hashed (SHA-256) by its relative path. `report.json` and
`functions.log` hold timings and log lines, so they are left out; every feed document, archive page, index and
OPML file is in.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
DEFAULT_SITES = (
    CORPUS / "finews",
    CORPUS / "jekyll__jekyll",
    CORPUS / "Gaohaoyang__gaohaoyang.github.io",
    REPO / "examples" / "site",
)
GENERATED_POSTS = 600
# Files whose bytes carry timings or log lines rather than output.
NOT_OUTPUT = frozenset({"report.json", "functions.log"})


def digest_folder(folder: Path) -> dict[str, str]:
    """SHA-256 of every output file under `folder`, by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in NOT_OUTPUT
    }


def postfeed_outputs(command: str, site: Path, work: Path) -> dict[str, str]:
    """Digests of what `postfeed COMMAND --posts SITE` writes."""
    out = work / f"{command}-{site.name}"
    postfeed = Path(sys.executable).with_name("postfeed")
    argv = [str(postfeed), command, "--posts", str(site), "--out", str(out)]
    if command == "run":
        argv.append("--no-progress")
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return digest_folder(out)


def generated_site(work: Path) -> Path:
    """A generated site with the long tail of tags (examples/scale/generate.py)."""
    site = work / f"generated-{GENERATED_POSTS}"
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "scale" / "generate.py"), str(GENERATED_POSTS), str(site)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sites", nargs="*", type=Path, help="site folders (default: the corpus, examples/site, a generated site)"
    )
    parser.add_argument("--out", type=Path, help="write the digests here (JSON)")
    parser.add_argument("--compare", type=Path, help="compare with an earlier --out file; exit 1 on a difference")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="postfeed-digests-"))
    try:
        sites = list(args.sites) or [*DEFAULT_SITES, generated_site(work)]
        digests = {
            f"{command} {site.name}": postfeed_outputs(command, site, work)
            for site in sites
            for command in ("build", "run")
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(digests, indent=1, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    files = sum(len(files) for files in digests.values())
    print(f"{len(digests)} outputs, {files} files")
    if args.compare is None:
        return 0
    earlier = json.loads(args.compare.read_text(encoding="utf-8"))
    differences = [
        f"{output}: {path}"
        for output in sorted(set(earlier) | set(digests))
        for path in sorted(set(earlier.get(output, {})) | set(digests.get(output, {})))
        if earlier.get(output, {}).get(path) != digests.get(output, {}).get(path)
    ]
    print(f"{len(differences)} files differ from {args.compare}")
    for line in differences[:50]:
        print(f"  {line}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
