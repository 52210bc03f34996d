import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.catalog.models import CertificateType, KnowledgeArea, Trade
from certify.extensions import db
from tests.factories import make_trade, make_user

VALID = {
    "code": "forklift-driver",
    "name": "叉车司机",
    "certificate_type": "level",
    "levels": ["5", "4"],
    "assesses_theory": "y",
    "assesses_practical": "y",
    "theory_pass_mark": "60",
    "practical_pass_mark": "60",
    "theory_duration_minutes": "90",
    "multiple_scoring": "partial",
    "areas": "安全操作/起步\n安全操作/装卸\n维护保养",
}


def _trade(code):
    db.session.expire_all()
    return db.session.scalar(sa.select(Trade).where(Trade.code == code))


def _as_admin(login):
    make_user(Role.ADMIN, username="boss")
    login("boss")


def test_admin_creates_a_trade_with_its_knowledge_tree(client, login):
    _as_admin(login)
    response = client.post("/catalog/trades/new", data=VALID)
    assert response.headers["Location"] == "/catalog/trades/forklift-driver"
    trade = _trade("forklift-driver")
    assert trade.levels == [5, 4] and trade.certificate_type is CertificateType.LEVEL
    assert trade.multiple_scoring == "partial"
    assert sorted(a.path for a in trade.areas) == [
        "安全操作",
        "安全操作/装卸",
        "安全操作/起步",
        "维护保养",
    ]
    page = client.get("/catalog/trades/forklift-driver").get_data(as_text=True)
    assert "五级/初级工" in page and "四级/中级工" in page and "起步" in page
    assert (
        db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "trade.created")).after[
            "code"
        ]
        == "forklift-driver"
    )


def test_trade_form_reports_problems_and_saves_nothing(client, login):
    _as_admin(login)
    page = client.post(
        "/catalog/trades/new",
        data=dict(
            VALID,
            code="Bad Code",
            certificate_type="special",
            theory_pass_mark="120",
            national_code="402",
        ),
    ).get_data(as_text=True)
    assert "填 0 到 100" in page
    page = client.post(
        "/catalog/trades/new", data=dict(VALID, code="Bad Code", national_code="402")
    ).get_data(as_text=True)
    assert "请用小写字母、数字和短横线" in page
    assert "职业分类代码的格式是" in page
    page = client.post(
        "/catalog/trades/new", data=dict(VALID, certificate_type="special")
    ).get_data(as_text=True)
    assert "专项职业能力证书不分等级" in page
    page = client.post("/catalog/trades/new", data=dict(VALID, levels=[])).get_data(as_text=True)
    assert "至少要选一个等级" in page
    data = dict(VALID)
    del data["assesses_theory"], data["assesses_practical"]
    assert "至少要考核一项" in client.post("/catalog/trades/new", data=data).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trade)) == 0


def test_trade_codes_are_unique(client, login):
    _as_admin(login)
    make_trade("forklift-driver")
    page = client.post("/catalog/trades/new", data=VALID).get_data(as_text=True)
    assert "已有职业使用这个代码" in page


def test_admin_edits_a_trade(client, login):
    _as_admin(login)
    make_trade("electroplater", name="电镀工", certificate_type=CertificateType.SPECIAL)
    response = client.post(
        "/catalog/trades/electroplater/edit",
        data=dict(
            VALID,
            code="electroplater",
            name="电镀工",
            certificate_type="special",
            levels=[],
            theory_duration_minutes="120",
            assesses_practical="",
        ),
    )
    assert response.status_code == 302
    trade = _trade("electroplater")
    assert trade.theory_duration_minutes == 120 and not trade.assesses_practical
    assert trade.levels == []


def test_a_trade_in_use_cannot_be_deleted_or_change_certificate_type(client, login):
    _as_admin(login)
    make_trade("warehouse-keeper")
    make_user(Role.TRAINER, username="t1", trades=("warehouse-keeper",))
    page = client.get("/catalog/trades/warehouse-keeper").get_data(as_text=True)
    assert "正在使用" in page and "授权的培训师和考评员：1" in page
    page = client.post("/catalog/trades/warehouse-keeper/delete", follow_redirects=True).get_data(
        as_text=True
    )
    assert "不能删除" in page
    assert _trade("warehouse-keeper") is not None
    page = client.post(
        "/catalog/trades/warehouse-keeper/edit",
        data=dict(VALID, code="warehouse-keeper", certificate_type="special", levels=[]),
    ).get_data(as_text=True)
    assert "不能更改证书类型" in page
    assert _trade("warehouse-keeper").certificate_type is CertificateType.LEVEL


