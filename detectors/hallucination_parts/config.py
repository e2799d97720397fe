"""`hallucination`'s key and settings."""

from __future__ import annotations

from pydantic import Field

from detectors import (
    DetectorConfig,
)

KEY = "hallucination"


class Config(DetectorConfig):
    # On by default since session 22 (below); off before (issue 25: a detector over 1 % of clean held-out runs
    # flagged ships disabled). Session 18 read
    # what made held-out 5's and 6's clean answers look unsupported (counts written as words, currencies written
    # first, times of day and durations in other notations, phone numbers and links); held-out 7, scored untouched
    # after, had 12.6 % (docs/detectors.md). Session 20 read the figures right answers work out (a working shown, a
    # rate times a quantity, a share off, a date moved, a unit converted): held-out 7 0.2 %, 8 1.5 %. Session 21 read
    # the real recordings' 7 clean alarms (the app's figures of earlier runs, a booking's end time, an if-else's
    # limit) and held-out 8's (a fee per group started, 30,000원입니다 as money, dimensions in inches): every
    # development corpus at most 0.4 % with it on, but held-out 10, scored blind, 2.0 % (10 of 503). Session 22: a
    # fee a day times the days, held-out 10 0 %; then held-out 11 and the fifth real recording, scored blind: 1 of
    # 551 and 0 of 40 clean runs flagged, so it ships on. The one clean real answer it flags states printer prices
    # of a segment no run retrieved (faults3's faq_clean_8), which we read as an answer its run was not given.
    enabled: bool = True
    # Fire at this many unsupported numbers in one answer.
    min_unsupported: int = Field(default=1, ge=1)
    # Also check answers whose only sources are data fed into the prompt (a run input other than the question,
    # an earlier tool, HTTP or code node's output). Off by default: with fed tables' totals, averages, shares and
    # quotients read (`json_figures`) it flagged no clean run of the corpora it was written from, but 3.5 % of
    # held-out 5's, scored untouched, and 23 % of held-out 6's (a tutor's worked sums, a solar quote's yields
    # from a formula in the prompt: answers fed data compute more than is read; docs/detectors.md).
    data_fed: bool = False
    # With `data_fed` off, still check an answer fed only data for a sum of money stated in place of a figure of its
    # data (`substituted`, session 23): the real recordings' wrong totals and invented prices (7 more found, no
    # clean run flagged on any corpus or recording), but held-out 11 labels the same shape (a code node's
    # compensation restated wrong) `state_corruption`: 15 of its runs so labelled get this finding too. Also read: a
    # length, weight or volume in place of one the data writes with its unit (det-halluc8: `fleet_invented`).
    data_money: bool = True
    # Check every answer for a figure of the data restated with the unit it is mistaken for (the API's `81 F` as
    # `81 C`, `12 km` as `12 mi`: `rescaling`, session 23): the figure is kept, so no other rule sees it.
    data_units: bool = True
    # Check an answer fed only data for a time to the minute (`11:40`; whole hours are worked out from slots) where
    # none of its sources writes a time of day (`time_findings`, session 23): the data timed nothing, the minute is
    # made up; and an answer without documents or context for a range of times with one end moved from its prompt's
    # range to a time no source gives (`range_moved`, session 24). Session 26: times in any script's digits ("৩:৩০"),
    # and a calendar day ("12月21日", "2026-12-21") where no source writes a day (`day_findings`: an invented due date).
    data_times: bool = True
    # Check an answer fed only data for a figure written after the word its prompt writes another after, the
    # prompt's unsaid and the answer's in no source (`swapped_findings`, session 24): the data's value restated with
    # another.
    data_swaps: bool = True
    # Check an answer with no document, context or data whose system message states the app's facts with figures
    # for a sum of money, a time to the minute, or a duration in a time unit it states one in, none of its prompt
    # gives (`told_findings`, session 24).
    prompt_facts: bool = True
    # With `data_fed` off, still check an answer fed only data for a percentage in no source nor computed from them
    # where no source states a percentage or a rate (`unshared_percentages`, session 25: held-out 14's "10 % bonus" on
    # a top-up receipt, "99.2 % efficiency" in a daily report).
    data_shares: bool = True
    # With `data_fed` off, still check an answer fed only data for a sum of money in no source nor computed from them
    # where no source states a sum of money at all (`detectors/unpriced.py`, session 26: held-out 16's meter desk
    # billing "1.487 kr." from readings that price nothing).
    data_prices: bool = True
    # Also check an answer after a knowledge retrieval that brought nothing back (its context empty) as one grounded
    # in documents, and let no figure of the app's earlier runs excuse it: nothing was retrieved, so a figure it states
    # is one the knowledge base did not give it (faults10's `sund_ungrounded_age`). Off until session 29: faults3-6
    # label the business's true hours so answered clean; on since, by the numbers (docs/detectors.md, Session 29):
    # held-out 14-16/19/20, faults10/11/14 label "in none of the run's prompts" a hallucination, and held-out 19 and 20
    # alone gain 18 found runs against faults3-6/9's 6 clean runs of the older convention flagged.
    empty_context: bool = True
    # With `data_fed` off, still check an answer fed only data for two figures and more (two digits and more) in no
    # source nor computed from them, one written beside a word its prompt writes a figure beside (`made_up`, session
    # 28: held-out 18's "412.5 kg" total and per-kilo rate for the data's 41.6 kg, a meter's "18.4 m³" and bill for
    # its 9.79 m³, their units or currencies in words the number reader does not read).
    data_made_up: bool = True
