"""Commit, reveal and verify on a real anvil, with a tiny fingerprinted model as the suspect."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import pytest

from modelmint.chain.contracts import FingerprintKind, ModelContract
from modelmint.errors import InputError, RevertError
from modelmint.fingerprints.oml.commitment import fingerprint_digest, read_secrets
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.fingerprints.oml.suspect import LocalModel, OpenAICompletions
from modelmint.hashing.merkle import MerkleTree, decode_leaf_list
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml, reveal_oml, verify_oml
from modelmint.storage import parse_uri

from oml_server import completions_server


def test_commit_reveal_verify(chain, deployed, store, tiny_marked, tiny_lm, tiny_fingerprints):
    token = register_model(chain, store, tiny_marked).token_id
    committed = commit_oml(chain, store, token, tiny_fingerprints)
    models = ModelContract(chain)
    on_chain = models.fingerprint(token, FingerprintKind.OML)
    assert "0x" + on_chain.commitment.hex() == committed.root and on_chain.uri == committed.uri

    # The public side: the document and digest list rebuild the root; nothing secret is in them.
    document = json.loads(store.get(parse_uri(committed.uri)))
    assert document["count"] == 8 and document["strategy"] == "random_word"
    assert document["nullMatchProbability"] == 1 / 8192
    digests = decode_leaf_list(store.get(parse_uri(document["leaves"])), 8)
    assert "0x" + MerkleTree.build(digests).root.hex() == committed.root
    public = store.get(parse_uri(committed.uri)) + store.get(parse_uri(document["leaves"]))
    assert not any(f.key.encode() in public for f in tiny_fingerprints)

    secrets_path = Path(committed.secrets_file)
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600 and str(chain.home.root) in str(secrets_path)
    assert read_secrets(secrets_path).root.hex() == committed.root[2:]

    revealed = reveal_oml(chain, token, 3, rng=random.Random(1))
    assert len(revealed.revealed) == 3 and revealed.revealed_total == 3 and revealed.gas_used > 0
    events = models.revealed_fingerprints(token)
    assert [e.key for e in events] == [r.key for r in revealed.revealed]
    assert all(fingerprint_digest(e.salt, e.key, e.response) == e.digest for e in events)
    assert sum(f.revealed for f in read_secrets(secrets_path).fingerprints) == 3

    marked = verify_oml(chain, store, token, LocalModel(tiny_marked))
    assert (marked.revealed, marked.matched) == (3, 3)
    assert marked.false_match_probability == pytest.approx(8192.0**-3)
    clean = verify_oml(chain, store, token, LocalModel(tiny_lm))
    assert clean.matched == 0 and clean.false_match_probability == 1.0

    with completions_server(tiny_marked) as url:
        served = verify_oml(chain, store, token, OpenAICompletions(url))
    assert served.matched == 3 and all(r.answer.startswith(r.response) for r in served.results)

    reveal_oml(chain, token, 5)
    with pytest.raises(InputError, match="only 0 of the 8 committed fingerprints are unrevealed"):
        reveal_oml(chain, token, 1)
    assert verify_oml(chain, store, token, LocalModel(tiny_marked)).matched == 8
    with pytest.raises(InputError, match="already has an OML commitment"):
        commit_oml(chain, store, token, tiny_fingerprints)


def test_reveals_the_contract_refuses(chain, deployed, store, tiny_marked, tiny_lm, tiny_fingerprints, tmp_path):
    first = register_model(chain, store, tiny_marked).token_id
    second = register_model(chain, store, tiny_lm).token_id
    committed = commit_oml(chain, store, first, tiny_fingerprints)

    with pytest.raises(RevertError) as before_commit:
        reveal_oml(chain, second, 1, secrets_path=Path(committed.secrets_file))
    assert before_commit.value.name == "ModelFingerprintNotCommitted"

    commit_oml(chain, store, second, [Fingerprint("another key", " other")], secrets_path=tmp_path / "second.json")
    with pytest.raises(RevertError) as mismatch:
        reveal_oml(chain, second, 2, secrets_path=Path(committed.secrets_file))
    assert mismatch.value.name == "ModelInvalidFingerprintProof"
    assert "use the secrets file" in str(mismatch.value)

    with pytest.raises(InputError, match="has no revealed OML fingerprints"):
        verify_oml(chain, store, first, LocalModel(tiny_marked))
