"""The registry's APIs for sites' programs: the REST API (v1) and the REDCap-compatible endpoint (redcap/)."""
