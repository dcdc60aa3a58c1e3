"""Build tooling for the course (not imported by the notebooks): export of the notebooks' saved cells
(``python -m tools.export_cells``, ``make lessons``), the HTML reports (``python -m tools.reports``,
``make reports``) and report screenshots (``tools/screenshot.py``)."""
