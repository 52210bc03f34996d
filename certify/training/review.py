"""When a missed question comes back: the wrong-answer book on FSRS spaced repetition.

A question missed in practice is due again the next day; each time it is answered right it
stays away longer (2 days, 6 days, …), and a miss brings it back the next day. The worker sees
"今天要复习 N 题": the questions due by the end of their local day. The schedule is the `fsrs`
library's, with day-sized steps (a worker practises once a day, not every ten minutes) and
no random fuzz, so the same answers give the same dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fsrs import Card, Rating, Scheduler

from certify.core import clock

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def _card(state: dict | None) -> Card:
    return Card.from_dict(state) if state else Card()


def reviewed(state: dict | None, remembered: bool, at: datetime) -> tuple[dict, datetime]:
    """The card after one answer (missed: Again; right: Good) and when it is due next."""
    rating = Rating.Good if remembered else Rating.Again
    card, _log = SCHEDULER.review_card(_card(state), rating, at)
    return card.to_dict(), card.due


def end_of_today(now: datetime | None = None) -> datetime:
    """The end of the worker's local day: what is due by then is 今天要复习."""
    local = clock.local(now or clock.now())
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=clock.LOCAL_TZ)
    return tomorrow.astimezone(UTC)
