"""The HTTP API: translates requests into commands and views, and errors into responses."""
