"""Provenance where training happens: the Hugging Face stack calling modelmint's use cases.

- :mod:`modelmint.integrations.transformers`: :class:`~modelmint.integrations.transformers.ProvenanceCallback`,
  a ``transformers`` ``TrainerCallback`` that commits the training data, registers the base
  and the fine-tuned model with their lineage, and writes the model card.
- :mod:`modelmint.integrations.hf_datasets`: commit a ``datasets`` object in memory.
- :mod:`modelmint.integrations.provenance`: the resumable record the callback leaves, and
  :func:`~modelmint.integrations.provenance.resume_provenance` that completes it.
- :mod:`modelmint.integrations.cards`: write a registered model's card and check one against the chain.

Each is a thin layer over :mod:`modelmint.registry`; docs/integrations.md describes them.
Nothing here is imported by the lower layers, and ``transformers`` is imported only by the
callback's module.
"""
