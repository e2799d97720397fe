# ruff: noqa: RUF001  (Chinese text holds full-width punctuation; texts as they reached a trace)
"""Ways secrets and personal data reached a trace unmasked in bench/redaction_attack_r13.py (branch redact14), one
case for each mechanism that now masks them; each failed before. And the near misses that must stay readable."""

from __future__ import annotations

import json

import pytest

from bridge.processors.redact import Config, create
from bridge.processors.sensitive import sensitive_values

REACHED = {
    # A token's format beside Chinese letters (no space): ASCII word boundaries.
    "github token in Chinese": (
        "已配置好，用ghp_M2uVT84AnOSLehS27AbaZE9uVbIXQ4w8wTI4即可调用",
        "M2uVT84AnOSLehS27AbaZE9uV",
    ),
    "stripe key in Chinese": ("用sk_live_51jJ6kcDNeNJHWPETuVH1UkyM8bmiPL8oO49即可", "jJ6kcDNeNJHWPETuVH1Uky"),
    "aws id in Chinese": ("用AKIAN5USQNXTL3WLGQ5D即可调用", "N5USQNXTL3WLGQ5D"),
    # A strong value right after a Chinese name, or after Chinese words and a colon.
    "api key right after 密钥": (
        "这是API密钥4382b700cffc97a9a0c57a30ace078a3请保存",
        "4382b700cffc97a9a0c57a30ace078a3",
    ),
    "password right after 密码": ("数据库账号root，密码Taoiu6160&，端口3306", "Taoiu6160"),
    "token right after 令牌": ("令牌ZnCZ8khBGq8nlaNu0xu0bOFhPhV9scda12lk9piI已过期", "ZnCZ8khBGq8nlaNu0xu0bOFhPhV9"),
    "password's second half": ("密码后半段：0899$HWq76D", "0899$HWq76D"),
    # Encodings decoded before matching.
    "url-encoded Chinese name": ("form: %E5%AF%86%E7%A0%81%3DTuole6145%2A%26", "Tuole6145%2A"),
    "url-encoded phone label": ("q=%E6%89%8B%E6%9C%BA%E5%8F%B7%EF%BC%9A13939730339", "13939730339"),
    "doubly escaped Chinese name": ('{"msg": "\\\\u5bc6\\\\u7801\\\\u662fGmale3369@\\\\uff0c"}', "Gmale3369@"),
    "json in json in json": (
        json.dumps({"arguments": json.dumps({"headers": json.dumps({"X-Api-Key": "mvBkzzffY3N8kPXAkqTrparV"})})}),
        "mvBkzzffY3N8kPXAkqTrparV",
    ),
    # Names, labels and context.
    "words then an arrow": ("the shared secret for the webhook -> jptHpJ5fBz1AuYwOlZg26pFkaEdcFAHd", "jptHpJ5fBz1Au"),
    "after a Dify variable reference": ("{{#env.erp_token#}} resolved to SKn0aJ4Gd9yWBVVZz4HbqRGIX", "SKn0aJ4Gd9yW"),
    "merchant key": ('bad merchant key "78d5fcb67e12f2aa" for mchId=19', "78d5fcb67e12f2aa"),
    "smtp auth code": ('[smtp]\nauth_code = "KWBFUHPSLICZKYKN"', "KWBFUHPSLICZKYKN"),
    "query sign": ("https://pay.example.cn/confirm?orderId=1&sign=8937961dc68067e0d5fc800e5818d084", "8937961dc680"),
    "query ak": ("https://maps.example.com/geocode?address=x&ak=l0zw6lpTZ0DOssi9qqahimsQ5luvhK1c", "l0zw6lpTZ0DO"),
    # Personal data.
    "phone label and 是": ("我的手机号是13981210686，有事打我", "13981210686"),
    "bare Chinese mobile": ("他说13868966508能打通", "13868966508"),
    "grouped Chinese mobile": ("请拨打 139 7712 7515 联系我", "139 7712 7515"),
    "Indian mobile": ("Please reach Priya on 98809 64933", "98809 64933"),
    "Korean contact": ("연락처 010 9016 3576 로 연락 주세요", "010 9016 3576"),
    "Brazilian mobile": ("WhatsApp 11 90622 2597", "90622 2597"),
    "UK mobile": ("ring me on 07700 900123", "07700 900123"),
    "Brazilian mobile with a dash": ("(11) 91234-5678 é meu número", "91234-5678"),
    "passport after 护照号": ("护照号E46310746，签发地北京", "E46310746"),
    "date of birth": ("Date of birth: 14/02/1988", "14/02/1988"),
    "Chinese date of birth": ("出生日期：1995年7月1日", "1995年7月1日"),
    "birthday in JSON": ('{"birthday": "2001-09-30"}', "2001-09-30"),
    "lives at": ("I live at 22 Baker Street, London NW1 6XE.", "22 Baker Street"),
    "家住": ("家住杭州市西湖区文三路90号6幢402", "文三路90号"),
    "CNPJ": ("CNPJ 10.497.097/0001-43", "10.497.097/0001-43"),
}


@pytest.mark.parametrize("text, secret", REACHED.values(), ids=REACHED.keys())
def test_what_reached_a_trace_in_round_13_is_masked(text: str, secret: str) -> None:
    assert secret not in create(Config()).redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "timestamp 1765157400000",  # 13 digits passing Luhn's check: a time in milliseconds
        "客服热线：400-820-8820（工作日 9:00-18:00）",  # a business's service number
        "Customer service (toll-free): 1-800-275-2273",
        "CNPJ 10.497.097/0001-44",  # a wrong check digit
        "订单号：202612080130001234，预计明天送达",
        "密码修改时间：2026-12-08 10:00",
        "密码长度至少8位，需包含大小写字母和数字",
        "生日快乐！",
        "batch 20261208013000123456",
        "run took 1234 ms, 56 tokens/s",
    ],
)
def test_near_misses_of_round_13_stay(text: str) -> None:
    assert create(Config()).redact_text(text) == text


def test_dates_of_birth_and_bare_mobile_numbers_are_redaction_s_alone() -> None:
    """A date of birth or a mobile number a run is asked about is its data: the leak detector (examples exempt)
    reads neither, as it reads no postal address."""
    for text in ("Date of birth: 14/02/1988", "他说13868966508能打通"):
        assert sensitive_values(text, personal=True, exempt_examples=False)
        assert sensitive_values(text, personal=True) == {}
