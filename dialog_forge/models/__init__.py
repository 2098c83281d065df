"""Model loading shared by steps: sentence embeddings (dedup, augment checks, score)."""
