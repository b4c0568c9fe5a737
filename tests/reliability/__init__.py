"""Reliability (issue #9): one module per class of fault, each over every entry point.

- test_bad_input: unusable data and impossible settings, through the Python API, the
  estimators and the CLI;
- test_failed_inference: NaN ELBO, unconverged VI, NUTS divergences, R-hat/ESS warnings;
- test_interruption: Ctrl-C keeps a usable, flagged result (API, estimators, `pymc-bnn fit`);
- test_files: atomic saves, and model files that are truncated, newer, foreign or pickles;
- test_determinism: one seed, bit-identical results across the API, estimators and CLI;
- test_properties_api / test_properties_faces: hypothesis drives random inputs through the
  API, the estimators and the CLI: each works or raises one of `pymc_bnn.errors`.
"""
