"""Screening speed beside json.loads speed, on bodies shaped like department submissions.

    .venv/bin/python bench/screening.py [--repeat N]

For each body kind it prints the size, json.loads MB/s, screening MB/s (what the gateway does
after parsing: Screener.screen_text(text, document)) and their ratio.  Targets: clean
1,000-record batches ratio >= 0.5; a single 0.5 KB record >= 0.3; the adversarial bodies
(250,000 distinct member names, deeply nested encodings, many long strings; each a legal
body under 8 MiB) >= 5 MB/s.  Figures are the median of N timed runs after warming up (the
screener caches keys across requests, as it does in the gateway).  Timings on a shared
machine are noisy: compare the ratio column, which is measured run by run.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.policy_defaults import default_policy_spec
from compliance.screening import compile_policy

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红"
ROADS = ("干将路", "人民路", "十全街", "凤凰街", "金鸡湖大道", "星湖街", "东环路", "医院路")
EN_NAMES = ("Wang Wei", "Li Na", "Zhang Min", "Chen Jie", "Liu Yang", "Zhou Tao", "Xu Lei")


def citizen_id(rng: random.Random) -> str:
    county = rng.choice((5, 6, 7, 8, 9))
    birth = f"{rng.randint(1960, 2004):04d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"3205{county:02d}{birth}{rng.randint(0, 999):03d}"
    check = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11
    return body + "10X98765432"[check]


def traffic_zh(rng: random.Random, i: int) -> dict:
    return {
        "citizen_id": citizen_id(rng),
        "rule": rng.choice(("traffic.red_light", "traffic.failure_to_yield")),
        "occurred_at": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(7, 21):02d}:"
        f"{rng.randint(0, 59):02d}:00+08:00",
        "evidence": {
            "document": f"苏公交决字〔2026〕第{i:06d}号",
            "issued_by": "苏州市公安局交通警察支队姑苏大队",
            "issued_on": "2026-11-21",
            "procedure": "general",
        },
        "data": {
            "plate": f"苏E{rng.randint(0, 99999):05d}",
            "location": f"姑苏区{rng.choice(ROADS)}与{rng.choice(ROADS)}交叉口",
            "violation": rng.choice(("驾驶机动车违反道路交通信号灯通行", "未按规定礼让行人")),
            "fine_yuan": 200,
            "points": rng.choice((3, 6)),
        },
    }


def court_zh(rng: random.Random, i: int) -> dict:
    return {
        "citizen_id": citizen_id(rng),
        "rule": "court.unpaid_judgment_debt",
        "occurred_at": f"2026-10-{rng.randint(1, 28):02d}T09:00:00+08:00",
        "evidence": {
            "document": f"(2026)苏0508执{1000 + i}号",
            "issued_by": "苏州市姑苏区人民法院",
            "issued_on": "2026-11-02",
            "procedure": "general",
        },
        "data": {
            "case_no": f"(2026)苏0508执{1000 + i}号",
            "debtor": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "amount_yuan": rng.randint(3000, 90000),
            "summary": "被执行人未按生效判决履行给付义务，经强制执行仍未清偿。",
        },
    }


def utilities_en(rng: random.Random, i: int) -> dict:
    return {
        "citizen_id": citizen_id(rng),
        "rule": "utilities.bill_on_time",
        "occurred_at": f"2026-11-{rng.randint(1, 28):02d}T08:30:00+08:00",
        "evidence": {
            "document": f"SZW-2026-{i:06d}",
            "issued_by": "Suzhou Water Supply Co.",
            "issued_on": "2026-11-21",
            "procedure": "general",
        },
        "data": {
            "account": f"W{rng.randint(0, 10**8):08d}",
            "period": "2026-10",
            "amount": f"{rng.randint(20, 300)}.{rng.randint(0, 99):02d}",
            "paid_on": f"2026-11-{rng.randint(1, 20):02d}",
            "channel": rng.choice(("bank transfer", "mobile app", "counter")),
        },
    }


def volunteer_en(rng: random.Random, i: int) -> dict:
    return {
        "citizen_id": citizen_id(rng),
        "rule": rng.choice(("volunteer.service_hours", "volunteer.blood_donation")),
        "occurred_at": f"2026-09-{rng.randint(1, 28):02d}T14:00:00+08:00",
        "evidence": {
            "document": f"VOL-{i:05d}",
            "issued_by": "Suzhou Volunteer Federation",
            "issued_on": "2026-10-08",
            "procedure": "general",
        },
        "data": {
            "volunteer": rng.choice(EN_NAMES),
            "activity": rng.choice(
                ("blood donation drive volunteer", "community library help", "river cleanup")
            ),
            "hours": rng.randint(2, 40),
            "blood_donation_hours": rng.randint(0, 6),
            "site": f"No. {rng.randint(1, 300)} Hospital Road, Gusu District",
        },
    }


Maker = Callable[[random.Random, int], dict]


def batch(makers: tuple[Maker, ...], count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [rng.choice(makers)(rng, i) for i in range(count)]


def body(records: list[dict]) -> str:
    return json.dumps({"records": records}, ensure_ascii=False)


def with_prohibited(records: list[dict], zh: bool) -> list[dict]:
    records = json.loads(json.dumps(records))
    middle = records[len(records) // 2]
    if zh:
        middle["data"]["备注"] = "当事人血型为AB型，曾因病住院治疗。"
    else:
        middle["data"]["applicantBloodGroup"] = "O negative"
    return records


def distinct_names(near_miss: bool) -> str:
    """1,000 records of 250 members each, every member name new to the screener; near
    misses hold a term's letters where no term can be (``about`` holds ``abo``)."""
    records, n = [], 0
    for _ in range(1000):
        data = {}
        for _ in range(250):
            name = f"about_archive_{n}" if near_miss else f"f{n:06d}"
            data[name] = n
            n += 1
        records.append({"data": data})
    return body(records)


