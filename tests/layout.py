"""Text that a reader cannot read: outside the canvas, over another text or over a legend."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

TOLERANCE = 1.0  # pixels: anti-aliasing and rounding, not an overlap a reader sees


def drawn_texts(fig) -> list:
    """Every text artist the figure actually draws (not the spare tick labels matplotlib keeps),
    with the figure laid out as it is saved. Recorded as each text draws itself: the renderer's
    ``draw_text`` is told which artist it draws only for single-line texts, so a wrapped title
    would be missed there."""
    canvas = FigureCanvasAgg(fig) if not isinstance(fig.canvas, FigureCanvasAgg) else fig.canvas
    renderer = canvas.get_renderer()
    drawn, draw = [], Text.draw

    def recording(self, renderer, *args, **kwargs):
        if self.get_visible() and self.get_text().strip() and self not in drawn:
            drawn.append(self)
        return draw(self, renderer, *args, **kwargs)

    Text.draw = recording
    try:
        fig.draw(renderer)
    finally:
        Text.draw = draw
    return [(t, t.get_window_extent(renderer)) for t in drawn], renderer


def _overlap(a, b) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE
            and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE)


def _legends(fig) -> list:
    found = list(fig.legends)
    for ax in fig.axes:
        if ax.get_visible() and ax.get_legend() is not None:
            found.append(ax.get_legend())
    return found


def text_faults(fig) -> list[str]:
    """What a reader would find wrong with ``fig``'s text: each text outside the canvas, each
    pair of texts that overlap, each text over a legend it does not belong to. Empty if none."""
    texts, renderer = drawn_texts(fig)
    canvas = fig.bbox
    faults = []
    for t, box in texts:
        if (box.x0 < canvas.x0 - TOLERANCE or box.y0 < canvas.y0 - TOLERANCE
                or box.x1 > canvas.x1 + TOLERANCE or box.y1 > canvas.y1 + TOLERANCE):
            faults.append(f"outside the canvas: {t.get_text()!r}")
    for i, (a, box_a) in enumerate(texts):
        for b, box_b in texts[i + 1:]:
            if _overlap(box_a, box_b):
                faults.append(f"overlap: {a.get_text()!r} and {b.get_text()!r}")
    for legend in _legends(fig):
        own = {id(t) for t in legend.get_texts()} | {id(legend.get_title())}
        frame = legend.get_window_extent(renderer)
        for t, box in texts:
            if id(t) not in own and _overlap(box, frame):
                faults.append(f"over a legend: {t.get_text()!r}")
    return faults
