"""The REDCap-compatible API: `POST /redcap/api/`, so that sites' REDCap scripts (PyCap, REDCapR)
work against the registry unchanged, through the same services, access rule and audit trail as
every other door.

- views.py: the endpoint (token, content, errors); parameters.py: the form-encoded request, read
  as a stream; responses.py: JSON, CSV and XML answers and REDCap's error bodies;
- contents.py: one function per content; project.py: the project's design from the data
  dictionary; record_export.py and filter_logic.py: record exports; record_import.py: imports.
"""
