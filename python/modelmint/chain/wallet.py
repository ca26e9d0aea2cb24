"""Signing keys: the anvil dev keys on the devnet only, encrypted keystores everywhere else.

Keys never land on disk in plain text: a keystore is an eth-account (Web3 Secret Storage)
JSON file, and its password comes from ``$MODELMINT_KEYSTORE_PASSWORD`` or a prompt.
The anvil dev keys are public knowledge, so they are used only on the devnet this project
folder recorded (``modelmint devnet start``): a loopback URL on the recorded port, reporting
31337. A remote node can claim any chain id, and so can any other local one; a claim signed
with a public key proves nothing.
"""

from __future__ import annotations

import getpass
import ipaddress
import json
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount

from modelmint._files import write_atomic
from modelmint.chain.devnet import DEV_CHAIN_ID
from modelmint.errors import ChainError, InputError

PASSWORD_ENV = "MODELMINT_KEYSTORE_PASSWORD"
KEYSTORE_ENV = "MODELMINT_KEYSTORE"
# The mnemonic anvil, Hardhat and Ganache derive their default accounts from.
_DEV_MNEMONIC = "test test test test test test test test test test test junk"
_DEV_ACCOUNTS = 10


def dev_account(index: int = 0) -> LocalAccount:
    return _dev_accounts()[index]


def is_dev_address(address: str) -> bool:
    return address.lower() in {a.address.lower() for a in _dev_accounts()}


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names a node on this machine (127.0.0.0/8, ::1 or localhost)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_recorded_devnet(rpc_url: str | None, devnet_url: str | None) -> bool:
    """Whether ``rpc_url`` reaches the devnet recorded at ``devnet_url``: both loopback, same port.

    The port is what names the node on this machine (``localhost`` and ``127.0.0.1`` reach
    the same socket); without a record there is no devnet, only some node.
    """
    if devnet_url is None or not is_loopback_url(devnet_url):
        return False
    if rpc_url is None:
        return True
    try:
        return is_loopback_url(rpc_url) and urlsplit(rpc_url).port == urlsplit(devnet_url).port
    except ValueError:
        return False


def load_signer(
    chain_id: int, keystore: Path | None = None, rpc_url: str | None = None, *, devnet_url: str | None = None
) -> LocalAccount:
    """The account that signs on ``chain_id``, as reported by the node at ``rpc_url``.

    ``devnet_url`` is the URL of the devnet the project folder recorded, if one runs
    (:func:`modelmint.chain.devnet.status`). Without a keystore: the first anvil dev account
    on chain 31337 when ``rpc_url`` is that devnet, a refusal elsewhere. With one: its
    decrypted account, refused if it holds a dev key anywhere but that devnet.
    """
    keystore = keystore or _env_path(KEYSTORE_ENV)
    if chain_id == DEV_CHAIN_ID and not is_recorded_devnet(rpc_url, devnet_url):
        if keystore is None:
            remote = rpc_url is not None and not is_loopback_url(rpc_url)
            where = "is not on this machine" if remote else "is not the devnet this project folder recorded"
            raise ChainError(
                f"the node at {rpc_url} reports chain 31337 but {where}, so the public anvil dev keys are refused",
                "start this project's devnet (devnet.start) and use it, or sign with a keystore of a key of your own",
                hint="remote-devnet",
            )
        account = _decrypt(keystore)
        if is_dev_address(account.address):
            raise ChainError(
                f"{keystore} holds a public anvil dev key ({account.address}), refused on {rpc_url}, "
                "which is not this project's devnet",
                "use a keystore of a private key of your own (wallet.create_keystore makes one)",
                hint="own-key",
            )
        return account
    if keystore is None:
        if chain_id == DEV_CHAIN_ID:
            return dev_account(0)
        raise ChainError(
            f"chain {chain_id} is not the devnet (31337), so the public anvil dev keys are refused",
            f"sign with an encrypted eth-account keystore (wallet.create_keystore makes one), "
            f"with its password in ${PASSWORD_ENV} or typed at the prompt",
            hint="keystore",
            hint_values={"password_env": PASSWORD_ENV},
        )
    account = _decrypt(keystore)
    if chain_id != DEV_CHAIN_ID and is_dev_address(account.address):
        raise ChainError(
            f"{keystore} holds a public anvil dev key ({account.address}), refused on chain {chain_id}",
            "use a keystore of a private key of your own (wallet.create_keystore makes one)",
            hint="own-key",
        )
    return account


def create_keystore(path: Path, password: str, private_key: str | None = None) -> str:
    """Write a new (or imported) key to ``path`` encrypted with ``password``; return its address."""
    if path.exists():
        raise InputError(f"{path} already exists", "choose another path; keystores are never overwritten")
    if not password:
        raise InputError(
            "an empty keystore password was given", f"set ${PASSWORD_ENV} or type a password at the prompt"
        )
    account: LocalAccount = Account.from_key(_private_key(private_key)) if private_key else Account.create()
    encrypted = Account.encrypt(account.key, password)
    write_atomic(path, json.dumps(encrypted, indent=2).encode())
    os.chmod(path, 0o600)
    return account.address


_PRIVATE_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


def _private_key(text: str) -> str:
    """A secp256k1 key given as exactly 64 hex digits; eth-account would zero-pad a shorter one."""
    found = _PRIVATE_KEY.fullmatch(text.strip())
    if found is None:
        digits = len(text.strip().removeprefix("0x"))
        raise InputError(
            f"the private key is not 64 hex digits (got {digits} characters)",
            "paste the whole key: 64 hexadecimal digits, with or without 0x; nothing was written",
        )
    return "0x" + found.group(1)


def read_password(confirm: bool = False) -> str:
    """The keystore password from the environment, else a prompt; never a command-line flag."""
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise InputError(
            "a keystore password is needed and there is no terminal to ask on",
            f"set ${PASSWORD_ENV}",
        )
    password = getpass.getpass("Keystore password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise InputError("the two passwords differ", "run the command again")
    return password


def _decrypt(path: Path) -> LocalAccount:
    try:
        encrypted = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(
            f"cannot read keystore {path} ({exc.strerror})", "check the keystore path", hint="keystore-path"
        ) from None
    except ValueError:
        raise InputError(
            f"{path} is not a JSON keystore", "pass an eth-account encrypted keystore file"
        ) from None
    try:
        key = Account.decrypt(encrypted, read_password())
    except (KeyError, TypeError, AttributeError):  # eth-account's answer to JSON missing a keystore's fields
        raise InputError(
            f"{path} is not an eth-account keystore", "pass an eth-account encrypted keystore file"
        ) from None
    except ValueError:
        raise InputError(
            f"cannot decrypt keystore {path}: wrong password", f"check ${PASSWORD_ENV}"
        ) from None
    account: LocalAccount = Account.from_key(key)
    return account


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


@lru_cache(maxsize=1)
def _dev_accounts() -> tuple[LocalAccount, ...]:
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(_DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(_DEV_ACCOUNTS)
    )
