"""Model fingerprints: ``huref`` (invariants of the weights) and ``oml`` (secret prompt/response
pairs trained into a model, committed on-chain and revealed to prove ownership)."""
