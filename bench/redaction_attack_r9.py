# ruff: noqa: E501, RUF001  (real formats are long; prose in other scripts holds look-alike letters)
"""Round of branch redact-9 for bench/redaction_attack.py: texts written before its author read the redaction code's
patterns, as Dify traffic carries them (tool answers, HTTP headers and bodies, pasted logs, code, config files, chat in
many languages), in the formats of 2026's clouds, SaaS providers, databases, national ids and payment cards. Every
value is made up by round 8's seeded generator (check digits computed where the format has them), none a credential.
"""

from __future__ import annotations

import base64

from redaction_attack_r8 import _ALNUM, _B64URL, _HEX, _LOWER_ALNUM, _a, _iban, _jwt, _luhn, _verhoeff, tok

_DIGITS = "0123456789"
_UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_B64 = _ALNUM + "+/"


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def _dni(number: str) -> str:
    return number + "TRWAGMYFPDXBNJZSQVHLCKE"[int(number) % 23]


def _nie(number: str) -> str:
    return "Y" + number + "TRWAGMYFPDXBNJZSQVHLCKE"[int("1" + number) % 23]


def _steuer_id(first10: str) -> str:
    """German tax id: ISO 7064 MOD 11,10."""
    product = 10
    for char in first10:
        total = (int(char) + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return first10 + str(0 if check == 10 else check)


def _my_number(first11: str) -> str:
    """Japan's My Number: weights 2-7 then 2-6 from the right."""
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(first11), start=1))
    rest = total % 11
    return first11 + str(0 if rest <= 1 else 11 - rest)


def _taiwan_id(letter: str, first8: str) -> str:
    code = "ABCDEFGHJKLMNPQRSTUVXYWZIO".index(letter) + 10
    total = code // 10 + code % 10 * 9 + _weighted(first8, (8, 7, 6, 5, 4, 3, 2, 1))
    return letter + first8 + str(-total % 10)


def _hkid(letter: str, digits: str) -> str:
    total = 36 * 9 + (ord(letter) - 55) * 8 + _weighted(digits, (7, 6, 5, 4, 3, 2))
    check = -total % 11
    return f"{letter}{digits}({'A' if check == 10 else check})"


def _thai_id(first12: str) -> str:
    total = _weighted(first12, tuple(range(13, 1, -1)))
    digits = first12 + str((11 - total % 11) % 10)
    return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"


