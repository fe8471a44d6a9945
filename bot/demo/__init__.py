"""Throwaway local infrastructure for ``empfang demo`` and the end-to-end tests.

Nothing here is used by the bot in production: it exists so that the first command of the
README and the test suite run against a real homeserver without any account anywhere.
"""
