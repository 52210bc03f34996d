import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.catalog.models import Trade
from certify.certificates.models import Certificate
from certify.demo import data
from certify.extensions import db


def test_users_create_makes_an_account_that_can_log_in(app, client, login):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "boss",
            "--password",
            "Str0ng-pass",
            "--role",
            "admin",
            "--name",
            "评价办",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created admin boss" in result.output
    assert login("boss", "Str0ng-pass").status_code == 302


def test_users_create_worker_with_id_number(app, login):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--username",
            "w1",
            "--password",
            "Str0ng-pass",
            "--role",
            "worker",
            "--id-number",
            "11010519491231002x",
        ]
    )
    assert result.exit_code == 0, result.output
    assert login("11010519491231002X", "Str0ng-pass").status_code == 302


def test_users_create_reports_problems_and_exits_non_zero(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "x y",
            "--password",
            "123",
            "--role",
            "worker",
            "--id-number",
            "110105194912310021",
        ]
    )
    assert result.exit_code == 1
    assert "username:" in result.output and "id_number:" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_users_create_refuses_an_unknown_role(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "x", "--password", "Str0ng-pass", "--role", "king"]
    )
    assert result.exit_code == 2


def test_demo_load_is_idempotent_and_trades_list_shows_both(app, client, login):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin-demo-2026" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "already loaded" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trade)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(data.ACCOUNTS)
    # the finished class left the demo worker one signed certificate, issued in October
    (certificate,) = db.session.scalars(sa.select(Certificate)).all()
    assert certificate.holder.username == "worker" and certificate.issued_on.month == 10
    assert certificate.theory >= 60 and certificate.practical == 86

    listing = runner.invoke(args=["trades", "list"]).output.splitlines()
    assert listing == [
        "electroplater\t电镀工\t专项职业能力证书",
        "warehouse-keeper\t仓库保管员\t职业技能等级证书\t五级/初级工, 四级/中级工",
    ]
    # the demo accounts work, including the worker's ID-number login
    assert login("admin", "admin-demo-2026").status_code == 302
    client.post("/logout")
    assert login(data.DEMO_WORKER_ID, "worker-demo-2026").status_code == 302


def test_demo_trees_hold_the_trades_knowledge_areas(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
    paths = {a.path for a in trade.areas}
    assert {"入库作业/验收", "储存保管/堆码苫垫", "安全消防/消防安全"} <= paths
    plating = db.session.scalar(sa.select(Trade).where(Trade.code == "electroplater"))
    assert plating.levels == [] and "镀液成分与维护/赫尔槽试验" in {a.path for a in plating.areas}


def test_admin_created_with_users_create_sees_both_trades(app, client, login):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])
    runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "office",
            "--password",
            "Str0ng-pass",
            "--role",
            Role.ADMIN.value,
        ]
    )
    login("office", "Str0ng-pass")
    page = client.get("/catalog/trades").get_data(as_text=True)
    assert "仓库保管员" in page and "电镀工" in page


def test_trades_list_on_an_empty_catalog_says_what_to_do(app):
    result = app.test_cli_runner().invoke(args=["trades", "list"])
    assert "demo load" in result.output


def test_users_list_prints_one_line_per_account(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])
    lines = runner.invoke(args=["users", "list", "--role", "worker"]).output.splitlines()
    assert lines == ["worker\tworker\t陈小梅"]


def test_demo_accounts_prints_the_logins(app):
    output = app.test_cli_runner().invoke(args=["demo", "accounts"]).output
    assert "worker-demo-2026" in output and data.DEMO_WORKER_ID in output


def test_a_refused_command_says_why_and_exits_1_without_a_traceback(app):
    result = app.test_cli_runner().invoke(args=["results", "finalize", "999999"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Error:" not in result.output
    assert "没有这个考试场次。" in result.output  # the service's own message


def test_a_database_without_tables_says_to_upgrade_first(tmp_path):
    from certify import create_app
    from certify.config import load_settings

    settings = load_settings(
        {"CERTIFY_ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"},
        instance_path=tmp_path / "instance",
    )
    empty = create_app(settings)
    for args in (["results", "finalize", "1"], ["users", "list"], ["exams", "expire-overdue"]):
        with empty.app_context():  # the suite's own app context would be used otherwise
            result = empty.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "run `flask --app wsgi db upgrade` first" in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_a_command_that_stops_keeps_nothing(app):
    """`users create` with a taken name: the refusal rolls back, the first account stays."""
    runner = app.test_cli_runner()
    base = ["users", "create", "--password", "Str0ng-pass", "--role", "trainer", "--name", "王"]
    assert runner.invoke(args=[*base, "--username", "t1"]).exit_code == 0
    assert runner.invoke(args=[*base, "--username", "t1"]).exit_code == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
