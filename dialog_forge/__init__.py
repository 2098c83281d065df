"""dialog-forge: turn raw chatbot dialogue logs into clean, scored, leakage-free training data, then
fine-tune and evaluate LoRA/QLoRA adapters on it. The command-line entry point is ``forge``."""

__version__ = "0.1.0"
