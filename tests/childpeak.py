"""Run one action in a fresh Python process and measure what it cost: peak memory above the baseline and time.

Memory blow-ups must be measured outside pytest's own process, whose peak is already whatever the
biggest earlier test left. The child imports what it needs, records its peak RSS (ru_maxrss) as the
baseline, runs the action, and reports the new peak, the seconds taken and the error message, if any.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
{imports}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
error = None
try:
    {action}
except Exception as e:
    error = f"{{type(e).__name__}}: {{e}}"
print(json.dumps({{"extra_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024,
                  "seconds": time.monotonic() - start, "error": error}}))
"""


def measure(imports, action, timeout=120):
    """{"extra_mb": peak RSS above the baseline in MB, "seconds": …, "error": "ValueError: …" or None}."""
    code = CHILD.format(imports=imports, action=action)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
