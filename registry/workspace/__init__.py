"""The workspace: the pages coordinators, viewers and investigators use every day (worklist, record
home, data entry), beside the admin, which stays for administrators and configuration.

Views read through the selectors and write through the services, like every other door; templates are
under registry/templates/workspace/, CSS and scripts under registry/static/workspace/ (no CDN).
"""
