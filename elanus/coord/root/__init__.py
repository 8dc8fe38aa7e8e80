"""Root coordinator: DDL/DCL, TSO, ids."""

from elanus.coord.root.coordinator import RootCoordImpl

__all__ = ["RootCoordImpl"]
