"""The secret key that encrypts credentials at rest, and the encryption itself (Fernet:
AES-128-CBC with an HMAC-SHA256, so a wrong key is detected, never decrypted to garbage).

The key comes from `N8NCLONE_SECRET_KEY`, else from the file `<data dir>/secret.key`. With
neither, the first use generates one into that file (readable by its owner only) and logs
where it is: the credentials are lost without it, so it must be backed up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from n8nclone.config import Settings
from n8nclone.errors import UserInputError

log = logging.getLogger("n8nclone.credentials")

KEY_FILE_NAME = "secret.key"
ENV_NAME = "N8NCLONE_SECRET_KEY"


class SecretKeyError(UserInputError):
    """The secret key cannot be used: malformed, unreadable, or missing while credentials
    encrypted with it exist."""


class WrongSecretKey(UserInputError):
    """Stored data does not decrypt with this secret key (it was encrypted with another)."""


@dataclass(frozen=True)
class SecretKey:
    """A usable key and where it came from (`source` is fit to show; the key is not)."""

    fernet: Fernet
    source: str  # "N8NCLONE_SECRET_KEY" or the key file's path
    generated: bool = False  # created by this process just now

    def __repr__(self) -> str:  # never the key, whatever prints this
        return f"SecretKey(source={self.source!r}, generated={self.generated})"

    def encrypt(self, plaintext: bytes) -> str:
        return self.fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, token: str, what: str) -> bytes:
        """The plaintext of `token`; WrongSecretKey naming `what` when this key did not
        encrypt it (or the token was altered)."""
        try:
            return self.fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError, ValueError):
            raise WrongSecretKey(
                f"{what} cannot be decrypted with this secret key (from {self.source}): was "
                f"it created with another key? Set {ENV_NAME} to the key it was created "
                "with, or add it again") from None


def fernet_from_text(text: str, source: str) -> Fernet:
    """The Fernet of a key given as text; SecretKeyError (never the text) when it is not a
    Fernet key."""
    try:
        return Fernet(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise SecretKeyError(
            f"the secret key in {source} is not a valid key: it must be 32 random bytes in "
            "URL-safe base64 (44 characters), such as the output of "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`") from None


class SecretKeyLoader:
    """Finds the secret key on first use (and keeps it): `N8NCLONE_SECRET_KEY`, else the key
    file; generates the key file when there is neither and `may_generate` allows it."""

    def __init__(self, env_key: str | None, key_file: Path):
        self.env_key = env_key
        self.key_file = Path(key_file)
        self._key: SecretKey | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretKeyLoader:
        return cls(settings.secret_key, settings.data_dir / KEY_FILE_NAME)

    def load(self, may_generate: Callable[[], bool] = lambda: True) -> SecretKey:
        """The key. When none exists yet, `may_generate()` is asked before one is made;
        False raises SecretKeyError (data encrypted with a lost key must not be mixed with
        data under a new one)."""
        with self._lock:
            if self._key is None:
                self._key = self._find() or self._generate(may_generate)
            return self._key

    def _find(self) -> SecretKey | None:
        if self.env_key:
            return SecretKey(fernet_from_text(self.env_key, ENV_NAME), ENV_NAME)
        try:
            text = self.key_file.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "it is not text"
            raise SecretKeyError(f"cannot read the secret key file {self.key_file}: "
                                 f"{reason}") from None
        self._warn_if_others_can_read()
        return SecretKey(fernet_from_text(text, str(self.key_file)), str(self.key_file))

    def _warn_if_others_can_read(self) -> None:
        with contextlib.suppress(OSError):
            if stat.S_IMODE(self.key_file.stat().st_mode) & 0o077:
                log.warning("the secret key file %s can be read by other users: "
                            "chmod 600 %s", self.key_file, self.key_file)

    def _generate(self, may_generate: Callable[[], bool]) -> SecretKey:
        if not may_generate():
            raise SecretKeyError(
                f"there are stored credentials but no secret key to decrypt them: "
                f"{ENV_NAME} is not set and {self.key_file} does not exist. Restore the key "
                "they were encrypted with, or delete them (`n8nclone credential delete "
                "NAME`) to start over with a new key")
        key = Fernet.generate_key()
        if not _create_key_file(self.key_file, key):
            # Another process created it first: use that one.
            found = self._find()
            assert found is not None
            return found
        log.warning("generated a secret key for credentials into %s (readable by its owner "
                    "only). Back it up: stored credentials cannot be decrypted without it. "
                    "To manage the key yourself, set %s instead.", self.key_file, ENV_NAME)
        return SecretKey(Fernet(key), str(self.key_file), generated=True)


def _create_key_file(path: Path, key: bytes) -> bool:
    """Write `key` into a new file at `path`, mode 0600; False when `path` exists already.

    The key is written to a private temporary file that is then linked to `path`: the link
    fails if `path` exists, and a racing process never sees a half-written key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key + b"\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create the file in place
            return _create_in_place(path, key)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _create_in_place(path: Path, key: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        file.write(key + b"\n")
        file.flush()
        os.fsync(file.fileno())
    return True
