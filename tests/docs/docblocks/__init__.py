"""Runs the shell blocks of hull's Markdown docs (tests/docs/run-doc-blocks)."""
