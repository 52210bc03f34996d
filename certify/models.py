"""Every domain's models, imported in one place so the metadata is complete."""

from certify.accounts.models import User, staff_trades
from certify.audit.models import AuditEvent
from certify.banks.models import (
    BankImport,
    BlueprintQuota,
    BlueprintSection,
    ExamBlueprint,
    Question,
    QuestionVersion,
)
from certify.catalog.models import KnowledgeArea, Trade, TradeLevel

__all__ = [
    "AuditEvent",
    "BankImport",
    "BlueprintQuota",
    "BlueprintSection",
    "ExamBlueprint",
    "KnowledgeArea",
    "Question",
    "QuestionVersion",
    "Trade",
    "TradeLevel",
    "User",
    "staff_trades",
]
