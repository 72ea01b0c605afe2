"""TLS settings for requests: which servers to trust, and the client certificate to show.

``tls.verify``:

* ``system`` (default): the operating system's CA bundle as OpenSSL finds it
  (``ssl.get_default_verify_paths()``, so ``SSL_CERT_FILE``/``SSL_CERT_DIR`` work as they do
  for every OpenSSL program, and CAs added with ``update-ca-certificates`` are trusted).
  Where the system has no file bundle (Windows, some macOS Pythons) it falls back to the
  Mozilla bundle requests ships (certifi) rather than to no validation.
* ``skip``: no validation at all. Every https request writes a warning to the reload log,
  because a setting that silently turns security off is easy to forget in production.
  urllib3's own ``InsecureRequestWarning`` is silenced for that host only: the log line
  replaces it, and Python warnings would only reach stderr, not the reload log.
* ``custom_ca``: only the CAs in the PEM file ``ca_file`` (no system CAs), as for a private PKI.

Client certificates (mutual TLS): Python's ``ssl`` loads certificates and keys from files
only. A PEM pair with an unencrypted key is used where it lies. A PKCS#12 (.pfx/.p12) file,
or a PEM key encrypted with ``client_cert_password``, is decrypted with ``cryptography`` into
a private temporary folder (mode 0700, files 0600) that ``close()`` removes; the decrypted
key is never written anywhere else.

Files are read on the first https request, not when the connection opens, so that
``LIB CONNECT`` to a connection that is never used cannot fail, and so that problems become
ScriptError 12 (subject to ErrorMode) naming the connection and the key involved. The
password never appears in any message.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import tempfile
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from urllib3.exceptions import InsecureRequestWarning

from qscript.connectors.rest.config import RestConfig, TlsConfig, origin_of
from qscript.errors import WrongFormatError

PrivateKey = PrivateKeyTypes


def system_ca_bundle() -> bool | str:
    """The system's CA file or folder for requests' ``verify``; True (certifi) when there is none."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile and os.path.isfile(paths.cafile):
        return paths.cafile
    if paths.capath and os.path.isdir(paths.capath) and any(os.scandir(paths.capath)):
        return paths.capath
    return True


