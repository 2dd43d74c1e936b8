"""Analysis datasets (derivation rules §8) and the file formats they are written in.

Nothing here derives: the rows are the stored results of registry/models/derived.py joined to the
raw records. registry/services/datasets.py is the one door that writes them.
"""
