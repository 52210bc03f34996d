"""Every domain's models, imported in one place so the metadata is complete."""

from certify.accounts.models import User, staff_trades
from certify.audit.models import AuditEvent
from certify.catalog.models import KnowledgeArea, Trade, TradeLevel

__all__ = ["AuditEvent", "KnowledgeArea", "Trade", "TradeLevel", "User", "staff_trades"]
