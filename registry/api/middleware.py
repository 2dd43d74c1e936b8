"""`Cache-Control: no-store` on every answer of the REST API and the REDCap-compatible API.

Their answers carry patient data; no browser or shared cache may keep them. Every answer of both,
errors and 304s included, gets the header here, in one place, whatever view (or Django itself,
for a 404 or a 413) answered. The ETag a record read carries is kept: a client that stores its own
copy still asks with If-None-Match and gets 304 while the record is unchanged.
"""
API_PATH_PREFIXES = ("/api/", "/redcap/api/")


class NoStoreApiAnswers:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PATH_PREFIXES):
            response["Cache-Control"] = "no-store"
        return response
