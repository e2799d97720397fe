"""Held-out corpus 12's `matricula`: a Valencia Spanish school's enrolment desk, re-skinned from a recorded ticket
run (parameter extractor → HTTP POST → code → LLM → end)."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.detectors.heldout12_chat import MODEL, OVERFLOW, switched_model
from tests.detectors.heldout12_labels import Rules
from tests.detectors.heldout12_replay import (
    Event,
    finished,
    load,
    reprice,
    retitle,
    retried,
    set_answer,
    set_llm,
    stop_at,
)  # fmt: skip

RECORDING = "dify-1.14.1-faults4/tickets_clean_1.sse"
SYSTEM = (
    "Eres la secretaría de la Escuela Turia de Español (Valencia). Confirma la matrícula en el idioma de la "
    "solicitud. Teléfono de secretaría: +34 963 52 18 40."
)
COURSES = {
    "B1-INT-07": ("Español B1 intensivo de julio", 340.0), "B2-INT-07": ("Español B2 intensivo de julio", 360.0),
    "DELE-C1": ("Preparación DELE C1", 420.0), "CONV-A2": ("Conversación A2 de tarde", 180.0),
    "CULT-A2": ("Cultura valenciana y español A2", 210.0),
}  # fmt: skip
REQUESTS = (
    "Quiero inscribirme en el curso {code}, somos {n} personas, modalidad {m}.",
    "Hola, me gustaría matricular a {n} alumnos en {name} ({code}), {m} por favor.",
    "¿Puedo reservar {n} plazas del curso {code} en modalidad {m}?",
    "Buenas tardes: necesito {n} plaza(s) para {code}, {m}.",
)
STUDENTS = ("lucia.martin@correo.es", "pablo.gil@correo.es", "ana.ferrer@correo.es", "sergio.navarro@correo.es")
OTHERS = (
    ("marta.soler@correo.es", "+34 611 204 377", "48291736K"),
    ("javier.roig@correo.es", "+34 655 908 112", "20637415M"),
)
PARAMETERS = [
    {"name": "course", "type": "string", "options": None, "description": "el código del curso, p. ej. B2-INT-07",
     "required": True},
    {"name": "people", "type": "number", "options": None, "description": "cuántas plazas", "required": True},
    {"name": "modality", "type": "string", "options": None, "description": "presencial u online", "required": True},
]  # fmt: skip


def _sent(events: list[Event]) -> Any:
    (http,) = finished(events, "httpT")
    return json.loads(str(http["process_data"]["request"]).split("\r\n\r\n", 1)[1])


def _mismatched(events: list[Event]) -> bool:
    """The total's reader declares `enrollment` and `unit_price_eur` in the enrolment service's answer."""
    calls = [d for d in finished(events, "httpT") if d["status"] == "succeeded"]
    if not calls:
        return False
    body = json.loads(calls[0]["outputs"]["body"])
    return not isinstance(body, dict) or not {"enrollment", "unit_price_eur"} <= set(body)


def _corrupted(events: list[Event]) -> bool:
    """The seats extracted are not the seats sent, or the total computed is not the total the LLM was shown."""
    pe, tot = finished(events, "pe"), finished(events, "tot")
    if not tot or pe[0]["status"] != "succeeded":
        return False
    shown = str(finished(events, "llm")[0]["process_data"]["prompts"][-1]["text"])
    sent = _sent(events)["people"]
    return pe[0]["outputs"]["people"] != sent or f"= {tot[0]['outputs']['total']} EUR" not in shown


RULES = Rules(
    vocabulary=("matrícula", "curso", "inscrip", "escuela", "plaza"),
    others=tuple(v for other in OTHERS for v in other),
    checks={"dify_tool_schema_mismatch": _mismatched, "state_corruption": _corrupted},
)


def _extract_prompt(request: str) -> str:
    schema = {"type": "object", "properties": {p["name"]: {"description": p["description"], "type": p["type"]}
              for p in PARAMETERS}, "required": [p["name"] for p in PARAMETERS]}  # fmt: skip
    return (
        "### Structure\nHere is the structure of the JSON object, you should always follow the structure.\n"
        f"<structure>\n{json.dumps(schema, ensure_ascii=False)}\n</structure>\n\n### Text to be converted to JSON\n"
        "Inside <text></text> XML tags, there is a text that you should convert to a JSON object.\n"
        f"<text>\n{request}\n</text>"
    )


def turn(rng: random.Random, kind: str) -> tuple[list[Event], frozenset[str]]:
    """One run of `matricula`: `kind` is clean, warmup, hn:<variant> or a fault."""
    code = rng.choice(sorted(COURSES))
    name, unit = COURSES[code]
    n, modality, email = rng.randint(1, 4), rng.choice(("presencial", "online")), rng.choice(STUDENTS)
    if kind.startswith("state_corruption."):
        n = rng.randint(2, 4)
    request = rng.choice(REQUESTS).format(code=code, n=n, m=modality, name=name)
    if kind == "hn:dify_variable_leak.own_dni":
        request += " Mi DNI es 24517839W."
    enrollment = f"MT-{rng.randint(1000, 9999)}"
    extracted: dict[str, Any] = {"course": code, "people": n, "modality": modality}
    sent = {**extracted, "email": email}
    if kind == "state_corruption.people_lost":
        sent["people"] = 1
    elif kind == "state_corruption.type_changed":
        sent["people"] = str(n)
    seats = int(sent["people"])
    body: dict[str, Any] = {"status": "confirmed", "enrollment": enrollment, "course": name, "course_id": code,
                            "people": sent["people"], "modality": modality, "unit_price_eur": unit}  # fmt: skip
    other = rng.choice(OTHERS)
    if kind == "hn:dify_tool_schema_mismatch.added_field":
        body.update(aula=f"{rng.randint(1, 6)}B", profesora="Lucía Ferrer")
    elif kind == "dify_tool_schema_mismatch.price_object":
        body["price"] = {"amount": body.pop("unit_price_eur"), "currency": "EUR"}
    elif kind == "dify_tool_schema_mismatch.renamed_id":
        body["enrollment_id"] = body.pop("enrollment")
    elif kind == "dify_variable_leak.other_student":
        body["contacto"] = {"email": other[0], "telefono": other[1], "dni": other[2]}
    read_unit = float(body.get("unit_price_eur", 0.0))
    total = round(read_unit * seats, 2)
    computed = {"enrollment": body.get("enrollment"), "course": name, "unit_price": read_unit, "total": total}
    shown_total = read_unit if kind == "state_corruption.stale_total" else total
    text = json.dumps(body, ensure_ascii=False)
    answer = (
        f"Tu matrícula {computed['enrollment']} en {name} está confirmada: {seats} x {read_unit:.2f} = "
        f"{shown_total:.2f} EUR. Te enviaremos los detalles a {email}."
    )
    if kind == "dify_variable_leak.other_student":
        answer = answer.replace(
            email, rng.choice((other[0], f"{other[0]} ({other[1]})", f"DNI {other[2]}, {other[0]}"))
        )
    elif kind == "hallucination.discount":
        answer += f" Con el 15 % de descuento de verano pagarás {shown_total * 0.85:.2f} EUR."
    elif kind == "hn:dify_variable_leak.business_phone":
        answer += " Para cualquier duda, llama a secretaría: +34 963 52 18 40."
    elif kind == "hn:dify_variable_leak.own_dni":
        answer += " Hemos registrado tu DNI 24517839W."

    events = load(RECORDING)
    retitle(
        events,
        "matricula-web",
        {"pe": "Extraer matrícula", "httpT": "Servicio de matrícula", "tot": "Total", "llm": "Confirmación"},
    )
    events[0]["data"]["inputs"].update(request=request, email=email)
    (start,) = finished(events, "start")
    start["inputs"] = start["outputs"] = {"request": request, "email": email}
    (pe,) = finished(events, "pe")
    pe["inputs"].update(query=request, parameters=PARAMETERS, instruction="Extrae la matrícula.")
    pe_system = str(pe["process_data"]["prompts"][0]["text"]).replace(
        "Extract the ticket order.", "Extrae la matrícula."
    )
    set_llm(pe, [pe_system, _extract_prompt(request)], json.dumps(extracted), MODEL)
    pe["process_data"]["llm_text"] = json.dumps(extracted)
    pe["outputs"] = {**{k: v for k, v in pe["outputs"].items() if k.startswith("__")}, **extracted}
    (http,) = finished(events, "httpT")
    payload = json.dumps(sent, ensure_ascii=False)
    http["process_data"]["request"] = (
        "POST /enroll HTTP/1.1\r\nHost: 127.0.0.1:8965\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload.encode())}\r\n\r\n{payload}"
    )
    http["outputs"]["body"] = text
    http["outputs"]["headers"]["content-length"] = str(len(text.encode()))
    (tot,) = finished(events, "tot")
    tot.update(inputs={"body": text, "seats": seats}, outputs=computed)
    (llm,) = finished(events, "llm")
    user = (
        f"Solicitud: {request}\nMatrícula {computed['enrollment']}: {name}, {seats} x {read_unit} EUR = "
        f"{shown_total} EUR\nRespuesta del sistema: {text}\nEscribe la confirmación."
    )
    set_llm(llm, [SYSTEM, user], answer, MODEL)
    set_answer(events, answer, {"reply": answer, "total": total})

    if kind == "hn:loop.retry_recovered":
        retried(events, "httpT", "HTTP 502 Bad Gateway from http://127.0.0.1:8965/enroll", rng.randint(1, 3))
    elif model := switched_model(kind, rng):
        reprice(rng.choice((pe, llm)), model)
    elif kind == "cost.stuffed":  # a whole PDF pasted as the request
        big = rng.randint(36_000, 90_000)
        reprice(pe, prompt_tokens=big)
        reprice(llm, prompt_tokens=big + 150)
    elif kind == "context_overflow.near_window":
        reprice(pe, prompt_tokens=rng.randint(116_000, 127_500))
    elif kind == "context_overflow.refused":
        stop_at(events, "pe", OVERFLOW.replace("{n}", str(rng.randint(128_100, 210_000))))
    elif kind == "hn:context_overflow.max_tokens":
        reprice(llm, completion_tokens=300, finish="length")
    return events, frozenset()
