"""The pilot's two trades and the demo accounts, as plain data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from certify.accounts.models import Role
from certify.catalog.models import CertificateType
from certify.core.idcard import make_id_number

WAREHOUSE_KEEPER_AREAS = [
    "职业道德/职业守则",
    "职业道德/法律法规",
    "入库作业/入库准备",
    "入库作业/验收",
    "入库作业/入库手续",
    "储存保管/储存保管与养护",
    "储存保管/堆码苫垫",
    "储存保管/温湿度管理",
    "出库作业/出库准备",
    "出库作业/出库复核与交接",
    "盘点与库存控制/盘点",
    "盘点与库存控制/库存控制",
    "安全消防/消防安全",
    "安全消防/作业安全",
    "现场管理与信息系统/5S管理",
    "现场管理与信息系统/仓储信息系统",
]

ELECTROPLATER_AREAS = [
    "职业道德/职业守则",
    "电化学与电镀基础/电化学基础",
    "电化学与电镀基础/电镀基本原理",
    "镀前处理/除油",
    "镀前处理/除锈与酸洗",
    "镀前处理/活化",
    "电镀工艺/镀锌",
    "电镀工艺/镀镍",
    "电镀工艺/镀铬",
    "电镀工艺/镀铜",
    "电镀工艺/镀锡",
    "镀液成分与维护/镀液成分",
    "镀液成分与维护/镀液维护与分析",
    "镀液成分与维护/赫尔槽试验",
    "镀后处理/钝化与封闭",
    "镀后处理/除氢",
    "质量检验/外观与厚度",
    "质量检验/结合力与耐蚀性",
    "安全防护与三废处理/安全防护",
    "安全防护与三废处理/三废处理",
]

TRADES = [
    {
        "code": "warehouse-keeper",
        "name": "仓库保管员",
        "certificate_type": CertificateType.LEVEL,
        "levels": [5, 4],
        "description": "仓库物资的入库验收、储存保管、出库与盘点。职业技能等级认定，五级、四级。",
        "areas": WAREHOUSE_KEEPER_AREAS,
    },
    {
        "code": "electroplater",
        "name": "电镀工",
        "certificate_type": CertificateType.SPECIAL,
        "levels": [],
        "description": "电镀前处理、常用镀种操作、镀液维护、质量检验与安全环保。专项职业能力考核。",
        "areas": ELECTROPLATER_AREAS,
    },
]

BANKS_DIR = Path(__file__).resolve().parents[2] / "question_banks"

DEMO_COHORT = "2026年第一期仓库保管员培训班"
DEMO_ANNOUNCEMENT = "2027年第一批仓库保管员（五级）职业技能等级认定公告"
DEMO_CONDITIONS = (
    "累计从事本职业或相关职业工作1年（含）以上\n"
    "本职业或相关职业学徒期满\n"
    "经本职业五级正规培训达规定标准学时数，并取得结业证书"
)
PAST_COHORT = "2026年春季仓库保管员培训班（已结业）"
DEMO_EXAM_NOTE = "12月12日 9:00 市总工会职工学校三楼机房"

DEMO_WORKER_ID = make_id_number("330302", date(1990, 5, 12), 2)

ACCOUNTS = [
    {
        "username": "admin",
        "password": "admin-demo-2026",
        "role": Role.ADMIN,
        "name": "评价办 管理员",
    },
    {
        "username": "trainer",
        "password": "trainer-demo-2026",
        "role": Role.TRAINER,
        "name": "王培训",
        "trades": ["warehouse-keeper", "electroplater"],
    },
    {
        "username": "examiner",
        "password": "examiner-demo-2026",
        "role": Role.EXAMINER,
        "name": "李考评",
        "trades": ["warehouse-keeper", "electroplater"],
    },
    {"username": "hr", "password": "hr-demo-2026", "role": Role.HR, "name": "人社局 审核员"},
    {
        "username": "worker",
        "password": "worker-demo-2026",
        "role": Role.WORKER,
        "name": "陈小梅",
        "id_number": DEMO_WORKER_ID,
    },
]
