"""Faithful fake servers speaking the real wire protocols (Slack, …) for tests."""
