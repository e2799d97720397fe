# ruff: noqa: E501  (real formats are long)
"""Round of branch redact-8 for bench/redaction_attack.py: texts written before its author read the redaction code
(only docs/security.md's lists of what is known open), from the formats' public documentation. Every value is made
up by a seeded generator (check digits computed where the format has them), none a credential."""

from __future__ import annotations

import base64
import random

_RANDOM = random.Random(8)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_HEX = "0123456789abcdef"
_B64URL = _ALNUM + "-_"


def tok(length: int, alphabet: str = _ALNUM) -> str:
    """A made-up token of `length` characters; mixed so that every one has letters and digits (where its alphabet
    has both)."""
    mixed = any(c.isdigit() for c in alphabet) and any(c.isalpha() for c in alphabet)
    while True:
        value = "".join(_RANDOM.choice(alphabet) for _ in range(length))
        if length < 8 or not mixed or (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
            return value


def _luhn(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (1 if position % 2 else 2)
        total += value - 9 if value > 9 else value
    return digits + str(-total % 10)


def _iban(country: str, bban: str) -> str:
    number = int("".join(str(int(char, 36)) for char in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def _bsn(first8: str) -> str:
    total = sum(int(d) * w for d, w in zip(first8, range(9, 1, -1), strict=True))
    return first8 + str(total % 11)  # first8 chosen so that the remainder is under 10


def _pesel(first10: str) -> str:
    total = sum(int(d) * w for d, w in zip(first10, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True))
    return first10 + str((10 - total % 10) % 10)


def _cpf(first9: str) -> str:
    digits = first9
    for start in (10, 11):
        total = sum(int(d) * w for d, w in zip(digits, range(start, 1, -1), strict=False))
        check = 11 - total % 11
        digits += str(0 if check >= 10 else check)
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def _china_id(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def _tc_kimlik(first9: str) -> str:
    d = [int(c) for c in first9]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    eleventh = (sum(d) + tenth) % 10
    return f"{first9}{tenth}{eleventh}"


def _cnp(first12: str) -> str:
    total = sum(int(d) * int(w) for d, w in zip(first12, "279146358279", strict=True))
    check = total % 11
    return first12 + ("1" if check == 10 else str(check))


def _korean_rrn(first12: str) -> str:
    total = sum(int(d) * w for d, w in zip(first12, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True))
    return f"{first12[:6]}-{first12[6:]}{(11 - total % 11) % 10}"


def _verhoeff(number: str) -> str:
    d = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ]  # fmt: skip
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]]
    for _ in range(6):
        p.append([p[1][x] for x in p[-1]])
    inv = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
    check = 0
    for i, char in enumerate(reversed(number)):
        check = d[check][p[(i + 1) % 8][int(char)]]
    return number + str(inv[check])


def _jwt(payload: str) -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{head}.{body}.{tok(43, _B64URL)}"


def _a(cls: str, template: str, secret: str) -> tuple[str, str, str]:
    return (cls, template.replace("{S}", secret), secret)


OPENAI_PROJ = "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)
OPENAI_ADMIN = "sk-admin-" + tok(58, _B64URL) + "T3BlbkFJ" + tok(58, _B64URL)
OPENAI_SVC = "sk-svcacct-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)
AWS_SECRET = tok(40, _ALNUM + "+/")
SUPABASE_JWT = _jwt(
    '{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"service_role","iat":1715000000,"exp":2030576000}'
)
SESSION_JWT = _jwt('{"sub":"u_8812","name":"Ana","iat":1765000000}')
DIFY_APP = "app-" + tok(24)
DIFY_DATASET = "dataset-" + tok(24)
CARD_VISA = _luhn("4539148803436" + "46")
CARD_MC2 = _luhn("2221005512345" + "67")
CARD_AMEX = _luhn("37828224631000")
CARD_JCB = _luhn("353011133330000")

ATTACKS8: list[tuple[str, str, str]] = [
    # AI providers
    _a("ai", "OPENAI_API_KEY={S}", OPENAI_PROJ),
    _a("ai", "Use this admin key to list the org's projects: {S}", OPENAI_ADMIN),
    _a("ai", 'client = OpenAI(api_key="{S}")', OPENAI_SVC),
    _a("ai", "My key is {S} why do I get 429?", "sk-" + tok(20) + "T3BlbkFJ" + tok(20)),
    _a("ai", "anthropic key sk-ant-api03-{S}", "sk-ant-api03-" + tok(93, _B64URL) + "AA"),
    _a("ai", "x-api-key: {S}", "sk-ant-admin01-" + tok(93, _B64URL) + "AA"),
    _a("ai", "Gemini: GOOGLE_API_KEY = {S}", "AIza" + tok(35, _B64URL)),
    _a("ai", "Mistral API key: {S}", tok(32)),
    _a("ai", "groq -> {S}", "gsk_" + tok(52)),
    _a("ai", 'co = cohere.Client("{S}")', tok(40)),
    _a("ai", "HF_TOKEN={S}", "hf_" + tok(34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")),
    _a("ai", "huggingface org token {S}", "api_org_" + tok(34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")),
    _a("ai", "export REPLICATE_API_TOKEN={S}", "r8_" + tok(37)),
    _a("ai", "together.ai key: {S}", "tgp_v1_" + tok(43, _B64URL)),
    _a("ai", "TOGETHER_API_KEY={S}", tok(64, _HEX)),
    _a("ai", "perplexity {S}", "pplx-" + tok(48)),
    _a("ai", "XAI_API_KEY: {S}", "xai-" + tok(80)),
    _a("ai", "DeepSeek 的 key 是 {S}", "sk-" + tok(32, _HEX)),
    _a("ai", "ElevenLabs xi-api-key: {S}", "sk_" + tok(48, _HEX)),
    _a("ai", "assemblyai authorization: {S}", tok(32, _HEX)),
    _a("ai", "Authorization: Token {S}", tok(40, _HEX)),
    _a("ai", "openrouter: {S}", "sk-or-v1-" + tok(64, _HEX)),
    _a("ai", "FIREWORKS_API_KEY={S}", "fw_" + tok(24)),
    _a("ai", "langsmith key {S}", "lsv2_pt_" + tok(32, _HEX) + "_" + tok(10, _HEX)),
    _a(
        "ai",
        "Langfuse secret key: {S}",
        "sk-lf-" + tok(8, _HEX) + "-" + tok(4, _HEX) + "-" + tok(4, _HEX) + "-" + tok(4, _HEX) + "-" + tok(12, _HEX),
    ),
    _a("ai", "pinecone api key {S}", "pcsk_" + tok(6) + "_" + tok(64)),
    _a("ai", "voyage: {S}", "pa-" + tok(43, _B64URL)),
    # clouds
    _a("cloud", "aws_secret_access_key = {S}", AWS_SECRET),
    _a("cloud", "AWS creds: AKIA" + "Q3EGRTZB7XK4LM2P / {S}", AWS_SECRET[::-1]),
    _a(
        "cloud",
        "temporary token ASIA" + "ZX4M2QH7RTE9VK3B with session token {S}",
        "IQoJb3JpZ2luX2VjE" + tok(180, _ALNUM + "+/"),
    ),
    _a("cloud", "gcloud access token: {S}", "ya29.a0" + tok(150, _B64URL)),
    _a("cloud", "GOOGLE refresh_token {S}", "1//0" + tok(100, _B64URL)),
    _a(
        "cloud",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={S};EndpointSuffix=core.windows.net",
        tok(86, _ALNUM + "+/") + "==",
    ),
    _a("cloud", "AZURE_CLIENT_SECRET={S}", tok(3) + "8Q~" + tok(34, _ALNUM + "_~.-")),
    _a("cloud", "Alibaba AccessKey LTAI" + "5tQ8xMv2Rk9ZpW3n secret {S}", tok(30)),
    _a("cloud", "IBM cloud apikey: {S}", tok(44, _B64URL)),
    _a("cloud", "Oracle OCI auth token {S}", tok(20, _ALNUM + "+:;<>()")),
    # payment
    _a("payment", "stripe restricted key {S}", "rk_live_" + tok(99)),
    _a("payment", "STRIPE_WEBHOOK_SECRET={S}", "whsec_" + tok(32)),
    _a("payment", "Square access token {S}", "EAAA" + tok(60, _B64URL)),
    _a("payment", "PayPal client secret: {S}", "E" + tok(79, _B64URL)),
    _a("payment", "Adyen X-API-Key: {S}", "AQE" + tok(150, _ALNUM + "+/=")),
    _a("payment", "braintree private key {S}", tok(32, _HEX)),
    _a("payment", "Razorpay key_secret: {S}", tok(24)),
    _a("payment", "Paystack secret {S}", "sk_live_" + tok(40, _HEX)),
    _a("payment", "flutterwave {S}", "FLWSECK-" + tok(32, _HEX) + "-X"),
    _a("payment", "mollie live_{S}", "live_" + tok(30)),
    # SaaS
    _a("saas", "slack bot token {S}", "xoxb-" + tok(12, "0123456789") + "-" + tok(13, "0123456789") + "-" + tok(24)),
    _a(
        "saas",
        "SLACK_APP_TOKEN={S}",
        "xapp-1-A"
        + tok(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + "-"
        + tok(13, "0123456789")
        + "-"
        + tok(64, _HEX),
    ),
    _a("saas", "rotated token {S}", "xoxe.xoxp-1-" + tok(140, _ALNUM + "-")),
    _a("saas", "Notion integration: {S}", "ntn_" + tok(46)),
    _a("saas", "NOTION_TOKEN=secret_{S}", "secret_" + tok(43)),
    _a("saas", "linear key {S}", "lin_api_" + tok(40)),
    _a("saas", "Airtable PAT {S}", "pat" + tok(14) + "." + tok(64, _HEX)),
    _a(
        "saas",
        "Jira API token for ana@acme.io: {S}",
        "ATATT3xFfGF0" + tok(170, _B64URL) + "=" + tok(8, "0123456789ABCDEF"),
    ),
    _a("saas", "shopify admin {S}", "shpat_" + tok(32, _HEX)),
    _a("saas", "Shopify app secret {S}", "shpss_" + tok(32, _HEX)),
    _a("saas", "twilio API key SK" + "d3f1b2c4a5e6f7a8b9c0d1e2f3a4b5c6 secret {S}", tok(32)),
    _a("saas", "SENDGRID_API_KEY=SG.{S}", "SG." + tok(22, _B64URL) + "." + tok(43, _B64URL)),
    _a("saas", "X-Postmark-Server-Token: {S}", "d8a1c7e2-4b3f-4e9a-8c1d-2f7b6a5e9c30"),
    _a("saas", "DD_API_KEY={S}", tok(32, _HEX)),
    _a("saas", "datadog app key: {S}", tok(40, _HEX)),
    _a("saas", "New Relic user key {S}", "NRAK-" + tok(27, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
    _a("saas", "NEW_RELIC_LICENSE_KEY={S}", tok(36, _HEX) + "NRAL"),
    _a("saas", "SENTRY_DSN=https://{S}@o450123.ingest.sentry.io/5512345", tok(32, _HEX)),
    _a("saas", "sentry auth token {S}", "sntrys_" + tok(120, _B64URL)),
    _a("saas", "Grafana service account token: {S}", "glsa_" + tok(32) + "_" + tok(8, _HEX)),
    _a("saas", "grafana cloud token {S}", "glc_" + tok(120, _ALNUM + "+/") + "=="),
    _a("saas", "PagerDuty routing key {S}", "R0" + tok(30, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
    _a("saas", "pagerduty api token: {S}", "u+" + tok(18, _B64URL)),
    _a("saas", "DOPPLER_TOKEN={S}", "dp.st.prd." + tok(43)),
    _a("saas", "VAULT_TOKEN={S}", "hvs." + tok(90, _B64URL)),
    _a("saas", "vault batch token {S}", "hvb." + tok(130, _B64URL)),
    _a(
        "saas",
        "OP_SERVICE_ACCOUNT_TOKEN={S}",
        "ops_" + _jwt('{"signInAddress":"my.1password.com","userAuth":{"method":"SRPg-4096"}}'),
    ),
    _a("saas", "pulumi access token {S}", "pul-" + tok(40, _HEX)),
    _a("saas", "TFC token: {S}", tok(14) + ".atlasv1." + tok(67)),
    _a("saas", "//registry.npmjs.org/:_authToken={S}", "npm_" + tok(36)),
    _a("saas", "password = {S}", "pypi-AgEIcHlwaS5vcmc" + tok(70, _B64URL)),
    _a("saas", "gem push key {S}", "rubygems_" + tok(48, _HEX)),
    _a("saas", "dotnet nuget push -k {S}", "oy2" + tok(43, _LOWER_ALNUM)),
    _a("saas", "docker login -u acme -p {S}", "dckr_pat_" + tok(27, _B64URL)),
    _a("saas", "gitlab token {S}", "glpat-" + tok(20, _B64URL)),
    _a("saas", "CI job: GITLAB_RUNNER_TOKEN={S}", "glrt-" + tok(20, _B64URL)),
    _a("saas", "GitHub fine-grained PAT: {S}", "github_pat_11A" + tok(21) + "_" + tok(59)),
    _a("saas", "gh app installation token {S}", "ghs_" + tok(36)),
    _a("saas", "SUPABASE_SERVICE_ROLE_KEY={S}", SUPABASE_JWT),
    _a("saas", "supabase access token {S}", "sbp_" + tok(40, _HEX)),
    _a("saas", "new supabase secret key {S}", "sb_secret_" + tok(31, _B64URL)),
    _a("saas", "FCM server key AAAA{S}", "AAAA" + tok(7, _B64URL) + ":APA91b" + tok(134, _B64URL)),
    _a("saas", "CLERK_SECRET_KEY={S}", "sk_live_" + tok(40)),
    _a("saas", "VERCEL_TOKEN={S}", tok(24)),
    _a("saas", "netlify token {S}", "nfp_" + tok(36)),
    _a("saas", "CLOUDFLARE_API_TOKEN={S}", tok(40, _B64URL)),
    _a("saas", "cloudflare global API key {S}", tok(37, _HEX)),
    _a("saas", "fly tokens create deploy -> {S}", "FlyV1 fm2_" + tok(200, _ALNUM + "+/") + "=="),
    _a("saas", "RAILWAY_TOKEN={S}", "3f1b2c4a-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
    _a("saas", "render api key {S}", "rnd_" + tok(32)),
    _a("saas", "DIGITALOCEAN_TOKEN={S}", "dop_v1_" + tok(64, _HEX)),
    _a("saas", "heroku api key {S}", "HRKU-" + tok(60, _B64URL)),
    _a("saas", "Dify app key: {S}", DIFY_APP),
    _a("saas", "curl -H 'Authorization: Bearer {S}' https://api.dify.ai/v1/datasets", DIFY_DATASET),
    _a("saas", "dify api key {S}", "app-" + tok(24)),
    _a("saas", "mailchimp: {S}", tok(32, _HEX) + "-us21"),
    _a(
        "saas",
        "HubSpot private app token {S}",
        "pat-na1-" + tok(8, _HEX) + "-" + tok(4, _HEX) + "-" + tok(4, _HEX) + "-" + tok(4, _HEX) + "-" + tok(12, _HEX),
    ),
    _a("saas", "Figma token {S}", "figd_" + tok(40, _B64URL)),
    _a("saas", "Zendesk API token: {S}", tok(40)),
    _a("saas", "Telegram bot token {S}", "7" + tok(9, "0123456789") + ":AA" + tok(33, _B64URL)),
    # connection strings
    _a("dsn", "DATABASE_URL=postgresql://app_user:{S}@db.internal:5432/app", "Pw" + tok(14)),
    _a("dsn", "mongodb+srv://ana:{S}@cluster0.ab1cd.mongodb.net/?retryWrites=true", "M0ng" + tok(12)),
    _a("dsn", "REDIS_URL=rediss://default:{S}@eu1-redis.upstash.io:6379", "AX" + tok(30)),
    _a("dsn", "amqps://svc:{S}@rabbit.acme.io/vhost", "r4bb" + tok(10)),
    _a("dsn", "jdbc:mysql://db:3306/shop?user=shop&password={S}&useSSL=true", "J" + tok(13)),
    _a(
        "dsn",
        "Server=tcp:acme.database.windows.net,1433;Database=crm;User ID=crm;Password={S};Encrypt=True;",
        "Az" + tok(12) + "!",
    ),
    _a("dsn", 'psql "host=pg port=5432 dbname=app user=ana password={S} sslmode=require"', "Ps" + tok(11)),
    _a("dsn", "clickhouse://default:{S}@ch.acme.io:9440/analytics?secure=true", "CH" + tok(14)),
    _a("dsn", "snowflake://etl:{S}@acme-xy12345/analytics/public?warehouse=wh", "Sn" + tok(14)),
    _a("dsn", "neo4j+s://neo4j:{S}@3b2c1d.databases.neo4j.io", tok(43, _B64URL)),
    _a(
        "dsn",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={S}",
        tok(43, _ALNUM + "+/") + "=",
    ),
    _a(
        "dsn",
        "smtp://postmaster%40mg.acme.io:{S}@smtp.mailgun.org:587",
        tok(32, _HEX) + "-" + tok(8, _HEX) + "-" + tok(8, _HEX),
    ),
    # webhooks with the secret in the path
    _a("webhook", "https://hooks.slack.com/services/T0" + "4ABCDEF/B0" + "5GHIJKL/{S}", tok(24)),
    _a("webhook", "post to https://discord.com/api/webhooks/1234567890123456789/{S}", tok(68, _B64URL)),
    _a(
        "webhook",
        "Teams: https://acme.webhook.office.com/webhookb2/6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab@72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/{S}/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        tok(32, _HEX),
    ),
    _a(
        "webhook",
        "https://prod-12.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={S}",
        tok(43, _B64URL),
    ),
    _a("webhook", "zap hook: https://hooks.zapier.com/hooks/catch/1234567/{S}/", tok(6, _LOWER_ALNUM)),
    _a("webhook", "Make scenario webhook https://hook.eu1.make.com/{S}", tok(32, _LOWER_ALNUM)),
    _a("webhook", "n8n: https://acme.app.n8n.cloud/webhook/{S}", "c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
    _a(
        "webhook",
        "Google Chat: https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&token={S}",
        tok(43, _B64URL) + "%3D",
    ),
    # signed URLs
    _a(
        "signed",
        "https://acme.s3.eu-west-1.amazonaws.com/r.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA"
        + "Q3EGRTZB7XK4LM2P%2F20261207%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T101500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={S}",
        tok(64, _HEX),
    ),
    _a(
        "signed",
        "download: https://b.s3.amazonaws.com/k?X-Amz-Security-Token={S}&X-Amz-Signature=00",
        "IQoJb3JpZ2luX2VjE" + tok(120, _ALNUM) + "%2F" + tok(40, _ALNUM),
    ),
    _a(
        "signed",
        "https://storage.googleapis.com/acme/x.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40p.iam.gserviceaccount.com%2F20261207%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261207T101500Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature={S}",
        tok(256, _HEX),
    ),
    _a(
        "signed",
        "https://acme.blob.core.windows.net/in/a.png?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-08T00:00:00Z&st=2026-12-07T00:00:00Z&spr=https&sig={S}",
        tok(40, _ALNUM) + "%2B" + tok(3) + "%3D",
    ),
    _a(
        "signed",
        "CloudFront: https://d1.cloudfront.net/v.mp4?Expires=1765100000&Signature={S}&Key-Pair-Id=K2JCJMDEHXQW5F",
        tok(172, _ALNUM + "~-_"),
    ),
    _a(
        "signed",
        "old style https://b.s3.amazonaws.com/f?AWSAccessKeyId=AKIA"
        + "Q3EGRTZB7XK4LM2P&Expires=1765100000&Signature={S}",
        tok(27, _ALNUM) + "%3D",
    ),
    # headers and cookies
    _a("header", "Authorization: Bearer {S}", SESSION_JWT),
    _a("header", "Cookie: sessionid={S}; csrftoken=abc", tok(32, _LOWER_ALNUM)),
    _a("header", "Set-Cookie: connect.sid={S}; Path=/; HttpOnly", "s%3A" + tok(32, _B64URL) + "." + tok(43, _B64URL)),
    _a(
        "header",
        "cookie: __Secure-next-auth.session-token={S}",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.."
        + tok(22, _B64URL)
        + "."
        + tok(200, _B64URL)
        + "."
        + tok(22, _B64URL),
    ),
    _a("header", "Cookie: PHPSESSID={S}", tok(26, _LOWER_ALNUM)),
    _a("header", "Cookie: _gh_sess={S}; laravel_session=x", tok(100, _ALNUM + "%")),
    _a("header", "headers: {'X-Auth-Token': '{S}'}", tok(40, _HEX)),
    _a("header", "Proxy-Authorization: Basic {S}", base64.b64encode(b"proxyuser:Pr0xyPass!2026").decode()),
    _a("header", "X-Shopify-Access-Token: {S}", "shpca_" + tok(32, _HEX)),
    _a("header", 'Authorization: Digest username="ana", response="{S}"', tok(32, _HEX)),
    # passwords in prose
    _a("prose", "The wifi password is {S} (guest network)", "Sunfl0wer#22"),
    _a("prose", "Mein Passwort lautet {S}", "Tannenbaum!88"),
    _a("prose", "Le mot de passe est {S}, ne le partage pas", "Chat-Noir-1990"),
    _a("prose", "La contraseña del router es {S}", "Madrid_2024x"),
    _a("prose", "A senha do e-mail é {S}", "Praia@Rio77"),
    _a("prose", "La password del server è {S}", "Gelato$Roma9"),
    _a("prose", "Het wachtwoord is {S}", "Fiets!Amst3rdam"),
    _a("prose", "Hasło do konta: {S}", "Krakow#2019pl"),
    _a("prose", "Пароль от почты — {S}", "Medved_Moskva7"),
    _a("prose", "Пароль: {S}", "Kyiv-Spring55"),
    _a("prose", "パスワードは {S} です", "Sakura2026!jp"),
    _a("prose", "我的密码是 {S}", "Panda_88cn!"),
    _a("prose", "비밀번호는 {S} 입니다", "Seoul#K1mchi"),
    _a("prose", "كلمة المرور هي {S}", "Sahara!2030ar"),
    _a("prose", "הסיסמה שלי היא {S}", "Tel4viv!Yam"),
    _a("prose", "Lösenordet är {S}", "Midsommar!42"),
    _a("prose", "Salasana: {S}", "Sauna#Helsinki3"),
    _a("prose", "Heslo k wifi je {S}", "Praha!Most12"),
    _a("prose", "Jelszó: {S}", "Balaton_2026hu"),
    _a("prose", "Κωδικός πρόσβασης: {S}", "Akropoli!s77"),
    _a("prose", "Şifre: {S}", "Bogaz!ici34"),
    _a("prose", "Kata sandi akun saya {S}", "Bali#Pantai9"),
    _a("prose", "mật khẩu: {S}", "HaNoi@2026vn"),
    _a("prose", "रहस्य पासवर्ड: {S}", "Mumbai#Chai8"),
    _a("prose", "รหัสผ่าน: {S}", "Bangkok!Tuk7"),
    _a("prose", "pwd={S}", "qwerty!Zx9"),
    _a("prose", "user: admin pass: {S}", "Adm1n!strat0r"),
    _a("prose", "creds are root / {S}", "Toor#2026root"),
    _a("prose", "login admin@acme.io with password {S}", "Welcome2Acme!"),
    _a("prose", "passphrase for the key: {S}", "correct horse battery staple"),
    # personal data
    _a("personal", "Card: {S} exp 09/29", " ".join(CARD_VISA[i : i + 4] for i in range(0, 16, 4))),
    _a("personal", "mastercard {S}", CARD_MC2),
    _a("personal", "amex {S} cvv 1234", CARD_AMEX[:4] + " " + CARD_AMEX[4:10] + " " + CARD_AMEX[10:]),
    _a("personal", "JCB card number {S}", CARD_JCB),
    _a("personal", "银联卡号 {S}", _luhn("62123456789012345"[:17] + "6")),
    _a("personal", "discover: {S}", "-".join(_luhn("6011000990139424")[i : i + 4] for i in range(0, 16, 4))),
    _a("personal", "IBAN: {S}", _iban("DE", "370400440532013000")),
    _a(
        "personal",
        "Please wire to {S} by Friday",
        " ".join(_iban("GB", "NWBK60161331926819")[i : i + 4] for i in range(0, 22, 4)),
    ),
    _a("personal", "Mon IBAN : {S}", _iban("FR", "20041010050500013M02606")),
    _a("personal", "rekeningnummer {S}", _iban("NL", "ABNA0417164300")),
    _a("personal", "Numer konta: {S}", _iban("PL", "109010140000071219812874")),
    _a("personal", "BSN: {S}", _bsn("11122233")),
    _a("personal", "PESEL {S}", _pesel("9001011234")),
    _a("personal", "CPF: {S}", _cpf("529982247")),
    _a("personal", "身份证号 {S}", _china_id("11010519491231002")),
    _a("personal", "Aadhaar: {S}", " ".join(_verhoeff("23456789012")[i : i + 4] for i in range(0, 12, 4))),
    _a("personal", "TC Kimlik No: {S}", _tc_kimlik("123456789")),
    _a("personal", "CNP {S}", _cnp("196010112345")),
    _a("personal", "주민등록번호 {S}", _korean_rrn("900101123456")),
    _a("personal", "SSN 123-45-{S}", "6789"),
    _a("personal", "my social security number is {S}", "536-22-1947"),
    _a("personal", "Canadian SIN {S}", _luhn("04645413")),
    _a("personal", "personnummer {S}", "900101-" + _luhn("900101123")[6:]),
    _a("personal", "call me on {S}", "+44 7700 900123"),
    _a("personal", "WhatsApp: {S}", "+49 151 23456789"),
    _a("personal", "電話 {S}", "090-1234-5678"),
    _a("personal", "tel {S}", "+1 (415) 555-0132"),
    _a("personal", "email ana.martins@example-mail.pt, phone {S}", "+351 912 345 678"),
    _a("personal", "passport number {S}", "C01X00T47"),
]

_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2).decode()

CLEAN8: list[str] = [
    "order_id: 7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b",
    "message_id 1f2e3d4c-5b6a-4789-8abc-def012345678 created",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main)",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "md5 d41d8cd98f00b204e9800998ecf8427e",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "image: python:3.12-slim@sha256:2be8daddbb82756f7d1f2c7ece706aadcb284bf6ab6d769ea695cc3ed6016743",
    "version 1.14.1, API v1, build 20261207.3",
    "node v22.11.0 and npm 10.9.0",
    "pip install dify-client==0.1.12",
    "release tag v2.0.0-rc.3+build.45",
    f"data:image/png;base64,{_PNG}",
    '"usage": {"prompt_tokens": 812, "completion_tokens": 133, "total_tokens": 945, "total_price": "0.0012", "currency": "USD", "latency": 1.83}',
    '{"task_id": "5ad4cb98-f0c7-4085-b384-88c403be6290", "workflow_run_id": "0d9c5c8e-2b6a-4e0b-9e8f-1f6d4a8b2c3e"}',
    '{"conversation_id": "45701982-8118-4bc5-8e9b-64562b4555f2", "message_id": "9da23599-e713-473b-982c-4328d4f5c78a"}',
    "node_id 1711528915811 (llm) and 1711528917469 (answer)",
    "app_id 63e7e8e7-1bd9-4a2f-9d4f-2c2f6a1f6e39, tenant_id 0a5b7c9d-3e2f-4a1b-8c6d-5e4f3a2b1c0d",
    "The password must be at least 12 characters long and include a symbol.",
    "Reset your password from the login page; we will never ask for it by email.",
    "Passwort vergessen? Klicken Sie auf den Link.",
    "¿Olvidaste tu contraseña? Te enviaremos un enlace.",
    "Mot de passe oublié : suivez les instructions reçues.",
    "パスワードを忘れた場合は管理者に連絡してください。",
    "忘记密码请联系管理员",
    "Пароль должен содержать не менее 8 символов",
    "Our API key rotation policy: every 90 days keys expire.",
    "Set OPENAI_API_KEY in your environment before running the app.",
    "token usage: 1,234 input tokens, 567 output tokens",
    '"max_tokens": 4096, "temperature": 0.7, "top_p": 1',
    "The secret to good bread is patience.",
    "Tracking number 1Z999AA10123456784, shipped 2026-12-05",
    "Invoice INV-2026-000123 totals EUR 1,249.00",
    "Flight LH2041 departs 14:35 from gate B22",
    "ISBN 978-3-16-148410-0",
    "Coordinates 48.8583701, 2.2944813",
    "Order #100045-2231-7788 confirmed",
    "Room 1203, building 7, floor 12",
    "ticket PROJ-4821 moved to Done",
    "trace_id 4bf92f3577b34da6a3ce929d0e0e4736 span_id 00f067aa0ba902b7",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "request id req_8a7b6c5d4e3f2a1b",
    "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUv model gpt-4o-mini-2024-07-18",
    "model: claude-3-5-sonnet-20241022",
    "file-id: file-abc123def456 uploaded",
    "Total: 3 items, subtotal 59.97, tax 4.80",
    "https://docs.dify.ai/en/guides/workflow/node/llm",
    "https://github.com/langgenius/dify/releases/tag/1.14.1",
    "https://example.com/search?q=password+reset&page=2",
    "The keyword here is 'resilience'.",
    "Use the `--password-stdin` flag instead of passing secrets on the command line.",
    "PIN codes should be changed after the first use.",
    "Your session has expired; please sign in again.",
    "Bearer tokens are sent in the Authorization header.",
    "color #1e90ff, rgba(30,144,255,0.5)",
    "Call center hours: 9:00-17:00, Monday to Friday",
    "Temperature 21.5°C, humidity 43%, pressure 1013 hPa",
    "The year 2026 had 365 days and 52 weeks.",
    "Python 3.12.7 (main, Oct  1 2024, 08:52:12) [GCC 12.2.0]",
    "uuid4: 123e4567-e89b-12d3-a456-426614174000",
    "base64 of hello world is aGVsbG8gd29ybGQ=",
    'etag W/"5e15153d-120f"',
    "Content-Type: application/json; charset=utf-8",
    "Step 3 of 7: retrieving 5 documents (score >= 0.72)",
    "account_number field is optional in the schema",
    "The article says 'secret_key' is a config field name, not a value.",
    "Mistral, Groq and Cohere are model providers.",
    "Price per 1M tokens: $0.15 input, $0.60 output",
]
