"""OML 1.0 fingerprints: secret (key, response) pairs trained into a model.

The owner generates pairs (:mod:`.generate`), trains them into the model (:mod:`.embed`),
checks they are recalled (:mod:`.check`), and commits to them on-chain as a Merkle root of
salted leaves (:mod:`.commitment`); revealing some later, with their salts and proofs,
shows that a suspect model answering them derives from the committed one
(:mod:`.suspect` queries it). docs/oml.md specifies the file format, the leaf encoding and
the false-match estimate.
"""

from modelmint.fingerprints.oml.file import Fingerprint, read_fingerprints, read_keys, write_fingerprints

__all__ = ["Fingerprint", "read_fingerprints", "read_keys", "write_fingerprints"]