class TlsSettings:
    """``verify`` and ``cert`` as requests takes them, ready after ``before_request``.

    ``close`` removes the private folder of decrypted client keys, if one was made; a
    finalizer does the same should the owner forget (or the process exit first).
    """

    def __init__(self, config: TlsConfig, connection: str, log: Callable[[str], None]) -> None:
        self.config = config
        self.connection = connection
        self.log = log
        self.verify: bool | str = config.verify != "skip"
        self.cert: str | tuple[str, str] | None = None
        self._ready = False
        self._private: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._quiet_hosts: set[str] = set()

    @classmethod
    def from_config(cls, config: RestConfig, connection: str, log: Callable[[str], None]) -> TlsSettings:
        return cls(config.tls, connection, log)

    # -- per request -----------------------------------------------------------------------
    def before_request(self, url: str) -> None:
        """Called before every request: loads the files once, warns on every skipped validation."""
        if urlsplit(url).scheme.lower() != "https":
            return  # no TLS, nothing to verify or present (a redirect to https comes back here)
        if not self._ready:
            self._prepare()
        if self.config.verify == "skip":
            self._warn_skip(url)

    def _warn_skip(self, url: str) -> None:
        origin = origin_of(url)
        self.log(f"WARNING: connection '{self.connection}': the TLS certificate of {origin} is not verified "
                 "(tls.verify = skip); anyone on the network path can read and change this traffic")
        host = urlsplit(url).hostname or ""
        if host not in self._quiet_hosts:  # our log line replaces urllib3's warning, for this host only
            self._quiet_hosts.add(host)
            message = f"Unverified HTTPS request is being made to host '{re.escape(host)}'"
            warnings.filterwarnings("ignore", message=message, category=InsecureRequestWarning)

    def _prepare(self) -> None:
        config = self.config
        if config.verify == "system":
            self.verify = system_ca_bundle()
        elif config.verify == "custom_ca":
            assert config.ca_file is not None  # the configuration guarantees it
            _check_ca_file(self._fail, config.ca_file)
            self.verify = str(config.ca_file)
        if config.client_cert is not None:
            self.cert = self._client_cert(config.client_cert)
        self._ready = True

    # -- client certificate ----------------------------------------------------------------
    def _client_cert(self, path: Path) -> str | tuple[str, str]:
        config = self.config
        if config.client_cert_format == "pkcs12":
            key, chain = self._open_pkcs12(path)
            return self._write_private(key, chain)
        data = _read(self._fail, "client_cert", path)
        chain = _pem_certificates(data)
        if not chain:
            raise self._fail("client_cert", f"{path} holds no PEM certificate")
        key_path = config.client_key or path  # without client_key the key sits in the certificate file
        key_key = "client_key" if config.client_key else "client_cert"
        key_data = data if config.client_key is None else _read(self._fail, "client_key", key_path)
        if b"PRIVATE KEY-----" not in key_data:
            raise self._fail(key_key, f"{key_path} holds no PEM private key"
                                      + ("" if config.client_key else " (set tls.client_key)"))
        key, encrypted = self._open_pem_key(key_data, key_key, key_path)
        _check_pair(self._fail, key, chain[0], key_key)
        if not encrypted:
            return (str(path), str(key_path)) if config.client_key else str(path)
        return self._write_private(key, chain)

    def _open_pkcs12(self, path: Path) -> tuple[PrivateKey, list[x509.Certificate]]:
        data = _read(self._fail, "client_cert", path)
        password = self.config.client_cert_password.encode("utf-8") or None
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            if password is None:
                raise self._fail("client_cert_password", f"is needed to open the PKCS#12 file {path} "
                                 "(or the file is not PKCS#12)") from None
            raise self._fail("client_cert_password", f"does not open the PKCS#12 file {path} "
                             "(wrong password, or the file is not PKCS#12)") from None
        if key is None or cert is None:
            raise self._fail("client_cert", f"the PKCS#12 file {path} must hold a certificate and its private key")
        return key, [cert, *extra]

    def _open_pem_key(self, data: bytes, key: str, path: Path) -> tuple[PrivateKey, bool]:
        """The key and whether it was encrypted (then it must be written decrypted to be used)."""
        password = self.config.client_cert_password.encode("utf-8")
        try:
            return serialization.load_pem_private_key(data, None), False  # type: ignore[return-value]
        except TypeError:  # encrypted: needs the password
            pass
        except ValueError:
            raise self._fail(key, f"{path} holds no readable PEM private key") from None
        if not password:
            raise self._fail("client_cert_password", f"is needed: the private key in {path} is encrypted")
        try:
            return serialization.load_pem_private_key(data, password), True  # type: ignore[return-value]
        except (TypeError, ValueError):
            raise self._fail("client_cert_password", f"does not decrypt the private key in {path}") from None

    def _write_private(self, key: PrivateKey, chain: list[x509.Certificate]) -> tuple[str, str]:
        """Write the decrypted key and its certificates into a fresh folder only this user can read."""
        folder = Path(tempfile.mkdtemp(prefix="qscript-tls-"))
        os.chmod(folder, 0o700)  # mkdtemp's default, made explicit
        self._private = folder
        self._cleanup = weakref.finalize(self, shutil.rmtree, folder, True)
        cert_path, key_path = folder / "client-cert.pem", folder / "client-key.pem"
        _write_0600(cert_path, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
        _write_0600(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
        return str(cert_path), str(key_path)

    def hint(self, reason: str) -> str:
        """What to change, for the transport to append to a TLS failure (``""`` when unsure).

        OpenSSL's reasons name the symptom (``unknown ca``, ``certificate required``); users
        need the setting that fixes it.
        """
        text = reason.lower()
        has_cert = self.config.client_cert is not None
        if "certificate verify failed" in text:
            if "expired" in text:
                return "; the server's certificate has expired"
            if "hostname mismatch" in text or "ip address mismatch" in text:
                return "; the server's certificate was issued for another host name"
            if self.config.verify == "system":
                return ("; the system trust store does not vouch for the server's certificate (for a private CA "
                        "set tls.verify = custom_ca and tls.ca_file)")
            return "; tls.ca_file does not vouch for the server's certificate"
        if "certificate required" in text or ("handshake failure" in text and not has_cert):
            return ("; the server requires a client certificate: set tls.client_cert" if not has_cert
                    else "; the server did not accept tls.client_cert")
        if any(alert in text for alert in ("unknown ca", "bad certificate", "certificate unknown", "access denied")):
            return "; the server refused the client certificate tls.client_cert" if has_cert else ""
        return ""

    @property
    def private_dir(self) -> Path | None:
        """The folder holding decrypted key material, while there is one (tests check its modes)."""
        return self._private

    def _fail(self, key: str, what: str) -> WrongFormatError:
        return WrongFormatError(f"connection '{self.connection}': tls.{key} {what}")

    def close(self) -> None:
        """Remove the decrypted key material; the settings load the files again if used later."""
        if self._cleanup is not None:
            self._cleanup()
        self._cleanup = None
        self._private = None
        self._ready = False
        self.cert = None


Fail = Callable[[str, str], WrongFormatError]


def _read(fail: Fail, key: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(key, f"cannot be read: {path}: {exc.strerror or type(exc).__name__}") from None


def _pem_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        return []


def _check_ca_file(fail: Fail, path: Path) -> None:
    """Read the CA file now, so that a wrong path is an error naming tls.ca_file, not a TLS failure."""
    if not _pem_certificates(_read(fail, "ca_file", path)):
        raise fail("ca_file", f"{path} holds no PEM certificate")


def _check_pair(fail: Fail, key: PrivateKey, cert: x509.Certificate, key_name: str) -> None:
    """A key that does not match its certificate fails here, not as an obscure handshake error."""
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*raw) != cert.public_key().public_bytes(*raw):
        raise fail(key_name, "is not the private key of tls.client_cert")


def _write_0600(path: Path, data: bytes) -> None:
    """Create the file with mode 0600 from the start (no window in which others may open it)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(handle, "wb") as file:
        file.write(data)
