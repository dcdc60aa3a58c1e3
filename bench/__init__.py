"""The benchmarks (``make bench``): run each as ``python -m bench.<script>`` from the repository root.

``contenders`` builds the models they train (each notebook's own players, step and settings from
``helpers.lessons``, plus the PyTorch example's DCGAN as a reference); ``harness`` holds what the scripts
share (the machine line, the bare loop, writing a section of ``bench/results.md``).
"""
