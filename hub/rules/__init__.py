"""Declarative rules from config/rules/*.yaml (the rules issue builds the engine here)."""
