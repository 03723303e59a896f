"""Data: layer definitions, the Station model, the store contract and its implementations."""
