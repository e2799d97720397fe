# ruff: noqa: E501, RUF001  (real formats are long; prose in other scripts holds look-alike letters)
"""Round of branch redact13 for bench/redaction_attack.py: texts written before its author read the redaction code's
patterns or the earlier rounds' texts (only docs/security.md and the runner), weighted to what a real Dify
deployment's traces hold: keys of the model vendors and tools Dify's plugins call (OpenAI project, service-account and
admin keys, Anthropic, Azure OpenAI, Google AI and Vertex service accounts, Bedrock, Cohere, Mistral, Groq, DeepSeek,
Moonshot, Zhipu, DashScope, Qianfan, Volcengine, SiliconFlow, Hugging Face, Replicate, Together, Fireworks,
OpenRouter, Perplexity, xAI, Jina, Voyage, Tavily, Serper, SerpAPI, Firecrawl, Notion, Slack, Feishu/Lark, DingTalk,
WeCom), Dify's own (app and dataset keys, the console's session and refresh cookies, the plugin daemon's and the
sandbox's keys, SECRET_KEY), vector store, database and object storage credentials, and personal data of Chinese,
Japanese, Korean, Indian, Brazilian, Mexican and EU users (ids with valid check digits, local phone numbers, bank
cards, addresses, passports) in HTTP node headers and bodies, code node outputs, LLM prompts, tool answers and chat
messages in the users' languages. Formats are named from public knowledge (gitleaks' and trufflehog's rule names;
no rule text used). Every value is made up by round 8's seeded generator (its draws go on after round 11's), none a
credential.
"""

from __future__ import annotations

import base64
import json

from redaction_attack_r8 import _RANDOM, _a, _bsn, _china_id, _cpf, _iban, _korean_rrn, _luhn, _pesel, tok
from redaction_attack_r9 import _curp, _dni, _my_number, _nie, _nif_pt, _steuer_id, _taiwan_id
from redaction_attack_r10 import (
    _ALNUM,
    _B64,
    _B64URL,
    _DIGITS,
    _HEX,
    _LOWER,
    _LOWER_ALNUM,
    _UPPER,
    _UPPER_ALNUM,
    _aadhaar,
    _b64u,
    _jwt,
    _num,
    _pan,
    _pem,
    _rfc,
    _uuid,
)


def _pw(length: int = 13) -> str:
    """A password as people choose them: a word, digits and a symbol."""
    word = _RANDOM.choice(["Panda", "Fuji", "Hanbok", "Mango", "Ipe", "Nopal", "Tulpe", "Sakura", "Lotus", "Jade"])
    return word + tok(max(length - len(word) - 1, 3), _DIGITS) + tok(1, "!#%&*?@$")


def _cnpj(first12: str) -> str:
    """Brazil's CNPJ: two mod-11 check digits, weights 5..2,9..2 then 6..2,9..2."""
    digits = first12
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        digits += str(0 if rest < 2 else 11 - rest)
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def _codice_fiscale(first15: str) -> str:
    odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
    total = 0
    for i, char in enumerate(first15):
        value = int(char) if char.isdigit() else ord(char) - 65
        total += odd[value] if i % 2 == 0 else value
    return first15 + chr(65 + total % 26)


def _nir(first13: str) -> str:
    """France's social security number: 97 minus the number modulo 97."""
    return f"{first13} {97 - int(first13) % 97:02d}"


def _card(prefix: str, length: int) -> str:
    return _luhn(prefix + tok(length - len(prefix) - 1, _DIGITS))


