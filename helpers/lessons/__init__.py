"""The notebooks' reusable cells (the ones marked ``#@save``), exported by ``make lessons``: one module per notebook.

``objective_theory`` (notebook 00) and ``evaluation`` (06) hold their exercises' reference solutions (D*, the JSD,
the generator losses' gradients with respect to the logit; memorization, frechet, precision_recall), which the
notebooks' check cells compare with. ``vanilla_gan`` (notebook 01), ``dcgan`` (03) and ``conditional_gan`` (04) hold
each notebook's settings, players and training step, ``inversion_restoration`` (05) its settings and ``search``
(which reads the notebook's ``G`` and ``SHELL``), exactly as the notebooks write them; notebook 05's fallback
training and the benchmarks use them.
Edit the notebooks, never these files: ``tests/test_lessons.py`` fails when a module differs from its notebook.
Importing a module reads the run mode (``GAN_COURSE_MODE``) and the device once, as the notebook's first cell does.
"""
