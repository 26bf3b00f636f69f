"""`pip install` of the repo into a fresh venv, then `postfeed run` with it, away from the checkout.

Run: python3 bench/install_check.py   (or `make install-check`; a few minutes: pip fetches every pinned package)

Builds the wheel (`pip wheel --no-deps .`), installs it with its declared dependencies into a new venv, then
runs the installed `postfeed run` over a copy of examples/site from an empty working folder, so nothing of the
checkout is on the path: the command, the local stack's template and the functions' code all come from the
install. Prints what the wheel holds, the packages installed and the run's summary; exits non-zero on failure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(*argv: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(arg) for arg in argv], cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="postfeed-install-"))
    try:
        run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", REPO)
        (wheel,) = (work / "dist").glob("*.whl")
        tops = sorted({name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()})
        print(f"wheel {wheel.name}: {', '.join(tops)}")
        run(sys.executable, "-m", "venv", work / "venv")
        python = work / "venv" / "bin" / "python"
        run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
        installed = run(python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check").split()
        print(f"{len(installed)} packages installed")
        site = shutil.copytree(REPO / "examples" / "site", work / "site")
        elsewhere = work / "elsewhere"
        elsewhere.mkdir()
        summary = run(
            work / "venv" / "bin" / "postfeed",
            "run",
            "--posts",
            site,
            "--out",
            work / "out",
            "--no-progress",
            cwd=elsewhere,
        )
        totals = [line.strip() for line in summary.splitlines() if " feeds, " in line]
        print(f"postfeed run from the fresh install: {totals[-1] if totals else summary.strip()}")
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"failed: {' '.join(map(str, exc.cmd))}\n{exc.stdout}\n{exc.stderr}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