def _nif_pt(first8: str) -> str:
    check = 11 - _weighted(first8, (9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return first8 + str(0 if check >= 10 else check)


def _pps(first7: str) -> str:
    return first7 + "WABCDEFGHIJKLMNOPQRSTUV"[_weighted(first7, (8, 7, 6, 5, 4, 3, 2)) % 23]


def _inn(first10: str) -> str:
    """Russia's personal INN: two check digits."""
    first = _weighted(first10, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10
    second = _weighted(first10 + str(first), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10
    return f"{first10}{first}{second}"


def _nhs(first9: str) -> str:
    check = 11 - _weighted(first9, (10, 9, 8, 7, 6, 5, 4, 3, 2)) % 11
    digits = first9 + str(0 if check == 11 else check)  # first9 chosen so that the check is not 10
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def _tfn(first8: str) -> str:
    """Australia's tax file number: the ninth digit making the weighted sum a multiple of 11."""
    for last in _DIGITS:
        if _weighted(first8 + last, (1, 4, 3, 7, 5, 8, 6, 9, 10)) % 11 == 0:
            return f"{first8[:3]} {first8[3:6]} {first8[6:]}{last}"
    raise ValueError(first8)


def _norway(birth: str) -> str:
    """Norway's fødselsnummer: the first individual number from 123 whose two mod-11 checks are digits."""
    for individual in range(123, 1000):
        first9 = f"{birth}{individual}"
        k1 = -_weighted(first9, (3, 7, 6, 1, 8, 9, 4, 5, 2)) % 11
        k2 = -_weighted(f"{first9}{k1 % 10}", (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) % 11
        if k1 < 10 and k2 < 10:
            return f"{first9}{k1}{k2}"
    raise ValueError(birth)


def _curp(first17: str) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * (18 - i) for i, c in enumerate(first17))
    return first17 + str(-total % 10)


def _spaced(digits: str, size: int = 4) -> str:
    return " ".join(digits[i : i + size] for i in range(0, len(digits), size))


def _uuid_hex() -> str:
    return "-".join(tok(n, _HEX) for n in (8, 4, 4, 4, 12))


AWS_ID = "AKIA" + tok(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
AWS_KEY = tok(40, _B64)
STS_KEY = tok(40, _B64)
STS_TOKEN = "FwoGZXIvYXdzE" + tok(300, _B64)
GCP_PEM = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ" + tok(60, _B64)
TENCENT_KEY = tok(32)
HUAWEI_SK = tok(40)
CARD_RUPAY = _luhn("652150" + tok(9, _DIGITS))
CARD_ELO = _luhn("636368" + tok(9, _DIGITS))
CARD_MIR = _luhn("220070" + tok(9, _DIGITS))
CARD_UNIONPAY = _luhn("622588" + tok(12, _DIGITS))
CARD_TROY = _luhn("979200" + tok(9, _DIGITS))
CARD_VISA = _luhn("4" + tok(14, _DIGITS))
CARD_MC = _luhn("5" + tok(14, _DIGITS))
CARD_DINERS = _luhn("3056" + tok(9, _DIGITS))
CARD_MAESTRO = _luhn("6759" + tok(14, _DIGITS))
CARD_HIPER = _luhn("606282" + tok(9, _DIGITS))
CARD_VERVE = _luhn("506099" + tok(12, _DIGITS))
CARD_AMEX = _luhn("34" + tok(12, _DIGITS))
OAUTH_ACCESS = "ya29.a0AfB_by" + tok(160, _B64URL)
SESSION_JWT = _jwt('{"sub":"42","email":"li.wei@example.cn","role":"admin","exp":1797000000}')
REFRESH_JWT = _jwt('{"typ":"refresh","sid":"' + tok(16) + '","exp":1799000000}')
BASIC = base64.b64encode(b"svc_dify:" + tok(18).encode()).decode()

ATTACKS9: list[tuple[str, str, str]] = [
    # clouds: AWS, GCP, Azure, Alibaba, Tencent, Huawei, Baidu, Volcengine
    _a(
        "cloud",
        "[default]\naws_access_key_id = " + AWS_ID + "\naws_secret_access_key = {S}\nregion = eu-west-1",
        AWS_KEY,
    ),
    _a(
        "cloud",
        '{"Credentials": {"AccessKeyId": "ASIA'
        + tok(16, _UPPER_ALNUM)
        + '", "SecretAccessKey": "{S}", "SessionToken": "'
        + STS_TOKEN
        + '", "Expiration": "2026-12-07T15:00:00Z"}}',
        STS_KEY,
    ),
    _a("cloud", 'export AWS_SESSION_TOKEN="{S}"', "IQoJb3JpZ2luX2VjE" + tok(300, _B64)),
    _a("cloud", "boto3.client('s3', aws_access_key_id='" + AWS_ID + "', aws_secret_access_key='{S}')", tok(40, _B64)),
    _a("cloud", "Bedrock API key: {S}", "ABSKQmVkcm9ja0FQSUtleS" + tok(110, _B64) + "="),
    _a("cloud", "AWS_BEARER_TOKEN_BEDROCK={S}", "ABSKQmVkcm9ja0FQSUtleS" + tok(110, _B64) + "="),
    _a(
        "cloud",
        '{"type": "service_account", "project_id": "acme-prod", "private_key_id": "{S}", "client_email": "dify@acme-prod.iam.gserviceaccount.com"}',
        tok(40, _HEX),
    ),
    _a(
        "cloud",
        '"private_key": "-----BEGIN PRIVATE KEY-----\\n{S}\\n-----END PRIVATE KEY-----\\n"',
        GCP_PEM,
    ),
    _a(
        "cloud",
        "Google OAuth client: 1234567890-abc.apps.googleusercontent.com, client secret {S}",
        "GOCSPX-" + tok(28, _B64URL),
    ),
    _a("cloud", '{"access_token": "{S}", "expires_in": 3599, "token_type": "Bearer"}', OAUTH_ACCESS),
    _a(
        "cloud",
        'Maps key in the page source: <script src="https://maps.googleapis.com/maps/api/js?key={S}">',
        "AIza" + tok(35, _B64URL),
    ),
    _a(
        "cloud",
        "AZURE_OPENAI_ENDPOINT=https://acme-eastus.openai.azure.com/\nAZURE_OPENAI_API_KEY={S}",
        tok(32, _HEX),
    ),
    _a(
        "cloud",
        "curl -H 'api-key: {S}' https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions",
        tok(84, _ALNUM),
    ),
    _a(
        "cloud",
        "https://acmestore.blob.core.windows.net/uploads/report.pdf?sv=2024-11-04&ss=b&srt=o&sp=r&se=2026-12-08T00:00:00Z&sig={S}",
        tok(43, _ALNUM) + "%3D",
    ),
    _a("cloud", "Azure DevOps PAT: {S}", tok(52, "abcdefghijklmnopqrstuvwxyz234567")),
    _a(
        "cloud",
        'az ad sp create-for-rbac output: {"appId": "'
        + _uuid_hex()
        + '", "password": "{S}", "tenant": "'
        + _uuid_hex()
        + '"}',
        tok(3) + "8Q~" + tok(34, _ALNUM + "_~.-"),
    ),
    _a("cloud", "AccountEndpoint=https://acme.documents.azure.com:443/;AccountKey={S};", tok(86, _B64) + "=="),
    _a("cloud", "阿里云 AccessKey ID: LTAI" + tok(20) + "\nAccessKey Secret: {S}", tok(30)),
    _a("cloud", "DASHSCOPE_API_KEY={S}", "sk-" + tok(32, _HEX)),
    _a("cloud", "腾讯云 SecretId: AKID" + tok(32) + " SecretKey: {S}", TENCENT_KEY),
    _a("cloud", 'tencentcloud.Credential("AKID' + tok(32) + '", "{S}")', tok(32)),
    _a("cloud", "华为云 AK: " + tok(20, _UPPER_ALNUM) + "，SK: {S}", HUAWEI_SK),
    _a("cloud", "千帆 API Key：{S}", "bce-v3/ALTAK-" + tok(21) + "/" + tok(40, _HEX)),
    _a("cloud", "火山引擎 ARK_API_KEY={S}", _uuid_hex()),
    _a("cloud", "智谱 API key 是 {S}", tok(32, _HEX) + "." + tok(16)),
    _a("cloud", 'Moonshot/Kimi: MOONSHOT_API_KEY="{S}"', "sk-" + tok(48)),
    _a("cloud", "Cloudflare R2: secret_access_key = {S}", tok(64, _HEX)),
    _a(
        "cloud",
        "OCI config:\nuser=ocid1.user.oc1..aaaa"
        + tok(56, _LOWER_ALNUM)
        + "\nfingerprint="
        + ":".join(tok(2, _HEX) for _ in range(16))
        + "\npass_phrase={S}",
        "Oc1" + tok(13),
    ),
    # AI providers in code and headers
    _a(
        "ai",
        'from openai import OpenAI\nclient = OpenAI(\n    api_key="{S}",\n)',
        "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL),
    ),
    _a("ai", "Authorization: Bearer {S}\nOpenAI-Organization: org-" + tok(24), "sk-proj-" + tok(156, _B64URL)),
    _a("ai", "anthropic.Anthropic(api_key='{S}')", "sk-ant-api03-" + tok(93, _B64URL) + "AA"),
    _a("ai", "ANTHROPIC_AUTH_TOKEN={S}", "sk-ant-oat01-" + tok(93, _B64URL) + "AA"),
    _a("ai", 'genai.configure(api_key="{S}")', "AIza" + tok(35, _B64URL)),
    _a("ai", 'Mistral: curl -H "Authorization: Bearer {S}" https://api.mistral.ai/v1/models', tok(32)),
    _a("ai", 'os.environ["GROQ_API_KEY"] = "{S}"', "gsk_" + tok(52)),
    _a("ai", "COHERE_API_KEY: {S}", tok(40)),
    _a("ai", "deepseek 的密钥：{S}，别外传", "sk-" + tok(32, _HEX)),
    _a("ai", "OpenRouter キー {S} を使ってください", "sk-or-v1-" + tok(64, _HEX)),
    _a("ai", "HUGGING_FACE_HUB_TOKEN={S}", "hf_" + tok(34, _ALNUM[:52])),
    _a("ai", 'replicate.Client(api_token="{S}")', "r8_" + tok(37)),
    _a("ai", "Perplexity-Key: {S}", "pplx-" + tok(48)),
    _a("ai", "xAI grok key={S}", "xai-" + tok(80)),
    _a("ai", 'LANGCHAIN_API_KEY="{S}"', "lsv2_sk_" + tok(32, _HEX) + "_" + tok(10, _HEX)),
    _a("ai", 'Pinecone(api_key="{S}")', "pcsk_" + tok(5) + "_" + tok(63)),
    _a("ai", "wandb login {S}", tok(40, _HEX)),
    _a("ai", "Tavily 搜索 key：{S}", "tvly-" + tok(32)),
    _a("ai", "SERPAPI_API_KEY={S}", tok(64, _HEX)),
    _a("ai", "firecrawl api key {S}", "fc-" + tok(32, _HEX)),
    _a("ai", "Jina reader: Authorization: Bearer {S}", "jina_" + tok(60)),
    _a("ai", "ELEVENLABS_API_KEY={S}", "sk_" + tok(48, _HEX)),
    _a("ai", "Dify 知识库 API：Authorization: Bearer {S}", "dataset-" + tok(24)),
    _a("ai", '{"inputs": {}, "query": "hi", "user": "abc"} with header Authorization: Bearer {S}', "app-" + tok(24)),
    # SaaS and developer platforms
    _a("saas", "git clone https://{S}@github.com/acme/private-repo.git", "ghp_" + tok(36)),
    _a("saas", "remote: https://x-access-token:{S}@github.com/acme/infra", "ghs_" + tok(36)),
    _a("saas", "gh auth token -> {S}", "gho_" + tok(36)),
    _a(
        "saas",
        "GITHUB_TOKEN: ${{ secrets.X }} was printed as {S}",
        "github_pat_11" + tok(22, _UPPER_ALNUM) + "_" + tok(59),
    ),
    _a("saas", "git remote set-url origin https://oauth2:{S}@gitlab.com/acme/api.git", "glpat-" + tok(20, _B64URL)),
    _a("saas", "GitLab 个人访问令牌：{S}", "glpat-" + tok(27, _B64URL) + ".01." + tok(9, _LOWER_ALNUM)),
    _a("saas", "gitlab deploy token {S}", "gldt-" + tok(20, _B64URL)),
    _a("saas", "npm config set //registry.npmjs.org/:_authToken {S}", "npm_" + tok(36)),
    _a("saas", "[pypi]\nusername = __token__\npassword = {S}", "pypi-AgEIcHlwaS5vcmcCJ" + tok(120, _B64URL)),
    _a(
        "saas",
        "Slack: curl -X POST -H 'Authorization: Bearer {S}' https://slack.com/api/chat.postMessage",
        "xoxb-" + tok(13, _DIGITS) + "-" + tok(13, _DIGITS) + "-" + tok(24),
    ),
    _a(
        "saas",
        "user token {S}",
        "xoxp-" + tok(13, _DIGITS) + "-" + tok(13, _DIGITS) + "-" + tok(13, _DIGITS) + "-" + tok(32, _HEX),
    ),
    _a("saas", "Twilio: Account SID AC" + tok(32, _HEX) + ", Auth Token {S}", tok(32, _HEX)),
    _a("saas", "client = Client('AC" + tok(32, _HEX) + "', '{S}')", tok(32, _HEX)),
    _a("saas", "sg.send(..) with SendGridAPIClient('{S}')", "SG." + tok(22, _B64URL) + "." + tok(43, _B64URL)),
    _a("saas", "MAILGUN_API_KEY={S}", tok(32, _HEX) + "-" + tok(8, _HEX) + "-" + tok(8, _HEX)),
    _a("saas", "mailgun: api:{S}", "key-" + tok(32, _HEX)),
    _a("saas", "X-Shopify-Access-Token: {S}", "shpat_" + tok(32, _HEX)),
    _a("saas", "shopify custom app token {S}", "shpca_" + tok(32, _HEX)),
    _a("saas", "Notion 集成密钥 {S}", "ntn_" + tok(46)),
    _a("saas", "Authorization: {S}\nContent-Type: application/json  (Linear GraphQL)", "lin_api_" + tok(40)),
    _a("saas", "DD-API-KEY: {S}", tok(32, _HEX)),
    _a("saas", "DD-APPLICATION-KEY: {S}", tok(40, _HEX)),
    _a("saas", 'sentry_sdk.init(dsn="https://{S}@o4507.ingest.us.sentry.io/4507123")', tok(32, _HEX)),
    _a("saas", "SENTRY_AUTH_TOKEN={S}", "sntryu_" + tok(64, _HEX)),
    _a("saas", 'stripe.api_key = "{S}"', "sk_live_51" + tok(97)),
    _a("saas", "Stripe-Signature secret {S}", "whsec_" + tok(32)),
    _a("saas", "stripe restricted {S}", "rk_live_51" + tok(97)),
    _a(
        "saas",
        "Atlassian: curl -u ana@acme.io:{S} https://acme.atlassian.net/rest/api/3/myself",
        "ATATT3xFfGF0" + tok(170, _B64URL) + "=" + tok(8, "0123456789ABCDEF"),
    ),
    _a("saas", "Figma X-Figma-Token: {S}", "figd_" + tok(40, _B64URL)),
    _a("saas", "Airtable: Bearer {S}", "pat" + tok(14) + "." + tok(64, _HEX)),
    _a("saas", "Postman API key {S}", "PMAK-" + tok(24, _HEX) + "-" + tok(34, _HEX)),
    _a(
        "saas",
        "Discord bot: client.run('{S}')",
        "MT" + tok(24, _B64URL) + "." + tok(6, _B64URL) + "." + tok(38, _B64URL),
    ),
    _a("saas", 'bot = telebot.TeleBot("{S}")', "6" + tok(9, _DIGITS) + ":AA" + tok(33, _B64URL)),
    _a("saas", "Okta: Authorization: SSWS {S}", "00" + tok(40, _B64URL)),
    _a("saas", "Algolia admin API key: {S}", tok(32, _HEX)),
    _a("saas", "CONTENTFUL_MANAGEMENT_TOKEN={S}", "CFPAT-" + tok(43, _B64URL)),
    _a(
        "saas",
        "asana personal access token {S}",
        "2/" + tok(16, _DIGITS) + "/" + tok(16, _DIGITS) + ":" + tok(32, _HEX),
    ),
    _a("saas", "Mapbox secret token {S}", "sk.eyJ1IjoiYWNtZSIsImEiOiJ" + tok(20, _B64URL) + "." + tok(22, _B64URL)),
    _a("saas", "DIGITALOCEAN_ACCESS_TOKEN={S}", "dop_v1_" + tok(64, _HEX)),
    _a("saas", "vault login {S}", "hvs.CAESI" + tok(80, _B64URL)),
    _a("saas", "grafana: Authorization: Bearer {S}", "glsa_" + tok(32) + "_" + tok(8, _HEX)),
    _a("saas", "Dynatrace API token {S}", "dt0c01." + tok(24, _UPPER_ALNUM) + "." + tok(64, _UPPER_ALNUM)),
    _a("saas", "LaunchDarkly sdk key: {S}", "sdk-" + _uuid_hex()),
    _a("saas", "Segment write key {S}", tok(32)),
    _a("saas", "expo: EXPO_TOKEN={S}", tok(40, _B64URL)),
    _a("saas", "Doppler service token {S}", "dp.st.dev." + tok(43)),
    _a("saas", 'hashicorp terraform cloud token = "{S}"', tok(14) + ".atlasv1." + tok(67)),
    _a("saas", "Razorpay: key_id rzp_live_" + tok(14) + " key_secret {S}", tok(24)),
    _a(
        "saas",
        "Mercado Pago access token: {S}",
        "APP_USR-" + tok(16, _DIGITS) + "-" + tok(6, _DIGITS) + "-" + tok(32, _HEX) + "-" + tok(9, _DIGITS),
    ),
    _a("saas", "PayPal: client_id=AZ" + tok(78, _B64URL) + " client_secret={S}", "EH" + tok(78, _B64URL)),
    _a("saas", "Square production token {S}", "EAAA" + tok(60, _B64URL)),
    _a(
        "saas",
        'Supabase: SUPABASE_SERVICE_ROLE_KEY="{S}"',
        _jwt('{"iss":"supabase","ref":"qwertyuiopasdfghjklz","role":"service_role","iat":1735000000,"exp":2050000000}'),
    ),
    _a("saas", "age secret key: {S}", "AGE-SECRET-KEY-1" + tok(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")),
    _a("saas", "otpauth://totp/Acme:ana@acme.io?secret={S}&issuer=Acme", tok(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
    # web sessions, cookies, tokens in tool answers
    _a(
        "session", "Cookie: _ga=GA1.2.1234567890.1765000000; sessionid={S}; csrftoken=" + tok(32), tok(32, _LOWER_ALNUM)
    ),
    _a(
        "session",
        "Set-Cookie: connect.sid={S}; Path=/; HttpOnly; Secure",
        "s%3A" + tok(32, _B64URL) + "." + tok(43, _B64URL),
    ),
    _a("session", "Cookie: laravel_session={S}", "eyJpdiI6I" + tok(180, _B64URL) + "%3D"),
    _a(
        "session",
        "Set-Cookie: __Secure-next-auth.session-token={S}; Path=/; HttpOnly; SameSite=Lax",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.."
        + tok(22, _B64URL)
        + "."
        + tok(300, _B64URL)
        + "."
        + tok(22, _B64URL),
    ),
    _a("session", "Cookie: JSESSIONID={S}; Path=/app", tok(32, "0123456789ABCDEF")),
    _a("session", "PHPSESSID={S}", tok(26, _LOWER_ALNUM)),
    _a("session", 'cookies from the browser: li_at={S}; JSESSIONID="ajax:123"', "AQEDA" + tok(150, _B64URL)),
    _a("session", "X (twitter) cookie auth_token={S}; ct0=" + tok(160, _HEX), tok(40, _HEX)),
    _a("session", "Cookie: sb-access-token={S}", SESSION_JWT),
    _a(
        "session",
        '{"token_type":"bearer","access_token":"' + SESSION_JWT[:20] + '…","refresh_token":"{S}"}',
        REFRESH_JWT,
    ),
    _a("session", "localStorage.setItem('token', '{S}')", _jwt('{"uid":"u_7731","scope":"console","exp":1797500000}')),
    _a("session", "The HTTP node got: 401 for Authorization: Basic {S}", BASIC),
    _a(
        "session",
        "wordpress_logged_in_" + tok(32, _HEX) + "={S}",
        "admin%7C1765123456%7C" + tok(43, _B64URL) + "%7C" + tok(64, _HEX),
    ),
    _a("session", "X-CSRF-Token ok, X-Auth-Token: {S}", tok(48, _B64URL)),
    # databases and connection strings
    _a("dsn", "SQLALCHEMY_DATABASE_URI = 'postgresql+psycopg2://dify:{S}@10.0.3.12:5432/dify'", "difyai" + tok(10)),
    _a("dsn", 'dsn := "root:{S}@tcp(127.0.0.1:3306)/orders?parseTime=true"', "My" + tok(12) + "#"),
    _a("dsn", "MONGO_URI=mongodb://admin:{S}@mongo-0.mongo:27017/?authSource=admin", tok(20)),
    _a("dsn", "redis://:{S}@redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com:12345", tok(32)),
    _a("dsn", "spring.datasource.password={S}", "Spr1ng" + tok(8)),
    _a("dsn", "jdbc:sqlserver://db01:1433;databaseName=erp;user=sa;password={S};", "Sa" + tok(10) + "!"),
    _a("dsn", "Data Source=oracle01:1521/ORCL;User Id=hr;Password={S};", "Hr" + tok(10)),
    _a(
        "dsn",
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="'
        + tok(16, _UPPER_ALNUM)
        + '" password="{S}";',
        tok(64, _B64),
    ),
    _a("dsn", "elasticsearch: http://elastic:{S}@es01:9200", tok(20)),
    _a("dsn", "ftp://deploy:{S}@ftp.acme-hosting.com/public_html", "Ftp" + tok(9)),
    _a("dsn", "PGPASSWORD={S} psql -h db -U postgres", "pg" + tok(14)),
    _a("dsn", "mysql -h 10.0.0.5 -u root -p{S} shop", "Root" + tok(8)),
    _a("dsn", "redis-cli -h cache -a {S} ping", tok(24)),
    _a("dsn", 'DB_PASSWORD="{S}" # prod, don\'t commit', "Pr0d" + tok(10)),
    _a(
        "dsn",
        '"ConnectionStrings": {"Default": "Server=sql;Database=app;User Id=app;Password={S};TrustServerCertificate=True"}',
        "App" + tok(9),
    ),
    # config files and code
    _a("config", "SECRET_KEY = 'django-insecure-{S}'", "django-insecure-" + tok(50, _LOWER_ALNUM + "!@#$%^&*(-_=+)")),
    _a("config", "APP_KEY=base64:{S}", "base64:" + tok(43, _B64) + "="),
    _a("config", "secret_key_base: {S}", tok(128, _HEX)),
    _a("config", "NEXTAUTH_SECRET={S}", tok(43, _B64) + "="),
    _a("config", "jwt:\n  secret: {S}\n  expires: 7d", tok(32)),
    _a(
        "config",
        "apiVersion: v1\nkind: Secret\ndata:\n  password: {S}",
        base64.b64encode(b"K8s" + tok(14).encode()).decode(),
    ),
    _a("config", "users:\n- name: admin\n  user:\n    token: {S}", "eyJhbGciOiJSUzI1NiIsImtpZCI6I" + tok(400, _B64URL)),
    _a(
        "config",
        '{"auths": {"registry.acme.io": {"auth": "{S}"}}}',
        base64.b64encode(b"ci:" + tok(20).encode()).decode(),
    ),
    _a("config", "[Interface]\nPrivateKey = {S}\nAddress = 10.8.0.2/24", tok(43, _B64) + "="),
    _a(
        "config",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{S}\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" + tok(60, _B64),
    ),
    _a("config", "-----BEGIN EC PRIVATE KEY-----\n{S}\n-----END EC PRIVATE KEY-----", "MHcCAQEEI" + tok(60, _B64)),
    _a(
        "config",
        "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\n{S}\nPrivate-MAC: " + tok(64, _HEX),
        "AAAAI" + tok(39, _B64),
    ),
    _a("config", 'const web3key = "{S}"; // deployer wallet', "0x" + tok(64, _HEX)),
    _a("config", "助记词：{S}", "abandon ability able about above absent absorb abstract absurd abuse access accident"),
    _a("config", "keytool -genkey -alias app -keystore app.jks -storepass {S}", "Ks" + tok(12)),
    _a("config", "openssl pkcs12 -export -in cert.pem -passout pass:{S}", "P12" + tok(10)),
    _a("config", "sshpass -p '{S}' ssh root@203.0.113.10", "Ssh" + tok(9) + "!"),
    _a("config", "docker run -e MYSQL_ROOT_PASSWORD={S} mysql:8", "Mysql" + tok(9)),
    _a("config", "ENCRYPTION_KEY: {S}", tok(64, _HEX)),
    _a("config", "webhook signing secret: {S}", "whsec_" + tok(40, _B64)),
    _a("config", "curl -u admin:{S} http://jenkins:8080/api/json", tok(34, _HEX)),
    _a("config", "https://admin:{S}@grafana.internal.acme.io/d/abc", "Gr" + tok(12)),
    # passwords and PINs in chat, many languages
    _a("password", "我的邮箱密码是{S}，帮我登录一下", "Lw" + tok(8) + "88"),
    _a("password", "WiFi名称：Acme-5G 密码：{S}", tok(10, _LOWER_ALNUM)),
    _a("password", "服务器 root 密码 {S}", "Qq" + tok(10) + "!"),
    _a("password", "パスワードは {S} です。ログインをお願いします。", "Tk" + tok(9)),
    _a("password", "仮パスワード：{S}", tok(10)),
    _a("password", "Mein Passwort lautet {S}, bitte nicht weitergeben.", "Hund" + tok(6) + "!"),
    _a("password", "Zugangsdaten: Benutzer admin, Kennwort {S}", "Kw" + tok(10)),
    _a("password", "Mi contraseña del banco es {S}", "Sol" + tok(8)),
    _a("password", "usuario: maria.lopez / clave: {S}", "Ml" + tok(9)),
    _a("password", "كلمة المرور الخاصة بي هي {S}", "Ar" + tok(10)),
    _a("password", "كلمة السر: {S}", tok(12)),
    _a("password", "मेरा पासवर्ड {S} है, इसे रीसेट करो", "Hi" + tok(9)),
    _a("password", "पासवर्ड: {S}", tok(11)),
    _a("password", "Мой пароль от почты {S}", "Ru" + tok(9)),
    _a("password", "логин: ivanov, пароль: {S}", tok(10)),
    _a("password", "Minha senha é {S}", "Br" + tok(9)),
    _a("password", "Mon mot de passe est {S}", "Fr" + tok(9)),
    _a("password", "비밀번호는 {S} 입니다", "Kr" + tok(9)),
    _a("password", "mật khẩu wifi: {S}", tok(10)),
    _a("password", "Şifrem {S}, değiştirmeyi unuttum", "Tr" + tok(9)),
    _a("password", "kata sandi saya {S}", "Id" + tok(9)),
    _a("password", "La mia password è {S}", "It" + tok(9)),
    _a("password", "รหัสผ่านคือ {S}", "Th" + tok(9)),
    _a("password", "رمز عبور من {S} است", "Fa" + tok(9)),
    _a("password", "Moje hasło to {S}", "Pl" + tok(9)),
    _a("password", "הסיסמה שלי היא {S}", "He" + tok(9)),
    _a("password", "Mijn wachtwoord is {S}", "Nl" + tok(9)),
    _a("password", "Ο κωδικός μου είναι {S}", "Gr" + tok(9)),
    _a("password", "The admin password is {S} — change it after the demo", "Demo" + tok(8)),
    _a("password", "login: ana@acme.io\npass: {S}", tok(12)),
    _a("password", "pwd={S}&user=admin", tok(12)),
    _a("password", '{"username": "ops", "password": "{S}", "remember": true}', "Ops" + tok(11)),
    _a("password", "银行卡密码 {S}", tok(6, _DIGITS)),
    _a("password", "PIN: {S} (don't share)", tok(4, _DIGITS)),
    _a("password", "Ihr Einmalpasswort lautet {S}", tok(8, _DIGITS)),
    # national ids by country
    _a("personal", "SSN: {S}", "412-67-3390"),
    _a("personal", "Social Security No. {S}", "609-38-" + tok(4, _DIGITS)),
    _a("personal", "National Insurance number: {S}", "JH 48 27 19 C"),
    _a("personal", "NHS number {S}", _nhs("943476591")),
    _a("personal", "DNI: {S}", _dni("12345678")),
    _a("personal", "NIE {S}", _nie("1234567")),
    _a("personal", "Steuer-ID: {S}", _steuer_id("6541278903")),
    _a("personal", "個人番号（マイナンバー）: {S}", _my_number("12345678901")),
    _a("personal", "身分證字號 {S}", _taiwan_id("A", "12345678")),
    _a("personal", "香港身份證 {S}", _hkid("K", "123456")),
    _a("personal", "เลขบัตรประชาชน {S}", _thai_id("110170012345")),
    _a("personal", "NIF: {S}", _nif_pt("23456789")),
    _a("personal", "PPS number {S}", _pps("1234567")),
    _a("personal", "ИНН {S}", _inn("5003012345")),
    _a("personal", "TFN {S}", _tfn("12345678")),
    _a("personal", "fødselsnummer {S}", _norway("010190")),
    _a("personal", "South African ID: {S}", _luhn("900101500908")),
    _a("personal", "Emirates ID {S}", "784-1990-" + _luhn("78419901234567")[7:14] + "-" + _luhn("78419901234567")[14]),
    _a("personal", "رقم الهوية الوطنية {S}", _luhn("109876543")),
    _a("personal", "Teudat Zehut {S}", _luhn("31234567")),
    _a("personal", "PAN card {S}", "ABCPE1234F"),
    _a("personal", "मेरा आधार नंबर {S} है", _spaced(_verhoeff("45123456789"))),
    _a("personal", "NIK: {S}", "3174" + tok(12, _DIGITS)),
    _a("personal", "CURP {S}", _curp("GOMA900101HDFRRN0")),
    _a("personal", "RFC: {S}", "GOMA900101AB1"),
    _a("personal", "CNIC {S}", "35202-" + tok(7, _DIGITS) + "-3"),
    _a("personal", "Số CCCD: {S}", "0792" + tok(8, _DIGITS)),
    _a("personal", "الرقم القومي {S}", "2900101" + tok(7, _DIGITS)),
    _a("personal", "паспорт серия {S}", "45 12 " + tok(6, _DIGITS)),
    _a("personal", "Passnummer: {S}", "C01X" + tok(5, "0123456789CFGHJKLMNPRTVWXYZ")),
    # payment cards and bank accounts by country
    _a("personal", "RuPay card {S}", _spaced(CARD_RUPAY)),
    _a("personal", "cartão Elo {S}", CARD_ELO),
    _a("personal", "номер карты Мир {S}", _spaced(CARD_MIR)),
    _a("personal", "银联卡号：{S}", CARD_UNIONPAY),
    _a("personal", "Troy kart numarası {S}", CARD_TROY),
    _a("personal", "カード番号 {S} 有効期限 08/28", "-".join(CARD_VISA[i : i + 4] for i in range(0, 16, 4))),
    _a("personal", "Kartennummer: {S}, CVC 314", _spaced(CARD_MC)),
    _a("personal", "Diners Club {S}", CARD_DINERS[:4] + " " + CARD_DINERS[4:10] + " " + CARD_DINERS[10:]),
    _a("personal", "Maestro {S}", CARD_MAESTRO),
    _a("personal", "Hipercard {S}", CARD_HIPER),
    _a("personal", "Verve card {S}", CARD_VERVE),
    _a("personal", "رقم البطاقة {S}", CARD_AMEX[:4] + " " + CARD_AMEX[4:10] + " " + CARD_AMEX[10:]),
    _a("personal", '{"card": {"number": "{S}", "exp_month": 12, "exp_year": 2029}}', _luhn("4" + tok(14, _DIGITS))),
    _a("personal", "IBAN {S}", _spaced(_iban("ES", "21000418450200051332"))),
    _a("personal", "IBAN: {S}", _iban("IT", "X0542811101000000123456")),
    _a("personal", "رقم الآيبان {S}", _iban("SA", "80000000608010167519")),
    _a("personal", "IBAN {S}", _iban("AE", "0331234567890123456")),
    _a("personal", "IBAN numaram {S}", _spaced(_iban("TR", "0006100519786457841326"))),
    _a("personal", "CH IBAN {S}", _iban("CH", "00762011623852957")),
    _a("personal", "Konto: {S}", _spaced(_iban("AT", "1904300234573201"))),
    _a("personal", "routing 021000021 account number {S}", tok(12, _DIGITS)),
]

_JPEG = base64.b64encode(bytes(range(255, -1, -1)) * 3).decode()
_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(200)) * 2).decode()

CLEAN9: list[str] = [
    "request_id: 6f1c2a8e-93b4-4d7a-a1e2-5c9f0b7d3e41",
    "X-Request-Id: 0b9e8f7a-6c5d-4e3b-9a21-f0e1d2c3b4a5",
    "X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678",
    "cf-ray: 8f2a1b3c4d5e6f70-FRA",
    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "dd.trace_id=5538725614987361128 dd.span_id=1239870123987312",
    "sentry event_id 9f0e1d2c3b4a59687766554433221100 captured",
    "Merge pull request #4821 from acme/fix-retry (a1b2c3d4e5f60718293a4b5c6d7e8f9012345678)",
    "git checkout 3e1f0c9",
    "docker pull ghcr.io/langgenius/dify-api@sha256:6a0e2c7f4b1d9e8c3a5f7b2d4e6c8a0b1d3f5e7a9c2b4d6f8e0a1c3e5b7d9f2a",
    '"integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXGOdPmEhRk+GWI7WyOeo7G8jqExA=="',
    '<script src="/static/js/main.3f9a8c1d.chunk.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"></script>',
    'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    "eth address 0x742d35Cc6634C0532925a3b844Bc454e4438f44e (public)",
    "bitcoin address bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    'ObjectId("507f1f77bcf86cd799439011")',
    "ULID 01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "tweet id 1734567890123456789",
    "Stripe: customer cus_NffrFeUfNV2Hib, payment_intent pi_3MtwBwLkdIwHu7ix28a3tqPa, charge ch_3MmlLrLkdIwHu7ix0snN0B15",
    "Anthropic message msg_01XFDUDYJgAACzvnptvVoYEL, tool_use id toolu_01A09q90qw90lq917835lq9",
    "OpenAI: asst_abc123DEF456ghi789, thread_9X8y7Z6w5V4u3T2s1R0q, resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452",
    "Slack channel C0123ABCDEF, user U012AB3CD, ts 1712345678.123456",
    "pod dify-api-7d9f8c6b5-x2k9p restarted (container 4f3c2b1a0e9d)",
    "arn:aws:iam::123456789012:role/dify-runner",
    "s3://acme-data/exports/2026/12/07/part-00000-6f1c2a8e.snappy.parquet",
    "Amazon order 113-4829173-6501234 arrives Tuesday",
    "AliExpress order 8171234567890126",
    "Shopify order #1042, Etsy receipt 3091827364",
    "USPS tracking 9400 1000 0000 0000 0000 00",
    "顺丰单号 SF1234567890123，京东订单 289012345678",
    "China Post LX123456789CN delivered",
    "ISBN 978-4-06-512345-6 and ISBN-10 0-306-40615-2",
    "doi:10.1038/nature12373, arXiv:2401.12345v2, PMID 31415926",
    "CAS 7732-18-5, EC 231-791-2",
    f'<img src="data:image/jpeg;base64,{_JPEG}">',
    f'{{"type": "image_url", "image_url": {{"url": "data:image/png;base64,{_PNG}"}}}}',
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    'api_key="sk-...your key here..."',
    "Authorization: Bearer YOUR_API_KEY",
    "export ANTHROPIC_API_KEY=<your-anthropic-key>",
    "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}",
    'api_key = os.environ["STRIPE_SECRET_KEY"]',
    "password: ********",
    "Passwort: [entfernt]",
    '"password": "{{password}}"',
    "Price: ¥1,299 / € 49,99 / ₹ 2,49,999 / R$ 1.234,56 / $1,049.00",
    "Subtotal 12,480.50 USD; VAT 19 %; total 14,851.80",
    "created_at 2026-12-07T14:45:00.123456+00:00, unix 1765118700",
    "令和8年12月7日 14時45分",
    "Versions: dify 1.14.1, python 3.12.7, node v22.11.0, nvidia driver 550.54.15, Windows build 26100.2605",
    "model gpt-4o-2024-08-06 then claude-sonnet-4-5-20250929 then gemini-2.5-pro-preview-06-05",
    "MAC 3C:22:FB:9A:10:4E, IPv6 2001:db8:85a3::8a2e:370:7334",
    "La contraseña es incorrecta. Inténtalo de nuevo.",
    "密码错误，请重新输入",
    "密码是必填项",
    "パスワードは8文字以上で設定してください",
    "Das Passwort muss mindestens 12 Zeichen lang sein.",
    "Неверный пароль. Попробуйте ещё раз.",
    "كلمة المرور غير صحيحة",
    "पासवर्ड गलत है, कृपया फिर से प्रयास करें",
    "Senha incorreta. Tente novamente.",
    "Le mot de passe doit contenir au moins 8 caractères.",
    "비밀번호를 잊으셨나요?",
    "The password is correct.",
    "password: required (string, min 8)",
    'api_key: str = Field(..., description="your provider key")',
    "token: string  # JWT returned by /login",
    "Your verification code has been sent to +** *** ***89",
    "Invoice number 2026-000481, customer number 48213",
    "Flight NH 212 seat 34K, booking ref XK7P2Q",
    "Lot 20261207-A, serial SN-4F7A-99C2-1D3B",
    "hex color #7c3aed and #0ea5e9",
    "Kubernetes secret name: dify-db-credentials (key: password)",
    "rotate the key every 90 days; last rotated 2026-09-08",
    "SHA-256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    "postgresql://localhost:5432/dify",
    "The CVV is the 3-digit code on the back of the card.",
]
