"""The dashboard: per day for 30 days, questions received, replies sent, overdue questions and
time to reply, as server-drawn SVG charts with the same figures in a table, and as CSV.

The charts are plain SVG drawn here (no script): each has a title and a
description for screen readers, and every value is in the table below it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Blueprint, Response, render_template

from consultant.cases.stats import Dashboard, DayStats, dashboard
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.context import services

bp = Blueprint("dashboard", __name__)

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 34, 12, 32
VOLUME = (("received", "Received"), ("sent", "Sent"), ("overdue", "Overdue"))
TIMES = (("median_hours", "Median"), ("p90_hours", "90th percentile"))
LABEL_EVERY = 5  # days between the dates written under a chart


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    label: str  # what a pointer hover shows (the SVG <title>)


@dataclass(frozen=True)
class Line:
    series: str
    points: str  # one polyline run: a day without a value breaks the line
    dots: list[tuple[float, float, str]]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_right: float
    baseline: float
    ticks: list[Tick]
    days: list[tuple[float, str]]  # x and the date written under the axis
    bars: list[Bar]
    lines: list[Line]


def nice_top(value: float, whole: bool, least: float) -> float:
    """The top of an axis with four equal round steps (1 to 10 times a power of ten), at
    least ``value`` and ``least``; with ``whole`` the steps are whole numbers (counts)."""
    needed = max(value, least) / 4
    power = 10 ** math.floor(math.log10(needed))
    steps = (1, 2, 3, 4, 5, 6, 8, 10) if whole else (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    step = next(s * power for s in steps if s * power >= needed)
    return 4 * (max(step, 1) if whole else step)


def _frame(top: float) -> tuple[float, float, list[Tick], Callable[[float], float]]:
    plot_h = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)

    def y(value: float) -> float:
        return round(baseline - value / top * plot_h, 1)

    ticks = [Tick(y(top * n / 4), f"{top * n / 4:g}") for n in range(5)]
    return baseline, float(WIDTH - RIGHT), ticks, y


def _day_slots(days: Sequence[DayStats]) -> tuple[float, list[tuple[float, str]]]:
    slot = (WIDTH - LEFT - RIGHT) / len(days)
    labels = [
        (round(LEFT + slot * (n + 0.5), 1), day.day.strftime("%b %d"))
        for n, day in enumerate(days)
        if (len(days) - 1 - n) % LABEL_EVERY == 0
    ]
    return slot, labels


def volume_chart(days: Sequence[DayStats]) -> Chart:
    """Grouped bars per day: received, sent, overdue."""
    top = nice_top(max(getattr(d, key) for d in days for key, _ in VOLUME), True, 4)
    baseline, right, ticks, y = _frame(top)
    slot, labels = _day_slots(days)
    width = slot * 0.8 / len(VOLUME)
    bars = []
    for n, day in enumerate(days):
        for k, (key, name) in enumerate(VOLUME):
            value = getattr(day, key)
            x = LEFT + slot * n + slot * 0.1 + width * k
            bars.append(
                Bar(
                    key,
                    round(x, 1),
                    y(value),
                    round(width, 1),
                    round(baseline - y(value), 1),
                    f"{day.day:%b %d}: {value} {name.lower()}",
                )
            )
    return Chart(WIDTH, HEIGHT, LEFT, right, baseline, ticks, labels, bars, [])


def time_chart(days: Sequence[DayStats]) -> Chart:
    """Lines per day: median and 90th percentile hours from question to reply."""
    values = [getattr(d, key) for d in days for key, _ in TIMES]
    top = nice_top(max((v for v in values if v is not None), default=0), False, 1)
    baseline, right, ticks, y = _frame(top)
    slot, labels = _day_slots(days)
    lines = []
    for key, name in TIMES:
        runs: list[list[tuple[float, float, str]]] = [[]]
        for n, day in enumerate(days):
            value = getattr(day, key)
            if value is None:
                runs.append([])
                continue
            x = round(LEFT + slot * (n + 0.5), 1)
            runs[-1].append((x, y(value), f"{day.day:%b %d}: {name.lower()} {value:.1f} h"))
        for run in (r for r in runs if r):
            points = " ".join(f"{x},{yy}" for x, yy, _ in run)
            lines.append(Line(key, points, run))
    return Chart(WIDTH, HEIGHT, LEFT, right, baseline, ticks, labels, [], lines)


def hours(value: float | None) -> str:
    """A time to reply as people say it: ``-`` (no reply), ``40 min``, ``5.5 h``."""
    if value is None:
        return "-"
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"


def _figures() -> Dashboard:
    with services().db.read_session() as session:
        return dashboard(session, services().settings)


@bp.route("/dashboard")
@roles_required(*REVIEWERS)
def index() -> str:
    board = _figures()
    return render_template(
        "dashboard.html",
        board=board,
        volume=volume_chart(board.days),
        times=time_chart(board.days),
        volume_series=VOLUME,
        time_series=TIMES,
        hours=hours,
    )


@bp.route("/dashboard.csv")
@roles_required(*REVIEWERS)
def as_csv() -> Response:
    board = _figures()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["day", "received", "sent", "overdue", "median_hours", "p90_hours"])
    for day in board.days:
        writer.writerow(
            [
                day.day.isoformat(),
                day.received,
                day.sent,
                day.overdue,
                "" if day.median_hours is None else f"{day.median_hours:.2f}",
                "" if day.p90_hours is None else f"{day.p90_hours:.2f}",
            ]
        )
    name = f"caseconsultant-dashboard-{board.days[-1].day.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
