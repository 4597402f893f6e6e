"""A throwaway CA and loopback certificate (trustme), written to a temp folder for uvicorn and clients."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class LoopbackTLS:
    """Paths of the CA (give clients `verify=ca_path`), the server certificate chain and its key."""

    directory: Path
    ca_path: Path
    cert_path: Path
    key_path: Path

    @classmethod
    def create(cls) -> LoopbackTLS:
        ca = trustme.CA(organization_name="b24-conformance reference portal")
        cert = ca.issue_cert(*LOOPBACK_NAMES)
        directory = Path(tempfile.mkdtemp(prefix="b24-portal-tls-"))
        ca_path = directory / "ca.pem"
        cert_path = directory / "server-chain.pem"
        key_path = directory / "server-key.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        cert.private_key_pem.write_to_path(str(key_path))
        with cert_path.open("wb") as out:
            for blob in cert.cert_chain_pems:
                out.write(blob.bytes())
        key_path.chmod(0o600)
        return cls(directory, ca_path, cert_path, key_path)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
