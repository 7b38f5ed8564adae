"""A local emulator of the Sheets v4, Forms v1 and Drive v3 subset gsync uses.

Routes, parameters and request bodies are validated against Google's own discovery documents
(shipped in google-api-python-client), and answered in Google's error shape.
"""
