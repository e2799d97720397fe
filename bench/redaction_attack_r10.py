# ruff: noqa: E501, RUF001  (real formats are long; prose in other scripts holds look-alike letters)
"""Round of branch redact11 for bench/redaction_attack.py: texts written before its author read the redaction code's
patterns (only docs/security.md's list of covered formats and round 9's layout), in formats current in 2026 that
earlier rounds may not have had: payment, messaging, cloud, CI, package registries, AI providers and observability
vendors' keys, connection strings, webhook and signed URLs, private keys, JWE, session cookies, TOTP seeds, recovery
codes, and personal data of many countries, placed as they appear (JSON, YAML, .env, headers, code, logs, prose,
Markdown tables). Every value is made up by a seeded generator (check digits computed where the format has them),
none a credential (round 8's generator, whose seeded draws go on after rounds 8's and 9's).
"""

from __future__ import annotations

import base64

from redaction_attack_r8 import _RANDOM, _a, _bsn, _china_id, _cpf, _iban, _luhn, _pesel, _verhoeff, tok
from redaction_attack_r9 import _dni, _my_number, _steuer_id

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_ALNUM = _UPPER + _LOWER + _DIGITS
_LOWER_ALNUM = _LOWER + _DIGITS
_UPPER_ALNUM = _UPPER + _DIGITS
_HEX = "0123456789abcdef"
_B64 = _ALNUM + "+/"
_B64URL = _ALNUM + "-_"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _num(length: int) -> str:
    return str(_RANDOM.randint(1, 9)) + tok(length - 1, _DIGITS)


def _b64u(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _jwe() -> str:
    head = _b64u('{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k1"}')
    return f"{head}.{tok(342, _B64URL)}.{tok(16, _B64URL)}.{tok(120, _B64URL)}.{tok(22, _B64URL)}"


def _jwt(payload: str, alg: str = "RS256") -> str:
    head = _b64u('{"alg":"' + alg + '","typ":"JWT"}')
    return f"{head}.{_b64u(payload)}.{tok(86, _B64URL)}"


def _ssn() -> str:
    return f"{_RANDOM.randint(100, 665)}-{_RANDOM.randint(10, 99)}-{_RANDOM.randint(1000, 9999)}"


def _sin(first8: str) -> str:
    return _luhn(first8)


def _nino() -> str:
    return f"{tok(1, 'ACEHJLMOPRSWXY')}{tok(1, 'ABCEHJKLMNPRSTWXYZ')} {tok(2, _DIGITS)} {tok(2, _DIGITS)} {tok(2, _DIGITS)} {tok(1, 'ABCD')}"


def _aadhaar() -> str:
    digits = _verhoeff(str(_RANDOM.randint(2, 9)) + tok(10, _DIGITS))
    return f"{digits[:4]} {digits[4:8]} {digits[8:]}"


def _personnummer(date: str, serial: str) -> str:
    digits = date + serial
    total = 0
    for i, char in enumerate(digits):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{date}-{serial}{-total % 10}"


def _cpr(date: str) -> str:
    return f"{date}-{tok(4, _DIGITS)}"


def _za_id(first12: str) -> str:
    return _luhn(first12)


def _rfc() -> str:
    return f"{tok(4, _UPPER)}{_RANDOM.randint(60, 99)}{_RANDOM.randint(10, 12)}{_RANDOM.randint(10, 28)}{tok(3, _UPPER_ALNUM)}"


def _pan() -> str:
    return f"{tok(3, _UPPER)}P{tok(1, _UPPER)}{tok(4, _DIGITS)}{tok(1, _UPPER)}"


def _spaced(digits: str, size: int = 4) -> str:
    return " ".join(digits[i : i + size] for i in range(0, len(digits), size))


def _uuid() -> str:
    return "-".join(tok(n, _HEX) for n in (8, 4, 4, 4, 12))


def _pem(kind: str, lines: int = 6) -> str:
    body = "\n".join(tok(64, _B64) for _ in range(lines))
    return f"-----BEGIN {kind}-----\n{body}\n{tok(24, _B64)}==\n-----END {kind}-----"


STRIPE_LIVE = "sk_live_51" + tok(22) + tok(70)
AWS_ID = "AKIA" + tok(16, _B32)
AWS_SECRET = tok(40, _B64)
SESSION_JWT = _jwt('{"sub":"8812","email":"k.tanaka@example.jp","iat":1796000000,"exp":1796003600}')
NEXTAUTH = _jwe()
RSA_PEM = _pem("RSA PRIVATE KEY")
PKCS8_PEM = _pem("PRIVATE KEY")
EC_PEM = _pem("EC PRIVATE KEY", 3)
ENC_PEM = _pem("ENCRYPTED PRIVATE KEY")
OPENSSH = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    + "\n".join(tok(70, _B64) for _ in range(4))
    + "\n-----END OPENSSH PRIVATE KEY-----"
)
PGP = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGZ"
    + tok(60, _B64)
    + "\n"
    + "\n".join(tok(64, _B64) for _ in range(4))
    + "\n="
    + tok(4, _B64)
    + "\n-----END PGP PRIVATE KEY BLOCK-----"
)


