"""Cookies: the suite builds every request itself (httpx's `send`), so it never sends a cookie
back; a cookie a portal sets still lands in the client's store, as with httpx's own."""

import httpx

from b24_conformance.redact import Redactor
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import single_webhook_target


def test_a_cookie_the_portal_sets_is_stored_and_never_sent():
    seen = []

    def portal(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = {"content-type": "application/json"}
        if len(seen) == 2:
            headers["set-cookie"] = "PHPSESSID=abc123; Path=/"
        return httpx.Response(200, headers=headers, content=b'{"result": true}')

    config = single_webhook_target("https://portal.example/rest/1/abcdefabcdef1234/")
    client = PortalClient(config, Redactor())
    http = client._client(None)
    http._transport = httpx.MockTransport(portal)
    admin = config.credential("admin")
    for _ in range(3):
        assert client.call(admin, "catalog.document.mode.status", {}, pace=False).reply.status == 200
    assert dict(http.cookies) == {"PHPSESSID": "abc123"}
    client.close()
    assert seen == [None, None, None]
