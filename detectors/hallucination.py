"""`hallucination`: an LLM answer grounded in sources states numbers found in none of them.

Only answers that had sources are checked: a retrieval earlier in the run, a prompt carrying context, or a
prompt fed data (a number of a run input other than the user's question, or of an earlier tool, HTTP, code
or iteration node's output, in the prompt); creative writing is left alone. A number counts as supported
when its value appears anywhere in the LLM's prompt, the run's inputs, the retrieved documents or the values its
if-else nodes compared with, or the app's earlier runs' documents and answers stated it counting the same (and the
run's own sources count nothing of that kind): written
with either decimal separator ("14,90" and "14.90"), with thousands separators or without, as a number word
("fourteen", "catorce", "十四"), converted between time units ("2 years" as "24 months") or rounded
("437,000", "0.44 million" for 437,303.42); or when it is computed from them (two numbers and more: a sum, a
difference, a multiple by a count the answer or the question states, a share per unit or a percentage, a
worked example at a source's rate, a working the answer shows, a rate times a quantity of what it is per, a
value less or more a source's percentage, a multiple plus a fee per group started, a date or a time of day
moved by a stated duration, a length, weight or volume converted from a source's unit, and a fed JSON table's
totals, averages, shares and quotients: `json_figures`). Single digits
are checked as quantities ("6 seconds", "8%", "7小时") against the sources' numbers, and as counts ("5 saunas")
against the sources' count of the same thing."""

from __future__ import annotations

from collections.abc import Iterator