def nested_encodings() -> str:
    """Every record's note is JSON in base64 in JSON in base64 (the decoding bound)."""
    rng = random.Random(7)
    records = batch((traffic_zh, utilities_en), 1000, 5)
    for record in records:
        value = f"paid {rng.randint(1, 999)} on time"
        for _ in range(2):  # base64 › json › base64 › json: the deepest the screen reads
            value = base64.b64encode(json.dumps({"inner": value}).encode()).decode()
        record["data"]["note"] = value
    return body(records)


def long_strings() -> str:
    """400 strings of 10,000 characters (6.5 MB): ordinary Chinese and English prose."""
    rng = random.Random(9)
    words = (
        "干将路", "缴纳", "罚款", "志愿服务", "消防检查", "paid", "on", "time", "library", "river",
        "cleanup", "hours", "Hospital", "Road", "医院路", "寺前街", "疾病预防宣传",
    )  # fmt: skip
    strings = []
    for _ in range(400):
        text = " ".join(rng.choice(words) for _ in range(4000))
        strings.append(text[:10_000])
    return body([{"data": {"notes": strings[i : i + 10]}} for i in range(0, 400, 10)])


def adversarial_bodies() -> list[tuple[str, str]]:
    return [
        ("250,000 distinct member names", distinct_names(False)),
        ("250,000 distinct near-miss names", distinct_names(True)),
        ("1,000 records, 4-deep encodings", nested_encodings()),
        ("400 strings of 10,000 characters", long_strings()),
    ]


def bodies() -> list[tuple[str, str]]:
    zh = (traffic_zh, court_zh)
    en = (utilities_en, volunteer_en)
    zh_batch = batch(zh, 1000, 1)
    en_batch = batch(en, 1000, 2)
    return [
        ("single record, Chinese", body(batch(zh, 1, 3))),
        ("single record, English", body(batch(en, 1, 4))),
        ("1,000 records, Chinese, clean", body(zh_batch)),
        ("1,000 records, English, clean", body(en_batch)),
        ("1,000 records, Chinese, one prohibited", body(with_prohibited(zh_batch, True))),
        ("1,000 records, English, one prohibited", body(with_prohibited(en_batch, False))),
        ("1,000 records, escaped (\\uXXXX)", json.dumps(json.loads(body(zh_batch)))),
    ]


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--adversarial-repeat", type=int, default=3)
    args = parser.parse_args()
    header = f"{'body':42} {'KB':>7} {'loads MB/s':>11} {'screen MB/s':>12} {'ratio':>6}  found"
    print(header)
    print("-" * len(header))
    cases = [(name, text, args.repeat, False) for name, text in bodies()]
    cases += [(name, text, args.adversarial_repeat, True) for name, text in adversarial_bodies()]
    spec = default_policy_spec()
    for name, text, repeat, cold in cases:
        screener = compile_policy(spec)
        size = len(text.encode())
        document = json.loads(text)
        found = screener.screen_text(text, document)
        for _ in range(3):  # warm up caches and the CPU
            json.loads(text)
            screener.screen_text(text, document)
        ratios, loads, screens = [], [], []
        for _ in range(repeat):
            if cold:  # an adversarial body's names are new: no cache may remember them
                screener = compile_policy(spec)
            (load,) = timed(lambda text=text: json.loads(text), 1)
            (screen,) = timed(lambda t=text, d=document, s=screener: s.screen_text(t, d), 1)
            loads.append(load)
            screens.append(screen)
            ratios.append(load / screen)
        load_rate = size / statistics.median(loads) / 1e6
        screen_rate = size / statistics.median(screens) / 1e6
        print(
            f"{name:42} {size / 1000:7.1f} {load_rate:11.1f} {screen_rate:12.1f} "
            f"{statistics.median(ratios):6.2f}  {len(found)}"
        )


if __name__ == "__main__":
    main()
