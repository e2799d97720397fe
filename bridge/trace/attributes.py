"""Attribute names and the mapping of Dify runs and nodes onto them.

GenAI semantic-convention names where they exist, OpenInference twins so Phoenix and Langfuse render
tokens and cost, and Dify-only facts under `dify.*`. Every name the bridge writes is defined here.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from bridge.dify.model import AgentLogEntry, AgentThought, Attempt, ContainerRun, NodeRun, WorkflowRun
from bridge.dify.values import as_int, as_number

Attributes = dict[str, Any]

# GenAI semantic conventions
GEN_AI_OPERATION = "gen_ai.operation.name"
GEN_AI_PROVIDER = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id"
SESSION_ID = "session.id"
USER_ID = "user.id"
# OpenInference
OI_SPAN_KIND = "openinference.span.kind"
OI_MODEL_NAME = "llm.model_name"
OI_PROVIDER = "llm.provider"
OI_TOKENS_PROMPT = "llm.token_count.prompt"
OI_TOKENS_COMPLETION = "llm.token_count.completion"
OI_TOKENS_TOTAL = "llm.token_count.total"
OI_COST_PROMPT = "llm.cost.prompt"
OI_COST_COMPLETION = "llm.cost.completion"
OI_COST_TOTAL = "llm.cost.total"
OI_INPUT_VALUE = "input.value"
OI_OUTPUT_VALUE = "output.value"
OI_INPUT_MIME = "input.mime_type"
OI_OUTPUT_MIME = "output.mime_type"
OI_TOOL_NAME = "tool.name"
OI_TOOL_PARAMETERS = "tool.parameters"
OI_INPUT_MESSAGES = "llm.input_messages"
OI_OUTPUT_MESSAGES = "llm.output_messages"
OI_DOCUMENTS = "retrieval.documents"
# Dify
DIFY_RUN_ID = "dify.run.id"
DIFY_RUN_STATUS = "dify.run.status"
DIFY_SOURCE = "dify.source"
DIFY_RUN_ERROR = "dify.run.error"
DIFY_RUN_TOTAL_TOKENS = "dify.run.total_tokens"
DIFY_RUN_TOTAL_STEPS = "dify.run.total_steps"
DIFY_RUN_EXCEPTIONS = "dify.run.exceptions_count"
DIFY_RUN_PARENT_RUN_ID = "dify.run.parent_run_id"
DIFY_RUN_PARENT_NODE_EXECUTION_ID = "dify.run.parent_node_execution_id"
DIFY_RUN_ELAPSED = "dify.run.elapsed_time"
DIFY_WORKFLOW_ID = "dify.workflow.id"
DIFY_TASK_ID = "dify.task.id"
DIFY_APP_ID = "dify.app.id"
DIFY_APP_NAME = "dify.app.name"
DIFY_APP_TYPE = "dify.app.type"
DIFY_INSTANCE_NAME = "dify.instance.name"
DIFY_MESSAGE_ID = "dify.message.id"
DIFY_NODE_ID = "dify.node.id"
DIFY_NODE_TYPE = "dify.node.type"
DIFY_NODE_TITLE = "dify.node.title"
DIFY_NODE_INDEX = "dify.node.index"
DIFY_NODE_EXECUTION_ID = "dify.node.execution_id"
DIFY_NODE_STATUS = "dify.node.status"
DIFY_NODE_ELAPSED = "dify.node.elapsed_time"
DIFY_NODE_ERROR_STRATEGY = "dify.node.error_strategy"
DIFY_NODE_ATTEMPTS = "dify.node.attempts"
DIFY_NODE_RETRY_INDEX = "dify.node.retry_index"
DIFY_NODE_PROCESS_DATA = "dify.node.process_data"
DIFY_NODE_PARALLEL_ID = "dify.node.parallel_id"
DIFY_NODE_AGENT_STRATEGY = "dify.node.agent_strategy"
DIFY_ITERATION_INDEX = "dify.iteration.index"
DIFY_LOOP_INDEX = "dify.loop.index"
DIFY_CONTAINER_ROUNDS = "dify.container.rounds"
DIFY_CONTAINER_LIMIT = "dify.container.limit"
DIFY_CONTAINER_COMPLETED_REASON = "dify.container.completed_reason"
DIFY_ROUND_INDEX = "dify.round.index"
DIFY_PRICE_TOTAL = "dify.price.total"
DIFY_PRICE_CURRENCY = "dify.price.currency"
DIFY_TOOL_PROVIDER = "dify.tool.provider_id"
DIFY_TOOL_PROVIDER_TYPE = "dify.tool.provider_type"
DIFY_RETRIEVAL_COUNT = "dify.retrieval.document_count"
DIFY_AGENT_LOG_ID = "dify.agent_log.id"
DIFY_AGENT_LOG_STATUS = "dify.agent_log.status"
DIFY_EVENT_DATA = "dify.event.data"
DIFY_MESSAGE_USAGE_TOKENS = "dify.message.total_tokens"
DIFY_RETRIEVER_RESOURCES = "dify.message.retriever_resources"

# Set by the bridge on a span too large for one export request: the names of the attributes (of the span and its
# events) whose texts were cut, each ending in an ellipsis, so the span fits `max_request_bytes`.
DIFY_BRIDGE_CUT_ATTRIBUTES = "dify.bridge.cut_attributes"

# Attributes holding user content (prompts, inputs, outputs, documents): what `reduce` cuts or drops.
CONTENT_ATTRIBUTES = frozenset(
    {OI_INPUT_VALUE, OI_OUTPUT_VALUE, DIFY_NODE_PROCESS_DATA, OI_TOOL_PARAMETERS, DIFY_EVENT_DATA,
     DIFY_RETRIEVER_RESOURCES, DIFY_RUN_ERROR, "exception.message"}
)  # fmt: skip
CONTENT_PREFIXES = (OI_INPUT_MESSAGES + ".", OI_OUTPUT_MESSAGES + ".", OI_DOCUMENTS + ".")

LLM_NODE_TYPES = frozenset({"llm", "question-classifier", "parameter-extractor"})
USAGE_NODE_TYPES = LLM_NODE_TYPES | {"agent"}


def to_json(value: Any) -> str:
    try:
        # Without OPT_NON_STR_KEYS, which writes string keys the same but at twice the cost; Dify's keys are strings.
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # integers past 64 bits, which orjson does not write
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _put(attrs: Attributes, key: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[key] = value


def provider_name(model_provider: object) -> str | None:
    """`langgenius/openai/openai` (a Dify plugin id) → `openai`."""
    if not model_provider or not isinstance(model_provider, str):
        return None
    return model_provider.rstrip("/").rsplit("/", 1)[-1]


def node_usage(node: NodeRun) -> Mapping[str, Any]:
    """The LLM usage block of a node, wherever this node type keeps it."""
    if node.node_type not in USAGE_NODE_TYPES:
        return {}  # an End node may output an LLM's usage: it is not its own
    for holder, key in ((node.process_data, "usage"), (node.outputs, "usage"), (node.outputs, "__usage")):
        usage = (holder or {}).get(key)
        if isinstance(usage, dict) and usage:
            return usage
    return {}


def node_price(node: NodeRun) -> tuple[float | None, str | None]:
    meta = node.execution_metadata
    usage = node_usage(node)
    price = as_number(meta.get("total_price"))
    if price is None:
        price = as_number(usage.get("total_price"))
    return price, (meta.get("currency") or usage.get("currency")) if price is not None else None


def node_tokens(node: NodeRun) -> tuple[int | None, int | None, int | None]:
    """(input, output, total) tokens."""
    usage = node_usage(node)
    total = as_int(usage.get("total_tokens"))
    if total is None:
        total = as_int(node.execution_metadata.get("total_tokens"))
    return as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")), total


def model_of(node: NodeRun) -> tuple[str | None, str | None]:
    """(model name, provider) from process_data, inputs or metadata (webhook)."""
    for holder in (node.process_data, node.inputs, node.execution_metadata):
        if holder and holder.get("model_name"):
            return str(holder["model_name"]), provider_name(holder.get("model_provider"))
    return None, None


def _datasets(node: NodeRun) -> list[str]:
    names: list[str] = []
    for doc in _documents(node):
        name = _metadata(doc).get("dataset_name")
        if name and name not in names:
            names.append(str(name))
    return names


def _metadata(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = doc.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _documents(node: NodeRun) -> list[Mapping[str, Any]]:
    result = (node.outputs or {}).get("result")
    return [doc for doc in result if isinstance(doc, dict)] if isinstance(result, list) else []


def node_span_name(node: NodeRun) -> str:
    """The span's name, its control characters cleaned as a run's are (`dify.node.title` keeps the title as sent)."""
    name = None
    if node.node_type in LLM_NODE_TYPES:
        model, _ = model_of(node)
        if model:
            name = f"chat {model}"
    elif node.node_type == "tool":
        name = f"execute_tool {node.title}"
    elif node.node_type == "knowledge-retrieval":
        datasets = _datasets(node)
        name = f"retrieval {', '.join(datasets) if datasets else node.title}"
    elif node.node_type == "agent":
        name = f"invoke_agent {node.title}"
    name = name or f"{node.node_type} {node.title}"
    return name if name.isprintable() else label(name)  # inline: one call less a span


# JSON texts written with the values they were written from, by id() of the text: what the span builder
# hands the detectors so they need not parse back what it wrote. Per thread: builds run on several.
_written = threading.local()


def record_json(written: dict[int, tuple[str, Any]] | None) -> None:
    """From now on (this thread), every input/output text written goes into `written`; None: stop."""
    _written.texts = written


def _content(attrs: Attributes, inputs: Any, outputs: Any) -> None:
    written: dict[int, tuple[str, Any]] | None = getattr(_written, "texts", None)
    if inputs:
        attrs[OI_INPUT_VALUE] = text = to_json(inputs)
        attrs[OI_INPUT_MIME] = "application/json"
        if written is not None:
            written[id(text)] = (text, inputs)
    if outputs:
        attrs[OI_OUTPUT_VALUE] = text = to_json(outputs)
        attrs[OI_OUTPUT_MIME] = "application/json"
        if written is not None:
            written[id(text)] = (text, outputs)


def node_attributes(node: NodeRun) -> Attributes:
    attrs: Attributes = {
        DIFY_NODE_ID: node.node_id,
        DIFY_NODE_TYPE: node.node_type,
        DIFY_NODE_TITLE: node.title,
        DIFY_NODE_EXECUTION_ID: node.execution_id,
        DIFY_NODE_STATUS: node.status,
        OI_SPAN_KIND: "CHAIN",
    }
    _put(attrs, DIFY_NODE_INDEX, node.index)
    _put(attrs, DIFY_NODE_ELAPSED, node.elapsed_time)
    _put(attrs, DIFY_ITERATION_INDEX, node.iteration_index)
    _put(attrs, DIFY_LOOP_INDEX, node.loop_index)
    _put(attrs, DIFY_NODE_PARALLEL_ID, node.parallel_id)
    _put(attrs, DIFY_NODE_AGENT_STRATEGY, node.agent_strategy)
    _put(attrs, DIFY_NODE_ERROR_STRATEGY, node.execution_metadata.get("error_strategy"))
    if node.retries:
        attrs[DIFY_NODE_ATTEMPTS] = len(node.retries) + 1
    _content(attrs, node.inputs, node.outputs)
    if node.process_data:
        attrs[DIFY_NODE_PROCESS_DATA] = to_json(node.process_data)
    _llm_attributes(attrs, node)
    if node.node_type == "tool":
        tool_info = node.execution_metadata.get("tool_info") or {}
        attrs.update({GEN_AI_OPERATION: "execute_tool", GEN_AI_TOOL_NAME: node.title, OI_SPAN_KIND: "TOOL"})
        attrs[OI_TOOL_NAME] = node.title
        if isinstance(tool_info, dict):
            _put(attrs, DIFY_TOOL_PROVIDER, tool_info.get("provider_id"))
            _put(attrs, DIFY_TOOL_PROVIDER_TYPE, tool_info.get("provider_type"))
    elif node.node_type == "knowledge-retrieval":
        _retrieval_attributes(attrs, node)
    elif node.node_type == "agent":
        attrs.update({GEN_AI_OPERATION: "invoke_agent", GEN_AI_AGENT_NAME: node.title, OI_SPAN_KIND: "AGENT"})
    return attrs


def _llm_attributes(attrs: Attributes, node: NodeRun) -> None:
    if node.node_type not in LLM_NODE_TYPES and node.node_type != "agent":
        return
    prompt, completion, total = node_tokens(node)
    price, currency = node_price(node)
    model, provider = model_of(node)
    if node.node_type in LLM_NODE_TYPES:
        attrs.update({GEN_AI_OPERATION: "chat", OI_SPAN_KIND: "LLM"})
    _put(attrs, GEN_AI_REQUEST_MODEL, model)
    _put(attrs, OI_MODEL_NAME, model)
    _put(attrs, GEN_AI_PROVIDER, provider)
    _put(attrs, OI_PROVIDER, provider)
    _put(attrs, GEN_AI_INPUT_TOKENS, prompt)
    _put(attrs, GEN_AI_OUTPUT_TOKENS, completion)
    _put(attrs, OI_TOKENS_PROMPT, prompt)
    _put(attrs, OI_TOKENS_COMPLETION, completion)
    _put(attrs, OI_TOKENS_TOTAL, total)
    usage = node_usage(node)
    _put(attrs, OI_COST_PROMPT, as_number(usage.get("prompt_price")))
    _put(attrs, OI_COST_COMPLETION, as_number(usage.get("completion_price")))
    _put(attrs, OI_COST_TOTAL, price)
    _put(attrs, DIFY_PRICE_TOTAL, price)
    _put(attrs, DIFY_PRICE_CURRENCY, currency)
    finish = (node.process_data or {}).get("finish_reason") or (node.outputs or {}).get("finish_reason")
    if finish:
        attrs[GEN_AI_FINISH_REASONS] = [str(finish)]
    prompts = (node.process_data or {}).get("prompts")
    for i, prompt_message in enumerate(prompts if isinstance(prompts, list) else ()):
        if isinstance(prompt_message, dict):
            attrs[f"{OI_INPUT_MESSAGES}.{i}.message.role"] = str(prompt_message.get("role") or "")
            attrs[f"{OI_INPUT_MESSAGES}.{i}.message.content"] = str(prompt_message.get("text") or "")
    text = (node.outputs or {}).get("text")
    if isinstance(text, str) and text:
        attrs[f"{OI_OUTPUT_MESSAGES}.0.message.role"] = "assistant"
        attrs[f"{OI_OUTPUT_MESSAGES}.0.message.content"] = text


def _retrieval_attributes(attrs: Attributes, node: NodeRun) -> None:
    attrs.update({GEN_AI_OPERATION: "retrieval", OI_SPAN_KIND: "RETRIEVER"})
    docs = _documents(node)
    attrs[DIFY_RETRIEVAL_COUNT] = len(docs)
    datasets = [str(_metadata(doc).get("dataset_id")) for doc in docs if _metadata(doc)]
    if datasets:
        attrs[GEN_AI_DATA_SOURCE_ID] = sorted(set(datasets))[0] if len(set(datasets)) == 1 else sorted(set(datasets))
    for i, doc in enumerate(docs):
        meta = _metadata(doc)
        prefix = f"{OI_DOCUMENTS}.{i}.document"
        _put(attrs, f"{prefix}.id", meta.get("document_id") or meta.get("segment_id"))
        _put(attrs, f"{prefix}.score", as_number(meta.get("score")))
        _put(attrs, f"{prefix}.content", doc.get("content"))
        attrs[f"{prefix}.metadata"] = to_json(
            {k: meta.get(k) for k in ("dataset_id", "dataset_name", "document_name", "segment_id", "position")}
        )


def container_attributes(container: ContainerRun) -> Attributes:
    attrs: Attributes = {
        DIFY_NODE_ID: container.node_id,
        DIFY_NODE_TYPE: container.node_type,
        DIFY_NODE_TITLE: container.title,
        DIFY_NODE_STATUS: container.status,
        DIFY_CONTAINER_ROUNDS: len(container.rounds),
        OI_SPAN_KIND: "CHAIN",
    }
    _put(attrs, DIFY_NODE_EXECUTION_ID, container.execution_id)
    _put(attrs, DIFY_NODE_ELAPSED, container.elapsed_time)
    limit = container.metadata.get("iteration_length") or container.metadata.get("loop_length")
    _put(attrs, DIFY_CONTAINER_LIMIT, limit)
    _put(attrs, DIFY_CONTAINER_COMPLETED_REASON, container.execution_metadata.get("completed_reason"))
    _put(attrs, OI_TOKENS_TOTAL, container.total_tokens)
    _content(attrs, container.inputs, container.outputs)
    return attrs


def round_attributes(container: ContainerRun, index: int) -> Attributes:
    return {
        DIFY_NODE_ID: container.node_id,
        DIFY_NODE_TYPE: container.node_type,
        DIFY_ROUND_INDEX: index,
        DIFY_ITERATION_INDEX if container.node_type == "iteration" else DIFY_LOOP_INDEX: index,
        OI_SPAN_KIND: "CHAIN",
    }


def attempt_attributes(node: NodeRun, attempt: Attempt) -> Attributes:
    attrs: Attributes = {
        DIFY_NODE_ID: node.node_id,
        DIFY_NODE_TYPE: node.node_type,
        DIFY_NODE_EXECUTION_ID: node.execution_id,
        DIFY_NODE_RETRY_INDEX: attempt.retry_index,
        DIFY_NODE_STATUS: attempt.status,
        OI_SPAN_KIND: "CHAIN",
    }
    # What the failed attempt was given and answered: why it was retried is often only visible here.
    _content(attrs, attempt.inputs, attempt.outputs)
    if attempt.process_data:
        attrs[DIFY_NODE_PROCESS_DATA] = to_json(attempt.process_data)
    return attrs


def agent_log_name(entry: AgentLogEntry) -> str:
    tool = entry.data.get("tool_name") or entry.data.get("tool_call_name")
    return f"execute_tool {tool}" if tool else entry.label


def agent_log_attributes(entry: AgentLogEntry) -> Attributes:
    tool = entry.data.get("tool_name") or entry.data.get("tool_call_name")
    attrs: Attributes = {DIFY_AGENT_LOG_ID: entry.id, OI_SPAN_KIND: "TOOL" if tool else "CHAIN"}
    _put(attrs, DIFY_AGENT_LOG_STATUS, entry.status)
    if tool:
        attrs.update({GEN_AI_OPERATION: "execute_tool", GEN_AI_TOOL_NAME: str(tool), OI_TOOL_NAME: str(tool)})
        _content(attrs, entry.data.get("tool_input") or entry.data.get("tool_call_input"), None)
        _content(attrs, None, entry.data.get("tool_response") or entry.data.get("tool_call_response"))
    elif entry.data:
        attrs[OI_OUTPUT_VALUE] = to_json(entry.data)
    return attrs


def thought_attributes(thought: AgentThought) -> Attributes:
    attrs: Attributes = {OI_SPAN_KIND: "TOOL" if thought.tool else "CHAIN", "dify.agent_thought.id": thought.id}
    attrs["dify.agent_thought.position"] = thought.position
    if thought.tool:
        attrs.update({GEN_AI_OPERATION: "execute_tool", GEN_AI_TOOL_NAME: thought.tool, OI_TOOL_NAME: thought.tool})
    _put(attrs, OI_TOOL_PARAMETERS, thought.tool_input)
    _put(attrs, OI_INPUT_VALUE, thought.thought)
    _put(attrs, OI_OUTPUT_VALUE, thought.observation)
    return attrs


# Control characters (an ESC in a Dify app's name or a node's title) in a span name: UIs show nothing for them,
# and terminals showing traces (logs, CLIs) act on them. A name is a label, so each run of them becomes a space;
# the attributes keep the text as Dify sent it (`dify.app.name` finds the app by its exact name).
_CONTROL_RUN = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def label(name: str) -> str:
    """`name` fit for a span name (app names, node titles): each run of control characters one space."""
    if name.isprintable():  # C speed; the usual case
        return name
    return _CONTROL_RUN.sub(" ", name).strip()


def run_name(run: WorkflowRun) -> str:
    return label(run.app_name or run.workflow_id or run.app_id or "dify") or "dify"


def run_attributes(run: WorkflowRun, nodes: Iterable[NodeRun]) -> Attributes:
    attrs: Attributes = {
        GEN_AI_OPERATION: "invoke_workflow",
        GEN_AI_WORKFLOW_NAME: run_name(run),
        OI_SPAN_KIND: "CHAIN",
        DIFY_RUN_ID: run.run_id,
        DIFY_RUN_STATUS: run.status,
        DIFY_SOURCE: run.receiver.partition("/")[0],
    }
    for key, value in (
        (DIFY_WORKFLOW_ID, run.workflow_id),
        (DIFY_TASK_ID, run.task_id),
        (DIFY_APP_ID, run.app_id),
        (DIFY_APP_NAME, run.app_name),
        (DIFY_APP_TYPE, run.app_type),
        (DIFY_INSTANCE_NAME, run.instance),
        (DIFY_MESSAGE_ID, run.message_id),
        (SESSION_ID, run.conversation_id),
        (GEN_AI_CONVERSATION_ID, run.conversation_id),
        (USER_ID, run.user_id),
        (DIFY_RUN_ERROR, run.error),
        (DIFY_RUN_TOTAL_STEPS, run.total_steps),
        (DIFY_RUN_EXCEPTIONS, run.exceptions_count),
        (DIFY_RUN_PARENT_RUN_ID, run.parent_run_id),
        (DIFY_RUN_PARENT_NODE_EXECUTION_ID, run.parent_node_execution_id),
        (DIFY_RUN_ELAPSED, run.elapsed_time),
    ):
        _put(attrs, key, value)
    _content(attrs, run.inputs, run.outputs)
    prompt = completion = tokens = 0
    price = 0.0
    currency: str | None = None
    for node in nodes:
        meta = node.execution_metadata
        if node.node_type not in USAGE_NODE_TYPES and "total_tokens" not in meta and "total_price" not in meta:
            continue  # no usage block of its own (node_usage) and no totals: it adds nothing (most nodes)
        node_prompt, node_completion, node_total = node_tokens(node)
        prompt += node_prompt or 0
        completion += node_completion or 0
        tokens += node_total or 0
        node_cost, node_currency = node_price(node)
        price += node_cost or 0.0
        currency = currency or node_currency
    usage = run.message_usage or {}
    if not prompt and not completion and usage:
        # A chat app without workflow nodes: the message's usage is the run's.
        prompt = as_int(usage.get("prompt_tokens")) or 0
        completion = as_int(usage.get("completion_tokens")) or 0
        tokens = as_int(usage.get("total_tokens")) or 0
        price, currency = as_number(usage.get("total_price")) or 0.0, usage.get("currency")
    total_tokens = run.total_tokens if run.total_tokens is not None else tokens
    attrs[DIFY_RUN_TOTAL_TOKENS] = total_tokens
    attrs[OI_TOKENS_TOTAL] = total_tokens
    if prompt or completion:
        attrs.update({GEN_AI_INPUT_TOKENS: prompt, GEN_AI_OUTPUT_TOKENS: completion})
        attrs.update({OI_TOKENS_PROMPT: prompt, OI_TOKENS_COMPLETION: completion})
    if currency is not None:
        attrs.update({DIFY_PRICE_TOTAL: round(price, 10), OI_COST_TOTAL: round(price, 10)})
        attrs[DIFY_PRICE_CURRENCY] = currency
    if run.message_usage:
        _put(attrs, DIFY_MESSAGE_USAGE_TOKENS, as_number(run.message_usage.get("total_tokens")))
    if run.retriever_resources:
        attrs[DIFY_RETRIEVER_RESOURCES] = to_json(list(run.retriever_resources))
    return attrs
