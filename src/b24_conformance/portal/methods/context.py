"""What every method handler is given and shares: the `CallContext`, the `MethodSpec` shape, and the
rights checks that several method families make before they touch the domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import CatalogRecords
from ..database import PortalDB
from ..deviations import FAITHFUL, Deviations
from ..entities import PortalRecord, Rights
from ..errors import PortalError
from ..inventory import Inventory
from ..settings import PortalSettings
from ..sqlite_repository import SqliteInventory


@dataclass
class CallContext:
    """Built by the HTTP layer for one call."""

    db: PortalDB
    settings: PortalSettings
    portal: PortalRecord
    user_id: int
    now: float  # unix time of the call
    deviations: Deviations = FAITHFUL  # the domain deviations switched on (a faithful portal: none)

    @property
    def rights(self) -> Rights:
        return self.db.rights(self.portal.id, self.user_id)

    def inventory(self) -> Inventory:
        """The inventory domain as this caller sees it, over the portal's SQLite database."""
        return Inventory.open(
            SqliteInventory(self.db, self.portal.id), self.portal, self.user_id, self.now,
            require_contractor=self.settings.require_contractor, deviations=self.deviations,
        )

    def catalog(self) -> CatalogRecords:
        return CatalogRecords(self.db, self.portal.id, self.user_id, self.now)


Handler = Callable[[CallContext, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str  # canonical camelCase name, e.g. "catalog.document.cancelList"
    handler: Handler
    scope: str = "catalog"
    batch_allowed: bool = True


def require_read(ctx: CallContext, key: str) -> None:
    """The catalog read right (an administrator has it), else `key`."""
    if not ctx.rights.may_read:
        raise PortalError(key)


def require_admin(ctx: CallContext) -> CatalogRecords:
    """The catalog CRUD, for an administrator only (`admin.denied`)."""
    if not ctx.rights.is_admin:
        raise PortalError("admin.denied")
    return ctx.catalog()
