"""Models read for registration: the weights manifest and the facts for the metadata.

A model is a Hugging Face folder, a GGUF file, or a Hub repo id (:func:`open_model`). Its
*weights manifest* lists every file as (path, SHA-256, size) and reduces to one bytes32
root, the commitment a ModelNFT holds; docs/hashing.md ("Model weights manifest") specifies
it and docs/models.md the metadata. Nothing here loads weights: headers and configs only.
"""

from modelmint.models._details import ModelDetails
from modelmint.models._files import IGNORED
from modelmint.models._manifest import (
    SCHEME as MANIFEST_SCHEME,
)
from modelmint.models._manifest import (
    FileDifference,
    ManifestDiff,
    ManifestEntry,
    WeightsManifest,
)
from modelmint.models._source import ModelSource, open_model

__all__ = [
    "IGNORED",
    "MANIFEST_SCHEME",
    "FileDifference",
    "ManifestDiff",
    "ManifestEntry",
    "ModelDetails",
    "ModelSource",
    "WeightsManifest",
    "open_model",
]
