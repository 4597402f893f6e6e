"""The seed page's own examples, reproduced against the reference portal as the page writes them."""

import json
import re
import shutil
import subprocess

import pytest

from b24_conformance import paths
from b24_conformance.contract.lint import SEED_PAGE, SEED_REVISION, cited_file
from b24_conformance.contract.schemas import validate
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

SEED_TEXT = "Error canceling document execution: Document is not yet executed"


def seed_page_error_sample() -> bytes:
    """The 400 sample of the seed page, compacted the way a server prints JSON."""
    page = cited_file(paths.sources_dir(), SEED_PAGE, SEED_REVISION).read_text(encoding="utf-8", errors="replace")
    block = re.findall(r"```json\n(.*?)```", page, re.DOTALL)[1]
    return json.dumps(json.loads(block), separators=(",", ":")).encode()


def curl(url: str, body: str) -> tuple[int, bytes]:
    out = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
         "-H", "Accept: application/json", "-d", body, url],
        capture_output=True, check=True, timeout=30,
    ).stdout
    payload, _, status = out.rpartition(b"\n")
    return int(status), payload


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_pages_curl_examples_work_as_written():
    with EmbeddedPortal(PortalSettings(profile="seed", tls=False)) as portal:
        url = portal.webhook_url("admin") + "catalog.document.cancel"
        status, payload = curl(url, '{"id":142}')
        assert status == 200
        body = json.loads(payload)
        assert body["result"] is True and validate("success-true", body) == []
        status, payload = curl(url, '{"id":142}')  # now cancelled: the page's error sample, to the byte
        assert (status, payload) == (400, seed_page_error_sample())
        status, payload = curl(url, '{"id":143}')  # the seeded draft
        assert (status, payload) == (400, seed_page_error_sample())


def test_the_oauth_example_works_as_written():
    import httpx

    with EmbeddedPortal(PortalSettings(profile="seed", tls=False)) as portal:
        token = portal.credential("admin-oauth").secret
        response = httpx.post(portal.oauth_url() + "catalog.document.cancel", json={"id": 142, "auth": token},
                              headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["result"] is True
