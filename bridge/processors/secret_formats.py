"""What providers' credentials look like: the token formats that announce themselves with a fixed prefix.

Each kind is a regular expression and the literals, as a token spells them, at least one of which a text
must hold for the expression to be tried (see bridge/processors/sensitive.py). Formats as
documented by each provider and as the gitleaks rule set describes them (config/gitleaks.toml), written
here afresh. A body is open-ended (`{n,}`) wherever the provider's length could grow: a token longer than
today's is masked whole, not cut with its tail exported.
"""

from __future__ import annotations

import re

# Not preceded by a word character or `-`: a prefix inside a longer word is not a token's start, and in
# `glpat-glpat-glpat-…` only the first is (each would read the rest of the run again).
_START = r"(?<![\w-])"
_LEADING = re.compile(r"(?:[A-Za-z0-9_-]|\\\.)+(?![{*+?])")


def _token(expression: str) -> str:
    r"""`expression` not preceded by a word character or `-`, its leading literal written first
    (`npm_(?<![\w-]npm_)…`): the regex engine then jumps from one occurrence of the literal to the next
    instead of trying every position. A leading group of alternatives gets the same in each alternative
    (`(?:A3-(?<![\w-]A3-)…|ops_eyJ(?<![\w-]ops_eyJ)…)`): the engine then skips to their first characters
    (the look-behind before the group tried every position: 9 ms a redaction scan of the bench's texts, which
    hold `a3-` in their UUIDs)."""
    lead = _LEADING.match(expression)
    if lead is not None:
        return rf"{lead.group()}(?<![\w-]{lead.group()}){expression[lead.end() :]}"
    alternatives = _leading_alternatives(expression)
    if alternatives is None or any(_LEADING.match(alternative) is None for alternative in alternatives[0]):
        return _START + expression
    return f"(?:{'|'.join(map(_token, alternatives[0]))}){alternatives[1]}"


def _leading_alternatives(expression: str) -> tuple[list[str], str] | None:
    """The alternatives of the group `(?:…)` that `expression` starts with, and what follows it; None when it
    starts otherwise, or an alternative outside the group (`(?:sk|rk)_…|whsec_…`) would change what the
    look-behind applies to."""
    if not expression.startswith("(?:"):
        return None
    depth, start, alternatives, in_class, index = 0, 3, [], False, 3
    while index < len(expression):
        char = expression[index]
        if char == "\\":
            index += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == "|" and depth == 0:
            alternatives.append(expression[start:index])
            start = index + 1
        elif char == ")":
            if depth == 0:
                rest = expression[index + 1 :]
                return None if "|" in rest else ([*alternatives, expression[start:index]], rest)
            depth -= 1
        index += 1
    return None


# Names of a secret for the formats below that find a value by its name elsewhere (`name_value_secret`,
# `call_secret`): as a regex, and as written (their guard literals, case-folded by the finder).
_VALUE_NAMES = (
    "password",
    "passwd",
    "secret",
    "token",
    "api[_-]?key",
    "apikey",
    "auth_key",
    "authorization",
    "credentials?",
)
_VALUE_NAMES_WRITTEN = ("password", "passwd", "secret", "token", "api_key", "api-key", "apikey", "auth_key",
                        "authorization", "credential", "credentials")  # fmt: skip
# The next entry of a JSON object or a YAML mapping: after `,`, or on the next line (`\n` in JSON text too).
_NEXT_ENTRY = r"(?:[ \t]*,[ \t]*|[ \t]*(?:\r?\n|\\[nr])+[ \t]*)"

# More services' tokens by their prefixes (branch redact-attack7): Contentful, Netlify, Render, Resend, PostHog's
# personal keys, Trello, HubSpot's private apps, ClickUp, WooCommerce, Tailscale, CircleCI, Buildkite, Tencent Cloud,
# Baidu Qianfan, Volcengine, Voyage AI, Fireworks, Supabase's new secret keys, Neon, Mollie, Together,
# Honeycomb; BIP-32 extended private keys.
_SERVICE_TOKENS: dict[str, tuple[str, tuple[str, ...]]] = {
    "contentful_token": (r"CFPAT-[\w-]{43,}", ("CFPAT-",)),
    "netlify_token": (r"nfp_[A-Za-z0-9]{36,}", ("nfp_",)),
    "render_key": (r"rnd_[A-Za-z0-9]{24,}", ("rnd_",)),
    "resend_key": (r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24,}", ("re_",)),
    "posthog_personal_key": (r"phx_[A-Za-z0-9]{40,}", ("phx_",)),
    "trello_token": (r"ATTA[a-fA-F0-9]{64,}", ("ATTA",)),
    "hubspot_token": (r"pat-(?:na|eu|ap)\d-[0-9a-f]{8}-[0-9a-f-]{27}", ("pat-na", "pat-eu", "pat-ap")),
    "clickup_token": (r"pk_\d{6,}_[A-Z0-9]{32}", ("pk_",)),
    "woocommerce_key": (r"c[ks]_[a-f0-9]{40}(?![\w-])", ("ck_", "cs_")),
    "tailscale_key": (r"tskey-(?:auth|api|client|webhook|scim)-[\w-]{20,}", ("tskey-",)),
    "circleci_token": (r"CCIPAT_[\w-]{40,}", ("CCIPAT_",)),
    "buildkite_token": (r"bkua_[a-f0-9]{40}", ("bkua_",)),
    "tencent_secret_id": (r"AKID[A-Za-z0-9]{32}", ("AKID",)),
    "baidu_qianfan_key": (r"ALTAK-[\w/+=-]{20,}", ("ALTAK-",)),
    "volcengine_key": (r"AKLT[A-Za-z0-9+/=]{40,}", ("AKLT",)),
    "voyage_key": (r"pa-[A-Za-z0-9_-]{40,}", ("pa-",)),
    "fireworks_key": (r"fw_[A-Za-z0-9]{24,}", ("fw_",)),
    "supabase_secret_key": (r"sb_secret_[\w-]{24,}", ("sb_secret_",)),
    "neon_key": (r"napi_[a-z0-9]{64,}", ("napi_",)),
    # Mollie's: 30 or more letters and digits, both cases and a digit (not a test's name).
    "mollie_key": (
        r"(?:live|test)_(?=[A-Za-z0-9]{0,39}\d)(?=[A-Za-z0-9]{0,39}[A-Z])[A-Za-z0-9]{30,40}(?![\w-])",
        ("live_", "test_"),
    ),
    "together_key": (r"tgp_v1_[\w-]{40,}", ("tgp_v1_",)),
    "honeycomb_key": (r"hcaik_[a-z0-9]{50,}", ("hcaik_",)),
    "bip32_private_key": (r"(?:xprv|yprv|zprv|tprv)[1-9A-HJ-NP-Za-km-z]{100,}", ("xprv", "yprv", "zprv", "tprv")),
    # Found by branch redact11's attack: Razorpay's keys (14 characters after the environment, under `live_key`'s
    # 16), an IFTTT Maker webhook's key in its URL, a Nostr private key (bech32 `nsec1`), an ASP.NET Core
    # authentication cookie (its data-protection payload always opens `CfDJ8`).
    "razorpay_key": (r"rzp_(?:live|test)_[A-Za-z0-9]{14,}", ("rzp_live_", "rzp_test_")),
    "ifttt_webhook_key": (
        r"maker\.ifttt\.com/(?:trigger/[\w-]+/(?:json/)?with/key|use)/([\w-]{20,})",
        ("maker.ifttt.com",),
    ),
    "nostr_private_key": (r"nsec1[02-9ac-hj-np-z]{58}(?![\w-])", ("nsec1",)),
    "aspnet_auth_cookie": (r"CfDJ8[\w-]{50,}", ("CfDJ8",)),
}

