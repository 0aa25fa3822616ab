"""The service layer: one plain async function per command, grouped by area."""
