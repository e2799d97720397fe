# ruff: noqa: E501, RUF001  (real formats are long; Chinese prose holds full-width punctuation)
"""Round of branch redact14 for bench/redaction_attack.py: texts written before its author read the redaction code's
patterns or the earlier rounds' texts (only docs/security.md and the runner), weighted to HOW a secret reaches a
trace rather than whose it is: in English and Chinese, inside JSON strings inside JSON strings (a tool call's
arguments, an HTTP node's body as text), URL-encoded and `\\uXXXX`-escaped, in query strings and fragments, in
Basic/Bearer/Digest headers and `Cookie:`/`Set-Cookie:` lines, in stack traces and log lines a code node prints, in
.env/YAML/TOML/INI/properties dumps, curl commands, connection strings, Markdown tables and code blocks, split over
two lines or two JSON fields, base64 of a whole config, Chinese sentences without spaces; PEM/SSH/PGP private keys,
JWTs, webhook URLs; the usual vendors' formats (named from public knowledge: gitleaks' and trufflehog's rule names, no
rule text used) and personal data (e-mails, US/UK/CN/JP/IN phone numbers, Luhn-valid cards, IBANs, Chinese ids with
their check digit, SSNs, passports, labelled dates of birth, home addresses). Every value is made up by round 8's
seeded generator (its draws go on after round 12's), none a credential.

Near misses (CLEAN13) must stay readable: order and tracking numbers, hashes, run and node ids, versions, prices,
times, ISBNs, model names, placeholders, a business's public service numbers marked as such. Payment providers'
test card numbers are not among them: docs/security.md says redaction masks documentation examples too.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable

from redaction_attack_r8 import _a, _china_id, _iban, _luhn, tok
from redaction_attack_r10 import _ALNUM, _B64, _B64URL, _DIGITS, _HEX, _LOWER, _UPPER, _b64u, _jwt, _num, _pem, _uuid


def _card(prefix: str, length: int) -> str:
    return _luhn(prefix + tok(length - len(prefix) - 1, _DIGITS))


def _u_escaped(text: str, count: int) -> str:
    """`text` with its first `count` characters written as JSON `\\u` escapes."""
    return "".join(f"\\u{ord(c):04x}" for c in text[:count]) + text[count:]


def _pw() -> str:
    """A password as people choose them: a word, digits and a symbol."""
    word = tok(1, "BCDFGHKLMPRSTVZ") + tok(4, "aeiou" + "nrstlm")
    return word + tok(4, _DIGITS) + tok(1, "!#%&*@$")


def _tool_args(name: str, arguments: dict[str, object]) -> str:
    """An LLM's tool call as Dify logs it: the arguments a JSON string inside the JSON."""
    return json.dumps(
        {"tool_calls": [{"type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}
    )


# The usual vendors' formats, each carried six ways below, a new key each way (the runner searches everything that
# arrived for each text's secret: one key in six texts would count one leak six times).
VENDOR: list[tuple[str, Callable[[], str]]] = [
    ("github", lambda: "ghp_" + tok(36)),
    ("github", lambda: "github_pat_11" + tok(20) + "_" + tok(59)),
    ("gitlab", lambda: "glpat-" + tok(20, _ALNUM + "-_")),
    ("stripe", lambda: "sk_live_51" + tok(97)),
    ("stripe", lambda: "rk_live_51" + tok(97)),
    ("twilio", lambda: "SK" + tok(32, _HEX)),
    ("sendgrid", lambda: "SG." + tok(22, _B64URL) + "." + tok(43, _B64URL)),
    ("slack", lambda: f"xoxb-{_num(12)}-{_num(13)}-{tok(24)}"),
    ("google", lambda: "AIza" + tok(35, _ALNUM + "-_")),
    ("aws", lambda: "AKIA" + tok(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
    ("openai", lambda: "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)),
    ("anthropic", lambda: "sk-ant-api03-" + tok(93, _B64URL) + "AA"),
    ("huggingface", lambda: "hf_" + tok(34, _UPPER + _LOWER)),  # letters only, as Hugging Face writes them
    ("npm", lambda: "npm_" + tok(36)),
]
OPENAI = VENDOR[10][1]()
AWS_ID = VENDOR[9][1]()


def _carried(vendor: str, make: Callable[[], str]) -> list[tuple[str, str, str]]:
    """A vendor's key six ways: a tool call's arguments, a Chinese sentence, URL-encoded in a query, `\\u`-escaped,
    a stack trace, a Markdown code block of a .env."""
    keys = [make() for _ in range(6)]
    escaped = json.dumps({"说明": "已配置 " + _u_escaped(keys[3], 4)}, ensure_ascii=True)
    return [
        (
            "jsonjson",
            _tool_args(
                "http_request",
                {"url": f"https://api.{vendor}.com/v1/me", "headers": {"Authorization": f"Bearer {keys[0]}"}},
            ),
            keys[0],
        ),
        ("zh", f"已经帮你配置好了{vendor}的接入，用{keys[1]}即可调用，记得别外传。", keys[1]),
        (
            "urlenc",
            "GET /proxy?target="
            + urllib.parse.quote(f"https://api.{vendor}.com/v1/items?api_key={keys[2]}&page=2", safe=""),
            keys[2],
        ),
        ("uescape", escaped.replace("\\\\u", "\\u"), keys[3][4:]),
        (
            "trace",
            f'Traceback (most recent call last):\n  File "/app/main.py", line 14, in main\n    client = Client(token="{keys[4]}", timeout=30)\n  File "/usr/lib/python3.12/site-packages/{vendor}/client.py", line 88, in __init__\n    raise AuthError("401 Unauthorized")\n{vendor}.errors.AuthError: 401 Unauthorized',
            keys[4],
        ),
        (
            "codeblock",
            f"把下面这段放进 `.env`：\n\n```bash\n{vendor.upper()}_CREDENTIAL={keys[5]}\nLOG_LEVEL=info\n```",
            keys[5],
        ),
    ]


ATTACKS_VENDOR = [attack for vendor, make in VENDOR for attack in _carried(vendor, make)]

# Passwords and tokens by HOW they travel.
PW = [_pw() for _ in range(40)]
BASIC = base64.b64encode(f"admin:{PW[0]}".encode()).decode()
BASIC_ZH = base64.b64encode(f"运维:{PW[1]}".encode()).decode()
BEARER = tok(40, _ALNUM + "-._~")
SESSION = tok(32, _LOWER + _DIGITS)
REMEMBER = tok(48, _B64URL)
CSRF = tok(32)
DIGEST = tok(32, _HEX)
JWT_USER = _jwt('{"sub":"1024","name":"王小明","role":"admin","iat":1765150000,"exp":1765236400}')
JWT_SVC = _jwt('{"iss":"dify-api","sub":"service","aud":"plugin-daemon","iat":1765150000}', "HS256")
SLACK_HOOK = f"https://hooks.slack.com/services/T{tok(8, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}/B{tok(10, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}/{tok(24)}"
DISCORD_HOOK = f"https://discord.com/api/webhooks/{_num(19)}/{tok(68, _B64URL)}"
DINGTALK = tok(64, _HEX)
WECOM = _uuid()
FEISHU = _uuid()
TEAMS_SIG = tok(43, _B64URL)
AWS_SECRET = tok(40, _B64)
AZURE_KEY = tok(86, _B64) + "=="
PEM_RSA = _pem("RSA PRIVATE KEY", 4)
PEM_EC = _pem("EC PRIVATE KEY", 2)
SSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    + "\n".join(tok(70, _B64) for _ in range(3))
    + "\n-----END OPENSSH PRIVATE KEY-----"
)
PGP = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGd"
    + tok(57, _B64)
    + "\n"
    + tok(64, _B64)
    + "\n="
    + tok(4, _B64)
    + "\n-----END PGP PRIVATE KEY BLOCK-----"
)
SPLIT_A, SPLIT_B = tok(20), tok(20)
SPLIT_TOKEN = "ghp_" + SPLIT_A[:16] + SPLIT_B
ENV_CONFIG = f"DB_HOST=db\nDB_USER=app\nDB_PASSWORD={PW[2]}\nREDIS_URL=redis://:{PW[3]}@redis:6379/0\nOPENAI_API_KEY={OPENAI[:60]}\n"
ENV_B64 = base64.b64encode(ENV_CONFIG.encode()).decode()
YAML_B64 = base64.b64encode(f"database:\n  user: root\n  password: {PW[4]}\n".encode()).decode()

ATTACKS_HOW: list[tuple[str, str, str]] = [
    # JSON strings inside JSON strings
    _a(
        "jsonjson",
        _tool_args(
            "send_email", {"smtp": {"host": "smtp.qq.com", "user": "ops@corp.cn", "password": "{S}"}, "to": "x@y.cn"}
        ),
        PW[5],
    ),
    _a(
        "jsonjson",
        json.dumps({"node_type": "http-request", "body": json.dumps({"username": "bot", "passwd": "{S}"})}),
        PW[6],
    ),
    _a(
        "jsonjson",
        json.dumps(
            {
                "body": {
                    "type": "raw-text",
                    "data": json.dumps(
                        {"client_id": "web-app", "client_secret": "{S}", "grant_type": "client_credentials"}
                    ),
                }
            }
        ),
        tok(32),
    ),
    _a(
        "jsonjson",
        json.dumps({"arguments": json.dumps({"query": "订单", "headers": json.dumps({"X-Api-Key": "{S}"})})}),
        tok(32),
    ),
    _a(
        "jsonjson",
        json.dumps(
            {"outputs": {"result": json.dumps({"登录信息": {"账号": "admin", "密码": "{S}"}}, ensure_ascii=False)}},
            ensure_ascii=False,
        ),
        PW[7],
    ),
    _a(
        "jsonjson",
        json.dumps({"outputs": {"result": json.dumps({"登录信息": {"账号": "admin", "密码": "{S}"}})}}),
        PW[8],
    ),
    _a(
        "jsonjson",
        _tool_args("db_query", {"dsn": "postgresql://report:{S}@pg.internal:5432/sales", "sql": "select 1"}),
        PW[9],
    ),
    _a(
        "jsonjson",
        json.dumps({"text": json.dumps({"access_token": "{S}", "expires_in": 7200, "token_type": "Bearer"})}),
        tok(43, _B64URL),
    ),
    # URL-encoded and \u-escaped
    _a(
        "urlenc",
        "POST /oauth/token body: grant_type=password&username=li.lei%40corp.cn&password={S}&client_id=console",
        urllib.parse.quote(PW[10], safe=""),
    ),
    _a("urlenc", "redirect=https%3A%2F%2Fapp.example.cn%2Fcb%3Fcode%3Dabc%26token%3D{S}", tok(40)),
    _a("urlenc", "next=%2Fadmin%3Fapi_key%3D{S}%26lang%3Dzh", tok(32, _HEX)),
    _a("urlenc", "q=%E6%89%8B%E6%9C%BA%E5%8F%B7%EF%BC%9A{S}", "139" + _num(8)),
    _a("urlenc", "log: GET /api/login?user=%E5%BC%A0%E4%B8%89&pwd={S} 200", urllib.parse.quote(PW[11], safe="")),
    _a("urlenc", "form: %E5%AF%86%E7%A0%81%3D{S}%26%E8%B4%A6%E5%8F%B7%3Dadmin", urllib.parse.quote(PW[12], safe="")),
    _a("uescape", '{"msg": "\\u5bc6\\u7801\\u662f{S}\\uff0c\\u8bf7\\u52ff\\u544a\\u8bc9\\u4ed6\\u4eba"}', PW[13]),
    _a("uescape", '{"\\u5bc6\\u94a5": "{S}"}', tok(32)),
    _a("uescape", '{"\\u0070\\u0061\\u0073\\u0073\\u0077\\u006f\\u0072\\u0064": "{S}"}', PW[14]),
    _a("uescape", '{"text": "\\u8eab\\u4efd\\u8bc1\\u53f7\\uff1a{S}"}', _china_id("310104" + "19920317" + "42" + "6")),
    # query strings and fragments
    _a("query", "https://app.example.com/oauth/callback#access_token={S}&token_type=bearer&expires_in=3600", tok(40)),
    _a("query", "GET https://maps.example.com/api/geocode?address=%E5%8C%97%E4%BA%AC&ak={S}", tok(32)),
    _a("query", "https://api.weather.cn/v7/now?location=101010100&key={S}", tok(32, _HEX)),
    _a("query", "webhook 回调地址：https://hooks.corp.cn/notify?appid=wx12&secret={S}", tok(32, _HEX)),
    _a(
        "query",
        "https://storage.example.com/files/report.pdf?X-Amz-Credential=AKIA/20261208/us-east-1/s3/aws4_request&X-Amz-Signature={S}",
        tok(64, _HEX),
    ),
    _a(
        "query",
        "https://blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-09&sig={S}",
        urllib.parse.quote(tok(43, _B64) + "=", safe=""),
    ),
    _a("query", "https://app.example.com/reset#token={S}", tok(48, _B64URL)),
    _a("query", "跳转链接：https://pay.example.cn/confirm?orderId=20261208&sign={S}", tok(32, _HEX)),
    # headers
    _a("header", "Authorization: Basic {S}", BASIC),
    _a("header", "请求头：Authorization: Basic {S}", BASIC_ZH),
    _a("header", "> GET /v2/items HTTP/1.1\n> Host: api.corp.cn\n> Authorization: Bearer {S}\n> Accept: */*", BEARER),
    _a(
        "header",
        'Authorization: Digest username="ops", realm="api", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="{S}", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        DIGEST,
    ),
    _a("header", "Cookie: _ga=GA1.2.1234.5678; sessionid={S}; lang=zh-CN", SESSION),
    _a(
        "header",
        "Set-Cookie: remember_token={S}; Path=/; Expires=Wed, 09 Dec 2026 01:00:00 GMT; HttpOnly; Secure",
        REMEMBER,
    ),
    _a("header", "Set-Cookie: csrftoken={S}; SameSite=Lax", CSRF),
    _a("header", "Cookie: auth_token={S}; theme=dark", tok(40, _B64URL)),
    _a("header", "X-Auth-Token: {S}\nX-Request-Id: 7f9d", tok(36)),
    _a("header", "响应头 Set-Cookie: SESSION={S}; Path=/; HttpOnly", _b64u(_uuid())),
    _a("header", "headers={'Authorization': 'Token {S}', 'Content-Type': 'application/json'}", tok(40, _HEX)),
    _a("header", "Proxy-Authorization: Basic {S}", base64.b64encode(f"squid:{PW[15]}".encode()).decode()),
    # stack traces and log lines
    _a(
        "trace",
        'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "10.0.3.7", port 5432 failed\n(Background on this error at: https://sqlalche.me/e/20/e3q8)\n[SQL: select 1] engine url: postgresql+psycopg2://dify:{S}@10.0.3.7:5432/dify',
        PW[16],
    ),
    _a(
        "trace",
        "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.corp.cn/v1/export?access_token={S}&format=csv",
        tok(40),
    ),
    _a(
        "trace",
        "2026-12-08 01:12:09,114 DEBUG urllib3.connectionpool send: b'POST /v1/chat HTTP/1.1\\r\\nHost: llm.corp.cn\\r\\nAuthorization: Bearer {S}\\r\\n'",
        tok(48),
    ),
    _a("trace", "[2026-12-08T01:12:09Z] INFO  auth: login ok user=zhangsan password={S} ip=10.2.3.4", PW[17]),
    _a("trace", "2026-12-08 09:12:09 ERROR 登录失败，用户名=admin，密码={S}，请检查", PW[18]),
    _a("trace", "print(config) -> {'host': 'mq.internal', 'port': 5672, 'user': 'guest', 'password': '{S}'}", PW[19]),
    _a("trace", "KeyError: 'token'\nlocals: {'resp': <Response [200]>, 'secret': '{S}', 'retries': 3}", tok(32)),
    _a(
        "trace",
        'at com.corp.Pay.init(Pay.java:42)\nCaused by: java.lang.IllegalStateException: bad merchant key "{S}" for mchId=1900000109',
        tok(32, _HEX),
    ),
    # configuration dumps
    _a("config", "# .env\nAPP_ENV=production\nSECRET_KEY={S}\nDEBUG=false", tok(42, _B64)),
    _a("config", "redis:\n  host: cache\n  port: 6379\n  auth: {S}\n", PW[20]),
    _a(
        "config",
        '[smtp]\nserver = "smtp.163.com"\nuser = "notice@163.com"\nauth_code = "{S}"\n',
        tok(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ),
    _a("config", "[database]\nhost=10.0.0.5\nuser=root\npass={S}\n", PW[21]),
    _a(
        "config",
        "spring.datasource.url=jdbc:mysql://db:3306/shop\nspring.datasource.username=shop\nspring.datasource.password={S}\n",
        PW[22],
    ),
    _a("config", "mail.smtp.password: {S}\nmail.smtp.port: 465", PW[23]),
    _a(
        "config",
        '[tool.poetry.source]\nname = "private"\nurl = "https://pypi.corp.cn/simple"\n[http-basic.private]\nusername = "ci"\npassword = "{S}"',
        PW[24],
    ),
    _a("config", "wechat:\n  appid: wx8a2b3c4d5e6f7a8b\n  appsecret: {S}\n", tok(32, _HEX)),
    _a("config", "aliyun.oss.accessKeySecret={S}\naliyun.oss.endpoint=oss-cn-hangzhou.aliyuncs.com", tok(30)),
    _a("config", "export AWS_ACCESS_KEY_ID=" + AWS_ID + "\nexport AWS_SECRET_ACCESS_KEY={S}", AWS_SECRET),
    _a("config", "# 数据库配置\n数据库密码={S}\n数据库地址=10.1.1.9", PW[25]),
    _a("config", "# messages_zh.properties\n\\u5bc6\\u7801={S}\napp.title=\\u5ba2\\u670d", PW[0][::-1]),
    _a("config", "TWILIO_ACCOUNT_SID=AC" + tok(32, _HEX) + "\nTWILIO_AUTH_TOKEN={S}", tok(32, _HEX)),
    _a("config", "[client]\nuser = backup\npassword = {S}\nhost = 10.0.0.12", PW[1][::-1]),
    _a("config", "# config.ini\n[feishu]\napp_id = cli_a1b2c3d4e5f6\napp_secret = {S}", tok(32)),
    # curl commands and connection strings
    _a("curl", "curl -X POST https://api.corp.cn/v1/run -H 'X-API-KEY: {S}' -d '{\"q\":\"hi\"}'", tok(32)),
    _a("curl", "curl -u deploy:{S} https://nexus.corp.cn/repository/raw/app.tar.gz -O", PW[26]),
    _a(
        "curl",
        "curl https://oauth.corp.cn/token -d 'grant_type=client_credentials&client_id=svc&client_secret={S}'",
        tok(40),
    ),
    _a("curl", 'curl --data-urlencode "password={S}" --data-urlencode "username=ops" https://login.corp.cn', PW[27]),
    _a("curl", 'curl -H "Cookie: session={S}" https://admin.corp.cn/api/users', tok(40, _B64URL)),
    _a(
        "conn",
        "Server=tcp:corp.database.windows.net,1433;Initial Catalog=crm;User ID=sa;Password={S};Encrypt=True;",
        PW[28],
    ),
    _a(
        "conn",
        "DefaultEndpointsProtocol=https;AccountName=corpdata;AccountKey={S};EndpointSuffix=core.windows.net",
        AZURE_KEY,
    ),
    _a("conn", "mongodb+srv://analytics:{S}@cluster0.ab12c.mongodb.net/prod?retryWrites=true", PW[29]),
    _a("conn", "jdbc:mysql://10.0.0.8:3306/erp?user=erp&password={S}&useSSL=false", PW[30]),
    _a("conn", "amqp://mq:{S}@rabbit.internal:5672/%2f", PW[31]),
    _a("conn", "连接串：Host=pg;Port=5432;Username=bi;Password={S};Database=bi", PW[32]),
    # Markdown tables and code blocks
    _a("markdown", "| 环境 | 账号 | 密码 |\n|---|---|---|\n| 生产 | admin | {S} |\n| 测试 | test | test123 |", PW[33]),
    _a("markdown", "| service | api key |\n|---|---|\n| weather | {S} |", tok(32)),
    _a("markdown", '```python\nimport openai\nclient = openai.OpenAI(api_key="{S}")\n```', OPENAI),
    _a("markdown", '```yaml\nenv:\n  - name: DB_PASSWORD\n    value: "{S}"\n```', PW[34]),
    _a("markdown", "账号信息如下：\n\n- 用户名：admin\n- 密码：{S}\n- 地址：https://admin.corp.cn", PW[35]),
    # split over two lines or two JSON fields
    _a("split", f'token = ("ghp_{SPLIT_A[:16]}"\n         "{{S}}")', SPLIT_B),
    _a("split", '{"key_part1": "' + PW[36][:5] + '", "key_part2": "{S}"}', PW[36][5:] + tok(10)),
    _a("split", "密码前半段：" + PW[37][:5] + "\n密码后半段：{S}", PW[37][5:] + tok(6)),
    # base64 of a whole config
    _a("base64", "config.b64: {S}", ENV_B64),
    _a("base64", '{"kind": "Secret", "data": {"config.yaml": "{S}"}}', YAML_B64),
    _a("base64", "请解码这段配置：{S}", base64.b64encode(f"[mysql]\nuser=root\npassword={PW[38]}\n".encode()).decode()),
    # private keys, JWTs, webhooks
    _a("keys", "{S}", PEM_RSA),
    _a("keys", json.dumps({"private_key": PEM_EC}), PEM_EC.split("\n")[1]),
    _a("keys", "把私钥发给你：\n{S}", SSH_KEY),
    _a("keys", "{S}", PGP),
    _a("keys", "id_ed25519:\n" + SSH_KEY.replace("\n" + SSH_KEY.split("\n")[2], "\n{S}"), tok(70, _B64)),
    _a("jwt", "Authorization: Bearer {S}", JWT_USER),
    _a("jwt", "登录成功，token：{S}", JWT_SVC),
    _a("jwt", '{"id_token": "{S}"}', _jwt('{"sub":"2048","email":"li@corp.cn","iat":1765150000}')),
    _a("webhook", "告警推送到 {S}", SLACK_HOOK),
    _a("webhook", "POST {S}", DISCORD_HOOK),
    _a("webhook", "钉钉机器人：https://oapi.dingtalk.com/robot/send?access_token={S}", DINGTALK),
    _a("webhook", "企业微信：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={S}", WECOM),
    _a("webhook", "飞书机器人 https://open.feishu.cn/open-apis/bot/v2/hook/{S}", FEISHU),
    _a(
        "webhook",
        "https://corp.webhook.office.com/webhookb2/"
        + _uuid()
        + "@"
        + _uuid()
        + "/IncomingWebhook/"
        + tok(32, _HEX)
        + "/"
        + _uuid()
        + "/V2{S}",
        TEAMS_SIG,
    ),
    # Chinese sentences without spaces
    _a("zhsentence", "我的邮箱密码是{S}，帮我登录一下", PW[39]),
    _a("zhsentence", "服务器的root密码：{S}", _pw()),
    _a("zhsentence", "密钥：{S}", tok(32)),
    _a("zhsentence", "这是API密钥{S}请保存", tok(32, _HEX)),
    _a("zhsentence", "口令为{S}。", _pw()),
    _a("zhsentence", "微信支付商户密钥是{S}", tok(32)),
    _a("zhsentence", "数据库账号root，密码{S}，端口3306", _pw()),
    _a("zhsentence", "令牌{S}已过期，请刷新", tok(40)),
    _a("zhsentence", "Wi-Fi密码是{S}", _pw()),
    _a("zhsentence", "验证码之外，还需要二级密码{S}才能转账", _pw()),
    _a("enprose", "hey, the staging db password is {S} btw", _pw()),
    _a("enprose", "Use the token {S} for the nightly job.", tok(40)),
    _a("enprose", "Our Mailgun API key: {S}", "key-" + tok(32, _HEX)),
    _a("enprose", "the shared secret for the webhook -> {S}", tok(32)),
    _a("enprose", "Login: admin / {S}", _pw()),
]

# Personal data, in English and Chinese.
CN_IDS = [
    _china_id(area + birth + tok(3, _DIGITS))
    for area, birth in (
        ("110105", "19880214"),
        ("440305", "19950701"),
        ("510107", "20010930"),
        ("320102", "19760512"),
        ("330106", "19990101"),
        ("420111", "19850823"),
    )
]
CARDS = [
    _card("4", 16),
    _card("51", 16),
    _card("6222", 19),
    _card("6228", 19),
    _card("37", 15),
    _card("6011", 16),
    _card("3528", 16),
    _card("62", 16),
]
SSNS = ["412-73-9021", "531-08-4417", "229-61-3358"]
IBANS = [
    _iban("DE", tok(18, _DIGITS)),
    _iban("GB", "NWBK" + tok(14, _DIGITS)),
    _iban("FR", tok(23, _DIGITS)),
    _iban("NL", "ABNA" + tok(10, _DIGITS)),
]


def _spaced(digits: str, size: int = 4) -> str:
    return " ".join(digits[i : i + size] for i in range(0, len(digits), size))


ATTACKS_PERSONAL: list[tuple[str, str, str]] = [
    _a("email", "Contact: {S}", "li.na.1988@qq.com"),
    _a("email", "请发到我邮箱{S}，谢谢", "wangfang_work@163.com"),
    _a("email", '{"user": {"email": "{S}", "plan": "pro"}}', "jordan.miles@outlook.com"),
    _a("email", "From: =?UTF-8?B?5byg5LiJ?= <{S}>", "zhang.san@corp.cn"),
    _a("email", "mailto%3A{S}", "amy.r%40gmail.com"),
    _a("phone", "我的手机号是{S}，有事打我", "139" + _num(8)),
    _a("phone", "手机：{S}", "+86 " + "138 " + _num(4) + " " + _num(4)),
    _a("phone", "联系电话{S}（张先生）", "186-" + _num(4) + "-" + _num(4)),
    _a("phone", "收件人：李雷，电话：{S}", "15" + tok(1, "0123") + _num(8)),
    _a("phone", "Call me at {S} after 6pm", "(415) 826-" + _num(4)),
    _a("phone", "Mobile: {S}", "+1 646 " + _num(3) + " " + _num(4)),
    _a("phone", "UK mobile {S}", "07" + tok(1, "4589") + _num(2) + " " + _num(6)),
    _a("phone", "ring me on {S}", "+44 7" + tok(1, "4589") + _num(2) + " " + _num(6)),
    _a("phone", "携帯：{S}", "090-" + _num(4) + "-" + _num(4)),
    _a("phone", "my Japanese number is {S}", "+81 80 " + _num(4) + " " + _num(4)),
    _a("phone", "WhatsApp {S}", "+91 98" + _num(3) + " " + _num(5)),
    _a("phone", "Please reach Priya on {S}", "98" + _num(3) + " " + _num(5)),
    _a("phone", '{"name": "陈静", "tel": "{S}"}', "177" + _num(8)),
    _a("phone", "customer phone={S}&order=1", "%2B86" + "137" + _num(8)),
    _a("phone", "他电话是{S}", "13" + tok(1, "56789") + _num(8)),
    _a("card", "银行卡号：{S}", _spaced(CARDS[2], 4)),
    _a("card", "card: {S} exp 09/28 cvv 123", _spaced(CARDS[0])),
    _a("card", "我的卡号是{S}，开户行招商银行", CARDS[3]),
    _a("card", '{"payment": {"pan": "{S}", "holder": "JOHN SMITH"}}', CARDS[1]),
    _a("card", "Amex {S}", f"{CARDS[4][:4]} {CARDS[4][4:10]} {CARDS[4][10:]}"),
    _a("card", "card_number={S}&amount=100", CARDS[5]),
    _a("card", "JCB card {S}", "-".join(CARDS[6][i : i + 4] for i in range(0, 16, 4))),
    _a("card", "请用尾号对应的银联卡{S}付款", CARDS[7]),
    _a("iban", "IBAN: {S}", _spaced(IBANS[0])),
    _a("iban", "please wire to {S} (Lloyds)", IBANS[1]),
    _a("iban", "收款账户 IBAN {S}", IBANS[2]),
    _a("iban", '{"iban": "{S}"}', IBANS[3]),
    _a("cnid", "身份证号{S}", CN_IDS[0]),
    _a("cnid", "我的身份证号码：{S}", CN_IDS[1]),
    _a("cnid", '{"name": "刘洋", "id_card": "{S}"}', CN_IDS[2]),
    _a("cnid", "Chinese ID: {S}", CN_IDS[3]),
    _a("cnid", "证件号码{S}，有效期至2031", CN_IDS[4]),
    _a("cnid", "乘客：赵敏 {S}", CN_IDS[5]),
    _a("ssn", "SSN: {S}", SSNS[0]),
    _a("ssn", "Her social security number is {S}.", SSNS[1]),
    _a("ssn", '{"ssn": "{S}", "dob": "1990-01-01"}', SSNS[2]),
    _a("passport", "Passport No: {S}", "E" + _num(8)),
    _a("passport", "护照号码：{S}", "EA" + _num(7)),
    _a("passport", "US passport number {S}", _num(9)),
    _a("passport", "UK passport: {S}", "5" + _num(8)),
    _a("passport", "护照号{S}，签发地北京", "E" + _num(8)),
    _a("dob", "Date of birth: {S}", "14/02/1988"),
    _a("dob", "出生日期：{S}", "1995年7月1日"),
    _a("dob", "DOB {S}", "1976-05-12"),
    _a("dob", '{"birthday": "{S}"}', "2001-09-30"),
    _a("dob", "生日{S}", "1999-01-01"),
    _a("address", "Home address: {S}", "1427 Maple Ave, Springfield, IL 62704"),
    _a("address", "住址：{S}", "北京市朝阳区建国路88号院3号楼1单元502室"),
    _a("address", "收货地址{S}", "广东省深圳市南山区科技园南区18栋1203"),
    _a("address", "I live at {S}.", "22 Baker Street, London NW1 6XE"),
    _a("address", '{"shipping_address": "{S}"}', "上海市徐汇区漕溪北路201号12楼"),
    _a("address", "家住{S}", "杭州市西湖区文三路90号6幢402"),
]

ATTACKS13: list[tuple[str, str, str]] = ATTACKS_VENDOR + ATTACKS_HOW + ATTACKS_PERSONAL

CLEAN13: list[str] = [
    "订单号：202612080130001234，预计明天送达",
    "Order #112-4829103-7732918 has shipped",
    "顺丰快递单号 SF1409283746512",
    "UPS tracking 1Z999AA10123456784",
    "commit 9f2c4e1a7b3d5f6e8a0c1b2d3e4f5a6b7c8d9e0f",
    "git sha a3f9c21",
    "workflow_run_id 5b6d1f0e-2c3a-4e7b-9d8f-0a1b2c3d4e5f",
    "node_id 1733620000123 (llm), next: 1733620000456",
    'node "llm_2" -> "answer"',
    "dify-api:1.14.1, plugin-daemon 0.5.3",
    "Python 3.12.7, numpy==2.1.3",
    "价格：¥1,299.00（含税）",
    "Total: $4,299.99, tax $344.00",
    "2026-12-08T01:30:00+08:00",
    "timestamp 1765157400000",
    "ISBN 978-7-5086-9913-7",
    "ISBN 0-306-40615-2",
    "model gpt-4o-2024-08-06, fallback claude-3-5-sonnet-20241022",
    "qwen2.5-72b-instruct, deepseek-chat, glm-4-plus",
    "text-embedding-3-large, bge-m3",
    "OPENAI_API_KEY=sk-...",
    "api_key: <YOUR_KEY>",
    "Authorization: Bearer <token>",
    "password: ${DB_PASSWORD}",
    "key: {{#env.weather_key#}}",
    "token=YOUR_TOKEN_HERE",
    "客服热线：400-820-8820（工作日 9:00-18:00）",
    "Customer service (toll-free): 1-800-275-2273",
    "全国统一服务电话 95588",
    "报警电话 110，急救 120",
    "请输入6位数字验证码",
    "密码长度至少8位，需包含大小写字母和数字",
    "忘记密码？点击这里重置",
    "The password must be at least 12 characters",
    "token usage: prompt 1203, completion 388",
    "max_tokens=4096, temperature=0.7",
    "Set-Cookie: theme=dark; Path=/",
    "Cookie: lang=zh-CN; tz=Asia/Shanghai",
    "curl -X GET https://api.corp.cn/v1/health",
    "SELECT id, name FROM users WHERE created_at > '2026-01-01' LIMIT 100",
    "| 指标 | 数值 |\n|---|---|\n| 准确率 | 93.2% |",
    "```bash\npip install -U dify-client\n```",
    "HTTP/1.1 401 Unauthorized: invalid api key",
    "错误：密钥无效，请检查后重试",
    "邮编 100020，区号 010",
    "第 3 章第 12 节，共 284 页",
    "房间 1201，楼层 12",
    "uuid 3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "sha256:4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
    "trace_id 4bf92f3577b34da6a3ce929d0e0e4736 span_id 00f067aa0ba902b7",
    "Invoice INV-2026-000123 due 2026-12-31",
    "发票代码 144031900111 发票号码 08452376",
    "工号 E10293，部门 R&D",
    "batch 20261208013000123456",
    "IP 172.18.0.5:5432",
    "color #1a73e8, size 1920x1080",
    "CVE-2025-3248 patched in 1.14.1",
    "run took 1234 ms, 56 tokens/s",
    "retry 3/5 after 2000ms",
    "第1733620000123号节点执行失败",
    "conversation 8b1f6d2e-3a4c-4d5e-9f0a-1b2c3d4e5f6a, message 0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
    "在 2026 年 12 月 8 日 01:30 生成",
    'File "/app/main.py", line 14, in main',
    'DEBUG urllib3.connectionpool: https://api.corp.cn:443 "GET /v1/items?page=2 HTTP/1.1" 200 1532',
]
