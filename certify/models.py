"""Every domain's models, imported in one place so the metadata is complete."""

from certify.accounts.models import ApiToken, LoginSession, LoginThrottle, User, staff_trades
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
from certify.certificates.models import Certificate, CertificateSerial, SigningKey
from certify.cohorts.models import (
    Cohort,
    CohortSession,
    EligibilityRule,
    Enrolment,
    cohort_trainers,
)
from certify.core.blobs import Blob
from certify.endorsement.models import BatchItem, EndorsementBatch
from certify.exams.models import (
    AccessCodeLock,
    Attempt,
    AttemptAnswer,
    AttemptItem,
    ExamSession,
    ProctorEvent,
    SessionOverride,
)
from certify.jobs.models import Job
from certify.notifications.models import Notification
from certify.registration.models import Announcement, Application
from certify.results.models import Objection, PracticalScore, Result
from certify.training.models import (
    Material,
    MockAttempt,
    MockPaperItem,
    PracticeAnswer,
    WrongBookEntry,
)

__all__ = [
    "AccessCodeLock",
    "Announcement",
    "ApiToken",
    "Application",
    "Attempt",
    "AttemptAnswer",
    "AttemptItem",
    "AuditEvent",
    "BankImport",
    "BatchItem",
    "Blob",
    "BlueprintQuota",
    "BlueprintSection",
    "Certificate",
    "CertificateSerial",
    "Cohort",
    "CohortSession",
    "EligibilityRule",
    "EndorsementBatch",
    "Enrolment",
    "ExamBlueprint",
    "ExamSession",
    "Job",
    "KnowledgeArea",
    "LoginSession",
    "LoginThrottle",
    "Material",
    "MockAttempt",
    "MockPaperItem",
    "Notification",
    "Objection",
    "PracticalScore",
    "PracticeAnswer",
    "ProctorEvent",
    "Question",
    "QuestionVersion",
    "Result",
    "SessionOverride",
    "SigningKey",
    "Trade",
    "TradeLevel",
    "User",
    "WrongBookEntry",
    "cohort_trainers",
    "staff_trades",
]
