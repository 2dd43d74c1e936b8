"""Datasets for analysis and the file formats they are written in.

The analysis datasets of derivation rules §8 (datasets.py) join the stored results of
registry/models/derived.py to the raw records; nothing here derives. The raw records are one dataset
per instrument of the data dictionary (instrument_datasets.py). Every column is described once
(columns.py, analysis_columns.py): the codebook and the typed formats (CSV, Excel, SPSS, Stata,
Parquet: formats.py) are written from that description. registry/services/datasets.py is the one
door that writes them.
"""