# kind → (expression, guard literals)
# fmt: off
PROVIDER_TOKENS: dict[str, tuple[str, tuple[str, ...]]] = {
    "github_fine_grained_token": (r"github_pat_\w{22,}", ("github_pat_",)),
    "gitlab_token": (
        _token(r"(?:gl(?:pat|dt|ptt|rt|cbt|ft|imt|agent|oas|soat|ffct|sa|c)[-_]|GR1348941)[\w.-]{20,}"),
        (
            "glpat-",
            "gldt-",
            "glptt-",
            "glrt-",
            "glcbt-",
            "glft-",
            "glimt-",
            "glagent-",
            "gloas-",
            "glsoat-",
            "glffct-",
            "glsa_",
            "glc_",
            "GR1348941",
        ),
    ),
    "npm_token": (_token(r"npm_[A-Za-z0-9]{36,}"), ("npm_",)),
    "pypi_token": (_token(r"pypi-AgE[\w-]{50,}"), ("pypi-AgE",)),
    "sendgrid_key": (_token(r"SG\.[\w=.-]{40,}"), ("SG.",)),
    "twilio_key": (_token(r"SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"), ("SK",)),
    "stripe_key": (
        _token(r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{24,}"),
        ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_"),
    ),
    "slack_app_token": (_token(r"xapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+"), ("xapp-",)),
    "slack_webhook": (r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}", ("hooks.slack.com/",)),
    "discord_webhook": (r"discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}", ("/api/webhooks/",)),
    "teams_webhook": (r"webhook\.office\.com/webhookb2/[\w@/-]{40,}", ("webhook.office.com/",)),
    "huggingface_token": (_token(r"(?:hf_|api_org_)[A-Za-z]{30,}"), ("hf_", "api_org_")),
    "databricks_token": (_token(r"dapi[a-f0-9]{32,}(?:-\d)?"), ("dapi",)),
    "digitalocean_token": (_token(r"do[opr]_v1_[a-f0-9]{64,}"), ("doo_v1_", "dop_v1_", "dor_v1_")),
    "doppler_token": (
        _token(r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,}"),
        ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
    ),
    "dynatrace_token": (_token(r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64,}"), ("dt0c01.",)),
    "linear_key": (_token(r"lin_(?:api|oauth)_[A-Za-z0-9]{40,}"), ("lin_api_", "lin_oauth_")),
    "postman_key": (_token(r"PMAK-[a-f0-9]{24}-[a-f0-9]{34,}"), ("PMAK-",)),
    "pulumi_token": (_token(r"pul-[a-f0-9]{40,}"), ("pul-",)),
    "prefect_key": (_token(r"pnu_[A-Za-z0-9]{36,}"), ("pnu_",)),
    "readme_key": (_token(r"rdme_[a-z0-9]{70,}"), ("rdme_",)),
    "rubygems_key": (_token(r"rubygems_[a-f0-9]{48,}"), ("rubygems_",)),
    "scalingo_token": (_token(r"tk-us-[\w-]{48,}"), ("tk-us-",)),
    "sentry_token": (_token(r"sntry[us]_[A-Za-z0-9+/=_]{40,}"), ("sntryu_", "sntrys_")),
    "shopify_token": (_token(r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32,}"), ("shpat_", "shpca_", "shppa_", "shpss_")),
    "square_token": (_token(r"(?:EAAA|sq0(?:atp|csp)-)[\w-]{22,}"), ("EAAA", "sq0atp-", "sq0csp-")),
    # 24 characters at least: a token cut shorter than HashiCorp's 90-odd is still one (branch redact-9).
    "vault_token": (_token(r"hv[sb]\.[\w-]{24,}"), ("hvs.", "hvb.")),
    "vault_legacy_token": (_token(r"s\.[A-Za-z0-9]{24}(?![\w.-])"), ("s.",)),
    "perplexity_key": (_token(r"pplx-[A-Za-z0-9]{48,}"), ("pplx-",)),
    # `ntn_` and 40 letters and digits or more, not only Notion's digits-first shape (branch redact-9).
    "notion_token": (_token(r"(?:ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{43})"), ("ntn_", "secret_")),
    "age_key": (r"AGE-SECRET-KEY-1[0-9A-Za-z]{58}", ("AGE-SECRET-KEY-1",)),
    "onepassword_key": (_token(r"(?:A3-[A-Z0-9]{6}-[A-Z0-9-]{29,}|ops_eyJ[A-Za-z0-9+/=]{100,})"), ("A3-", "ops_eyJ")),
    "grafana_token": (
        _token(r"(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,}={0,3})"),
        ("glsa_", "eyJrIjoi"),
    ),
    "heroku_key": (_token(r"HRKU-AA[\w-]{58,}"), ("HRKU-AA",)),
    "planetscale_token": (_token(r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32,}"), ("pscale_",)),
    "settlemint_token": (_token(r"sm_[aps]at_[A-Za-z0-9]{16,}"), ("sm_aat_", "sm_pat_", "sm_sat_")),
    "shippo_token": (_token(r"shippo_(?:live|test)_[a-fA-F0-9]{40,}"), ("shippo_",)),
    "sendinblue_key": (_token(r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16,}"), ("xkeysib-",)),
    "openshift_token": (r"sha256~[\w-]{43,}", ("sha256~",)),
    "intra42_secret": (_token(r"s-s4t2(?:ud|af)-[a-fA-F0-9]{64,}"), ("s-s4t2",)),
    "infracost_key": (_token(r"ico-[A-Za-z0-9]{32,}"), ("ico-",)),
    "clickhouse_key": (_token(r"4b1d[A-Za-z0-9]{38,}"), ("4b1d",)),
    "artifactory_key": (_token(r"(?:AKCp[A-Za-z0-9]{69,}|cmVmd[A-Za-z0-9]{59,})"), ("AKCp", "cmVmd")),
    "atlassian_token": (_token(r"ATATT3[A-Za-z0-9_=-]{100,}"), ("ATATT3",)),
    "bedrock_key": (
        _token(r"(?:ABSK[A-Za-z0-9+/]{100,}={0,2}|bedrock-api-key-[A-Za-z0-9+/=]{20,})"),
        ("ABSK", "bedrock-api-key-"),
    ),
    "azure_ad_secret": (_token(r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,}"), ("Q~",)),
    "cloudflare_origin_key": (_token(r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146,}"), ("v1.0-",)),
    "easypost_key": (_token(r"EZ[AT]K[A-Za-z0-9]{54,}"), ("EZAK", "EZTK")),
    "facebook_token": (_token(r"EAA[MC][A-Za-z0-9]{100,}"), ("EAAM", "EAAC")),
    # Test and live keys (`FLWSECK_TEST-…`, `FLWSECK-…`).
    "flutterwave_key": (_token(r"FLW(?:SEC|PUB)K(?:_TEST)?-[a-hA-H0-9]{12,}(?:-X)?"), ("FLWSECK", "FLWPUBK")),
    "flyio_token": (_token(r"(?:fo1_[\w-]{43,}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})"), ("fo1_", "fm1", "fm2_")),
    "frameio_token": (_token(r"fio-u-[\w=-]{64,}"), ("fio-u-",)),
    "duffel_token": (_token(r"duffel_(?:test|live)_[\w=-]{43,}"), ("duffel_",)),
    "adobe_secret": (_token(r"p8e-[A-Za-z0-9]{32,}"), ("p8e-",)),
    "alibaba_key": (_token(r"LTAI[A-Za-z0-9]{20,}"), ("LTAI",)),
    "clojars_token": (_token(r"CLOJARS_[A-Za-z0-9]{60,}"), ("CLOJARS_",)),
    "terraform_token": (_token(r"[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,}"), ("atlasv1",)),
    "maxmind_key": (_token(r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk"), ("_mmk",)),
    "octopus_key": (_token(r"API-[A-Z0-9]{26,}"), ("API-",)),
    "typeform_token": (_token(r"tfp_[\w.=-]{59,}"), ("tfp_",)),
    "sourcegraph_token": (_token(r"sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40,}"), ("sgp_",)),
    "harness_key": (_token(r"(?:pat|sat)\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20,}"), ("pat.", "sat.")),
    "newrelic_key": (_token(r"NR(?:AK|II|JS)-[A-Za-z0-9-]{19,}"), ("NRAK-", "NRII-", "NRJS-")),
    "mapbox_token": (_token(r"[ps]k\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}"), ("pk.eyJ", "sk.eyJ")),
    "plaid_token": (
        _token(r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f-]{27}"),
        ("access-sandbox-", "access-development-", "access-production-"),
    ),
    "dropbox_token": (_token(r"sl\.[\w=-]{130,}"), ("sl.",)),
    "yandex_key": (
        _token(r"(?:AQVN[\w-]{35,}|YC[\w-]{38}(?![\w-])|t1\.[\w-]+=*\.[\w-]{86,}=*)"),
        ("AQVN", "YC", "t1."),
    ),
    "beamer_token": (_token(r"b_[\w=-]{44}(?![\w=-])"), ("b_",)),
    "defined_networking_token": (_token(r"dnkey-[\w=-]{26}-[\w=-]{52,}"), ("dnkey-",)),
    "sonar_token": (_token(r"sq[upa]_[A-Za-z0-9]{40,}"), ("squ_", "sqp_", "sqa_")),
    "gitlab_session": (r"_gitlab_session=[0-9a-z]{32,}", ("_gitlab_session=",)),
    "airtable_token": (_token(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"), ("pat",)),
    "authress_key": (
        _token(r"(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][\w.+/=-]{20,}"),
        (".acc_", ".acc-"),
    ),
    "nuget_password": (r'(?i)<add key=\\?"(?:cleartext)?password\\?"\s*value=\\?"([^"\\]+)', ("<add key=",)),
    "lob_key": (_token(r"(?:live|test)_(?:pub_)?[a-f0-9]{31,}"), ("live_", "test_")),
    "mailgun_key": (_token(r"(?:key|pubkey)-[a-f0-9]{32,}"), ("key-",)),
    "telegram_bot_token": (_token(r"\d{5,16}:A[\w-]{34,}"), (":A",)),
    # The same after `/bot` in its API's URLs (`api.telegram.org/bot<token>/sendMessage`).
    "telegram_bot_url": (r"/bot(\d{5,16}:[\w-]{35,})", ("/bot",)),
    "jwt_base64": (_token(r"ZXlK[A-Za-z0-9+/=]{40,}"), ("ZXlK",)),
    # PASETO tokens, local (encrypted) and public (signed) of its four versions (branch redact12).
    "paseto": (_token(r"v[1-4]\.(?:local|public)\.[A-Za-z0-9_-]{40,}"), (".local.", ".public.")),
    # Keys of the model providers and tools Dify's plugins take (Groq, xAI, Tavily, Firecrawl, Jina, LangSmith,
    # Pinecone, Replicate, Supabase's personal tokens), by their documented prefixes (branch redact-attack6).
    "groq_key": (_token(r"gsk_[A-Za-z0-9]{48,}"), ("gsk_",)),
    "xai_key": (_token(r"xai-[A-Za-z0-9]{70,}"), ("xai-",)),
    "tavily_key": (_token(r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{24,}"), ("tvly-",)),
    "firecrawl_key": (_token(r"fc-[0-9a-f]{32}(?![\w-])"), ("fc-",)),
    "jina_key": (_token(r"jina_[\w-]{50,}"), ("jina_",)),
    "langsmith_key": (_token(r"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}"), ("lsv2_pt_", "lsv2_sk_")),
    "pinecone_key": (_token(r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40,}"), ("pcsk_",)),
    "replicate_token": (_token(r"r8_[A-Za-z0-9]{37,}"), ("r8_",)),
    "supabase_token": (_token(r"sbp_[0-9a-f]{40,}"), ("sbp_",)),
    # More by their prefixes or shapes (round 4): Figma, Docker Hub, Bitbucket app passwords, Okta's `SSWS` header,
    # Braintree access tokens, Firebase Cloud Messaging server keys, Mailchimp keys (32 hex digits, `-us` and the
    # data centre: found at `-us`, the digits read behind it), Oracle JDBC URLs' `user/password@`.
    "figma_token": (_token(r"figd_[\w-]{40,}"), ("figd_",)),
    "dockerhub_token": (_token(r"dckr_pat_[\w-]{27,}"), ("dckr_pat_",)),
    "bitbucket_app_password": (_token(r"ATBB[A-Za-z0-9]{32,}"), ("ATBB",)),
    "okta_token": (r"SSWS[ \t]+(00[\w-]{40})", ("SSWS",)),
    "braintree_token": (
        _token(r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}"), ("access_token$",)
    ),
    "fcm_server_key": (r"AAAA[\w-]{7}:APA91b[\w-]{100,}", (":APA91b",)),
    "mailchimp_key": (r"-us(?<=(?<![\w-])([0-9a-f]{32})-us)\d{1,2}(?![\w-])", ("-us",)),
    "oracle_jdbc_password": (r"jdbc:oracle:thin:[^/\s@]+/([^@\s]+)@", ("jdbc:oracle:thin:",)),
    # AWS STS session tokens: their base64 starts so whatever the account.
    "aws_session_token": (
        _token(r"(?:FwoGZXIvYXdz|IQoJb3JpZ2luX2Vj)[A-Za-z0-9+/=]{40,}"), ("FwoGZXIvYXdz", "IQoJb3JpZ2luX2Vj")
    ),
    # A Twilio auth token (32 hex digits, nothing to know it by alone) within 100 characters after its account SID,
    # as `Client('AC…', '…')` and `.env` files write the pair.
    "twilio_auth_token": (
        r"AC(?<![\w-]AC)[0-9a-f]{32}(?![0-9A-Za-z])[^\x00]{0,100}?(?<![0-9A-Za-z])([0-9a-f]{32})(?![0-9A-Za-z])",
        ("AC",),
    ),
    # The secret of an Alibaba Cloud AccessKey (30 letters and digits) and of a Twilio API key (32), within a few
    # lines after their ids (`LTAI…`, `SK` and 32 hex digits), as the AWS pair below (branch redact-8).
    "alibaba_secret_key": (
        r"LTAI(?<![\w-]LTAI)[A-Za-z0-9]{12,20}(?![A-Za-z0-9])[^\x00]{0,160}?(?<![A-Za-z0-9])"
        r"(?=[A-Za-z0-9]{0,29}\d)(?=[A-Za-z0-9]{0,29}[a-z])(?=[A-Za-z0-9]{0,29}[A-Z])([A-Za-z0-9]{30})(?![A-Za-z0-9])",
        ("LTAI",),
    ),
    "twilio_api_secret": (
        r"SK(?<![\w-]SK)[0-9a-f]{32}(?![0-9A-Za-z])[^\x00]{0,100}?(?<![A-Za-z0-9])"
        r"(?=[A-Za-z0-9]{0,31}\d)(?=[A-Za-z0-9]{0,31}[a-z])(?=[A-Za-z0-9]{0,31}[A-Z])([A-Za-z0-9]{32})(?![A-Za-z0-9])",
        ("SK",),
    ),
    # A `.netrc` entry, `machine host login user password X`, on one line or several (also written `\n` in JSON);
    # X holding a digit or a symbol, as `cli_password`'s (not "… login page password reset", "password field.").
    "netrc_password": (
        r"machine(?<![\w-]machine){gap}[^\s\\]+{gap}login{gap}[^\s\\]+{gap}password{gap}"
        r"(?=[^\s\"'\\]*(?:[\d_!@#$%^&*+=/~]|\.[^\s\"'\\]))([^\s\"'\\]+)".format(
            gap=r"(?:[ \t\r\n]|\\[nr])+"
        ),
        ("machine",),
    ),
    # A value whose name is written as another entry of its item, as Kubernetes' and ECS's `env` lists, Postman's
    # and Dify's HTTP headers write it: `{"name": "DB_PASSWORD", "value": "…"}`, YAML's `- name: API_TOKEN` with
    # `value: …` on the next line, `{"key": "Authorization", "value": "…"}`. Tried only where such a name ends a
    # string before `,` or a line the next one indents (its literals), not wherever `value` is, nor after every
    # LLM node's `"time_to_first_token":` or a text ending in "token" (4 ms a scan of the bench's texts, 25 %).
    "name_value_secret": (
        r"(?i)(?:name|key){q}{colon}{q}[\w.-]*(?:{names}){q}{next}{q}value{q}{colon}{q}([^\s\"'\\]{{4,}})".format(
            q=r"\\?[\"']?", colon=r"[ \t]*:[ \t]*", next=_NEXT_ENTRY, names="|".join(_VALUE_NAMES)
        ),
        tuple(name + end for name in _VALUE_NAMES_WRITTEN for end in ('",', "',", '\\",', "\n ", "\\n ")),
    ),
    # A Dify environment variable of type secret, as its DSL writes it: `value: …` then `value_type: secret`; or, as
    # the console's API and code nodes write it, `value_type: secret` first and `value` up to four entries later
    # (branch redact13: `{"name": "erp_token", "value_type": "secret", "value": "…"}`). Each entry between is read
    # once (an atomic group): tried again at every split, 200 KB of `"value_type": "secret", ` took 0.7 s.
    "dify_secret_variable": (
        r"\bvalue{q}{colon}{q}([^\s\"'\\]{{4,}}){q}{next}{q}value_type{q}{colon}{q}secret"
        r"|\bvalue_type{q}{colon}{q}secret{q}(?>{next}{q}(?!value{q}{colon})[\w.-]{{1,40}}{q}{colon}"
        r"(?:\\?\"[^\"\\\n\x00]{{0,200}}\\?\"|[^,\n\x00{{}}]{{0,200}})){{0,4}}"
        r"{next}{q}value{q}{colon}{q}([^\s\"'\\]{{4,}})".format(
            q=r"\\?[\"']?", colon=r"[ \t]*:[ \t]*", next=_NEXT_ENTRY
        ),
        ("value_type: secret", '"value_type": "secret"', '"value_type":"secret"', '\\"value_type\\": \\"secret\\"',
         '\\"value_type\\":\\"secret\\"'),
    ),
    # A database user's password in SQL: `CREATE USER … PASSWORD '…'`, `ALTER ROLE … WITH PASSWORD '…'`,
    # MySQL's `IDENTIFIED BY '…'` and `SET PASSWORD FOR … = '…'`, SQL Server's `CREATE LOGIN … WITH PASSWORD = '…'`.
    "sql_password": (
        r"(?i)(?:create|alter)[ \t]+(?:user|role|login)\b[^;\n\x00]{0,200}?(?:identified[ \t]+by|password)[ \t]*=?"
        r"[ \t]*'([^'\n]{4,})'|set[ \t]+password\b[^;\n\x00]{0,120}?=[ \t]*'([^'\n]{4,})'",
        ("create user", "alter user", "create role", "alter role", "create login", "alter login", "set password"),
    ),
    # A short flag's password on the command lines that take one so: `sshpass -p`, `docker login -p`, `az login -p`,
    # `ldapsearch -w`, `redis-cli -a`, `nuget push -k` (its API key).
    "cli_short_password": (
        r"(?:sshpass|(?:docker|podman|az)[ \t]+login|ldap(?:search|add|modify|delete|whoami|passwd))\b"
        r"[^\n\x00]{0,200}?[ \t]-[pw][ \t]+[\"']?([^\s\"'-][^\s\"']{3,})"
        r"|redis-cli\b[^\n\x00]{0,200}?[ \t]-a[ \t]+[\"']?([^\s\"'-][^\s\"']{3,})"
        r"|nuget[ \t]+push\b[^\n\x00]{0,200}?[ \t]-k[ \t]+[\"']?([^\s\"'-][^\s\"']{3,})",
        ("sshpass", "docker login", "podman login", "az login", "ldapsearch", "ldapadd", "ldapmodify",
         "ldapdelete", "ldapwhoami", "ldappasswd", "redis-cli", "nuget push"),
    ),
    # Password hashes of crypt's formats (`/etc/shadow`, `.htpasswd`, bcrypt, Argon2): an offline attack's input.
    "password_hash": (
        r"\$(?:(?:1|5|6|apr1)\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,}"
        r"|2[abxy]\$\d\d\$[./A-Za-z0-9]{53}|argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,})",
        ("$1$", "$5$", "$6$", "$apr1$", "$2a$", "$2b$", "$2x$", "$2y$", "$argon2"),
    ),
    # A secret passed to a call after its name, one word holding a digit or a symbol (not a translation's text):
    # PHP's `define('DB_PASSWORD', '…')`, `getenv("API_TOKEN", "…")`'s default, Java's `setPassword("…")`; also
    # inside JSON text. Tried only where such a name ends a string before `,` or follows `set` (its literals). Not a
    # string before `:`, the next JSON key (`"erp_token", "value_type": …` masked `value_type`; branch redact13).
    "call_secret": (
        r"(?i)(?:(?:{names})\\?[\"'],|set(?:{names})[ \t]*\()"
        r"[ \t]*\\?[\"'](?=[^\"'\s\\]*[\d_!@#$%^&*+=/.~])([^\"'\s\\]{{4,}})\\?[\"'](?![ \t]*:)".format(
            names="|".join(_VALUE_NAMES)
        ),
        tuple(name + end for name in _VALUE_NAMES_WRITTEN for end in ('",', "',", '\\",', "\\',"))
        + tuple(f"set{name}(" for name in _VALUE_NAMES_WRITTEN),
    ),
    # A Wi-Fi network's QR code text: `WIFI:T:WPA;S:<ssid>;P:<password>;;`.
    "wifi_password": (r"WIFI:(?:[^;\n\x00]*;){0,6}?P:((?:\\[;,:\\\"]|[^;\n\x00\\]){4,})", ("WIFI:",)),
    # Google's OAuth client secrets, access tokens and refresh tokens.
    "google_oauth_secret": (_token(r"GOCSPX-[\w-]{28,}"), ("GOCSPX-",)),
    "google_oauth_token": (_token(r"ya29\.[\w-]{30,}"), ("ya29.",)),
    "google_refresh_token": (r"1//0(?<![\w/]1//0)[\w-]{40,}", ("1//0",)),
    # An AWS secret access key (40 characters of base64's alphabet, mixing cases and digits) written within a few
    # lines after its access key id, named or not: the id alone announces it.
    "aws_secret_key": (
        r"A(?<!\wA)(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Za-z])[^\x00]{0,160}?(?<![A-Za-z0-9/+])"
        r"(?=[A-Za-z0-9/+]{0,39}\d)(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])([A-Za-z0-9/+]{40})"
        r"(?![A-Za-z0-9/+=])",
        ("AKIA", "ASIA"),
    ),
    # The private lines of a PuTTY key file (`.ppk`), to the end of their base64.
    "putty_private_key": (
        r"Private-Lines:[ \t]*\d+[ \t]*(?:\r?\n|(?:\\r)?\\n)(?:[A-Za-z0-9+/=]+(?![\w+/=-])(?:\r?\n|(?:\\r)?\\n)?)+",
        ("Private-Lines:",),
    ),
    # A Kubernetes Secret (`kubectl get secret -o yaml`, a manifest; YAML or JSON, also inside JSON text): every
    # value of its `data:` (base64) and `stringData:` is a secret whatever its name, so the block is masked whole.
    # Its `kind` is what the text must hold; any `data:` block of such a text is masked (a ConfigMap's beside it too).
    "kubernetes_secret": (
        r"(?:(?<![\w.-])|(?<=\\[nr]))(?:data|stringData):[ \t]*{line}[ \t]+({entry}(?:{line}[ \t]+{entry})*)"
        r"|\\?\"(?:data|stringData)\\?\"[ \t]*:[ \t]*\{{([^{{}}]+)\}}".format(
            line=r"(?:\r?\n|(?:\\r)?\\n)", entry=r"[\"']?[\w.-]+[\"']?:[ \t]*[^\s\\][^\r\n\\]*"
        ),
        ("kind: Secret", '"kind": "Secret"', '"kind":"Secret"', '\\"kind\\": \\"Secret\\"', '\\"kind\\":\\"Secret\\"'),
    ),
    # An XML element named for a secret: `<password>…</password>`, `<db:apiKey>…</db:apiKey>`.
    "xml_secret": (
        r"(?i)<((?:[\w.-]*:)?[\w.-]*(?:password|passwd|secret|token|api[_-]?key|credentials?))>([^<]{4,})</\1>",
        ("password>", "passwd>", "secret>", "token>", "key>", "credential>", "credentials>"),
    ),
    # .NET's `<add key="ApiKey" value="…"/>` for any key named for a secret (NuGet's password above).
    "config_add_key": (
        r"(?i)<add\s+key=\\?\"[^\"\\]*(?:password|secret|token|api[_-]?key|connectionstring)\\?\"\s+value=\\?\"([^\"\\]{4,})",
        ("<add key=",),
    ),
    # A command line's password: `--password X` (X holding a digit or a symbol: not "--password when asked"),
    # `--token=X`, `mysql -pX`, PowerShell's
    # `ConvertTo-SecureString 'X' -AsPlainText`.
    "cli_password": (
        r"--(?<![\w-]--)(?:password|passwd|passphrase|pass|token|api-key|secret|client-secret)(?:[ \t]+|=)[\"']?"
        r"(?=[^\s\"']*[\d_!@#$%^&*+=/.~])([^\s\"'-][^\s\"']{3,})"
        r"|mysql(?<![\w-]mysql)\b[^\n\x00]{0,200}?[ \t]-p([^\s\"']{4,})"
        r"|ConvertTo-SecureString[ \t]+(?:-String[ \t]+)?[\"']([^\"']{4,})[\"']",
        ("--password", "--passwd", "--pass", "--token", "--api-key", "--secret", "--client-secret", "--passphrase",
         "mysql", "ConvertTo-SecureString"),
    ),
    # The services' tokens above (branch redact-attack7), each its own kind: one alternation of them all was tried
    # at every position of any text holding `sk_` (Dify's `task_id`), 35 % more a scan of the real recordings.
    **{kind: (_token(expression), literals) for kind, (expression, literals) in _SERVICE_TOKENS.items()},
    # A wallet's private key after its name (`ETH private key 0x…`, `importprivkey K…`): 64 hex digits after `0x`, or
    # Bitcoin's WIF (base58, 51 or 52 characters from `5`, `K`, `L` or `c`).
    "wallet_private_key": (
        r"(?i)(?:priv(?:ate)?[ _-]?key|importprivkey|\bwif\b)[^\n\x00]{0,20}?(?<!\w)"
        r"(0x[0-9a-f]{64}|[5KLc][1-9A-HJ-NP-Za-km-z]{50,51})(?!\w)",
        ("private key", "private_key", "private-key", "privkey", "priv key", "priv_key", "importprivkey", "wif "),
    ),
    # A private key's DER in base64 without its PEM lines: PKCS#8 (`MII…IBADAN…`), PKCS#1 RSA (`MII…IBAAK…`),
    # SEC 1 EC (`MHcCAQEE…`).
    "der_private_key": (
        _token(r"(?:MII[A-Za-z0-9+/]{3}(?:IBADAN|IBAAK)|MHcCAQEE)[A-Za-z0-9+/=]{40,}"), ("IBADAN", "IBAAK", "MHcCAQEE")
    ),
    # Recovery and backup codes after their name, a list of them (`recovery codes: 7f3a9-c2e4b 1d8e6-a5b0c`).
    "recovery_codes": (
        r"(?i)(?:recovery|backup|2fa|mfa|otp)[ _-]?codes?[ \t]*[:\uff1a][ \t]*(?:\r?\n|\\n)?"
        r"((?=[^\n\x00]{0,12}\d)[a-z0-9]{4,10}(?:[ -][a-z0-9]{4,10}){0,4}"
        r"(?:[ \t]*(?:[,;]|\r?\n|\\n)[ \t]*[a-z0-9]{4,10}(?:[ -][a-z0-9]{4,10}){0,4}){0,15})",
        ("recovery code", "backup code", "2fa code", "mfa code", "otp code", "recovery_code", "backup_code"),
    ),
    # Webhook URLs that are their own secret: Feishu's and Lark's bots, Mattermost's, Zapier's, Make's.
    "webhook_url": (
        r"(?:open\.(?:feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/([\w-]{20,})"
        r"|/hooks/catch/(\d+/\w+)|/hooks/([a-z0-9]{26})(?![\w-])|make\.com/([a-z0-9]{24,})(?![\w-])"
        r"|n8n\.cloud/webhook(?:-test)?/([\w-]{20,}))",
        ("/open-apis/bot/", "/hooks/", "make.com/", "n8n.cloud/webhook"),
    ),
    # An Authorization header's credential after any scheme (`Bearer` and `Basic` are read on their own):
    # `ApiKey …` (Elastic), `Splunk …`, `DeepL-Auth-Key …`, `Zoho-oauthtoken …`, `Bot …` (Discord), `Token …`; the
    # credential holds a digit, and 16 characters or more.
    "authorization_scheme": (
        r"(?i)authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?(?!bearer\b|basic\b)[A-Za-z][\w.-]{1,30}[ \t]+"
        r"(?=[A-Za-z0-9._~+/=:-]{0,200}\d)([A-Za-z0-9._~+/=:-]{16,})",
        ("authorization",),
    ),
    # More found by branch redact-9's attack: a Cohere client's key, an OCI auth token after its name (20 printable
    # characters, symbols too), an HTTP Digest `response="…"`, a Tencent Cloud SecretKey within 100 characters after
    # its `AKID` id (as the Alibaba pair), a Huawei Cloud `SK:` (40 letters and digits mixing cases and a digit), Go's
    # MySQL DSN `user:password@tcp(…)`, `wandb login X`, `vault login X`, keytool's `-storepass`/`-keypass`,
    # WordPress's login cookie, Spanish `clave:` and Italian or Romanian `parola:` before a value holding a digit
    # (`palabra clave: marketing` holds none), `user / password` after `Zugangsdaten` or `creds`, a passphrase of
    # words after its name and a colon, a `PIN:` of 4 to 8 digits, a Chinese bank card's 6-digit password.
    "cohere_client_key": (
        r"cohere\.(?:Async)?Client(?:V2)?\([ \t]*(?:api_key[ \t]*=[ \t]*)?\\?[\"']([A-Za-z0-9]{40})\\?[\"']",
        ("cohere.",),
    ),
    "oci_auth_token": (
        r"(?i)(?:\boci|oracle)\b[^\n\x00]{0,40}?auth[ _-]?token[ \t]*[:=]?[ \t]+\\?[\"']?"
        r"([\x21-\x5b\x5d-\x7e]{20})(?![\x21-\x5b\x5d-\x7e])",  # not `\`: `\n` in JSON text ends it
        ("auth token", "auth_token", "auth-token", "authtoken"),
    ),
    "digest_response": (r"(?i)digest[ \t]+[^\n\x00]{0,400}?\bresponse=\\?\"?([0-9a-f]{32,64})", ("digest ",)),
    "tencent_secret_key": (
        r"AKID(?<![\w-]AKID)[A-Za-z0-9]{32}(?![A-Za-z0-9])[^\x00]{0,100}?(?<![A-Za-z0-9])"
        r"(?=[A-Za-z0-9]{0,31}\d)(?=[A-Za-z0-9]{0,31}[a-z])(?=[A-Za-z0-9]{0,31}[A-Z])([A-Za-z0-9]{32})(?![A-Za-z0-9])",
        ("AKID",),
    ),
    "huawei_secret_key": (
        r"\bSK[ \t]*[:=\uff1a][ \t]*\\?[\"']?"
        r"(?=[A-Za-z0-9]{0,39}\d)(?=[A-Za-z0-9]{0,39}[a-z])(?=[A-Za-z0-9]{0,39}[A-Z])([A-Za-z0-9]{40})(?![A-Za-z0-9])",
        ("SK:", "SK=", "SK\uff1a", "SK :", "SK ="),
    ),
    "go_dsn_password": (r"(?<![\w/:@.-])([\w.-]{1,64}:[^\s@/\"'\\]{1,128})@(?:tcp|unix)\(", ("@tcp(", "@unix(")),
    "cli_login_token": (
        r"(?:wandb|vault)[ \t]+login(?:[ \t]+-{1,2}[\w-]+)*[ \t]+(?:token=)?([\w.-]{20,})",
        ("wandb login", "vault login"),
    ),
    "keytool_password": (
        r"-(?:src|dest)?(?:store|key)pass[ \t]+\\?[\"']?([^\s\"'\\]{4,})", ("storepass", "keypass")
    ),
    "wordpress_cookie": (r"wordpress_logged_in_[0-9a-f]{32}=([^;\s\"'\\]{20,})", ("wordpress_logged_in_",)),
    "clave_parola": (
        r"(?i)(?<![\w-])(?<!palabra )(?:clave|parola)[ \t]*[:=\uff1a][ \t]*\\?[\"']?"
        r"(?=[^\s\"',;\\]*\d)([^\s\"',;\\]{6,})",
        ("clave", "parola"),
    ),
    "user_slash_password": (
        r"(?i)(?:zugangsdaten|anmeldedaten|creds|credentials|login(?=[ \t]*:))\b[^\n\x00/]{0,12}?[ \t]+(?:are[ \t]+)?"
        r"[^\s/]{1,64}[ \t]*/[ \t]*(?=[^\s\"',;]*\d)([^\s\"',;]{6,})",
        ("zugangsdaten", "anmeldedaten", "creds", "credentials", "login"),
    ),
    "passphrase_words": (
        r"(?i)pass[ _-]?phrase(?:[ \t]+[^\W\d_]{1,12}){0,3}[ \t]*[:=\uff1a][ \t]*\\?[\"']?"
        r"([^\W\d_]{2,12}(?:[ \t]+[^\W\d_]{2,12}){3,11})(?![\w-])",
        ("passphrase", "pass phrase", "pass_phrase", "pass-phrase"),
    ),
    "pin_code": (
        r"(?<![\w-])PIN(?:[ \t]*code)?[ \t]*[:=\uff1a][ \t]*(\d{4,8})(?![\d-])",
        ("PIN:", "PIN ", "PIN=", "PIN\uff1a"),
    ),
    "bank_card_password": (
        r"(?:银行卡|卡|取款|支付|交易)密码[ \t]*(?:[:\uff1a是为])?[ \t]*(\d{6})(?!\d)",
        ("卡密码", "取款密码", "支付密码", "交易密码"),
    ),
    # A TOTP seed after its name and up to five words (branch redact12: `TOTP secret: mlaw aziv …`, `MFA seed for
    # root: …`, `2FA backup key …`): base32 in groups of four (four groups at least) or 16 characters in a row, a
    # digit 2-7 among its letters.
    "otp_seed": (
        r"(?i)(?<![a-z])(?:totp|mfa|2fa|otp|two[ -]factor|authenticator)(?:[ \t]+[^\W\d_]{1,14}){0,5}?[ \t]*"
        r"(?:[:=\uff1a]|[ \t]is)?[ \t]*\\?[\"']?((?=[a-z2-7 -]{0,60}?[2-7])[a-z2-7]{4}(?:[ -][a-z2-7]{4}){3,}"
        r"(?:[ -][a-z2-7]{1,3})?|(?=[a-z2-7]{0,63}?[2-7])(?=[a-z2-7]{0,63}?[a-z])[a-z2-7]{16,}=*)(?![\w-])",
        ("totp", "mfa", "2fa", "otp", "two-factor", "two factor", "authenticator"),
    ),
    # A key written as its bytes, a JSON array of 32 or 64 numbers (Solana's `id.json` keypair), after its name.
    "byte_array_key": (
        r"(?i)(?:keypair|secret[ _-]?key|private[ _-]?key)\\?[\"']?[ \t]*[:=\uff1a]?[ \t]*"
        r"(\[[ \t]*\d{1,3}(?:[ \t]*,[ \t]*\d{1,3}){31,63}[ \t]*\])",
        ("keypair", "secret_key", "secret-key", "secretkey", "secret key", "private_key", "private-key", "privatekey",
         "private key"),
    ),
    # ngrok's agent token on its command line.
    "ngrok_token": (r"(?:add-authtoken|ngrok authtoken)[ \t]+([\w-]{30,})", ("add-authtoken", "ngrok authtoken")),
    # A BIP-39 seed phrase after its name: 12 to 24 words of small letters (`seed phrase: abandon ability …`).
    "seed_phrase": (
        r"(?i)(?:(?:seed|recovery|secret|backup|mnemonic|wallet)[ _-]?(?:phrase|words)|mnemonic|助记词|助記詞)"
        r"[^a-z\n\x00]{0,12}?(?:\b(?:is|are)\b)?[^a-z\n\x00]{0,6}((?:[a-z]{3,8}[ \t]+){11,23}[a-z]{3,8})\b",
        ("seed phrase", "seed words", "recovery phrase", "recovery words", "secret phrase", "backup phrase",
         "mnemonic", "wallet phrase", "seed_phrase", "seed-phrase", "助记词", "助記詞"),
    ),
    # A Terraform variable named for a secret and its default: `variable "db_password" { default = "…" }`.
    "hcl_variable_default": (
        r"(?i)variable[ \t]+\\?\"[\w-]*(?:password|passwd|secret|token|api_?key)\\?\"[ \t]*\{{[^}}\x00]{{0,300}}?"
        r"default[ \t]*=[ \t]*\\?\"([^\"\\]{{4,}})".format(),
        ('variable "', 'variable \\"'),
    ),
    # More command lines' passwords (branch redact-attack7): `ssh-keygen -N`, `zip -P`, `sqlcmd -P`, `cqlsh -p`,
    # 7-Zip's `-pX`, `htpasswd -b file user X`, `sqlplus user/X@db`, Redis's `AUTH X` (X holding a digit).
    "cli_more_password": (
        r"(?:ssh-keygen|zip|sqlcmd|cqlsh)\b[^\n\x00]{0,200}?[ \t]-[NPp][ \t]+[\"']?([^\s\"'-][^\s\"']{3,})"
        r"|7z[ \t]+[au]\b[^\n\x00]{0,200}?[ \t]-p([^\s\"']{4,})"
        r"|htpasswd[ \t]+-\w*b\w*[ \t]+\S+[ \t]+\S+[ \t]+[\"']?([^\s\"']{4,})"
        r"|sqlplus[ \t]+[^\s/@\"']+/([^\s@\"']{4,})@"
        r"|(?<![\w-])AUTH[ \t]+(?=[^\s\"']*\d)([^\s\"']{6,})",
        ("ssh-keygen", "zip ", "sqlcmd", "cqlsh", "7z a", "7z u", "htpasswd", "sqlplus", "AUTH "),
    ),
    # Python's `auth=('user', 'X')` (requests, httpx).
    "auth_tuple": (
        r"auth[ \t]*=[ \t]*\([ \t]*\\?[\"'][^\"'\n\\]{1,64}\\?[\"'][ \t]*,[ \t]*\\?[\"']([^\"'\n\\]{4,})\\?[\"']",
        ("auth=(", "auth = ("),
    ),
    # `curl -u user:password` (and `--user`).
    "curl_credential": (
        r"curl\b[^\n\x00]{0,200}?[ \t](?:-u|--user)[ \t=]*[\"']?([^\s:\"'@]{1,64}:[^\s\"']{3,})",
        ("curl",),
    ),
}
# fmt: on