ATTACKS10: list[tuple[str, str, str]] = [
    # payment providers
    _a("payment", "STRIPE_SECRET_KEY={S}", STRIPE_LIVE),
    _a("payment", 'stripe.api_key = "{S}"', "rk_live_51" + tok(22) + tok(60)),
    _a("payment", "Stripe webhook signing secret: {S}", "whsec_" + tok(32)),
    _a("payment", "ADYEN_API_KEY=AQE{S}", "hhmfxKo" + tok(40, _B64) + "=-" + tok(44, _B64) + "=-" + tok(16, _ALNUM)),
    _a("payment", "square:\n  access_token: {S}\n  environment: production", "EAAA" + tok(60, _B64URL)),
    _a("payment", "SQUARE_APPLICATION_SECRET={S}", "sq0csp-" + tok(43, _B64URL)),
    _a("payment", '{"razorpay": {"key_id": "rzp_live_' + tok(14) + '", "key_secret": "{S}"}}', tok(24)),
    _a("payment", "Razorpay key: {S}", "rzp_live_" + tok(14)),
    _a("payment", "PAYSTACK_SECRET_KEY={S}", "sk_live_" + tok(40, _HEX)),
    _a("payment", "Flutterwave secret key {S}", "FLWSECK-" + tok(32, _HEX) + "-X"),
    _a("payment", "Authorization: Bearer {S}", "FLWSECK_TEST-" + tok(32, _HEX) + "-X"),
    _a("payment", "MOLLIE_API_KEY={S}", "live_" + tok(30)),
    _a("payment", "checkout.com secret {S}", "sk_sbox_" + tok(26, _LOWER_ALNUM)),
    _a(
        "payment",
        'Braintree: gateway = braintree.BraintreeGateway(access_token="{S}")',
        "access_token$production$" + tok(16, _LOWER_ALNUM) + "$" + tok(32, _HEX),
    ),
    _a("payment", "PAYPAL_CLIENT_SECRET={S}", "E" + tok(79, _B64URL)),
    _a("payment", "GoCardless access token: {S}", "live_" + tok(40, _B64URL)),
    _a("payment", "Plaid secret = {S}", tok(30, _HEX)),
    _a("payment", "coinbase_api_secret: {S}", tok(88, _B64) + "=="),
    # messaging and e-mail
    _a("messaging", "SLACK_BOT_TOKEN={S}", f"xoxb-{_num(12)}-{_num(13)}-{tok(24)}"),
    _a("messaging", 'slack_user_token: "{S}"', f"xoxp-{_num(12)}-{_num(12)}-{_num(13)}-{tok(32, _HEX)}"),
    _a("messaging", "App-level token {S} (socket mode)", f"xapp-1-A{tok(10, _UPPER_ALNUM)}-{_num(13)}-{tok(64, _HEX)}"),
    _a("messaging", "Slack refresh token: {S}", f"xoxe-1-{tok(146, _B64URL)}"),
    _a("messaging", "TELEGRAM_BOT_TOKEN={S}", f"{_num(10)}:AA{tok(33, _B64URL)}"),
    _a(
        "messaging",
        "curl https://api.telegram.org/bot{S}/sendMessage -d chat_id=42",
        f"{_num(10)}:AA{tok(33, _B64URL)}",
    ),
    _a("messaging", "TWILIO_API_SECRET={S}", tok(32)),
    _a("messaging", "twilio auth: SK" + tok(32, _HEX) + ":{S}", tok(32)),
    _a("messaging", "SENDGRID_API_KEY={S}", f"SG.{tok(22, _B64URL)}.{tok(43, _B64URL)}"),
    _a("messaging", "Mailchimp API key {S}", f"{tok(32, _HEX)}-us21"),
    _a("messaging", "MAILGUN_API_KEY={S}", f"{tok(32, _HEX)}-{tok(8, _HEX)}-{tok(8, _HEX)}"),
    _a("messaging", "X-Postmark-Server-Token: {S}", _uuid()),
    _a("messaging", "Brevo: api-key: {S}", f"xkeysib-{tok(64, _HEX)}-{tok(16)}"),
    _a("messaging", "RESEND_API_KEY={S}", "re_" + tok(8) + "_" + tok(24)),
    _a("messaging", "Vonage api_secret={S}", tok(16)),
    _a("messaging", "WhatsApp Cloud API token: {S}", "EAAG" + tok(180)),
    _a("messaging", "LINE_CHANNEL_ACCESS_TOKEN={S}", tok(171, _B64) + "="),
    _a("messaging", "Pusher: app_secret = {S}", tok(20, _HEX)),
    _a("messaging", "INTERCOM_ACCESS_TOKEN={S}", "dG9rOj" + tok(54, _B64) + "="),
    _a("messaging", "ZENDESK_API_TOKEN={S}", tok(40)),
    # webhooks with their token in the URL
    _a(
        "webhook",
        "posting to {S}",
        f"https://hooks.slack.com/services/T{tok(10, _UPPER_ALNUM)}/B{tok(10, _UPPER_ALNUM)}/{tok(24)}",
    ),
    _a("webhook", '"url": "{S}"', f"https://discord.com/api/webhooks/{_num(19)}/{tok(68, _B64URL)}"),
    _a(
        "webhook",
        "TEAMS_WEBHOOK={S}",
        f"https://acme.webhook.office.com/webhookb2/{_uuid()}@{_uuid()}/IncomingWebhook/{tok(32, _HEX)}/{_uuid()}/V2{tok(40, _B64URL)}",
    ),
    _a("webhook", "Zapier hook: {S}", f"https://hooks.zapier.com/hooks/catch/{_num(8)}/{tok(7, _LOWER_ALNUM)}/"),
    _a(
        "webhook",
        "POST {S}",
        f"https://chat.googleapis.com/v1/spaces/AAAA{tok(7)}/messages?key=AIza{tok(35, _B64URL)}&token={tok(43, _B64URL)}",
    ),
    _a("webhook", "钉钉机器人 {S}", f"https://oapi.dingtalk.com/robot/send?access_token={tok(64, _HEX)}"),
    _a("webhook", "企业微信机器人: {S}", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={_uuid()}"),
    _a("webhook", "飞书 webhook {S}", f"https://open.feishu.cn/open-apis/bot/v2/hook/{_uuid()}"),
    _a("webhook", "Make.com scenario hook {S}", f"https://hook.eu1.make.com/{tok(32, _LOWER_ALNUM)}"),
    _a("webhook", "IFTTT {S}", f"https://maker.ifttt.com/trigger/door/with/key/{tok(22, _B64URL)}"),
    _a("webhook", "n8n production URL with token: {S}", f"https://n8n.acme.io/webhook/orders?token={tok(40)}"),
    # signed and presigned URLs
    _a(
        "signed_url",
        "download {S}",
        f"https://acme.blob.core.windows.net/reports/q4.pdf?sp=r&st=2026-12-07T10:00:00Z&se=2026-12-08T10:00:00Z&spr=https&sv=2024-11-04&sr=b&sig={tok(43, _B64).replace('/', '%2F').replace('+', '%2B')}%3D",
    ),
    _a(
        "signed_url",
        '{"url": "https://acme-uploads.s3.eu-west-1.amazonaws.com/u/42.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential='
        + AWS_ID
        + '%2F20261207%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T101500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature={S}"}',
        tok(64, _HEX),
    ),
    _a(
        "signed_url",
        "GCS: https://storage.googleapis.com/acme/a.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40acme.iam.gserviceaccount.com%2F20261207%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261207T101500Z&X-Goog-Expires=600&X-Goog-SignedHeaders=host&X-Goog-Signature={S}",
        tok(512, _HEX),
    ),
    _a(
        "signed_url",
        "https://d111111abcdef8.cloudfront.net/v.mp4?Expires=1796000000&Signature={S}&Key-Pair-Id=K2JCJMDEHXQW5F",
        tok(120, _B64URL) + "__",
    ),
    _a(
        "signed_url",
        "Aliyun OSS: https://acme.oss-cn-hangzhou.aliyuncs.com/a.jpg?OSSAccessKeyId=LTAI"
        + tok(20)
        + "&Expires=1796000000&Signature={S}",
        tok(27, _B64).replace("/", "%2F") + "%3D",
    ),
    _a(
        "signed_url",
        "R2 presigned: https://acme.r2.cloudflarestorage.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={S}",
        tok(64, _HEX),
    ),
    # clouds and platforms
    _a("cloud", "AWS_ACCESS_KEY_ID=" + AWS_ID + "\nAWS_SECRET_ACCESS_KEY={S}", AWS_SECRET),
    _a("cloud", "DIGITALOCEAN_TOKEN={S}", "dop_v1_" + tok(64, _HEX)),
    _a("cloud", "doctl OAuth: {S}", "doo_v1_" + tok(64, _HEX)),
    _a("cloud", "HCLOUD_TOKEN={S}", tok(64)),
    _a("cloud", "linode_token: {S}", tok(64, _HEX)),
    _a("cloud", "CLOUDFLARE_API_TOKEN={S}", tok(40, _B64URL)),
    _a("cloud", "Origin CA key: {S}", "v1.0-" + tok(24, _HEX) + "-" + tok(146, _HEX)),
    _a("cloud", "FLY_API_TOKEN={S}", "FlyV1 fm2_" + tok(300, _B64) + "=="),
    _a("cloud", "VERCEL_TOKEN={S}", tok(24)),
    _a("cloud", "vercel access token {S}", "vcp_" + tok(56)),
    _a("cloud", "NETLIFY_AUTH_TOKEN={S}", "nfp_" + tok(36)),
    _a("cloud", "Render API key: {S}", "rnd_" + tok(32)),
    _a("cloud", "SUPABASE_ACCESS_TOKEN={S}", "sbp_" + tok(40, _HEX)),
    _a("cloud", "SUPABASE_SECRET_KEY={S}", "sb_secret_" + tok(32, _B64URL)),
    _a("cloud", "IBMCLOUD_API_KEY={S}", tok(44, _B64URL)),
    _a("cloud", "Azure AD client secret: {S}", tok(3) + "8Q~" + tok(34, _B64URL)),
    _a("cloud", '{"clientSecret": "{S}", "tenantId": "' + _uuid() + '"}', tok(3) + "7Q~" + tok(34, _B64URL)),
    _a(
        "cloud",
        "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey={S};EndpointSuffix=core.windows.net",
        tok(86, _B64) + "==",
    ),
    _a(
        "cloud",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={S}",
        tok(43, _B64) + "=",
    ),
    _a("cloud", "ALIBABA_CLOUD_ACCESS_KEY_SECRET={S}", tok(30)),
    _a("cloud", "Scaleway secret key: {S}", _uuid()),
    _a("cloud", "OVH_APPLICATION_SECRET={S}", tok(32, _LOWER_ALNUM)),
    _a("cloud", "Firebase: FCM server key {S}", "AAAA" + tok(7, _B64URL) + ":APA91b" + tok(134, _B64URL)),
    _a("cloud", "Heroku: HEROKU_API_KEY={S}", "HRKU-AA" + tok(58, _B64URL)),
    _a("cloud", "railway token {S}", _uuid()),
    # CI, source hosts, secret managers
    _a("ci", "GH_TOKEN={S}", "github_pat_11" + tok(20, _UPPER_ALNUM) + "_" + tok(59)),
    _a("ci", "git clone https://x-access-token:{S}@github.com/acme/app.git", "ghs_" + tok(36)),
    _a("ci", "refresh: {S}", "ghr_" + tok(76)),
    _a("ci", "GITLAB_TOKEN={S}", "glpat-" + tok(20, _B64URL)),
    _a("ci", "gitlab-runner register --token {S}", "glrt-" + tok(20, _B64URL)),
    _a("ci", "deploy token {S}", "gldt-" + tok(20, _B64URL)),
    _a("ci", "CIRCLECI_TOKEN={S}", "CCIPAT_" + tok(22) + "_" + tok(40, _HEX)),
    _a("ci", "BUILDKITE_API_TOKEN={S}", "bkua_" + tok(40, _HEX)),
    _a("ci", "BITBUCKET_APP_PASSWORD={S}", "ATBB" + tok(32) + tok(8, _HEX)),
    _a("ci", "Atlassian API token: {S}", "ATATT3xFfGF0" + tok(170, _B64URL) + "=" + tok(8, _HEX)),
    _a("ci", "TF_TOKEN_app_terraform_io={S}", tok(14) + ".atlasv1." + tok(67)),
    _a("ci", "VAULT_TOKEN={S}", "hvs." + tok(90, _B64URL)),
    _a("ci", "vault batch token {S}", "hvb." + tok(120, _B64URL)),
    _a("ci", "DOPPLER_TOKEN={S}", "dp.st.prd." + tok(43)),
    _a("ci", "PULUMI_ACCESS_TOKEN={S}", "pul-" + tok(40, _HEX)),
    _a("ci", "OP_SERVICE_ACCOUNT_TOKEN={S}", "ops_" + tok(300, _B64URL)),
    _a("ci", "SONAR_TOKEN={S}", "squ_" + tok(40, _HEX)),
    _a("ci", "SNYK_TOKEN={S}", _uuid()),
    _a("ci", "CODECOV_TOKEN={S}", _uuid()),
    _a("ci", "Jenkins API token: {S}", "11" + tok(32, _HEX)),
    _a("ci", "INFISICAL_TOKEN={S}", "st." + _uuid() + "." + tok(32, _HEX) + "." + tok(32, _HEX)),
    _a("ci", "AKEYLESS access key {S}", "p-" + tok(12, _LOWER_ALNUM)),
    _a("ci", "LINEAR_API_KEY={S}", "lin_api_" + tok(40)),
    _a("ci", "NOTION_TOKEN={S}", "ntn_" + _num(11) + tok(35)),
    _a("ci", "AIRTABLE_TOKEN={S}", "pat" + tok(14) + "." + tok(64, _HEX)),
    _a("ci", "FIGMA_TOKEN={S}", "figd_" + tok(40, _B64URL)),
    # package registries
    _a("registry", "//registry.npmjs.org/:_authToken={S}", "npm_" + tok(36)),
    _a("registry", "[pypi]\n  username = __token__\n  password = {S}", "pypi-AgEIcHlwaS5vcmc" + tok(150, _B64URL)),
    _a("registry", "GEM_HOST_API_KEY={S}", "rubygems_" + tok(48, _HEX)),
    _a("registry", "dotnet nuget push -k {S}", "oy2" + tok(43, _LOWER_ALNUM)),
    _a("registry", "docker login -u acme -p {S}", "dckr_pat_" + tok(27, _B64URL)),
    _a("registry", "CARGO_REGISTRY_TOKEN={S}", "cio" + tok(32)),
    _a("registry", "JFrog: X-JFrog-Art-Api: {S}", "AKCp" + tok(69)),
    _a("registry", "JF_ACCESS_TOKEN={S}", "cmVmdGtuOjAxOjE3" + tok(48)),
    _a("registry", "HEX_API_KEY={S}", tok(32, _HEX)),
    _a("registry", "packagist token {S}", "packagist_uut_" + tok(68, _HEX)),
    _a("registry", '[registries.acme]\ntoken = "{S}"', "Bearer " + tok(40)),
    _a("registry", "//npm.pkg.github.com/:_authToken={S}", "ghp_" + tok(36)),
    # AI providers
    _a("ai", "ANTHROPIC_API_KEY={S}", "sk-ant-api03-" + tok(93, _B64URL) + "AA"),
    _a("ai", "x-api-key: {S}", "sk-ant-admin01-" + tok(93, _B64URL) + "AA"),
    _a("ai", 'client = OpenAI(api_key="{S}")', "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)),
    _a("ai", "GROQ_API_KEY={S}", "gsk_" + tok(52)),
    _a("ai", "XAI_API_KEY={S}", "xai-" + tok(80)),
    _a("ai", "PERPLEXITY_API_KEY={S}", "pplx-" + tok(48)),
    _a("ai", "HF_TOKEN={S}", "hf_" + tok(34)),
    _a("ai", "REPLICATE_API_TOKEN={S}", "r8_" + tok(37)),
    _a("ai", "FIREWORKS_API_KEY={S}", "fw_" + tok(24)),
    _a("ai", "OPENROUTER_API_KEY={S}", "sk-or-v1-" + tok(64, _HEX)),
    _a("ai", "DEEPSEEK_API_KEY={S}", "sk-" + tok(32, _HEX)),
    _a("ai", "MISTRAL_API_KEY={S}", tok(32)),
    _a("ai", "co = cohere.ClientV2(api_key='{S}')", tok(40)),
    _a("ai", "VOYAGE_API_KEY={S}", "pa-" + tok(43, _B64URL)),
    _a("ai", "LANGSMITH_API_KEY={S}", "lsv2_pt_" + tok(32, _HEX) + "_" + tok(10, _HEX)),
    _a("ai", "LANGFUSE_SECRET_KEY={S}", "sk-lf-" + _uuid()),
    _a("ai", "PINECONE_API_KEY={S}", "pcsk_" + tok(5) + "_" + tok(64)),
    _a("ai", "TAVILY_API_KEY={S}", "tvly-" + tok(32)),
    _a("ai", "FIRECRAWL_API_KEY={S}", "fc-" + tok(32, _HEX)),
    _a("ai", "JINA_API_KEY={S}", "jina_" + tok(60)),
    _a("ai", "CEREBRAS_API_KEY={S}", "csk-" + tok(48, _LOWER_ALNUM)),
    _a("ai", "ELEVENLABS_API_KEY={S}", "sk_" + tok(48, _HEX)),
    _a("ai", "ASSEMBLYAI_API_KEY={S}", tok(32, _HEX)),
    _a("ai", "Authorization: Token {S}", tok(40, _HEX)),
    _a("ai", "dify: Authorization: Bearer {S}", "app-" + tok(24)),
    _a("ai", "SILICONFLOW_API_KEY={S}", "sk-" + tok(48, _LOWER)),
    _a("ai", "GEMINI_API_KEY={S}", "AIza" + tok(35, _B64URL)),
    _a("ai", "ZHIPUAI_API_KEY={S}", tok(32, _HEX) + "." + tok(16)),
    _a("ai", "WANDB_API_KEY={S}", tok(40, _HEX)),
    _a(
        "ai",
        "HELICONE_API_KEY={S}",
        "sk-helicone-"
        + tok(7, _LOWER_ALNUM)
        + "-"
        + tok(7, _LOWER_ALNUM)
        + "-"
        + tok(7, _LOWER_ALNUM)
        + "-"
        + tok(7, _LOWER_ALNUM),
    ),
    _a("ai", "Exa key: {S}", _uuid()),
    # observability vendors
    _a("observability", "DD_API_KEY={S}", tok(32, _HEX)),
    _a("observability", "DD-APPLICATION-KEY: {S}", tok(40, _HEX)),
    _a("observability", "NEW_RELIC_API_KEY={S}", "NRAK-" + tok(27, _UPPER_ALNUM)),
    _a("observability", "NEW_RELIC_LICENSE_KEY={S}", tok(36, _HEX) + "NRAL"),
    _a("observability", "Ingest key NRII-{S}", tok(32, _B64URL)),
    _a("observability", "GRAFANA_CLOUD_TOKEN={S}", "glc_" + tok(120, _B64) + "="),
    _a("observability", "grafana service account token {S}", "glsa_" + tok(32) + "_" + tok(8, _HEX)),
    _a("observability", "x-honeycomb-team: {S}", "hcaik_" + tok(58, _LOWER_ALNUM)),
    _a("observability", "SENTRY_DSN={S}", f"https://{tok(32, _HEX)}@o{_num(6)}.ingest.us.sentry.io/{_num(7)}"),
    _a("observability", "SENTRY_AUTH_TOKEN={S}", "sntrys_" + tok(180, _B64) + "="),
    _a("observability", "sentry user token {S}", "sntryu_" + tok(64, _HEX)),
    _a("observability", "Api-Token {S}", "dt0c01." + tok(24, _UPPER_ALNUM) + "." + tok(64, _UPPER_ALNUM)),
    _a("observability", "Authorization: Splunk {S}", _uuid()),
    _a(
        "observability",
        "Authorization: ApiKey {S}",
        base64.b64encode((tok(20) + ":" + tok(22, _B64URL)).encode()).decode(),
    ),
    _a("observability", "POSTHOG_PERSONAL_API_KEY={S}", "phx_" + tok(43)),
    _a("observability", "AXIOM_TOKEN={S}", "xaat-" + _uuid()),
    _a("observability", "LOGTAIL_SOURCE_TOKEN={S}", tok(24)),
    _a("observability", "ROLLBAR_ACCESS_TOKEN={S}", tok(32, _HEX)),
    _a("observability", "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team={S}", tok(22)),
    _a("observability", "LIGHTSTEP_ACCESS_TOKEN={S}", tok(84, _B64) + "=="),
    # databases
    _a("database", "DATABASE_URL=postgresql://app:{S}@db.internal:5432/app?sslmode=require", tok(24)),
    _a("database", "mongodb+srv://admin:{S}@cluster0.ab1cd.mongodb.net/?retryWrites=true", tok(16)),
    _a("database", "REDIS_URL=rediss://default:{S}@eu1-able-ant-38012.upstash.io:6379", tok(32)),
    _a("database", "amqps://svc:{S}@b-1234.mq.eu-west-1.amazonaws.com:5671", tok(20)),
    _a(
        "database",
        "Server=tcp:acme.database.windows.net,1433;Database=app;User ID=svc;Password={S};Encrypt=true;",
        tok(18),
    ),
    _a("database", "jdbc:mysql://db:3306/app?user=svc&password={S}&useSSL=true", tok(16)),
    _a("database", "clickhouse://default:{S}@ch.acme.io:9440/default?secure=true", tok(20)),
    _a(
        "database",
        "DATABASE_URL=postgres://neondb_owner:{S}@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/neondb",
        "npg_" + tok(12),
    ),
    _a(
        "database",
        'DATABASE_URL="mysql://u5er:{S}@aws.connect.psdb.cloud/app?sslaccept=strict"',
        "pscale_pw_" + tok(43, _B64URL),
    ),
    _a("database", "snowflake: account=acme-xy12345 user=ETL password={S} warehouse=WH", tok(14)),
    _a("database", "TURSO_AUTH_TOKEN={S}", _jwt('{"a":"rw","iat":1796000000,"id":"' + _uuid() + '"}', "EdDSA")),
    _a("database", "neo4j+s://neo4j:{S}@abcd1234.databases.neo4j.io", tok(43, _B64URL)),
    _a("database", "cassandra: auth_provider = PlainTextAuthProvider(username='app', password='{S}')", tok(16)),
    _a("database", "PGPASSWORD={S} psql -h db -U app", tok(16)),
    _a("database", "ELASTIC_PASSWORD={S}", tok(20)),
    _a("database", "couchbases://cb.acme.io?username=app&password={S}", tok(16)),
    # private keys
    _a("key", '{"private_key": "{S}"}', RSA_PEM.replace("\n", "\\n")),
    _a("key", "tls.key: |\n{S}", "\n".join("  " + line for line in PKCS8_PEM.split("\n"))),
    _a("key", "{S}", EC_PEM),
    _a("key", "Here is the encrypted key:\n{S}", ENC_PEM),
    _a("key", "id_ed25519:\n{S}", OPENSSH),
    _a("key", "{S}", PGP),
    _a(
        "key",
        "SOPS_AGE_KEY={S}",
        "AGE-SECRET-KEY-1" + tok(58, _UPPER.replace("B", "").replace("I", "").replace("O", "") + "023456789"),
    ),
    _a("key", "[Interface]\nPrivateKey = {S}\nAddress = 10.0.0.2/32", tok(43, _B64) + "="),
    _a("key", "nostr nsec: {S}", "nsec1" + tok(58, "qpzry9x8gf2tvdw0s3jn54khce6mua7l")),
    _a(
        "key",
        "ssh-keygen output\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{S}\n\n"
        + tok(64, _B64)
        + "\n-----END RSA PRIVATE KEY-----",
        tok(32, "0123456789ABCDEF"),
    ),
    # JWT, JWE, sessions and cookies
    _a("session", "Authorization: Bearer {S}", SESSION_JWT),
    _a("session", "Cookie: __Secure-next-auth.session-token={S}", NEXTAUTH),
    _a(
        "session",
        "Cookie: connect.sid={S}; Path=/",
        "s%3A" + tok(32, _B64URL) + "." + tok(43, _B64).replace("+", "%2B").replace("/", "%2F"),
    ),
    _a("session", "Set-Cookie: JSESSIONID={S}; Path=/; HttpOnly", tok(32, "0123456789ABCDEF")),
    _a("session", "Cookie: PHPSESSID={S}", tok(26, _LOWER_ALNUM)),
    _a("session", "Cookie: laravel_session={S}", "eyJpdiI6I" + tok(200, _B64) + "%3D"),
    _a(
        "session",
        "Set-Cookie: _myapp_session={S}; path=/; secure; HttpOnly; SameSite=Lax",
        tok(180, _B64URL) + "--" + tok(40, _HEX),
    ),
    _a("session", "Cookie: .AspNetCore.Cookies={S}", "CfDJ8" + tok(300, _B64URL)),
    _a(
        "session",
        "Cookie: wordpress_logged_in_" + tok(32, _HEX) + "={S}",
        "admin%7C1796000000%7C" + tok(43) + "%7C" + tok(64, _HEX),
    ),
    _a(
        "session",
        "sb-access-token={S}",
        _jwt('{"aud":"authenticated","role":"authenticated","sub":"' + _uuid() + '"}', "HS256"),
    ),
    _a("session", "Cookie: sessionid={S}; csrftoken=" + tok(32), tok(32, _LOWER_ALNUM)),
    _a("session", "Cookie: _shopify_s=" + _uuid() + "; auth_token={S}", tok(40, _HEX)),
    _a("session", "X-Auth-Token: {S}", tok(48)),
    _a("session", "Proxy-Authorization: Basic {S}", base64.b64encode(b"proxyuser:" + tok(14).encode()).decode()),
    _a(
        "session", 'id_token: "{S}"', _jwt('{"iss":"https://accounts.google.com","sub":"1098","email":"a@example.org"}')
    ),
    _a("session", "JWE: {S}", _jwe()),
    # TOTP seeds, recovery codes, passwords in config
    _a("otp", "otpauth://totp/Acme:ana%40example.com?secret={S}&issuer=Acme", tok(32, _B32)),
    _a("otp", "TOTP secret: {S}", " ".join(tok(4, _B32.lower()) for _ in range(8))),
    _a("otp", "MFA seed for root: {S}", tok(32, _B32)),
    _a("otp", "Recovery codes:\n{S}", "\n".join(f"{tok(5, _LOWER_ALNUM)}-{tok(5, _LOWER_ALNUM)}" for _ in range(4))),
    _a("otp", "Backup codes: {S}", " ".join(tok(8, _DIGITS) for _ in range(5))),
    _a("otp", "Your GitHub recovery code: {S}", f"{tok(5, _HEX)}-{tok(5, _HEX)}"),
    _a("otp", "Apple ID recovery key: {S}", "-".join(tok(4, _UPPER_ALNUM) for _ in range(7))),
    _a("otp", "BitLocker recovery key: {S}", "-".join(tok(6, _DIGITS) for _ in range(8))),
    _a("config", "spring:\n  datasource:\n    password: {S}", tok(16)),
    _a("config", 'secrets:\n  jwt_signing_key: "{S}"', tok(48, _B64)),
    _a("config", "SECRET_KEY_BASE={S}", tok(128, _HEX)),
    _a("config", "NEXTAUTH_SECRET={S}", tok(44, _B64)),
    _a("config", "APP_KEY=base64:{S}", tok(43, _B64) + "="),
    _a("config", "ENCRYPTION_KEY={S}", tok(64, _HEX)),
    _a("config", "| service | user | password |\n|---|---|---|\n| grafana | admin | {S} |", tok(14)),
    _a(
        "config",
        'logger.info("connecting with password=%s", "{S}")  # 2026-12-07 INFO db connect password={S}',
        tok(14),
    ),
    _a("config", 'const client = new Client({ user: "app", password: "{S}" });', tok(16)),
    _a("config", "2026-12-07T10:15:00Z ERROR auth failed for user=svc pass={S} ip=10.2.3.4", tok(12)),
    # prose in several languages
    _a("prose", "Das neue WLAN-Passwort lautet {S}, bitte nicht weitergeben.", tok(14)),
    _a("prose", "Le mot de passe du compte admin est {S}", tok(12)),
    _a("prose", "La contraseña de la base de datos es {S}", tok(12)),
    _a("prose", "管理员密码是：{S}", tok(12)),
    _a("prose", "APIキーは {S} です。", "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)),
    _a("prose", "Пароль от сервера: {S}", tok(12)),
    _a("prose", "A senha do Wi-Fi é {S}", tok(12)),
    _a("prose", "Il token di accesso è {S}", "ghp_" + tok(36)),
    _a("prose", "비밀번호: {S}", tok(12)),
    _a("prose", "Het wachtwoord is {S}", tok(12)),
    # personal data: cards
    _a("card", "Card: {S}", _spaced(_luhn("4" + tok(14, _DIGITS)))),
    _a("card", "cc=" + "{S}", _luhn("5" + tok(14, _DIGITS))),
    _a("card", "Amex {S} exp 09/29", (lambda n: f"{n[:4]} {n[4:10]} {n[10:]}")(_luhn("37" + tok(12, _DIGITS)))),
    _a("card", "Diners Club {S}", (lambda n: f"{n[:4]} {n[4:10]} {n[10:]}")(_luhn("36" + tok(11, _DIGITS)))),
    _a("card", '{"card_number": {S}}', _luhn("4" + tok(14, _DIGITS))),
    _a("card", "Kartennummer: {S}", "-".join(_spaced(_luhn("5" + tok(14, _DIGITS))).split())),
    _a("card", "カード番号 {S}", _spaced(_luhn("35" + tok(13, _DIGITS)))),
    _a("card", "UnionPay 19-digit: {S}", _luhn("62" + tok(16, _DIGITS))),
    _a("card", "Discover {S}", _spaced(_luhn("6011" + tok(11, _DIGITS)))),
    _a("card", "| name | card |\n|---|---|\n| Ana | {S} |", _luhn("4" + tok(14, _DIGITS))),
    # IBANs
    _a("iban", "IBAN: {S}", _spaced(_iban("DE", tok(18, _DIGITS)))),
    _a("iban", "IBAN {S}", _iban("FR", tok(10, _DIGITS) + tok(11, _UPPER_ALNUM) + tok(2, _DIGITS))),
    _a("iban", "iban: {S}", _iban("GB", "NWBK" + tok(14, _DIGITS))),
    _a("iban", "Cuenta: {S}", _spaced(_iban("ES", tok(20, _DIGITS)))),
    _a("iban", "Bonifico su {S}", _iban("IT", "X" + tok(10, _DIGITS) + tok(12, _DIGITS))),
    _a("iban", "Rekening {S}", _spaced(_iban("NL", "ABNA" + tok(10, _DIGITS)))),
    _a("iban", "Konto: {S}", _iban("CH", tok(17, _DIGITS))),
    _a("iban", "Numer konta: {S}", _spaced(_iban("PL", tok(24, _DIGITS)))),
    _a("iban", "Kontonummer {S}", _iban("SE", tok(20, _DIGITS))),
    _a("iban", "IBAN {S}", _iban("SA", tok(20, _DIGITS))),
    _a("iban", "IBAN: {S}", _spaced(_iban("AE", tok(19, _DIGITS)))),
    _a("iban", "IBAN {S}", _spaced(_iban("TR", tok(22, _DIGITS)))),
    _a("iban", "IBAN: {S}", _iban("BR", tok(23, _DIGITS) + "P1")),
    _a("iban", "IBAN {S}", _iban("NO", tok(11, _DIGITS))),
    _a("iban", "IBAN {S}", _iban("IE", "AIBK" + tok(14, _DIGITS))),
    # national ids and tax numbers
    _a("national_id", "SSN: {S}", _ssn()),
    _a("national_id", "National Insurance number {S}", _nino()),
    _a("national_id", "SIN: {S}", (lambda n: f"{n[:3]} {n[3:6]} {n[6:]}")(_sin("046" + tok(5, _DIGITS)))),
    _a("national_id", "Steuer-ID: {S}", _steuer_id("6" + tok(9, _DIGITS))),
    _a("national_id", "DNI: {S}", _dni(tok(8, _DIGITS))),
    _a("national_id", "BSN {S}", _bsn("12345678")),
    _a("national_id", "PESEL: {S}", _pesel("92071" + tok(5, _DIGITS))),
    _a("national_id", "CPF {S}", _cpf(tok(9, _DIGITS))),
    _a("national_id", "Aadhaar: {S}", _aadhaar()),
    _a("national_id", "PAN: {S}", _pan()),
    _a("national_id", "マイナンバー: {S}", _my_number(tok(11, _DIGITS))),
    _a("national_id", "RFC: {S}", _rfc()),
    _a("national_id", "personnummer {S}", _personnummer("850709", tok(3, _DIGITS))),
    _a("national_id", "CPR-nummer: {S}", _cpr("070985")),
    _a("national_id", "SA ID number: {S}", _za_id("850709" + tok(6, _DIGITS))),
    _a("national_id", "身份证号 {S}", _china_id("11010519850709" + tok(3, _DIGITS))),
    _a("national_id", "Codice fiscale: {S}", "RSSMRA85T10A562S"),
    _a("national_id", '{"ssn": "{S}"}', _ssn()),
    # passports
    _a("passport", "Passport No.: {S}", _num(9)),
    _a("passport", "Reisepass Nr. {S}", "C" + tok(8, "CFGHJKLMNPRTVWXYZ0123456789")),
    _a("passport", "Numéro de passeport : {S}", f"{tok(2, _DIGITS)}{tok(2, _UPPER)}{tok(5, _DIGITS)}"),
    _a("passport", "passport_number: {S}", "Z" + tok(7, _DIGITS)),
    _a("passport", "护照号码：{S}", "E" + tok(8, _DIGITS)),
    # phones
    _a("phone", "Call me at {S}", "+1 (415) 555-0" + tok(3, _DIGITS)),
    _a("phone", "Tel: {S}", "+44 20 7946 0" + tok(3, _DIGITS)),
    _a("phone", "Telefon: {S}", "+49 30 " + tok(8, _DIGITS)),
    _a("phone", "Tél. : {S}", "+33 6 " + " ".join(tok(2, _DIGITS) for _ in range(4))),
    _a("phone", "電話 {S}", "+81 90-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "手机 {S}", "+86 138 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "WhatsApp {S}", "+91 98" + tok(3, _DIGITS) + " " + tok(5, _DIGITS)),
    _a("phone", "Celular: {S}", "+55 11 9" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "Mobile {S}", "+61 4" + tok(2, _DIGITS) + " " + tok(3, _DIGITS) + " " + tok(3, _DIGITS)),
    _a("phone", "Телефон: {S}", "+7 912 " + tok(3, _DIGITS) + "-" + tok(2, _DIGITS) + "-" + tok(2, _DIGITS)),
    _a(
        "phone",
        "Móvil {S}",
        "+34 6" + tok(2, _DIGITS) + " " + tok(2, _DIGITS) + " " + tok(2, _DIGITS) + " " + tok(2, _DIGITS),
    ),
    _a("phone", "cell: {S}", "+39 3" + tok(2, _DIGITS) + " " + tok(3, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "휴대폰 {S}", "+82 10-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "phone {S}", "+27 82 " + tok(3, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "Phone: {S}", "+234 803 " + tok(3, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", '{"phone": "{S}"}', "+1" + "415555" + tok(4, _DIGITS)),
    # e-mail addresses and postal addresses
    _a("email", "Contact: {S}", "maria.garcia+billing@acme-corp.es"),
    _a("email", 'From: "Li Wei" <{S}>', "li.wei@mail.example.cn"),
    _a("email", '{"email": "{S}"}', "o'brien_k@sub.uni-example.ac.uk"),
    _a("email", "Schreib mir an {S}.", "jonas.mueller@posteo.de"),
    _a("address", "Shipping address: {S}", "1600 Amphitheatre Pkwy, Mountain View, CA 94043"),
    _a("address", "Adresse: {S}", "Musterstraße 12, 10115 Berlin"),
    _a("address", "Address: {S}", "221B Baker Street, London NW1 6XE"),
]

CLEAN10: list[str] = [
    "request_id=" + "7f3c2a10-9b8e-4d5f-a1c2-3e4f5a6b7c8d",
    "commit 3f9a1c7e2b8d4f6a0c5e9b1d7a3f8c2e6b4d0a9f (HEAD -> main)",
    "Merge pull request #4812 from acme/fix-login, short sha 3f9a1c7",
    "image: ghcr.io/acme/api@sha256:9b1d7a3f8c2e6b4d0a9f3f9a1c7e2b8d4f6a0c5e9b1d7a3f8c2e6b4d0a9f3f9a",
    'integrity "sha512-Q2hlY2sgdGhlIGludGVncml0eSBvZiB0aGlzIHBhY2thZ2UgYmVmb3JlIHVzZQ=="',
    "build 2026.12.07+git.3f9a1c7, artifact hash md5 5d41402abc4b2a76b9719d911017c592",
    "version 4.17.21, 1.14.1-rc.2+build.482, v22.11.0",
    "Amazon order #112-4829103-7732918",
    "UPS tracking 1Z999AA10123456784",
    "FedEx tracking 7749 8812 3301",
    "USPS 9400 1118 9922 3344 5566 77",
    "DHL Express waybill 1234567890",
    "ISBN 978-3-16-148410-0",
    "ISBN-10 0-306-40615-2, ISSN 2049-3630",
    "DOI 10.1038/s41586-024-07421-0, arXiv:2405.14831",
    "2026-12-07T10:15:00.123456Z",
    "epoch_ms 1796000000123, took 1765118700 µs",
    "Price: $1,299.99, €2.499,00, ¥128,000",
    "total 4 111 111 EUR",
    "Coordinates 48.858370, 2.294481 (Eiffel Tower)",
    "lat: -33.868820, lng: 151.209296",
    "GPS 35°39'31.0\"N 139°42'03.5\"E",
    "IPv4 203.0.113.42, IPv6 2001:db8::1",
    "MAC a4:83:e7:12:9f:0c",
    'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "Stripe PaymentIntent pi_3PqK8L2eZvKYlo2C1a2b3c4d and customer cus_Qf9a1c7e2b8d4f",
    "OpenAI response id chatcmpl-AbCdEf0123456789GhIjKlMnOpQr",
    "Anthropic message msg_01XFDUDYJgAACzvnptvVoYEL",
    "pod api-7d9f8c6b5-x2kqz restarted",
    "arn:aws:iam::123456789012:role/dify-worker",
    "s3://acme-reports/2026/12/q4.csv",
    "https://acme.blob.core.windows.net/public/logo.png",
    "https://storage.googleapis.com/acme-public/docs/guide.pdf",
    "EAN-13 4006381333931",
    "CAS 7732-18-5, patent US 11,234,567 B2",
    "bitcoin tx 4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
    "PNR: XK7P2Q, flight LH 400",
    "cron: 0 */5 * * *",
    "color #1f2937, rgba(31, 41, 55, 0.8)",
    "Kubernetes resourceVersion 48213377",
    "duration 1.053508 s, tokens 1849, cost 0.002931 USD",
    "trace_id 4bf92f3577b34da6a3ce929d0e0e4736 span_id 00f067aa0ba902b7",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "Sentry event 9c1a7e2b8d4f46a0a5e9b1d7a3f8c2e6",
    "uuid v7 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    "Dify workflow_run_id 3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "ULID 01JEQ6ZK8T5X9M2V4B7C1D3F6G",
    "nanoid V1StGXR8_Z5jdHi6B-myT",
    "mongo ObjectId 507f1f77bcf86cd799439011",
    "the password field is required and must be 12+ characters",
    "Bitte geben Sie Ihr Passwort ein.",
    "Mot de passe oublié ?",
    "忘记密码？请点击重置链接",
    "API key rotation is scheduled for Friday",
    "Set the token in the Authorization header",
    "secret: ${VAULT_SECRET}",
    "password: ${DB_PASSWORD:?required}",
    'api_key = os.getenv("OPENAI_API_KEY")',
    "sk-...REDACTED...",
    "Bearer <token>",
    "TOTP code expires in 30 seconds",
    "Recovery codes were regenerated on 2026-12-01",
    "Invoice INV-2026-004812, PO 4500012345",
    "Ticket JIRA-4812, PR #10293",
    "Room 1204, floor 12, building B",
    "Score 3-1, attendance 48,213",
    "Matrix 3x3: [[1,2,3],[4,5,6],[7,8,9]]",
    "regex ^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$ validates an IBAN",
    "Example card format: XXXX XXXX XXXX XXXX",
    "Phone format: +1 (XXX) XXX-XXXX",
    "chrome 131.0.6778.86, android 15 build AP4A.241205.013",
    "numpy==2.1.3 torch==2.5.1+cu124",
    "Windows KB5048667, build 26100.2605",
    "SKU ACM-TSHIRT-BLK-XL, GTIN 00012345678905",
    "Lat/long 40.7128° N, 74.0060° W",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "base64 logo: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "k8s secret name: api-credentials, key: token",
    "Temperature 21.5 °C, humidity 48 %",
]
