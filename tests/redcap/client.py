"""A REDCap API client for tests: posts form-encoded parameters, as PyCap and REDCapR do."""
import json
from urllib.parse import urlencode

URL = "/redcap/api/"


class Answer:
    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.content_type = response["Content-Type"]
        content = b"".join(response.streaming_content) if response.streaming else response.content
        self.text = content.decode("utf-8")

    def json(self):
        return json.loads(self.text)


class RedcapClient:
    def __init__(self, client):
        self.client = client

    def post(self, parameters: dict | list) -> Answer:
        """`parameters` a dict, or a list of (name, value) pairs for repeated names."""
        items = list(parameters.items()) if isinstance(parameters, dict) else parameters
        response = self.client.post(URL, data=urlencode(items), content_type="application/x-www-form-urlencoded")
        return Answer(response)

    def __call__(self, token: str, content: str, **parameters) -> Answer:
        return self.post({"token": token, "content": content, **parameters})
