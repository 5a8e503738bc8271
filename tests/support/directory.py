"""A directory for tests that name their hiring managers and account admins outright."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Listed:
    managers: set[str] = field(default_factory=set)
    admins: set[str] = field(default_factory=set)

    async def is_hiring_manager(self, workspace_id: str, user_id: str) -> bool:
        return user_id in self.managers

    async def is_account_admin(self, workspace_id: str, user_id: str) -> bool:
        return user_id in self.admins
