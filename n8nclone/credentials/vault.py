"""The credential vault: add, list, delete credentials, and resolve one for a step.

Secrets are encrypted before they reach the store and decrypted only by `resolve` (for a
step that names the credential). Everything else sees `CredentialInfo`: name, type,
masked hint and times. Adding a name that exists replaces its type and secret (how a key
is rotated; workflows naming it keep working).

The secret key is loaded on first use, so processes that never touch credentials never
create a key file; `n8nclone up` calls `ensure_key` as it starts. A new key is generated
only while no credential is stored: credentials encrypted with a lost key are never mixed
with ones under a new key.
"""

from __future__ import annotations

import json
import logging

from n8nclone.credentials.crypto import ENV_NAME, SecretKey, SecretKeyLoader, WrongSecretKey
from n8nclone.credentials.types import check_name, credential_type, masked_hint, parse_value
from n8nclone.engine.errors import NonRetriableError
from n8nclone.errors import UserInputError
from n8nclone.nodes.base import Credential
from n8nclone.store.credentials import CredentialInfo, CredentialStore

log = logging.getLogger("n8nclone.credentials")

FORMAT_VERSION = 1


class CredentialVault:
    def __init__(self, store: CredentialStore, key_loader: SecretKeyLoader):
        self.store = store
        self.key_loader = key_loader

    def _key(self) -> SecretKey:
        return self.key_loader.load(may_generate=lambda: self.store.count() == 0)

    def save(self, name: str, type: str, value: str) -> tuple[CredentialInfo, bool]:
        """Encrypt and store a credential given as `value` (see credentials.types); True
        when it is new, False when it replaced one of the same name. UserInputError for a
        bad name, type or value, or a secret key that does not match the stored ones."""
        check_name(name)
        data = parse_value(type, value)
        key = self._key()
        self._check_key_matches_others(key, name)
        plaintext = json.dumps({"v": FORMAT_VERSION, "type": type, "data": data})
        return self.store.save(name, type, masked_hint(type, data),
                               key.encrypt(plaintext.encode("utf-8")))

    def add(self, name: str, type: str, value: str) -> CredentialInfo:
        """`save` without saying whether it was new."""
        return self.save(name, type, value)[0]

    def _check_key_matches_others(self, key: SecretKey, name: str) -> None:
        sample = self.store.newest_other(name)
        if sample is None:
            return
        try:
            key.decrypt(sample.ciphertext, f"credential {sample.name!r}")
        except WrongSecretKey:
            raise WrongSecretKey(
                f"cannot save credential {name!r}: the stored credentials (such as "
                f"{sample.name!r}) cannot be decrypted with this secret key (from "
                f"{key.source}): they were created with another key. Set {ENV_NAME} to that "
                "key, or delete them first (`n8nclone credential delete NAME`)") from None

    def list(self) -> list[CredentialInfo]:
        return self.store.list()

    def get_info(self, name: str) -> CredentialInfo | None:
        return self.store.get(name)

    def delete(self, name: str) -> bool:
        """Delete the credential called `name`; False when there is none."""
        return self.store.delete(name)

    def resolve(self, name: str) -> Credential:
        """The credential called `name`, decrypted, for a step. NonRetriableError (a clear
        message without the secret) when there is none or it cannot be decrypted."""
        if not isinstance(name, str) or not name:
            raise NonRetriableError("a credential name must be a non-empty string")
        sealed = self.store.sealed(name)
        if sealed is None:
            raise NonRetriableError(f"no credential named {name!r}")
        try:
            plaintext = self._key().decrypt(sealed.ciphertext, f"credential {name!r}")
        except UserInputError as exc:  # wrong or unusable key: retrying cannot help
            raise NonRetriableError(str(exc)) from None
        payload = json.loads(plaintext)
        if payload.get("type") != sealed.type:
            raise NonRetriableError(f"credential {name!r} does not match its stored type; "
                                    "add it again")
        credential_type(sealed.type)
        return Credential(name=name, type=sealed.type, data=dict(payload["data"]))

    def ensure_key(self) -> bool:
        """Make sure a secret key exists (generating the key file when there is none and no
        credential is stored) and fits the stored credentials; log what is wrong instead of
        raising. For `n8nclone up` as it starts. True when credentials can be used."""
        try:
            key = self._key()
            sample = self.store.newest_other()
            if sample is not None:
                key.decrypt(sample.ciphertext, f"the stored credential {sample.name!r}")
        except UserInputError as exc:
            log.error("credentials cannot be used: %s", exc)
            return False
        if not key.generated:
            log.info("credentials are encrypted with the secret key from %s", key.source)
        return True
