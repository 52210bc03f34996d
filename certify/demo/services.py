"""Loading the demo data through the same services a person would use, idempotently."""

from __future__ import annotations

import sqlalchemy as sa

from certify.accounts.models import User
from certify.accounts.services import UserData, create_user
from certify.banks.blueprints import load_blueprint_json
from certify.banks.importer import import_bank
from certify.banks.models import ExamBlueprint, Question
from certify.catalog.models import Trade
from certify.catalog.services import TradeData, create_trade, ensure_area_path
from certify.cohorts.models import Cohort, Enrolment
from certify.cohorts.services import CohortData, create_cohort
from certify.demo import data
from certify.extensions import db


def load_demo() -> dict[str, list[str]]:
    """Add what is missing; never touch what an administrator may have changed since."""
    report: dict[str, list[str]] = {"created": [], "present": []}
    for spec in data.TRADES:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == spec["code"]))
        if trade is None:
            trade = create_trade(
                TradeData(
                    code=spec["code"],
                    name=spec["name"],
                    certificate_type=spec["certificate_type"],
                    levels=list(spec["levels"]),
                    description=spec["description"],
                )
            )
            for path in spec["areas"]:
                ensure_area_path(trade, path)
            report["created"].append(f"trade {trade.code}")
        else:
            report["present"].append(f"trade {trade.code}")
    db.session.flush()
    for spec in data.ACCOUNTS:
        existing = db.session.scalar(sa.select(User).where(User.username == spec["username"]))
        if existing is not None:
            report["present"].append(f"user {existing.username}")
            continue
        user_data = UserData(
            username=spec["username"],
            role=spec["role"],
            name=spec.get("name", ""),
            id_number=spec.get("id_number"),
            trade_codes=spec.get("trades", ()),
        )
        create_user(user_data, spec["password"])
        report["created"].append(f"user {spec['username']}")
    _load_banks(report)
    _load_class(report)
    return report


def _load_class(report: dict[str, list[str]]) -> None:
    """A demo class of 仓库保管员 五级, taught by the demo trainer, with the demo worker in it."""
    trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
    trainer = db.session.scalar(sa.select(User).where(User.username == "trainer"))
    worker = db.session.scalar(sa.select(User).where(User.username == "worker"))
    if trade is None or trainer is None or worker is None:
        return
    if db.session.scalar(sa.select(Cohort).where(Cohort.name == data.DEMO_COHORT)) is not None:
        return
    cohort = create_cohort(
        trade, CohortData(data.DEMO_COHORT, 5, 160, data.DEMO_EXAM_NOTE, [trainer.id])
    )
    db.session.add(
        Enrolment(
            cohort=cohort,
            user=worker,
            gender="女",
            ethnicity="汉族",
            education="初中",
            employer="温州市某物流有限公司",
            source="企业",
            years_in_trade=3,
        )
    )
    report["created"].append(f"class {cohort.name}")


def _load_banks(report: dict[str, list[str]]) -> None:
    """The shipped banks and blueprints, for a trade whose bank is still empty."""
    for spec in data.TRADES:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == spec["code"]))
        if trade is None:
            continue
        has_questions = db.session.scalar(
            sa.select(sa.func.count()).select_from(Question).where(Question.trade_id == trade.id)
        )
        bank = data.BANKS_DIR / f"{trade.code}.csv"
        if not has_questions and bank.exists():
            result = import_bank(trade, bank.name, bank.read_bytes())
            report["created"].append(f"{result.imported} questions for {trade.code}")
        has_blueprints = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ExamBlueprint)
            .where(ExamBlueprint.trade_id == trade.id)
        )
        if not has_blueprints:
            for path in sorted(data.BANKS_DIR.glob(f"{trade.code}*.blueprint.json")):
                blueprint = load_blueprint_json(path.read_text(encoding="utf-8"), path.name)
                report["created"].append(f"blueprint {blueprint.name}")
