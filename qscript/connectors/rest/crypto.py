"""Encrypted header values (``enc:`` tokens) in connection files.

A header written ``{ value = "enc:...", encrypt = true }`` holds a Fernet token (AES-128-CBC
plus HMAC-SHA256: authenticated, so a wrong key or an edited token is detected, never
decrypted into garbage that would then be sent). The key is read, in this order, from:

1. ``$QSCRIPT_KEY``: a Fernet key (44 characters of URL-safe base64), for CI and servers;
2. the key file: ``$QSCRIPT_KEY_FILE`` if set, else ``<config dir>/qscript/key`` where the
   config dir is ``%APPDATA%`` on Windows and ``$XDG_CONFIG_HOME`` or ``~/.config`` elsewhere.

Only encrypting creates a key (``load_key(create=True)``), as a file of mode 0600 in a
folder of mode 0700: a new key made while *decrypting* could never open an existing token,
it would only hide the real problem. A key file that other users can read is refused, as
ssh refuses such private keys.

Errors name the connection, the header and where the key came from, never the key, the
token or the plain value. Decryption is lazy (the key is read on the first ``enc:`` token),
so connections without encrypted headers never touch the key.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from qscript.errors import ConfigError

if TYPE_CHECKING:
    from qscript.connectors.rest.config import RestConfig

#: Environment variable holding the key itself.
KEY_ENV = "QSCRIPT_KEY"
#: Environment variable naming the key file.
KEY_FILE_ENV = "QSCRIPT_KEY_FILE"
#: What an encrypted header value starts with.
PREFIX = "enc:"
#: Characters a header value may not contain (they would split or end the header).
FORBIDDEN = ("\r", "\n", "\0")

#: ``yyyy-MM-dd-HH:mm:ssZ`` (Qlik's spelling), e.g. ``2024-01-31-13:45:30Z``.
DATE_FORMAT = "yyyy-MM-dd-HH:mm:ssZ"
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True)
class Key:
    """A loaded key. ``where`` says where it came from, for messages ('$QSCRIPT_KEY', 'key file ...')."""

    fernet: Fernet
    where: str
    created: bool = False

    def __repr__(self) -> str:  # never the key material
        return f"Key(where={self.where!r}, created={self.created!r})"

    def encrypt(self, value: str) -> str:
        """``enc:`` + a Fernet token for ``value``."""
        return PREFIX + self.fernet.encrypt(value.encode("utf-8")).decode("ascii")


def key_file_path(environ: Mapping[str, str]) -> Path:
    """``$QSCRIPT_KEY_FILE``, else the per-user config folder's ``qscript/key``."""
    named = environ.get(KEY_FILE_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    if sys.platform == "win32" and environ.get("APPDATA"):
        base = Path(environ["APPDATA"])
    elif environ.get("XDG_CONFIG_HOME", "").strip():
        base = Path(environ["XDG_CONFIG_HOME"]).expanduser()
    else:
        home = environ.get("HOME", "").strip()
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "qscript" / "key"


def _fernet(text: str, where: str) -> Fernet:
    try:
        return Fernet(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        raise ConfigError(f"{where} does not hold a valid key (a Fernet key: 32 bytes in URL-safe base64, "
                          "44 characters)") from None


def load_key(environ: Mapping[str, str], *, create: bool = False) -> Key:
    """The key from ``$QSCRIPT_KEY`` or the key file; ``create`` makes the file when there is none."""
    text = environ.get(KEY_ENV, "")
    if text.strip():
        return Key(_fernet(text, f"${KEY_ENV}"), f"${KEY_ENV}")
    path = key_file_path(environ)
    where = f"key file {path}"
    try:
        return Key(_fernet(_read_key_file(path), where), where)
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"no key to decrypt with: ${KEY_ENV} is not set and {where} does not exist "
                              f"(set ${KEY_ENV} or ${KEY_FILE_ENV} to the key the values were encrypted "
                              "with)") from None
    created = _create_key_file(path)
    return Key(_fernet(_read_key_file(path), where), where, created=created)


def _read_key_file(path: Path) -> str:
    """The file's text; refuses a file other users may read or write (the key is a password)."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"key file {path} is a folder")
        if os.name == "posix" and info.st_mode & 0o077:
            raise ConfigError(f"key file {path} is accessible by other users (mode "
                              f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError:
        raise ConfigError(f"key file {path} does not hold a valid key (it is not ASCII text)") from None
    except OSError as error:
        raise ConfigError(f"key file {path} cannot be read: {error.strerror}") from None


def _create_key_file(path: Path) -> bool:
    """Write a new key with mode 0600; False when another process created the file first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as error:
        raise ConfigError(f"cannot create key file {path}: {error.strerror}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)  # the umask can only remove bits; make the mode exact anyway
        os.write(descriptor, Fernet.generate_key() + b"\n")
    finally:
        os.close(descriptor)
    return True


def check_header_value(value: str) -> str | None:
    """Why ``value`` cannot be sent as a header value, or None."""
    if not value:
        return "the value is empty"
    if any(ch in value for ch in FORBIDDEN):
        return "the value contains a line break or NUL character"
    return None


def date_header_problem(value: str) -> str | None:
    """Why ``value`` is not a ``Date`` header value as ``yyyy-MM-dd-HH:mm:ssZ``, or None."""
    if _DATE_PATTERN.fullmatch(value):
        try:
            datetime.strptime(value, "%Y-%m-%d-%H:%M:%SZ")
            return None
        except ValueError:
            return f"is not a real date and time (write {DATE_FORMAT}, for example 2024-01-31-13:45:30Z)"
    return f"must be written {DATE_FORMAT}, for example 2024-01-31-13:45:30Z"


def decrypt_token(token: str, key: Key, what: str, again: str = "qscript connections encrypt") -> str:
    """The plain value of ``token``; ``what`` names the header in messages, ``again`` the fix."""
    if not token.startswith(PREFIX):
        raise ConfigError(f"{what} is not an {PREFIX} token")
    try:
        plain = key.fernet.decrypt(token[len(PREFIX):].strip().encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        raise ConfigError(f"{what} cannot be decrypted with the key from {key.where} (it was encrypted with "
                          f"another key, or the enc: value was changed); encrypt it again with: {again}") from None
    try:
        value = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} does not decrypt to UTF-8 text") from None
    problem = check_header_value(value)
    if problem is not None:
        raise ConfigError(f"{what} cannot be sent: after decryption {problem}")
    return value


def decryptor_from_environ(environ: Mapping[str, str], config: RestConfig | None = None) -> Callable[[str], str]:
    """A function turning an ``enc:`` token into its plain value.

    With ``config``, messages name the connection and the header (found by its token), and a
    decrypted ``Date`` header is checked against ``yyyy-MM-dd-HH:mm:ssZ``. The key is read on
    the first call and kept; ``environ`` is read then, not now.
    """
    headers = {h.value: h.name for h in config.headers if h.encrypt} if config is not None else {}
    loaded: list[Key] = []

    def decrypt(token: str) -> str:
        header = headers.get(token)
        if config is not None and header is not None:
            what = f"connection '{config.name}': header '{header}' (encrypt = true)"
        elif config is not None:
            what = f"connection '{config.name}': an encrypted header value"
        else:
            what = "an encrypted header value"
        if not loaded:
            try:
                loaded.append(load_key(environ))
            except ConfigError as error:
                raise ConfigError(f"{what}: {error}") from None
        again = "qscript connections encrypt"
        if config is not None and header is not None:
            again += f" {_shell_word(config.name)} {header}"
        value = decrypt_token(token, loaded[0], what, again)
        if header is not None and header.lower() == "date":
            problem = date_header_problem(value)
            if problem is not None:
                raise ConfigError(f"{what}: the decrypted value {problem}")
        return value

    return decrypt


def _shell_word(text: str) -> str:
    """``text`` as one shell word in a hint (quoted when it has spaces or quotes)."""
    return text if re.fullmatch(r"[A-Za-z0-9_.:/-]+", text) else '"' + text.replace('"', '\\"') + '"'
