"""Time and peak memory of every solution notebook, executed headless (``make benchmark``).

Each notebook runs in a fresh process of its own, so its peak is not mixed with another's.
The peak is the largest resident size among the kernel and whatever it started (read with
``getrusage(RUSAGE_CHILDREN)`` once the kernel has exited). Budget per notebook: 30 s and
1 GiB on a 2-core machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

BUDGET_SECONDS = 30.0
BUDGET_MIB = 1024.0


def _measure_one(path: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - started
    kernel_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return {"seconds": seconds, "peak_mib": kernel_kib / 1024}


def measure(path: Path) -> dict:
    """Run :func:`_measure_one` in a fresh interpreter and return its numbers."""
    done = subprocess.run([sys.executable, "-m", "curso_mlops.benchmark", "--uno", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{path} falló al ejecutarse:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--uno"]:
        print(json.dumps(_measure_one(Path(args[1]))))
        return 0
    from .authoring import ROOT, SOLUTIONS, notebook_path, themes

    # the ungraded notebooks (welcome, mock interview) are executed in CI too: same budget
    paths = [Path(a) for a in args] or ([notebook_path(t) for t in themes(SOLUTIONS)]
                                        + sorted((ROOT / "notebooks").glob("*.ipynb")))
    print(f"{'cuaderno':<48} {'segundos':>9} {'pico MiB':>9}  presupuesto "
          f"({BUDGET_SECONDS:.0f} s, {BUDGET_MIB:.0f} MiB)")
    total, over = 0.0, 0
    for path in paths:
        r = measure(path)
        ok = r["seconds"] <= BUDGET_SECONDS and r["peak_mib"] <= BUDGET_MIB
        over += not ok
        total += r["seconds"]
        name = str(path.resolve().relative_to(ROOT)) if path.resolve().is_relative_to(ROOT) else str(path)
        print(f"{name:<48} {r['seconds']:>9.1f} {r['peak_mib']:>9.0f}  "
              f"{'dentro' if ok else 'FUERA'}", flush=True)
    print(f"{'total':<48} {total:>9.1f}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
