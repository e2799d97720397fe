"""`likeness`: one reading of languages for the detectors that compare texts, in scripts and languages beyond the
first ones written for, and words kept whole across combining marks."""

from __future__ import annotations

import pytest

from detectors.likeness import features, language, leaning


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("Hvordan kan jeg bestille en tid hos lægen, og hvad koster det ikke?", "da"),
        ("Com puc reservar una taula per dos dels dies? També vull saber el preu.", "ca"),
        ("Kako mogu rezervirati stol? Koji je cijena i što nije uključeno?", "hr"),
        ("Kuidas ma saan broneerida? Mis on hind ja kui palju maksab?", "et"),
        ("Kaip galiu užsisakyti? Kokia kaina ir kad tai būtų pigu?", "lt"),
        ("Hvernig bóka ég borð? Hvað kostar það fyrir tvo?", "is"),
        ("Bagaimana saya boleh menempah meja? Sila beritahu harga.", "id"),
        ("எனது கட்டணம் எவ்வளவு?", "ta"),
        ("আমার বিল কত টাকা?", "bengali"),
        ("ჩემი ანგარიში რამდენია?", "ka"),
        ("Hogy tudok asztalt foglalni? Mennyi az ár, és csak készpénz van?", "hu"),
        ("Ako si môžem rezervovať stôl? Čo stojí a ktorý deň sme otvorení?", "sk"),
        ("Paano ako magpapareserba ng mesa? Ito ba ang presyo ng mga pagkain?", "tl"),
        ("Si mund të rezervoj një tavolinë? Sa kushton dhe a është e hapur?", "sq"),
        ("నా బిల్లు ఎంత?", "te"),
        ("ನನ್ನ ಬಿಲ್ ಎಷ್ಟು?", "kn"),
        ("എന്റെ ബിൽ എത്ര?", "ml"),
        ("මගේ බිල කීයද?", "si"),
        ("મારું બિલ કેટલું છે?", "gujarati"),
        ("ਮੇਰਾ ਬਿੱਲ ਕਿੰਨਾ ਹੈ?", "gurmukhi"),
        ("ମୋର ବିଲ୍ କେତେ?", "oriya"),
        ("ໃບບິນຂອງຂ້ອຍເທົ່າໃດ?", "lo"),
        ("ကျွန်ုပ်၏ ငွေတောင်းခံလွှာ", "my"),
        ("វិក្កយបត្ររបស់ខ្ញុំ", "km"),
        ("Իմ հաշիվը որքա՞ն է", "hy"),
        ("የእኔ ሂሳብ ስንት ነው?", "ethiopic"),
        ("How do I reset the router and what does it cost?", "en"),
    ],
)
def test_languages_told_by_script_or_by_words_no_other_list_writes(text: str, told: str) -> None:
    assert language(text) == told


def test_a_short_clause_is_told_leniently_but_not_by_a_tie() -> None:
    assert language("Neue Dokumente werden montags eingespielt") is None
    assert leaning("Neue Dokumente werden montags eingespielt") == "de"
    # "el" is Spanish's, "and" English's: one each tells neither.
    assert leaning("Paella and el vino") is None


def test_a_word_keeps_its_vowel_signs() -> None:
    """`\\w` stops at Tamil's and Devanagari's vowel signs: each word read whole is one feature, not its pieces."""
    assert {"விலை", "அதிகம"} <= features("விலை அதிகம்")
    assert "मुआवज" in features("मुआवज़ा मिलेगा")