def _grouped(digits: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    out, at = [], 0
    for size in sizes:
        out.append(digits[at : at + size])
        at += size
    return sep.join(out)


OPENAI_PROJ = "sk-proj-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)
OPENAI_SVC = "sk-svcacct-" + tok(74, _B64URL) + "T3BlbkFJ" + tok(74, _B64URL)
OPENAI_ADMIN = "sk-admin-" + tok(58, _B64URL) + "T3BlbkFJ" + tok(58, _B64URL)
ANTHROPIC = "sk-ant-api03-" + tok(93, _B64URL) + "AA"
ANTHROPIC_ADMIN = "sk-ant-admin01-" + tok(93, _B64URL) + "AA"
AWS_ID = "AKIA" + tok(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
AWS_SECRET = tok(40, _B64)
STS_ID = "ASIA" + tok(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
BEDROCK_KEY = "ABSK" + _b64u("BedrockAPIKey-" + tok(4, _LOWER_ALNUM) + "-at-" + _num(12) + ":" + tok(40, _B64)) + "="
DIFY_JWT = _jwt(
    '{"user_id":"' + _uuid() + '","exp":1796003600,"iss":"SELF_HOSTED","sub":"Console API Passport"}', "HS256"
)
GCP_KEY = _pem("PRIVATE KEY", 5).replace("\n", "\\n")
ALIYUN_ID = "LTAI5t" + tok(18)
TENCENT_ID = "AKID" + tok(32)
HUAWEI_AK = tok(20, _UPPER_ALNUM)
VOLC_AK = "AKLT" + tok(42, _B64URL)
CN_ID = _china_id("110105" + "19880214" + tok(3, _DIGITS))
CN_ID2 = _china_id("440305" + "19950930" + tok(3, _DIGITS))
CN_ID3 = _china_id("310115" + "20010101" + tok(3, _DIGITS))

_GCP_SA = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-vertex-prod",
        "private_key_id": tok(40, _HEX),
        "private_key": "{S}",
        "client_email": "dify-vertex@acme-vertex-prod.iam.gserviceaccount.com",
        "client_id": _num(21),
    }
)
_SMALL_KEY = _pem("PRIVATE KEY", 2).replace("\n", "\\n")

ATTACKS12: list[tuple[str, str, str]] = [
    # model vendors' keys, as Dify's model provider plugins send them
    _a(
        "vendor",
        "POST https://api.openai.com/v1/chat/completions\nAuthorization: Bearer {S}\nOpenAI-Project: proj_abc",
        OPENAI_PROJ,
    ),
    _a(
        "vendor",
        '{"provider": "openai", "credentials": {"openai_api_key": "{S}", "openai_organization": "org-x"}}',
        OPENAI_SVC,
    ),
    _a("vendor", "OpenAI admin key for usage export: {S}", OPENAI_ADMIN),
    _a("vendor", "OPENAI_API_KEY={S}", "sk-proj-" + tok(48, _B64URL)),
    _a("vendor", "x-api-key: {S}\nanthropic-version: 2023-06-01", ANTHROPIC),
    _a("vendor", "Anthropic admin API key {S} (org usage)", ANTHROPIC_ADMIN),
    _a(
        "vendor",
        '{"credentials": {"anthropic_api_key": "{S}", "anthropic_api_url": ""}}',
        "sk-ant-api03-" + tok(93, _B64URL) + "AA",
    ),
    _a(
        "vendor",
        "api-key: {S}\nPOST https://acme-eastus.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
        tok(32, _HEX),
    ),
    _a(
        "vendor",
        '{"provider": "azure_openai", "credentials": {"openai_api_base": "https://acme.openai.azure.com", "openai_api_key": "{S}", "base_model_name": "gpt-4o"}}',
        tok(32, _HEX),
    ),
    _a("vendor", "AZURE_OPENAI_API_KEY: {S}", tok(84, _ALNUM)),
    _a(
        "vendor",
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro:generateContent?key={S}",
        "AIza" + tok(35, _B64URL),
    ),
    _a("vendor", '{"google_api_key": "{S}"}', "AIza" + tok(35, _B64URL)),
    _a("vendor", "Vertex AI credentials (service account json):\n" + _GCP_SA, GCP_KEY),
    _a(
        "vendor",
        '{"vertex_service_account_key": "{S}"}',
        base64.b64encode(_GCP_SA.replace("{S}", _SMALL_KEY).encode()).decode(),
    ),
    _a(
        "vendor",
        "aws_access_key_id: " + AWS_ID + "\naws_secret_access_key: {S}\naws_region: us-east-1  # bedrock",
        AWS_SECRET,
    ),
    _a("vendor", "AWS_BEARER_TOKEN_BEDROCK={S}", BEDROCK_KEY),
    _a(
        "vendor",
        "Bedrock API key: {S}",
        "ABSK" + _b64u("BedrockAPIKey-" + tok(4, _LOWER_ALNUM) + "-at-" + _num(12) + ":" + tok(40, _B64)),
    ),
    _a(
        "vendor",
        "{'aws_access_key_id': '"
        + STS_ID
        + "', 'aws_secret_access_key': '{S}', 'aws_session_token': 'IQoJb3JpZ2luX2Vj...'}",
        AWS_SECRET[::-1],
    ),
    _a("vendor", "COHERE_API_KEY={S}", tok(40)),
    _a("vendor", '{"provider": "cohere", "credentials": {"api_key": "{S}"}}', tok(40)),
    _a("vendor", "MISTRAL_API_KEY={S}", tok(32)),
    _a("vendor", "curl https://api.mistral.ai/v1/chat/completions -H 'Authorization: Bearer {S}'", tok(32)),
    _a("vendor", "GROQ_API_KEY={S}", "gsk_" + tok(52)),
    _a(
        "vendor",
        '{"credentials": {"api_key": "{S}", "endpoint_url": "https://api.deepseek.com"}}',
        "sk-" + tok(32, _HEX),
    ),
    _a("vendor", "DeepSeek key {S}", "sk-" + tok(32, _HEX)),
    _a("vendor", "MOONSHOT_API_KEY={S}", "sk-" + tok(48)),
    _a("vendor", "Kimi 的 API Key 是 {S}", "sk-" + tok(48)),
    _a("vendor", "ZHIPUAI_API_KEY={S}", tok(32, _HEX) + "." + tok(16)),
    _a("vendor", "智谱的密钥：{S}", tok(32, _HEX) + "." + tok(16)),
    _a("vendor", "DASHSCOPE_API_KEY={S}", "sk-" + tok(32, _HEX)),
    _a("vendor", '{"provider": "tongyi", "credentials": {"dashscope_api_key": "{S}"}}', "sk-" + tok(32, _HEX)),
    _a("vendor", "通义千问 API-KEY：{S}", "sk-" + tok(32, _HEX)),
    _a("vendor", "QIANFAN_ACCESS_KEY=ALTAK" + tok(16) + "\nQIANFAN_SECRET_KEY={S}", tok(32, _HEX)),
    _a("vendor", "Authorization: Bearer {S}", "bce-v3/ALTAK-" + tok(20) + "/" + tok(40, _HEX)),
    _a("vendor", "{'api_key': '{S}', 'secret_key': 'x'}  # wenxin", tok(24)),
    _a("vendor", "VOLC_ACCESSKEY=" + VOLC_AK + "\nVOLC_SECRETKEY={S}", tok(60, _B64)),
    _a("vendor", "ARK_API_KEY={S}", _uuid()),
    _a(
        "vendor",
        '{"provider": "volcengine_maas", "credentials": {"volc_api_key": "{S}", "endpoint_id": "ep-20240611-abcde"}}',
        _uuid(),
    ),
    _a("vendor", "SILICONFLOW_API_KEY={S}", "sk-" + tok(48, _LOWER)),
    _a("vendor", "硅基流动的 key: {S}", "sk-" + tok(48, _LOWER)),
    _a("vendor", "HUGGINGFACEHUB_API_TOKEN={S}", "hf_" + tok(34, _LOWER + _UPPER)),
    _a(
        "vendor",
        "Authorization: Bearer {S}\nPOST https://api-inference.huggingface.co/models/bert",
        "hf_" + tok(34, _LOWER + _UPPER),
    ),
    _a("vendor", "REPLICATE_API_TOKEN={S}", "r8_" + tok(37)),
    _a("vendor", "TOGETHER_API_KEY={S}", "tgp_v1_" + tok(43, _B64URL)),
    _a("vendor", "together api key: {S}", tok(64, _HEX)),
    _a("vendor", "FIREWORKS_API_KEY={S}", "fw_" + tok(24)),
    _a("vendor", "OPENROUTER_API_KEY={S}", "sk-or-v1-" + tok(64, _HEX)),
    _a(
        "vendor",
        '{"headers": {"Authorization": "Bearer {S}", "HTTP-Referer": "https://dify.acme.io"}}',
        "sk-or-v1-" + tok(64, _HEX),
    ),
    _a("vendor", "PERPLEXITY_API_KEY={S}", "pplx-" + tok(48)),
    _a("vendor", "XAI_API_KEY={S}", "xai-" + tok(80)),
    _a(
        "vendor",
        "MINIMAX_API_KEY={S}",
        _jwt('{"GroupName":"acme","UserName":"ops","SubjectID":"' + _num(19) + '"}', "RS256"),
    ),
    _a("vendor", "Baichuan api key sk-{S}", tok(32, _HEX)),
    _a("vendor", "NVIDIA_API_KEY={S}", "nvapi-" + tok(64, _B64URL)),
    _a("vendor", "LANGFUSE_SECRET_KEY={S}\nLANGFUSE_PUBLIC_KEY=pk-lf-" + _uuid(), "sk-lf-" + _uuid()),
    _a(
        "vendor",
        '{"tracing_provider": "langsmith", "config": {"api_key": "{S}", "project": "dify"}}',
        "lsv2_pt_" + tok(32, _HEX) + "_" + tok(10, _HEX),
    ),
    # tools and SaaS that Dify's tool plugins call
    _a("tool", "Authorization: Bearer {S}\nPOST https://api.jina.ai/v1/embeddings", "jina_" + tok(32, _HEX) + tok(28)),
    _a("tool", "VOYAGE_API_KEY={S}", "pa-" + tok(43, _B64URL)),
    _a("tool", '{"api_key": "{S}", "query": "dify release notes", "search_depth": "advanced"}', "tvly-" + tok(32)),
    _a("tool", "TAVILY_API_KEY={S}", "tvly-dev-" + tok(32)),
    _a("tool", "X-API-KEY: {S}\nPOST https://google.serper.dev/search", tok(40, _HEX)),
    _a("tool", "SERPER_API_KEY={S}", tok(40, _HEX)),
    _a("tool", "GET https://serpapi.com/search.json?engine=google&q=dify&api_key={S}", tok(64, _HEX)),
    _a("tool", '{"serpapi_api_key": "{S}"}', tok(64, _HEX)),
    _a("tool", "FIRECRAWL_API_KEY={S}", "fc-" + tok(32, _HEX)),
    _a("tool", "Authorization: Bearer {S}\nNotion-Version: 2022-06-28", "secret_" + tok(43)),
    _a("tool", '{"notion_integration_token": "{S}"}', "ntn_" + _num(11) + tok(35)),
    _a("tool", "SLACK_BOT_TOKEN={S}", "xoxb-" + _num(12) + "-" + _num(13) + "-" + tok(24)),
    _a("tool", "Slack user token {S}", "xoxp-" + _num(12) + "-" + _num(12) + "-" + _num(13) + "-" + tok(32, _HEX)),
    _a("tool", "slack app-level token: {S}", "xapp-1-A" + tok(10, _UPPER_ALNUM) + "-" + _num(13) + "-" + tok(64, _HEX)),
    _a("tool", "FEISHU_APP_SECRET={S}\nFEISHU_APP_ID=cli_a1b2c3d4e5f6g7h8", tok(32)),
    _a("tool", '{"app_id": "cli_' + tok(16, _HEX) + '", "app_secret": "{S}"}', tok(32)),
    _a("tool", "飞书应用的 App Secret：{S}", tok(32)),
    _a("tool", "Authorization: Bearer {S}\nPOST https://open.feishu.cn/open-apis/im/v1/messages", "t-" + tok(40, _HEX)),
    _a("tool", "Lark tenant_access_token: {S}", "t-g" + tok(40, _LOWER_ALNUM)),
    _a("tool", "DINGTALK_APP_SECRET={S}", tok(64, _B64URL)),
    _a("tool", "钉钉机器人加签密钥 {S}", "SEC" + tok(64, _HEX)),
    _a("tool", "WECOM_CORP_SECRET={S}", tok(43, _B64URL)),
    _a("tool", "企业微信 corpsecret={S}&corpid=ww" + tok(16, _HEX), tok(43, _B64URL)),
    _a("tool", "GITHUB_TOKEN={S}", "ghp_" + tok(36)),
    _a("tool", "JIRA_API_TOKEN={S}", "ATATT3xFfGF0" + tok(180, _B64URL) + "=" + tok(8, _UPPER_ALNUM)),
    _a("tool", "CONFLUENCE api token {S}", "ATATT3xFfGF0" + tok(180, _B64URL) + "=" + tok(8, _UPPER_ALNUM)),
    _a("tool", "BRAVE_SEARCH_API_KEY={S}", "BSA" + tok(28)),
    _a("tool", "EXA_API_KEY={S}", _uuid()),
    _a("tool", "UNSTRUCTURED_API_KEY={S}", tok(30)),
    _a("tool", "STABILITY_API_KEY={S}", "sk-" + tok(48)),
    _a("tool", "ELEVENLABS_API_KEY={S}", "sk_" + tok(48, _HEX)),
    _a("tool", "wolfram alpha appid: {S}", tok(6, _UPPER_ALNUM) + "-" + tok(10, _UPPER_ALNUM)),
    _a("tool", "GOOGLE_CSE_API_KEY={S}\nGOOGLE_CSE_ID=0123456789abcdef0", "AIza" + tok(35, _B64URL)),
    _a("tool", "AMAP_API_KEY={S}", tok(32, _HEX)),
    _a("tool", "高德地图 key：{S}", tok(32, _HEX)),
    _a("tool", "https://restapi.amap.com/v3/weather/weatherInfo?city=110101&key={S}", tok(32, _HEX)),
    _a("tool", "OPENWEATHER_API_KEY={S}", tok(32, _HEX)),
    _a("tool", "WEATHERAPI key {S}", tok(31, _HEX)),
    _a("tool", "STRIPE_SECRET_KEY={S}", "sk_live_51" + tok(95)),
    _a("tool", "SENDGRID_API_KEY={S}", "SG." + tok(22, _B64URL) + "." + tok(43, _B64URL)),
    _a("tool", "TWILIO_AUTH_TOKEN={S}", tok(32, _HEX)),
    _a("tool", "discord webhook https://discord.com/api/webhooks/" + _num(18) + "/{S}", tok(68, _B64URL)),
    # webhooks whose URL is the credential
    _a(
        "webhook",
        "POST https://hooks.slack.com/services/T" + tok(8, _UPPER_ALNUM) + "/B" + tok(10, _UPPER_ALNUM) + "/{S}",
        tok(24),
    ),
    _a("webhook", '{"url": "https://open.feishu.cn/open-apis/bot/v2/hook/{S}", "msg_type": "text"}', _uuid()),
    _a("webhook", "Lark webhook: https://open.larksuite.com/open-apis/bot/v2/hook/{S}", _uuid()),
    _a("webhook", "https://oapi.dingtalk.com/robot/send?access_token={S}", tok(64, _HEX)),
    _a(
        "webhook",
        '{"webhook": "https://oapi.dingtalk.com/robot/send?access_token={S}&timestamp=1733500000000&sign=abc"}',
        tok(64, _HEX),
    ),
    _a("webhook", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={S}", _uuid()),
    _a("webhook", "企业微信群机器人地址：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={S}", _uuid()),
    _a(
        "webhook",
        "Teams: https://acme.webhook.office.com/webhookb2/"
        + _uuid()
        + "@"
        + _uuid()
        + "/IncomingWebhook/{S}/"
        + _uuid(),
        tok(32, _HEX),
    ),
    _a("webhook", "https://hooks.zapier.com/hooks/catch/" + _num(7) + "/{S}/", tok(7, _LOWER_ALNUM)),
    # Dify's own keys and settings
    _a("dify", "Authorization: Bearer {S}\nPOST https://dify.acme.io/v1/workflows/run", "app-" + tok(24)),
    _a("dify", '{"api_key": "{S}", "base_url": "http://dify-api:5001/v1"}', "app-" + tok(24)),
    _a("dify", "DIFY_APP_KEY={S}", "app-" + tok(24)),
    _a(
        "dify",
        "curl -X POST 'https://api.dify.ai/v1/datasets' --header 'Authorization: Bearer {S}'",
        "dataset-" + tok(24),
    ),
    _a("dify", "knowledge API key {S}", "dataset-" + tok(24)),
    _a("dify", "Authorization: Bearer {S}\nGET /console/api/apps?page=1", DIFY_JWT),
    _a(
        "dify",
        "Cookie: locale=zh-Hans; access_token={S}; csrf_token=x",
        _jwt(
            '{"user_id":"' + _uuid() + '","exp":1796007200,"iss":"SELF_HOSTED","sub":"Console API Passport"}', "HS256"
        ),
    ),
    _a("dify", "Cookie: refresh_token={S}", tok(128, _HEX)),
    _a("dify", "Set-Cookie: __Host-refresh_token={S}; Path=/; HttpOnly; Secure; SameSite=Lax", tok(128, _HEX)),
    _a(
        "dify",
        '{"result": "success", "data": {"access_token": "' + DIFY_JWT[:20] + '…", "refresh_token": "{S}"}}',
        tok(128, _HEX),
    ),
    _a("dify", "PLUGIN_DAEMON_KEY={S}", tok(56, _B64)),
    _a("dify", "SERVER_KEY={S}\nPLUGIN_DAEMON_URL=http://plugin_daemon:5002", tok(56, _B64)),
    _a(
        "dify",
        "X-Api-Key: {S}\nPOST http://plugin_daemon:5002/plugin/" + _uuid() + "/dispatch/tool/invoke",
        tok(56, _B64),
    ),
    _a("dify", "PLUGIN_DIFY_INNER_API_KEY={S}", tok(56, _B64)),
    _a("dify", "X-Inner-Api-Key: {S}", tok(56, _B64)),
    _a("dify", "CODE_EXECUTION_API_KEY={S}\nCODE_EXECUTION_ENDPOINT=http://sandbox:8194", tok(24)),
    _a("dify", "X-Api-Key: {S}\nPOST http://sandbox:8194/v1/sandbox/run", tok(24)),
    _a("dify", "SANDBOX_API_KEY: {S}", tok(24)),
    _a("dify", "SECRET_KEY={S}", tok(56, _B64)),
    _a("dify", "# Dify .env\nSECRET_KEY=sk-{S}\nINIT_PASSWORD=", tok(42)),
    _a("dify", "INIT_PASSWORD={S}", _pw()),
    _a("dify", "ADMIN_API_KEY={S}\nADMIN_API_KEY_ENABLE=true", tok(40)),
    _a("dify", "RESEND_API_KEY={S}", "re_" + tok(8) + "_" + tok(24)),
    _a("dify", "SMTP_PASSWORD={S}", _pw()),
    _a("dify", '{"environment_variables": [{"name": "erp_token", "value_type": "secret", "value": "{S}"}]}', tok(40)),
    _a("dify", "{{#env.erp_token#}} resolved to {S}", tok(40)),
    _a("dify", "NOTION_CLIENT_SECRET={S}", "secret_" + tok(43)),
    _a("dify", "GITHUB_CLIENT_SECRET={S}", tok(40, _HEX)),
    _a("dify", "GOOGLE_CLIENT_SECRET={S}", "GOCSPX-" + tok(28, _B64URL)),
    _a("dify", "SENTRY_DSN=https://{S}@o" + _num(6) + ".ingest.sentry.io/" + _num(7), tok(32, _HEX)),
    _a("dify", "CELERY_BROKER_URL=redis://:{S}@redis:6379/1", _pw()),
    _a("dify", "REDIS_PASSWORD={S}", _pw()),
    _a("dify", "DB_PASSWORD={S}\nDB_HOST=db", _pw()),
    # vector stores and databases
    _a("store", "WEAVIATE_API_KEY={S}\nWEAVIATE_ENDPOINT=http://weaviate:8080", tok(32)),
    _a("store", "Authorization: Bearer {S}\nPOST https://abc123.weaviate.network/v1/graphql", tok(40)),
    _a("store", "QDRANT_API_KEY={S}\nQDRANT_URL=https://xyz.eu-central.aws.cloud.qdrant.io:6333", tok(40, _B64URL)),
    _a(
        "store",
        "api-key: {S}\nPUT /collections/vector_index_" + _uuid().replace("-", "_") + "/points",
        tok(40, _B64URL),
    ),
    _a("store", "MILVUS_URI=http://milvus:19530\nMILVUS_USER=root\nMILVUS_PASSWORD={S}", _pw()),
    _a("store", "milvus token root:{S}", _pw()),
    _a("store", "MILVUS_TOKEN={S}", tok(104, _HEX)),
    _a("store", "PGVECTOR_PASSWORD={S}", _pw()),
    _a("store", "postgresql://postgres:{S}@pgvector:5432/dify", _pw()),
    _a(
        "store",
        'psycopg2.OperationalError: connection to server at "db" (172.18.0.5), port 5432 failed for postgresql+psycopg2://dify:{S}@db:5432/dify',
        _pw(),
    ),
    _a("store", "redis://default:{S}@redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com:12345", tok(32)),
    _a("store", "rediss://:{S}@cache.acme.io:6380/0", _pw()),
    _a("store", "mongodb+srv://dify:{S}@cluster0.ab1cd.mongodb.net/?retryWrites=true", _pw()),
    _a("store", "mongodb://admin:{S}@mongo1:27017,mongo2:27017/?replicaSet=rs0", _pw()),
    _a("store", "ELASTICSEARCH_PASSWORD={S}\nELASTICSEARCH_USERNAME=elastic", _pw()),
    _a("store", "https://elastic:{S}@es01:9200/_cat/indices", _pw()),
    _a("store", "Authorization: ApiKey {S}", _b64u(tok(20) + ":" + tok(22))),
    _a("store", "ELASTICSEARCH_API_KEY={S}", _b64u(tok(20) + ":" + tok(22))),
    _a("store", "OPENSEARCH_PASSWORD={S}", _pw()),
    _a("store", "https://admin:{S}@search-dify-abc.us-east-1.es.amazonaws.com", _pw()),
    _a("store", "TIDB_VECTOR_PASSWORD={S}", _pw()),
    _a("store", "ORACLE_PASSWORD={S}", _pw()),
    _a("store", "PINECONE_API_KEY={S}", "pcsk_" + tok(5) + "_" + tok(60)),
    _a("store", "CHROMA_AUTH_CREDENTIALS={S}", "ck-" + tok(40)),
    _a("store", "MYSQL_URL=mysql+pymysql://root:{S}@mysql:3306/dify", _pw()),
    _a("store", "jdbc:postgresql://db:5432/crm?user=etl&password={S}", _pw()),
    _a(
        "store",
        "Server=tcp:acme.database.windows.net,1433;Initial Catalog=crm;User ID=dify;Password={S};Encrypt=True;",
        _pw(),
    ),
    _a("store", "OCEANBASE_VECTOR_PASSWORD={S}", _pw()),
    _a("store", "COUCHBASE_PASSWORD={S}", _pw()),
    _a("store", "neo4j+s://neo4j:{S}@abc123.databases.neo4j.io", _pw()),
    # object storage
    _a(
        "object",
        "S3_ACCESS_KEY=" + AWS_ID + "\nS3_SECRET_KEY={S}\nS3_BUCKET_NAME=dify-files",
        AWS_SECRET[5:] + tok(5, _B64),
    ),
    _a(
        "object",
        "https://dify-files.s3.amazonaws.com/upload/a.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
        + AWS_ID
        + "%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature={S}",
        tok(64, _HEX),
    ),
    _a(
        "object",
        "DefaultEndpointsProtocol=https;AccountName=difyfiles;AccountKey={S};EndpointSuffix=core.windows.net",
        tok(86, _B64) + "==",
    ),
    _a("object", "AZURE_BLOB_ACCOUNT_KEY={S}", tok(86, _B64) + "=="),
    _a(
        "object",
        "https://difyfiles.blob.core.windows.net/docs/a.pdf?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31&sig={S}",
        tok(43, _B64).replace("+", "%2B").replace("/", "%2F") + "%3D",
    ),
    _a("object", "ALIYUN_OSS_ACCESS_KEY=" + ALIYUN_ID + "\nALIYUN_OSS_SECRET_KEY={S}", tok(30)),
    _a("object", "阿里云 AccessKey ID：" + ALIYUN_ID + "，AccessKey Secret：{S}", tok(30)),
    _a("object", "oss2.Auth('{S}', 'x')", ALIYUN_ID),
    _a("object", "TENCENT_COS_SECRET_ID=" + TENCENT_ID + "\nTENCENT_COS_SECRET_KEY={S}", tok(32)),
    _a("object", "腾讯云 SecretId: " + TENCENT_ID + " SecretKey: {S}", tok(32)),
    _a("object", "HUAWEI_OBS_ACCESS_KEY=" + HUAWEI_AK + "\nHUAWEI_OBS_SECRET_KEY={S}", tok(40)),
    _a("object", "华为云 AK：" + HUAWEI_AK + "，SK：{S}", tok(40)),
    _a("object", "VOLCENGINE_TOS_SECRET_KEY={S}", tok(60, _B64)),
    _a("object", "BAIDU_OBS_SECRET_KEY={S}", tok(32, _HEX)),
    _a(
        "object",
        "GOOGLE_STORAGE_SERVICE_ACCOUNT_JSON_BASE64={S}",
        base64.b64encode(_GCP_SA.replace("{S}", _pem("PRIVATE KEY", 2).replace("\n", "\\n")).encode()).decode(),
    ),
    _a("object", "SUPABASE_API_KEY={S}", "sb_secret_" + tok(32, _B64URL)),
    _a("object", "R2 secret access key: {S}", tok(64, _HEX)),
    # Chinese users
    _a("id", "身份证号：{S}", CN_ID),
    _a("id", '{"name": "张伟", "id_card": "{S}", "phone": "13812345678"}', CN_ID2),
    _a("id", "用户的身份证号码是{S}，请核实。", CN_ID3),
    _a("id", "我的身份证是 {S}", _china_id("510104" + "19790315" + tok(3, _DIGITS))),
    _a("id", "公民身份号码 {S}", _china_id("330106" + "19920712" + tok(3, _DIGITS))),
    _a("id", "code node output: {'idcard': '{S}', 'valid': True}", _china_id("420111" + "19850101" + tok(3, _DIGITS))),
    _a("phone", "手机号：{S}", "13" + tok(9, _DIGITS)),
    _a("phone", "请拨打 {S} 联系我", "139 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "联系电话：{S}", "186-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "我的手机号码是{S}，晚上打", "15" + tok(9, _DIGITS)),
    _a("phone", '{"mobile": "{S}"}', "+86 138 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("card", "银行卡号：{S}", _card("622202", 19)),
    _a("card", "我的招商银行卡 {S}", _grouped(_card("621483", 16), (4, 4, 4, 4))),
    _a("card", "请把退款打到卡号{S}", _card("622848", 19)),
    _a("address", "收货地址：{S}", "北京市朝阳区建国路88号SOHO现代城A座1201室"),
    _a("address", "我住在{S}，快递放门口", "上海市浦东新区张杨路500号华润时代广场12楼"),
    _a("address", "地址: {S}", "广东省深圳市南山区科技园南区高新南七道8号"),
    _a("passport", "护照号码：{S}", "E" + tok(8, _DIGITS)),
    _a("passport", "passport no. {S} (PRC)", "EA" + tok(7, _DIGITS)),
    _a("id", "港澳通行证 {S}", "C" + tok(8, _DIGITS)),
    _a("id", "統一編號/身分證字號：{S}", _taiwan_id("A", "1" + tok(7, _DIGITS))),
    # Japanese users
    _a("id", "マイナンバー：{S}", _my_number(tok(11, _DIGITS))),
    _a("id", "個人番号は{S}です", _my_number(tok(11, _DIGITS))),
    _a("phone", "電話番号：{S}", "090-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "携帯 {S} までご連絡ください", "080-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "TEL: {S}", "03-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("address", "住所：{S}", "〒150-0002 東京都渋谷区渋谷2丁目21-1 渋谷ヒカリエ34F"),
    _a("address", "お届け先: {S}", "大阪府大阪市北区梅田3-1-3 グランフロント大阪"),
    _a("passport", "旅券番号：{S}", "TK" + tok(7, _DIGITS)),
    _a("passport", "パスポート番号 {S}", "TR" + tok(7, _DIGITS)),
    _a("card", "クレジットカード番号：{S}", _grouped(_card("3530", 16), (4, 4, 4, 4))),
    _a("id", "運転免許証番号：{S}", tok(12, _DIGITS)),
    _a("bank", "口座番号：{S}（普通）三菱UFJ銀行 渋谷支店", tok(7, _DIGITS)),
    # Korean users
    _a("id", "주민등록번호: {S}", _korean_rrn("850315" + "1" + tok(5, _DIGITS))),
    _a("id", "제 주민번호는 {S} 입니다", _korean_rrn("920101" + "2" + tok(5, _DIGITS))),
    _a("phone", "전화번호: {S}", "010-" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "연락처 {S} 로 연락 주세요", "010 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("address", "주소: {S}", "서울특별시 강남구 테헤란로 152 강남파이낸스센터 21층"),
    _a("passport", "여권번호: {S}", "M" + tok(8, _DIGITS)),
    _a("bank", "계좌번호: {S} (국민은행)", tok(6, _DIGITS) + "-" + tok(2, _DIGITS) + "-" + tok(6, _DIGITS)),
    _a("card", "카드번호 {S}", _grouped(_card("9410", 16), (4, 4, 4, 4), "-")),
    # Indian users
    _a("id", "Aadhaar: {S}", _aadhaar()),
    _a("id", "My aadhaar number is {S}, please update KYC", _aadhaar()),
    _a("id", "आधार नंबर: {S}", _aadhaar()),
    _a("id", "PAN card {S}", _pan()),
    _a("id", '{"pan": "{S}", "name": "Rahul Sharma"}', _pan()),
    _a("phone", "Mobile: {S}", "+91 98" + tok(3, _DIGITS) + " " + tok(5, _DIGITS)),
    _a("phone", "call me on {S}", "9" + tok(4, _DIGITS) + " " + tok(5, _DIGITS)),
    _a("phone", "phone: {S}", "09" + tok(9, _DIGITS)),
    _a("address", "Address: {S}", "Flat 402, Sai Krupa Apartments, 12th Main Road, Indiranagar, Bengaluru 560038"),
    _a("passport", "Passport No: {S}", "K" + tok(7, _DIGITS)),
    _a("bank", "IFSC HDFC0001234, account no {S}", tok(14, _DIGITS)),
    _a("bank", "UPI id {S}", "rahul.sharma" + tok(2, _DIGITS) + "@okhdfcbank"),
    _a("card", "RuPay card {S}", _grouped(_card("6521", 16), (4, 4, 4, 4))),
    # Brazilian users
    _a("id", "CPF: {S}", _cpf(tok(9, _DIGITS))),
    _a("id", "meu CPF é {S}", _cpf(tok(9, _DIGITS))),
    _a("id", '{"cpf": "{S}"}', _cpf(tok(9, _DIGITS)).replace(".", "").replace("-", "")),
    _a("id", "CNPJ {S}", _cnpj(tok(8, _DIGITS) + "0001")),
    _a("id", "RG: {S}", tok(2, _DIGITS) + "." + tok(3, _DIGITS) + "." + tok(3, _DIGITS) + "-" + tok(1, _DIGITS)),
    _a("phone", "Celular: {S}", "(11) 9" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "me liga no {S}", "+55 21 9" + tok(4, _DIGITS) + "-" + tok(4, _DIGITS)),
    _a("phone", "WhatsApp {S}", "11 9" + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("address", "Endereço: {S}", "Rua Augusta, 1500, apto 82, Consolação, São Paulo - SP, 01304-001"),
    _a("bank", "chave Pix: {S}", _uuid()),
    _a("bank", "Pix (CPF) {S}", _cpf(tok(9, _DIGITS))),
    _a("passport", "passaporte nº {S}", "FZ" + tok(6, _DIGITS)),
    _a("card", "cartão Elo {S}", _grouped(_card("636368", 16), (4, 4, 4, 4))),
    # Mexican users
    _a("id", "CURP: {S}", _curp("GOML" + "900214" + "HDFNPS" + "0")),
    _a("id", "mi CURP es {S}", _curp("RAMA" + "851130" + "MJCMRN" + "0")),
    _a("id", "RFC: {S}", _rfc()),
    _a("id", "clave de elector {S}", tok(6, _UPPER) + tok(8, _DIGITS) + "H" + tok(3, _DIGITS)),
    _a("phone", "Tel. {S}", "55 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "mi celular es {S}", "+52 1 33 " + tok(4, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("address", "Dirección: {S}", "Av. Insurgentes Sur 1602, Col. Crédito Constructor, 03940 Ciudad de México, CDMX"),
    _a("bank", "CLABE: {S}", "0121" + tok(14, _DIGITS)),
    _a("passport", "pasaporte: {S}", "G" + tok(8, _DIGITS)),
    # EU users
    _a("id", "Steuer-ID: {S}", _steuer_id("6" + tok(9, _DIGITS))),
    _a("id", "Personalausweisnummer: {S}", "L01X00T47"),
    _a("id", "DNI: {S}", _dni(tok(8, _DIGITS))),
    _a("id", "mi NIE es {S}", _nie(tok(7, _DIGITS))),
    _a("id", "codice fiscale: {S}", _codice_fiscale("RSSMRA85T10A562")),
    _a("id", "numéro de sécurité sociale : {S}", _nir("1850375" + tok(6, _DIGITS))),
    _a("id", "BSN: {S}", _bsn("11122233")),
    _a("id", "PESEL: {S}", _pesel("8503150" + tok(3, _DIGITS))),
    _a("id", "NIF {S}", _nif_pt("2" + tok(7, _DIGITS))),
    _a("phone", "Handy: {S}", "0151 " + tok(8, _DIGITS)),
    _a("phone", "Tel.: {S}", "+49 30 " + tok(8, _DIGITS)),
    _a("phone", "cellulare {S}", "347 " + tok(3, _DIGITS) + " " + tok(4, _DIGITS)),
    _a("phone", "móvil: {S}", "612 " + tok(2, _DIGITS) + " " + tok(2, _DIGITS) + " " + tok(2, _DIGITS)),
    _a("phone", "telefoon {S}", "06-" + tok(8, _DIGITS)),
    _a("phone", "tel. {S}", "+48 512 " + tok(3, _DIGITS) + " " + tok(3, _DIGITS)),
    _a("bank", "IBAN: {S}", _iban("DE", "37040044" + tok(10, _DIGITS))),
    _a("bank", "IBAN {S}", _iban("ES", "2100" + "0418" + tok(12, _DIGITS))),
    _a("bank", "Überweisung an {S}", _iban("FR", "20041" + "01005" + tok(11, _DIGITS) + "06")),
    _a("bank", "bonifico su {S}", _iban("IT", "X" + "05428" + "11101" + tok(12, _DIGITS))),
    _a("bank", "rekening {S}", _iban("NL", "ABNA" + tok(10, _DIGITS))),
    _a("address", "Lieferadresse: {S}", "Friedrichstraße 123, 10117 Berlin"),
    _a("address", "indirizzo: {S}", "Via del Corso 45, 00186 Roma"),
    _a("passport", "Reisepassnummer: {S}", "C" + tok(8, _UPPER_ALNUM.replace("O", ""))),
    _a("passport", "numéro de passeport : {S}", tok(2, _DIGITS) + tok(2, _UPPER) + tok(5, _DIGITS)),
    _a("passport", "número de pasaporte: {S}", "PA" + tok(1, _UPPER) + tok(6, _DIGITS)),
    _a("card", "Kreditkarte {S}", _grouped(_card("51", 16), (4, 4, 4, 4))),
    _a("card", "carte bancaire : {S}", _grouped(_card("4970", 16), (4, 4, 4, 4))),
    # personal data as tool answers and LLM outputs
    _a(
        "id",
        '{"customer": {"name": "李娜", "id_number": "{S}", "level": "VIP"}}',
        _china_id("320102" + "19900808" + tok(3, _DIGITS)),
    ),
    _a("phone", '{"tool": "crm_lookup", "result": {"tel": "{S}"}}', "17" + tok(9, _DIGITS)),
    _a("email", "邮箱：{S}", "zhang.wei" + tok(2, _DIGITS) + "@qq.com"),
    _a("email", "メール: {S}", "tanaka.hanako@docomo.ne.jp"),
    _a("email", '{"email": "{S}"}', "kim.minjun" + tok(2, _DIGITS) + "@naver.com"),
    _a("email", "Please contact {S} about the invoice", "priya.nair@" + tok(5, _LOWER) + ".co.in"),
    _a("email", "e-mail: {S}", "joao.silva@uol.com.br"),
    _a("password", "我的密码是{S}", _pw()),
    _a("password", "パスワードは {S} です", _pw()),
    _a("password", "비밀번호: {S}", _pw()),
    _a("password", "minha senha é {S}", _pw()),
    _a("password", "mi contraseña es {S}", _pw()),
    _a("password", "WiFi密码：{S}", _pw()),
    _a("password", "管理员账号 admin 密码 {S}", _pw()),
    _a("password", "ログインID: tanaka / パスワード: {S}", _pw()),
    _a("password", "비번은 {S} 이에요", _pw()),
    _a("password", "senha do banco: {S}", _pw()),
]

CLEAN12: list[str] = [
    "订单号：202412071530001234",
    "快递单号：SF1234567890123",
    "运单号 JD0123456789012",
    "注文番号：250-1234567-8901234",
    "주문번호 20241207-0001234",
    "UPS tracking 1Z999AA10123456784",
    "pedido nº 4402-7781-0093",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "workflow_run_id 3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "task_id 7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "model gpt-4o-2024-08-06",
    "claude-3-5-sonnet-20241022",
    "deepseek-chat, qwen-max-2025-01-25, glm-4-plus, moonshot-v1-8k",
    "text-embedding-3-large (3072 dims)",
    "abab6.5s-chat and ERNIE-4.0-8K",
    "langgenius/openai:0.0.26@a6b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1",
    "plugin langgenius/tongyi:0.0.36",
    "node 1732000000000 (llm) finished in 1.84 s",
    "node_id: llm_1717134523456",
    "{{#1732000000000.text#}}",
    "{{#env.OPENAI_API_KEY#}}",
    "{{#sys.user_id#}}",
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxx",
    "DASHSCOPE_API_KEY=<your-dashscope-key>",
    "api_key: ${ANTHROPIC_API_KEY}",
    "Bearer YOUR_API_KEY",
    "SECRET_KEY=your-secret-key",
    "version 1.14.1",
    "dify-api:1.10.0, dify-plugin-daemon:0.4.1-local",
    "price ¥1,299.00 (含税)",
    "価格 3,980円（税込）",
    "R$ 1.234,56 à vista",
    "₹ 12,499 only",
    "$1,234.56 USD",
    "2026-12-07T23:06:37.123456Z",
    "1733612797123",
    "created_at 1733612797",
    "ISBN 978-7-111-54742-6",
    "ISBN 978-4-06-519981-7",
    "ISBN 978-85-359-0277-7",
    "sha256:4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
    "Content-Length: 48213",
    "HTTP 200 OK in 843 ms, 1.2 KB",
    "tokens: prompt 1234, completion 567, total 1801",
    "temperature 0.7, top_p 0.9, max_tokens 4096",
    "邮政编码 100020",
    "〒150-0002",
    "CEP 01304-001",
    "room 1201, floor 12",
    "第3章 第12节",
    "请输入密码",
    "パスワードを忘れた場合",
    "비밀번호를 잊으셨나요?",
    "esqueci minha senha",
    "token 数量超过限制",
    "the API key is invalid, please check it",
    "Invalid API key provided: sk-proj-****abcd",
    "Error code: 401 - {'error': {'message': 'Incorrect API key provided', 'code': 'invalid_api_key'}}",
    "dataset_id 6e3a1c2b-8f4d-4e5a-9b7c-1d2e3f4a5b6c",
    "document batch 20241207153000123456",
    "segment hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "conversation_id 8b1f6d2e-3a4c-4d5e-9f0a-1b2c3d4e5f6a",
    "vector_index_3f1e2d4c_5b6a_4978_8a9b_0c1d2e3f4a5b_node",
    "ep-20240611-abcde",
    "HDFC0001234",
    "PIN code 560038",
    "invoice INV-2024-000123",
    "Jira ticket DIFY-4521",
    "CVE-2025-3248",
    "color #1a73e8",
    "IP 172.18.0.5 port 5432",
    "us-east-1, eu-central-1, cn-hangzhou, ap-northeast-1",
    "bucket dify-files/upload_files/3f1e2d4c.pdf",
]
