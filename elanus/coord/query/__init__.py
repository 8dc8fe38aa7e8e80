"""Query coordinator: channel leaders, sealed-segment placement, load state and handoff."""

from elanus.coord.query.coordinator import QueryCoordImpl

__all__ = ["QueryCoordImpl"]
