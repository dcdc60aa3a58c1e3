"""pytest settings for the unit tests and for `pytest --nbval notebooks`.

* Quick mode unless GAN_COURSE_MODE says otherwise, so the whole suite runs in minutes on a CPU.
* Checkpoints go to a temporary folder: tests never touch the user's data/checkpoints. The notebook
  kernels that nbval starts inherit these variables.
"""
import os
import tempfile

os.environ.setdefault("GAN_COURSE_MODE", "quick")
os.environ.setdefault("GAN_COURSE_CHECKPOINTS", tempfile.mkdtemp(prefix="gan-course-checkpoints-"))
os.environ.setdefault("GAN_COURSE_LIVE", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
