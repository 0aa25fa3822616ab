"""Data migration: buildings, units, residents and meter readings from CSV and Excel files.

`parse` reads a file into typed rows and every problem a row has on its own; the `RunImport`
handler checks the rows against the database and, only when nothing is wrong and a commit was
asked for, writes them through the modules' own handlers in one transaction.
"""
