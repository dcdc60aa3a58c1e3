"""Build tooling for the course, outside the package the notebooks import: the export of the notebooks' saved
cells (``python -m tools.export_cells``, ``make lessons``), the HTML reports (``python -m tools.reports``,
``make reports``; their offline web assets in ``tools.web_assets``) and report screenshots (``tools/screenshot.py``)."""