from detectors import (
    Finding,
    Trace,
    attr,
    prompt_text,
    span_id,
    user_query,
)
from detectors.hallucination_parts.config import KEY as KEY
from detectors.hallucination_parts.config import Config as Config
from detectors.hallucination_parts.data import (
    DATA_NODES,
    fed_data,
    if_else_limits,
    input_figures,
    names,
    record_figures,
    round_numbers,
    run_data,
)
from detectors.hallucination_parts.known import KNOWN, figures_of, learn, orders, unknown
from detectors.hallucination_parts.made_up import figures, made_up, percentages, two_termed
from detectors.hallucination_parts.money import discounted, substituted, unshared_percentages
from detectors.hallucination_parts.support import CODE, unsupported_numbers
from detectors.hallucination_parts.times import HOUR_MINUTE, TIME_RANGE, day_findings, range_moved, time_findings
from detectors.hallucination_parts.told import AFTER_WORD, swapped_findings, told_findings
from detectors.hallucination_parts.units import FIGURE_UNIT, rescaling
from detectors.numbers import (
    all_values,
    ascii_digits,
    claims,
    counts,
    days,
    lengths,
    measured,
    month_days,
    numbers,
    plain,
    quantities,
    readings,
    source_values,
)
from detectors.unpriced import unpriced


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        # On lines of their own: a space between digit groups joins them into one number ("12 345").
        documents = "\n".join(content for _, _, content in trace.documents)
        shared: set[str] | None = None  # numbers of the documents and the run's inputs, read once an answer has any
        root = trace.root
        inputs = str(attr(root, "input.value") or "") if root is not None else ""
        # The run's data (tool, HTTP, code, container outputs) by end time, read once an answer needs it; the
        # LLMs are taken in start order, so what each had before it grows by one pass over the data.
        data: list[tuple[int, str]] | None = None
        outputs: list[str] = []  # the data before the LLM at hand
        written: set[str] = set()  # the numbers of `outputs` and of `workflow`, as written
        workflow = ""  # what the workflow itself counts and compares: its round numbers, its if-else limits
        known = KNOWN.of(trace.baselines, trace.app)  # the app's figures from earlier runs
        told: list[str] = []  # answers from documents or a context, this run, with nothing unsupported
        has_data: bool | None = None  # whether `data_money` reads answers fed only data here (the run has data nodes)
        fetched: list[list[tuple[int, str]]] = []  # the run's data, read once `data_units` or an answer needs it
        bodies = not cfg.data_fed  # HTTP headers left out of it (`run_data`)
        # A retrieval that brought nothing back grounds the LLMs after it all the same: their context was empty, so a
        # figure they state is one the knowledge base did not give them (an age limit answered from no document).
        searched = None
        if cfg.empty_context and not documents:
            searched = min((r.end_time or 0 for r in trace.of_type("knowledge-retrieval")), default=None)
        for span in sorted(trace.llm_spans, key=lambda llm: llm.start_time or 0):
            said = str(attr(span, "llm.output_messages.0.message.content") or "")
            if cfg.data_units and FIGURE_UNIT.search(said) and (fetched := fetched or [run_data(trace, bodies)])[0]:
                yield from rescaling(fetched[0], span, said)
            grounded = (
                bool(documents)
                or "#context#" in str(attr(span, "input.value") or "")
                or (searched is not None and (span.start_time or 0) >= searched)
            )
            if not grounded and cfg.data_times and said.count(":") > 1 and TIME_RANGE.search(said):
                yield from range_moved(span, claims(said), inputs)
            if not (grounded or cfg.data_fed):  # fed only data: read for `data_money`, where data came before it
                if has_data is None:
                    has_data = cfg.data_money and any(attr(n, "dify.node.type") in DATA_NODES for n in trace.nodes)
                # Data nodes that ran after it only (a variable aggregator joining the branches) fed it nothing.
                if not (
                    has_data and (fetched := fetched or [run_data(trace, bodies)])[0][0][0] <= (span.start_time or 0)
                ):
                    if cfg.prompt_facts and any(map(str.isdigit, said)):
                        yield from told_findings(span, inputs, root)
                    continue
            answer = str(attr(span, "llm.output_messages.0.message.content") or "")
            if not (grounded or cfg.data_fed) and cfg.data_times:
                dated = ascii_digits(answer)  # "৩:৩০" is 3:30
                if HOUR_MINUTE.search(dated):
                    yield from time_findings(
                        trace, (fetched := fetched or [run_data(trace, bodies)])[0], span, claims(dated), inputs
                    )
                if (stated_days := days(dated)) or month_days(dated, strict=True):
                    fetched = fetched or [run_data(trace, bodies)]
                    yield from day_findings(trace, fetched[0], span, answer, stated_days, inputs)
            if not (grounded or cfg.data_fed) and cfg.data_swaps and AFTER_WORD.search(answer):
                question = (user_query(root) or "") if root is not None else ""
                fetched = fetched or [run_data(trace, bodies)]
                yield from swapped_findings(trace, fetched[0], span, claims(answer), inputs, question)
            if grounded:
                told.append(answer)  # taken back below if it states a figure unsupported
            if CODE.match(answer):
                continue
            # The answer's numbers first: one stating too few cannot fire, and then no source is read. No
            # number spans a line, so reading the sources apart finds what reading them joined did.
            stating = claims(answer)
            claimed, counted, stated = numbers(stating), counts(stating), quantities(stating)
            whole: set[str] = set()  # fed data only, for `made_up`: every figure of two digits and more
            if fed_only := not (grounded or cfg.data_fed):  # only its sums of money are read (`substituted`)
                money = {
                    token for token, unit in measured(stating) if unit == "money" or (unit == "%" and cfg.data_shares)
                }
                money |= lengths(stating).keys()
                whole = figures(stating) if cfg.data_made_up else set()
                claimed, counted, stated = claimed & money, {}, stated & money
            if len(claimed) + len(counted) + len(stated) < cfg.min_unsupported and len(whole) < 2:
                continue
            if shared is None:
                shared = source_values(documents) | source_values(inputs)
            # Numbers written as digits in a source first (most are): the documents and inputs, the run's data
            # (earlier nodes' outputs, round numbers), then the prompt (the longest source); only what is left
            # is read the slower ways (number words, durations, arithmetic).
            unsupported = {n for n in claimed if shared.isdisjoint(readings(n))}
            whole = {n for n in whole if shared.isdisjoint(readings(n))}
            stated = {d for d in stated if d not in plain(documents) and d not in plain(inputs)}
            if not (unsupported or counted or stated or len(whole) > 1):
                continue
            if data is None:
                data, workflow = (
                    (fetched or [run_data(trace, bodies)])[0],
                    f"{round_numbers(trace)}\n{if_else_limits(trace)}",
                )
                written.update(plain(workflow))
            while len(outputs) < len(data) and data[len(outputs)][0] <= (span.start_time or 0):
                outputs.append(data[len(outputs)][1])
                written.update(plain(outputs[-1]))
            unsupported = {n for n in unsupported if written.isdisjoint(readings(n))}
            whole = {n for n in whole if written.isdisjoint(readings(n))}
            stated -= written
            if not (unsupported or counted or stated or len(whole) > 1):
                continue
            prompt = prompt_text(span)
            in_prompt = plain(prompt)
            unsupported = {n for n in unsupported if in_prompt.isdisjoint(readings(n))}
            whole = {n for n in whole if in_prompt.isdisjoint(readings(n))}
            stated -= in_prompt
            if not (unsupported or counted or stated or len(whole) > 1):
                continue
            sources = [documents, inputs, prompt, *outputs, workflow]
            question = (user_query(root) or "") if root is not None else ""
            unwritten = unsupported  # in no source as written, before the arithmetic (`discounted`)
            unsupported, miscounted = unsupported_numbers(answer, unsupported, stated, counted, sources, question)
            # After an empty retrieval nothing of the app's knowledge reached the answer: its figures excuse none.
            if unsupported and known and searched is None:
                unsupported = unknown(unsupported, stating, known, sources)
            replaced: dict[str, float] = {}  # fed data only: a sum of money standing for the data's figure
            cut: dict[str, list[float]] = {}  # fed data only: a sum of money a source's figure less a share none gives
            shares: set[str] = set()  # fed data only: a percentage where no source states a share or a rate
            priced: set[str] = set()  # fed data only: a sum of money where no source states one
            made: set[str] = set()  # fed data only: two figures and more in the data's terms, in no source
            if fed_only:
                # A sum the answer works out of its sourced figures (two rows added, a total over its units) stands in
                # for no figure of the data and prices nothing the data left bare; its unsourced ones are no terms
                # ("389 Kč a m², 12 m², so 4668 Kč": the price is made up, and the total with it).
                terms = all_values(stating) - {float(r) for n in unsupported for r in readings(n)}
                own = {n for n in unsupported if not two_termed(n, terms, percentages(stating), products=False)}
                replaced = substituted(stating, own, outputs, prompt)
                # Read before the arithmetic, which takes a source's figure less the answer's own percentage for a
                # working: the reduction is the made-up part ("12 % off for cash, so ₹4,312" on the data's ₹4,900).
                cut = {} if replaced else discounted(stating, unwritten, sources)
                # An answer naming what its data names (a topic's title, a route) speaks of the data, whose
                # figures it may restate none of: a price or a share it adds was made up all the same.
                named = not (replaced or cut) and names(answer, outputs)
                shares = (
                    set() if replaced or cut else unshared_percentages(stating, unsupported, sources, outputs, named)
                )
                if cfg.data_prices and not (replaced or cut or shares):
                    # The run's inputs fed in are data too: an answer restating a booking's date the input gives
                    # speaks of the data ("10/01/2027" for "2027-01-10").
                    given = record_figures(outputs) | input_figures(trace)
                    priced = unpriced(stating, own, sources, given, named)
                if len(whole) > 1 and not (replaced or cut or shares or priced):
                    made = made_up(stating, whole, sources, prompt, question, known)
                unsupported, miscounted = set(replaced) | set(cut) | shares | priced | made, {}
            if len(unsupported) + len(miscounted) < cfg.min_unsupported:
                continue
            # Checked only where the answer had sources: retrieved documents, a context, or data in its prompt.
            # Data of names and titles (no figure of two digits) feeds an answer all the same: read for its rules of
            # answers fed only data (with `data_fed` on, every figure of such answers would be read).
            if not (grounded or fed_data(trace, prompt, outputs) or (fed_only and names(prompt, outputs))):
                continue
            if grounded:
                told.pop()
            listed = sorted(unsupported) + [f"{'/'.join(c['answer'])} {thing}…" for thing, c in miscounted.items()]
            rule = " and ".join(
                [
                    *(
                        [
                            "a length, weight or volume in an answer fed data is in no source, where a figure of the "
                            "data with its unit goes unsaid"
                            if replaced.keys() & lengths(stating).keys()
                            else "a sum of money in an answer fed data is in no source, where a figure of the data "
                            "goes unsaid"
                        ]
                        if replaced
                        else [
                            "a sum of money in an answer fed data is a source's figure less a percentage no source "
                            "states"
                        ]
                        if cut
                        else ["a percentage in an answer fed data is in no source, which state no share nor rate"]
                        if shares
                        else ["a sum of money in an answer fed data is in no source, which state no sum of money"]
                        if priced
                        else [
                            "figures in an answer fed data, two and more, are in no source nor computed from them, "
                            "one written beside a word its prompt writes a figure beside"
                        ]
                        if made
                        else ["a number in the answer is in no source nor computed from their numbers"]
                        if unsupported
                        else []
                    ),
                    *(
                        ["a count in the answer differs from the sources' count of the same thing"]
                        if miscounted
                        else []
                    ),
                ]
            )
            yield Finding(
                KEY, "medium", min(0.6 + 0.1 * len(listed), 0.95),
                f"LLM node '{attr(span, 'dify.node.title', span.name)}' states {', '.join(listed[:5])} "
                "found in none of its sources; check the answer against its documents, inputs and data.",
                {"node": attr(span, "dify.node.title", span.name), "rule": rule,
                 "unsupported": sorted(unsupported)[:20], "miscounted": miscounted, "answer": answer[:200],
                 **({"in_place_of": replaced} if replaced else {}), **({"less_a_share": cut} if cut else {})},
                span_id(span),
            )  # fmt: skip
        if documents or told:
            # A document addressing orders to the model (`dify_rag_poisoning`'s reading) states no fact of the app's.
            texts = [content for _, _, content in trace.documents if not orders(content)]
            texts += [claims(answer) for answer in told]
            learn(trace, frozenset().union(*map(figures_of, texts)))

    return detect
