"""Certificates made in the tests, and HTTPS servers on 127.0.0.1 that use them.

``make_pki(folder)`` writes a small PKI: a CA; a server certificate for 127.0.0.1 and
localhost; an expired one; an untrusted self-signed one; an unrelated "wrong" CA; and a
client certificate as a password-protected PFX, as a PEM pair, and as a PEM pair with an
encrypted key. EC P-256 keys keep generation fast (milliseconds), so each test module can
make its own. ``HttpsServer`` is ``httpkit.LoopbackServer`` (routes, recorded requests)
with TLS: each connection's handshake runs in that connection's own thread, and failed
handshakes are recorded, so a test can assert that the server refused a client.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from httpkit import LoopbackServer

PFX_PASSWORD = "pfx-Pa55word!"
PEM_KEY_PASSWORD = "pem-Pa55word!"


@dataclass(frozen=True)
class Pki:
    """Paths of the generated files (PEM unless said otherwise)."""

    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path
    expired_cert: Path
    expired_key: Path
    self_signed_cert: Path
    self_signed_key: Path
    client_pfx: Path  # PKCS#12, password PFX_PASSWORD, CA certificate included
    client_cert: Path
    client_key: Path
    client_key_encrypted: Path  # the same key, encrypted with PEM_KEY_PASSWORD
    client_combined: Path  # certificate and unencrypted key in one file
    stranger_pfx: Path  # a client certificate from other_ca, password PFX_PASSWORD


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    hosts: bool = False,
    expired: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if expired else (
        now - dt.timedelta(hours=1), now + dt.timedelta(days=7))
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _pfx(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, ca: x509.Certificate) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"client", key, cert, [ca], serialization.BestAvailableEncryption(PFX_PASSWORD.encode()))


def make_pki(folder: Path) -> Pki:
    """Write a fresh PKI into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, other_key = _key(), _key()
    ca = _certificate("qscript test CA", ca_key, None, ca=True)
    other = _certificate("qscript other CA", other_key, None, ca=True)
    server_key, expired_key, self_key, client_key, stranger_key = _key(), _key(), _key(), _key(), _key()
    serverauth, clientauth = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    server = _certificate("127.0.0.1", server_key, (ca, ca_key), usage=serverauth, hosts=True)
    expired = _certificate("127.0.0.1", expired_key, (ca, ca_key), usage=serverauth, hosts=True, expired=True)
    self_signed = _certificate("127.0.0.1", self_key, None, usage=serverauth, hosts=True)
    client = _certificate("qscript test client", client_key, (ca, ca_key), usage=clientauth)
    stranger = _certificate("stranger", stranger_key, (other, other_key), usage=clientauth)
    files = {
        "ca": _pem(ca),
        "other_ca": _pem(other),
        "server_cert": _pem(server) + _pem(ca),
        "server_key": _key_pem(server_key),
        "expired_cert": _pem(expired) + _pem(ca),
        "expired_key": _key_pem(expired_key),
        "self_signed_cert": _pem(self_signed),
        "self_signed_key": _key_pem(self_key),
        "client_pfx": _pfx(client_key, client, ca),
        "client_cert": _pem(client),
        "client_key": _key_pem(client_key),
        "client_key_encrypted": _key_pem(client_key, PEM_KEY_PASSWORD),
        "client_combined": _pem(client) + _key_pem(client_key),
        "stranger_pfx": _pfx(stranger_key, stranger, other),
    }
    suffix = {"client_pfx": ".pfx", "stranger_pfx": ".pfx"}
    paths = {}
    for name, data in files.items():
        path = folder / (name + suffix.get(name, ".pem"))
        path.write_bytes(data)
        paths[name] = path
    return Pki(**paths)


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """A server-side context; with ``client_ca``, a client certificate from that CA is required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


class HttpsServer(LoopbackServer):
    """A ``LoopbackServer`` speaking TLS with ``context``; URLs use ``host`` (127.0.0.1 or localhost).

    ``handshake_errors`` lists the handshakes the server refused; ``peer_certificates`` the
    subjects of the client certificates it accepted.
    """

    def __init__(self, context: ssl.SSLContext, host: str = "127.0.0.1") -> None:
        super().__init__()
        self.host = host
        self.handshake_errors: list[str] = []
        self.peer_certificates: list[str] = []
        plain_finish = self.httpd.finish_request

        def finish_request(request: socket.socket, client_address: object) -> None:
            request.settimeout(10)
            tls = context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            try:
                tls.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                self.handshake_errors.append(str(exc))
                _linger(tls)
                return
            peer = tls.getpeercert()
            if peer:
                self.peer_certificates.append(dict(item for rdn in peer["subject"] for item in rdn)["commonName"])
            try:
                plain_finish(tls, client_address)
            finally:
                tls.close()

        self.httpd.finish_request = finish_request  # type: ignore[method-assign]

    def refused_handshakes(self, timeout: float = 5.0) -> list[str]:
        """``handshake_errors`` once the server has recorded one (or ``timeout`` passed).

        Under TLS 1.3 the client learns of a refused certificate from the server's alert,
        which is sent before the server thread records the error: reading the list at
        once races with that thread on a busy machine.
        """
        deadline = time.monotonic() + timeout
        while not self.handshake_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.handshake_errors

    @property
    def base(self) -> str:
        return f"https://{self.host}:{self.httpd.server_address[1]}"


def _linger(tls: ssl.SSLSocket) -> None:
    """Close a refused connection gracefully, as real servers do: read what the client already
    sent (its request, in TLS 1.3) before closing, so that the kernel does not answer with a
    reset that would destroy the alert telling the client why."""
    try:
        plain = socket.socket(fileno=tls.detach())
    except OSError:
        return
    with plain:
        try:
            plain.shutdown(socket.SHUT_WR)
            plain.settimeout(2)
            while plain.recv(65536):
                pass
        except OSError:
            pass
