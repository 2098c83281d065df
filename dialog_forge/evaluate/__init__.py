"""Evaluation: perplexity, generation metrics, retention, A/B comparison, quantisation loss, sweeps."""
