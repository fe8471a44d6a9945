"""Matrix chat platform: threads per conversation, status reactions, optional E2EE (nio)."""

from adapters.matrix.platform import MatrixPlatform

__all__ = ["MatrixPlatform"]
