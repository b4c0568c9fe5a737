"""Figures and reports.

`plots` (predictive maps, reliability, bands), `html` (the self-contained HTML page),
`model_report` (the report of a saved model), `predictive_checks` (its sections on data: predictive
check, calibration, uncertainty, least-sure rows), `stability_plots` and `stability_report` (the
stability section).
"""
