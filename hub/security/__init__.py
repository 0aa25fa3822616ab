"""Cryptography adapters: password hashing, tokens, and encryption of personal data."""
