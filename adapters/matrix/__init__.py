"""Matrix chat platform (matrix-nio): threads per conversation, status reactions, optional E2EE."""

from adapters.matrix.platform import MatrixPlatform

__all__ = ["MatrixPlatform"]
