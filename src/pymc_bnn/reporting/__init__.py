"""Figures and reports.

`plots` (every figure under one name, re-exported from `canvas` (an Axes, `save`),
`class_scatter`, `class_maps`, `calibration_plots`, `predictive_check_plots` and `fit_plots`),
`html` (the self-contained HTML page), `model_report` (the report of a saved model),
`predictive_checks` (its sections on data: predictive check, calibration, uncertainty, least-sure
rows), `stability_plots` and `stability_report` (the stability section).
"""
