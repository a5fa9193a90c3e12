import os
import sys
from pathlib import Path

# NumPy (OpenBLAS) and torch fight over the 2 cores when one process uses both (DESIGN.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))  # tests/cases.py

# Worker scripts run in subprocesses (torchrun, SIGKILL tests); they are not test modules.
collect_ignore = ["workers"]
