import pytest
import sqlalchemy as sa

from certify.audit.models import AuditEvent
from certify.banks import services
from certify.banks.importer import import_bank
from certify.banks.models import Question, QuestionStatus, QuestionVersion
from certify.banks.types import QuestionType
from certify.core.errors import Conflict, ValidationFailed
from certify.extensions import db
from tests.banks.conftest import ROWS, csv_bytes


@pytest.fixture
def question(trade):
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    return db.session.scalar(sa.select(Question).order_by(Question.id))


def _edit(question, **changes):
    current = question.current
    values = dict(
        type=current.type,
        stem=current.stem,
        options=[(o["key"], o["text"]) for o in current.options],
        correct=current.correct,
        area_id=current.area_id,
        difficulty=current.difficulty,
        explanation=current.explanation,
        source=current.source,
    )
    values.update(changes)
    return services.edit_question(question, services.QuestionEdit(**values))


def test_an_unseen_version_is_corrected_in_place(question):
    version_id = question.current.id
    _edit(question, stem="仓库的消防通道应当（  ）。")
    db.session.commit()
    assert question.version == 1 and question.current.id == version_id
    assert question.current.stem == "仓库的消防通道应当（  ）。"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "question.edited"))
    assert event.before["stem"] == "仓库消防通道应当（  ）。"


def test_a_shown_version_is_kept_and_a_new_one_made(question, monkeypatch):
    shown = question.current
    shown_id, shown_stem = shown.id, shown.stem
    monkeypatch.setattr(services, "version_was_shown", lambda version: version.id == shown_id)
    _edit(question, stem="新题干（  ）。", correct=["A"])
    db.session.commit()
    db.session.expire_all()
    assert question.version == 2 and question.current.stem == "新题干（  ）。"
    old = db.session.get(QuestionVersion, shown_id)
    assert old.stem == shown_stem and old.correct == ["B"] and old.number == 1


def test_edits_follow_the_same_rules_as_imports(question):
    with pytest.raises(ValidationFailed) as caught:
        _edit(question, correct=["A", "B"])
    assert caught.value.problems[0].field == "答案"
    with pytest.raises(ValidationFailed):
        _edit(question, type=QuestionType.MULTIPLE, correct=["A"])
    other = db.session.scalars(sa.select(Question).order_by(Question.id)).all()[1]
    with pytest.raises(ValidationFailed, match="already has this text"):
        _edit(
            question,
            type=other.current.type,
            stem=other.current.stem,
            options=[(o["key"], o["text"]) for o in other.current.options],
            correct=other.current.correct,
        )


def test_retire_and_reactivate_are_guarded_and_audited(question):
    services.retire_question(question)
    assert question.status is QuestionStatus.RETIRED
    with pytest.raises(Conflict):
        question.retire()
    services.reactivate_question(question)
    with pytest.raises(Conflict):
        question.reactivate()
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["question.retired", "question.reactivated"]


def test_retired_questions_do_not_count_as_available(trade, question):
    before = services.bank_totals(trade)
    services.retire_question(question)
    after = services.bank_totals(trade)
    assert after["active"] == before["active"] - 1 and after["retired"] == 1
