"""The picture a billing dispute is settled with: one number's messages over time, coloured by who pays for them,
with the instant its holder changed marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.dates as mdates  # noqa: E402 - the backend must be chosen first
import matplotlib.pyplot as plt  # noqa: E402

from services.billing.reports import Traffic  # noqa: E402

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")


def draw(traffic: Traffic, phone_number: str, out: Path) -> None:
    """Stacked bars per partner and bucket; a dashed line and a label at each holder change."""
    partners = sorted({partner for _, partner, _ in traffic.buckets},
                      key=lambda p: min(start for start, who, _ in traffic.buckets if who == p))
    starts = sorted({start for start, _, _ in traffic.buckets})
    counts = {(start, partner): n for start, partner, n in traffic.buckets}
    figure, axes = plt.subplots(figsize=(10, 4.5), dpi=110)
    width = traffic.bucket.total_seconds() / 86_400 * 0.9  # matplotlib's date unit is a day
    bottom = [0] * len(starts)
    for index, partner in enumerate(partners):
        heights = [counts.get((start, partner), 0) for start in starts]
        axes.bar(starts, heights, width=width, bottom=bottom, align="edge", label=partner,
                 color=COLOURS[index % len(COLOURS)])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for instant, source, destination in traffic.changes:
        axes.axvline(instant, color="black", linestyle="--", linewidth=1.2)
        axes.annotate(f"migration complete {instant:%H:%M:%S.%f}"[:-3] + f" UTC\n{source} → {destination}",
                      (instant, max(bottom or [1]) * 1.4), xytext=(6, 0), textcoords="offset points", va="top",
                      fontsize=8)
    total = sum(n for _, _, n in traffic.buckets)
    axes.set_ylim(0, max(bottom or [1]) * 1.45)  # room above the bars for the legend and the labels
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"{phone_number}: {total} attributed messages by send instant, per partner")
    axes.set_ylabel(f"messages per {traffic.bucket.total_seconds():.0f} s")
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes.set_xlabel("sent at (UTC, Meta's timestamps)")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
