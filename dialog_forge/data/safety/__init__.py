"""Safety lexicons: <category>.<lang>.txt, one term per line."""
