"""The study report: statistics tables and plots.

Framework-free like registry/derive/: plain values and frozen dataclasses in, dataclasses (or PNG
bytes) out, nothing from Django. `statistics` holds the tests and estimators (Fisher exact,
Kaplan-Meier, log-rank, Cox), `plots` the figures drawn from them.
"""
