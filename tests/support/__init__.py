"""Shared test helpers and pytest plugins; imported by the suite, never by the bot."""
