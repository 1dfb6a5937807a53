"""The adversarial part of the screening corpus: how a department that wants the data would
write it, and ordinary records that look alike.

    .venv/bin/python -m tests.compliance.corpus.adversarial

rewrites ``prohibited_adversarial.jsonl`` and ``ordinary_adversarial.jsonl`` (same line
format as the other corpus files) from the items below, deterministically.  Each prohibited
item is carried in a base record taken from ``ordinary.jsonl`` under ``/data/note`` (or at
the path the item names), in every applicable encoding; a violation is expected at the
carrying string's pointer, with its category.  All content is invented for this corpus.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import random
import urllib.parse
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent

# (category, member name, value): a datum named by a field.
FIELDS = (
    ("blood_type", "blood_type", "AB"),
    ("blood_type", "血型", "O型"),
    ("blood_type", "bldGrp", "A+"),
    ("blood_type", "ABO_Rh", "B Rh-"),
    ("religious_belief", "religion", "Buddhist"),
    ("religious_belief", "宗教信仰", "天主教"),
    ("religious_belief", "denomination", "Methodist"),
    ("genetic", "genotype", "APOE e3/e4"),
    ("genetic", "karyotype", "46,XY"),
    ("genetic", "基因检测结果", "BRCA1 阳性"),
    ("fingerprint", "fingerprint_template", "minutiae:12,44,90"),
    ("fingerprint", "指纹", "已采集"),
    ("medical_history", "diagnosis", "type 2 diabetes"),
    ("medical_history", "病史", "高血压十年"),
    ("medical_history", "PMH", "asthma"),
    ("medical_history", "出院診斷", "肺炎"),
    ("biometric", "face_embedding", "0.12,0.33,0.91"),
    ("biometric", "声纹", "v1-8842"),
    ("biometric", "iris_code", "a91f33"),
)

# (category, sentence): free text stating a person's protected datum.
SENTENCES = (
    ("blood_type", "当事人血型为AB型，Rh阴性。"),
    ("blood_type", "The applicant's blood group is O negative blood."),
    ("religious_belief", "他信仰伊斯兰教，每周五去清真寺做礼拜。"),
    ("religious_belief", "She is a practising Catholic and attends Mass weekly."),
    ("religious_belief", "当事人是基督徒，每周做礼拜。"),
    ("religious_belief", "The resident observes Ramadan every year."),
    ("genetic", "申请人基因检测结果显示携带致病基因。"),
    ("genetic", "Karyotype 47,XX,+21 was reported for the subject."),
    ("genetic", "CYP2C19 *2/*3 poor metaboliser per the lab."),
    ("genetic", "Forensic profile: D3S1358 15,16; vWA 17,18; FGA 21,22."),
    ("genetic", "祖源分析报告显示其单倍群O2。"),
    ("fingerprint", "已采集当事人指纹并录入比对系统。"),
    ("fingerprint", "Record format ANSI/INCITS 378 with minutiae from the right thumb."),
    ("medical_history", "当事人患有糖尿病，正在服用降压药。"),
    ("medical_history", "He was diagnosed with epilepsy last year."),
    ("medical_history", "被执行人因病住院治疗，出院小结见附件。"),
    ("medical_history", "病假原因：腰椎间盘突出手术后康复。"),
    ("medical_history", "該員工於三月入院治療，診斷為肺炎。"),
    ("medical_history", "The employee takes insulin daily and was admitted to hospital in May."),
    ("medical_history", "检查结果显示乙肝表面抗原阳性。"),
    ("medical_history", "She tested positive for tuberculosis in March."),
    ("biometric", "人脸特征数据已入库，用于刷脸认证记录。"),
    ("biometric", "Face template stored as ISO/IEC 19794-5 record."),
    ("biometric", "Speaker embedding (x-vector) enrolled for the caller."),
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _jwt(document: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(document)}."


def _xml(name: str, value: str) -> str:
    tag = "".join(c for c in name if c.isalnum() or c == "_") or "item"
    if not tag[0].isalpha():
        tag = "f_" + tag
    return f'<record><person id="1"/><{tag}>{html.escape(value)}</{tag}></record>'


def field_carriers(name: str, value: str) -> list[tuple[str, Any]]:
    """(format chain, carried value) for a named datum."""
    document = {"id": 7, name: value}
    as_json = json.dumps(document, ensure_ascii=False)
    return [
        ("json", as_json),
        ("base64 json", _b64(as_json)),
        ("gzip base64 json", base64.b64encode(gzip.compress(as_json.encode())).decode()),
        ("data uri", "data:application/json;base64," + _b64(as_json)),
        ("jwt", _jwt(document)),
        ("form", urllib.parse.urlencode({"id": "7", name: value})),
        ("xml", _xml(name, value)),
        ("csv", f"id,{name}\n7,{value}"),
        ("yaml", f"id: 7\n{name}: {value}"),
        ("json in json", json.dumps({"payload": as_json}, ensure_ascii=False)),
        ("base64 json in json", json.dumps({"payload": _b64(as_json)})),
    ]


def sentence_carriers(text: str) -> list[tuple[str, str]]:
    return [
        ("plain", text),
        ("base64", _b64(text)),
        ("url", urllib.parse.quote(text)),
        ("html entities", "".join(f"&#{ord(c)};" for c in text)),
        ("html", f"<p><b>备注</b> {html.escape(text)}</p>"),
        ("data uri", "data:text/plain;base64," + _b64(text)),
        ("json string", json.dumps({"remark": text}, ensure_ascii=False)),
    ]


def _tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in text)


def structural(rng: random.Random) -> list[tuple[str, dict, list[tuple[str, str]]]]:
    """(note, data members to add, [(path inside the record, category)])."""
    cases = [
        ("split key en", {"blood": {"type": "A"}}, [("/data/blood/type", "blood_type")]),
        ("split key zh", {"血": {"型": "B"}}, [("/data/血/型", "blood_type")]),
        (
            "split key medical",
            {"medical": {"history": "无"}},
            [("/data/medical/history", "medical_history")],
        ),
        (
            "split key genetic",
            {"paternity": {"test": "done"}},
            [("/data/paternity/test", "genetic")],
        ),
        ("split key face", {"face": {"template": "x1"}}, [("/data/face/template", "biometric")]),
        ("split key religious", {"宗": {"教": "佛"}}, [("/data/宗/教", "religious_belief")]),
        (
            "table columns",
            {"table": {"columns": ["name", "blood_type"], "rows": [["x", "A"]]}},
            [("/data/table/columns/1", "blood_type")],
        ),
        (
            "table columns zh",
            {"表": {"表头": ["姓名", "宗教信仰"], "行": [["王", "佛教"]]}},
            [("/data/表/表头/1", "religious_belief")],
        ),
        (
            "table headers",
            {"sheet": {"headers": ["id", "diagnosis"], "data": [[1, "x"]]}},
            [("/data/sheet/headers/1", "medical_history")],
        ),
        (
            "pair k/v",
            {"extra": [{"k": "fingerprint", "v": "present"}]},
            [("/data/extra/0/v", "fingerprint")],
        ),
        (
            "pair question/answer",
            {"form": [{"question": "基因检测", "answer": "是"}]},
            [("/data/form/0/answer", "genetic")],
        ),
        (
            "pair title/detail",
            {"custom": [{"title": "iris scan", "detail": "ok"}]},
            [("/data/custom/0/detail", "biometric")],
        ),
        (
            "pair 键/值",
            {"自定义": [{"键": "病史", "值": "无"}]},
            [("/data/自定义/0/值", "medical_history")],
        ),
        (
            "tag characters in key",
            {"note" + _tags("blood type"): "AB"},
            [
                ("/data/note" + _tags("blood type"), "concealment"),
                ("/data/note" + _tags("blood type"), "blood_type"),
            ],
        ),
        (
            "tag characters in value",
            {"memo": "ok" + _tags("religion: Buddhist")},
            [("/data/memo", "concealment"), ("/data/memo", "religious_belief")],
        ),
        (
            "bidi override in key",
            {"\u202eepyt_doolb": "A"},
            [("/data/\u202eepyt_doolb", "concealment")],
        ),
        ("bidi isolate in value", {"memo": "\u2067normal\u2069"}, [("/data/memo", "concealment")]),
        (
            "hl7 diagnosis",
            {"message": "MSH|^~\\&|HIS|SZ\rPID|1||X\rDG1|1||I10^Hypertension"},
            [("/data/message", "medical_history")],
        ),
        (
            "hl7 allergy",
            {"message": "MSH|^~\\&|HIS|SZ\nAL1|1||penicillin"},
            [("/data/message", "medical_history")],
        ),
        (
            "fhir condition",
            {
                "resource": json.dumps(
                    {
                        "resourceType": "Condition",
                        "subject": {"reference": "Patient/1"},
                        "code": {"text": "asthma"},
                    }
                )
            },
            [("/data/resource", "medical_history")],
        ),
        (
            "fhir observation blood group",
            {
                "resource": json.dumps(
                    {
                        "resourceType": "Observation",
                        "code": {"text": "ABO and Rh group"},
                        "valueString": "O Rh+ blood",
                    }
                )
            },
            [("/data/resource", "blood_type")],
        ),
        (
            "deep nesting",
            {"x": _b64(json.dumps({"y": _b64(json.dumps({"religion": "Taoist"}))}))},
            [("/data/x", "religious_belief")],
        ),
        ("abbreviation key", {"Rx": "metformin", "PMH": "DM2"}, [("/data/PMH", "medical_history")]),
        ("pinyin initials", {"zjxy": "佛"}, [("/data/zjxy", "religious_belief")]),
        ("traditional key", {"診斷": "肺炎"}, [("/data/診斷", "medical_history")]),
        ("misspelt key", {"relegion": "Buddhist"}, [("/data/relegion", "religious_belief")]),
        ("dropped letter key", {"diagnsis": "x"}, [("/data/diagnsis", "medical_history")]),
        ("doubled letter key", {"fingerrprint": "x"}, [("/data/fingerrprint", "fingerprint")]),
        ("swapped letters key", {"chromsoome": "x"}, [("/data/chromsoome", "genetic")]),
    ]
    del rng
    return cases


ORDINARY_TEXTS = (
    "疾病预防控制中心宣传志愿者，参与世界艾滋病日宣传活动。",
    "Volunteered for disease-prevention publicity at the community centre.",
    "在市立医院停车场违规停车，处以罚款200元。",
    "Parked in the hospital car park fire lane; fine issued.",
    "对寒山寺开展消防安全检查，发现灭火器过期。",
    "Fire inspection at the Xuanmiao temple found blocked exits.",
    "检查结果：消防通道畅通，灭火器压力正常。",
    "献血志愿服务4小时，协助登记献血者信息。",
    "Blood donation drive volunteer: registration desk, 3 hours.",
    "糖尿病防治知识讲座志愿者，负责签到。",
    "A型车位违规停放，已拍照取证。",
    "教堂路与人民路交叉口闯红灯。",
    "Meeting held at Church Street community hall.",
    "仓库温湿度记录：温度18℃，相对湿度65%。",
    "Paid in full; receipt attached as base64 below.",
)


def ordinary_payloads() -> list[tuple[str, dict]]:
    receipt = json.dumps({"receipt": "R-2026-0091", "amount": "261.48", "paid_on": "2026-06-22"})
    items: list[tuple[str, dict]] = [
        (f"ordinary text {i}", {"note": t}) for i, t in enumerate(ORDINARY_TEXTS)
    ]
    items += [
        ("ordinary json in a string", {"note": receipt}),
        ("ordinary base64 json", {"attachment": _b64(receipt)}),
        (
            "ordinary gzip base64",
            {"attachment": base64.b64encode(gzip.compress(b"%PDF-1.4 receipt")).decode()},
        ),
        ("ordinary data uri", {"photo": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}),
        ("ordinary url", {"link": "https://example.gov.cn/notice?id=42&lang=zh%2DCN"}),
        ("ordinary form", {"query": "plate=苏E12345&date=2026-11-02"}),
        ("ordinary csv", {"table": "日期,金额\n2026-10-01,120.50\n2026-11-01,98.20"}),
        ("ordinary yaml", {"memo": "地点: 寒山寺景区\n事项: 消防检查\n结果: 合格"}),
        ("ordinary html", {"notice": "<p>请于<b>十五日内</b>缴纳罚款。</p>"}),
        ("ordinary entities", {"notice": "Fines &amp; fees &#8212; paid"}),
        (
            "ordinary split keys",
            {"vehicle": {"type": "小型客车"}, "blood_donation": {"type": "全血"}},
        ),
        ("ordinary columns", {"sheet": {"columns": ["month", "amount"], "rows": [["10", "12"]]}}),
        (
            "ordinary pair",
            {"extra": [{"k": "remarks", "v": "none"}, {"title": "route", "detail": "A"}]},
        ),
        ("ordinary jwt-like id", {"token": "ORDER-2026-11-000123-SZ"}),
        ("ordinary hash", {"document_sha256": "9f2c1e7a" * 8}),
        ("ordinary humidity", {"relative_humidity_pct": 65, "temperature_c": 18}),
    ]
    return items


def build() -> tuple[list[dict], list[dict]]:
    rng = random.Random(18)
    bases = [json.loads(line) for line in (CORPUS_DIR / "ordinary.jsonl").open(encoding="utf-8")]
    prohibited, ordinary = [], []

    def base() -> dict:
        record = json.loads(json.dumps(rng.choice(bases)["record"]))
        record.setdefault("data", {})
        return record

    def add(note: str, members: dict, expect: list[tuple[str, str]]) -> None:
        record = base()
        record["data"].update(members)
        prohibited.append(
            {
                "id": f"adversarial-{len(prohibited) + 1:03d}",
                "note": note,
                "record": record,
                "expect": [{"path": p, "category": c} for p, c in expect],
            }
        )

    for category, name, value in FIELDS:
        for chain, carried in field_carriers(name, value):
            add(f"{chain}: field {name}", {"note": carried}, [("/data/note", category)])
    for category, text in SENTENCES:
        for chain, carried in sentence_carriers(text):
            add(f"{chain}: sentence", {"note": carried}, [("/data/note", category)])
    for note, members, expect in structural(rng):
        add(note, members, expect)

    for note, members in ordinary_payloads():
        for _ in range(4):
            record = base()
            record["data"].update(members)
            ordinary.append(
                {
                    "id": f"ordinary-adversarial-{len(ordinary) + 1:03d}",
                    "note": note,
                    "record": record,
                    "expect": [],
                }
            )
    return prohibited, ordinary


def main() -> None:
    prohibited, ordinary = build()
    for name, lines in (("prohibited_adversarial", prohibited), ("ordinary_adversarial", ordinary)):
        with (CORPUS_DIR / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        print(name, len(lines))


if __name__ == "__main__":
    main()
