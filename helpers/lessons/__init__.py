"""The notebooks' reusable cells (the ones marked ``#@save``), exported by ``make lessons``: one module per notebook.

Each module holds its notebook's exercise solutions, the references the check cells compare with (the
inputs of those checks are in ``helpers.exercise_cases``), and what later code reuses: ``vanilla_gan`` (01),
``dcgan`` (03) and ``conditional_gan`` (04) each notebook's settings, players and training step,
``loss_saturation`` (02) the least-squares, hinge and WGAN-GP losses, ``inversion_restoration`` (05) its settings,
data terms and ``search`` (which reads the notebook's ``G`` and ``SHELL``), exactly as the notebooks write them;
notebook 05's fallback training and the benchmarks use them.
Edit the notebooks, never these files: ``tests/test_lessons.py`` fails when a module differs from its notebook.
Importing a module reads the run mode (``GAN_COURSE_MODE``) and the device once, as the notebook's first cell does.
"""