def test_an_unused_trade_is_deleted_with_its_tree(client, login):
    _as_admin(login)
    make_trade("warehouse-keeper")
    response = client.post("/catalog/trades/warehouse-keeper/delete")
    assert response.headers["Location"] == "/catalog/trades"
    assert _trade("warehouse-keeper") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KnowledgeArea)) == 0


def test_knowledge_areas_are_added_renamed_and_deleted(client, login):
    _as_admin(login)
    trade = make_trade("warehouse-keeper", areas=("入库作业/验收",))
    client.post(
        "/catalog/trades/warehouse-keeper/areas", data={"paths": "入库作业/入库手续\n出库作业"}
    )
    trade = _trade("warehouse-keeper")
    assert sorted(a.path for a in trade.areas) == [
        "入库作业",
        "入库作业/入库手续",
        "入库作业/验收",
        "出库作业",
    ]
    parent = next(a for a in trade.areas if a.path == "入库作业")
    page = client.post(f"/catalog/areas/{parent.id}/delete", follow_redirects=True).get_data(
        as_text=True
    )
    assert "请先删除“入库作业”下面的知识点" in page
    leaf = next(a for a in trade.areas if a.path == "入库作业/验收")
    client.post(f"/catalog/areas/{leaf.id}/rename", data={"name": "入库验收"})
    assert "入库作业/入库验收" in [a.path for a in _trade("warehouse-keeper").areas]
    page = client.post(
        f"/catalog/areas/{leaf.id}/rename", data={"name": "入库手续"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "同一级已经有这个名称的知识点" in page
    client.post(f"/catalog/areas/{leaf.id}/delete")
    assert "入库作业/入库验收" not in [a.path for a in _trade("warehouse-keeper").areas]


def test_area_names_cannot_hold_the_path_separator(app):
    from certify.catalog.services import rename_knowledge_area
    from certify.core.errors import ValidationFailed

    trade = make_trade("warehouse-keeper", areas=("入库作业",))
    import pytest

    with pytest.raises(ValidationFailed):
        rename_knowledge_area(trade.areas[0], "a/b")


def test_trainers_and_examiners_read_the_catalog_without_edit_controls(client, login):
    make_trade("warehouse-keeper")
    make_user(Role.TRAINER, username="t1")
    login("t1")
    page = client.get("/catalog/trades/warehouse-keeper").get_data(as_text=True)
    assert "验收" in page and "删除这个职业" not in page and "/edit" not in page


def test_model_refuses_levels_on_a_special_certificate(app):
    import pytest

    from certify.core.errors import DomainError

    trade = Trade(code="x", name="x")
    with pytest.raises(DomainError):
        trade.configure_certificate(CertificateType.SPECIAL, [5])
    with pytest.raises(DomainError):
        trade.configure_certificate(CertificateType.LEVEL, [])
    with pytest.raises(DomainError):
        trade.configure_certificate(CertificateType.LEVEL, [6])
    trade.configure_certificate(CertificateType.LEVEL, [4, 5, 5])
    assert trade.levels == [5, 4]


def test_a_trade_sets_its_own_certificate_number_format(client, login):
    _as_admin(login)
    page = client.post(
        "/catalog/trades/new", data=dict(VALID, certificate_number_format="WZ{town}{serial}")
    ).get_data(as_text=True)
    assert "{town}" in page and "无法识别" in page and _trade("forklift-driver") is None
    page = client.post(
        "/catalog/trades/new", data=dict(VALID, certificate_number_format="WZ{serial:04d}{yy}")
    ).get_data(as_text=True)
    assert "{serial}" in page and _trade("forklift-driver") is None
    client.post(
        "/catalog/trades/new", data=dict(VALID, certificate_number_format="WZ{yy}{serial:04d}")
    )
    assert _trade("forklift-driver").certificate_number_format == "WZ{yy}{serial:04d}"
