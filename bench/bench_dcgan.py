"""The DCGAN time-to-good-digits benchmark (the course's recipe against the PyTorch example).

Kept for the link in notebook 03: it is now part of bench_time_to_bar.py, which also times the other
models. This runs that script for the two DCGANs only; its options apply (e.g. ``--budget``).
"""
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv[1:1] = ["--models", "dcgan", "reference"]   # a later --models on the command line wins
    runpy.run_path(str(Path(__file__).with_name("bench_time_to_bar.py")), run_name="__main__")
