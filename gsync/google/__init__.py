"""Transport to Google: credentials, client factories and bounded retry."""
