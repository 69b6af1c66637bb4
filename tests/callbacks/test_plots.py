import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

from cmvoice_nb.callbacks import AnalysisError, load_callbacks
from cmvoice_nb.callbacks.plots import (
    OUTCOME_COLORS,
    plot_answer_rate_by_hour,
    plot_funnel,
    plot_outcomes,
    plot_ring_time,
)

from ._factory import T0, callback


@pytest.fixture
def calls():
    items = [callback(i, app=("notification", "otp", "dtmf")[i % 3], code=9 + i % 4, ring_s=1 + i,
                      start=T0.replace(hour=8 + i % 5)) for i in range(24)]
    return load_callbacks(items)


def open_pyplot_figures():
    import matplotlib.pyplot as plt

    return len(plt.get_fignums())


def test_outcome_bars_have_one_bar_per_outcome_in_its_colour(calls):
    fig = plot_outcomes(calls)
    assert isinstance(fig, Figure)
    bars = fig.axes[0].patches
    assert [round(b.get_height()) for b in bars] == [6, 6, 6, 6, 0]
    assert matplotlib.colors.to_hex(bars[1].get_facecolor()) == OUTCOME_COLORS["Finished"]


def test_outcomes_by_app_are_stacked_with_a_legend(calls):
    fig = plot_outcomes(calls, by="app")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dtmf", "notification", "otp"]
    assert ax.get_legend() is not None


def test_answer_rate_by_hour_has_24_bars_with_the_rates(calls):
    fig = plot_answer_rate_by_hour(calls)
    heights = [b.get_height() for b in fig.axes[0].patches]
    assert len(heights) == 24
    expected = calls.assign(h=calls["started_on"].dt.hour).groupby("h")["answered"].mean()
    for hour, rate in expected.items():
        assert heights[hour] == pytest.approx(rate)


def test_ring_time_histogram_counts_every_call(calls):
    fig = plot_ring_time(calls, bins=10)
    total = sum(b.get_height() for b in fig.axes[0].patches)
    assert total == len(calls)


def stages_table(rows):
    """A funnel's stages table as cmvoice_nb.funnel builds it (rows per stage, share of sent)."""
    names = ["rows", "sent", "queued", "callback received", "answered"][: len(rows)]
    sent = rows[1] if len(rows) > 1 else 0
    return pd.DataFrame({"stage": names, "rows": rows,
                         "share_of_sent": [float("nan")] + [n / sent if sent else float("nan") for n in rows[1:]]})


def test_funnel_plot_shows_each_stage_widest_first():
    stages = stages_table([30, 24, 24, 20, 12])
    fig = plot_funnel(stages)
    ax = fig.axes[0]
    at = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert sorted(at, key=at.get, reverse=True) == stages["stage"].tolist()  # "rows" at the top, in order
    assert ax.patches[0].get_width() == 30  # "rows" is the first, widest bar
    assert "50% of sent" in " ".join(t.get_text() for t in ax.texts)  # answered: 12 of 24


def test_funnel_plot_takes_a_funnel_not_campaign_results():
    results = pd.DataFrame({"instruction_id": ["row-0"], "status": ["queued"]})
    with pytest.raises(AnalysisError, match=r"takes a funnel \(cmvoice_nb.funnel\(results, calls\)\)"):
        plot_funnel(results)


def test_plots_draw_into_a_given_axes(calls):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_ring_time(calls, ax=ax) is fig


@pytest.mark.parametrize("plot", [plot_outcomes, plot_answer_rate_by_hour, plot_ring_time])
def test_plots_of_no_calls_say_so_instead_of_failing(plot):
    fig = plot(load_callbacks([]))
    assert "no" in fig.axes[0].texts[0].get_text()


def test_plots_leave_no_pyplot_figures_open(calls):
    before = open_pyplot_figures()
    for plot in (plot_outcomes, plot_answer_rate_by_hour, plot_ring_time):
        plot(calls)
    assert open_pyplot_figures() == before


def test_plots_render_to_png(calls, tmp_path):
    fig = plot_outcomes(calls)
    fig.savefig(tmp_path / "o.png")
    assert (tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"


def test_a_returned_figure_renders_itself_as_png_in_a_notebook(calls):
    fig = plot_outcomes(calls)
    from IPython.core.formatters import PNGFormatter

    png = PNGFormatter()(fig)
    assert png[:4] == b"\x89PNG"


def tick_values(axis):
    """The numbers on an axis's tick labels as drawn (inside the visible range)."""
    axis.figure.canvas.draw()
    low, high = sorted(axis.get_view_interval())
    texts = [t.get_text().replace("\N{MINUS SIGN}", "-") for t,
             v in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True)
             if low <= v <= high]
    return [float(t) for t in texts if t]


def few_calls():
    """Two calls: a scale this small is where a default axis counts 0.2, 0.4... calls."""
    return load_callbacks([callback(0, code=10, ring_s=3), callback(1, code=9, ring_s=7)])


@pytest.mark.parametrize("draw, axis", [
    (lambda c: plot_outcomes(c), "y"),
    (lambda c: plot_outcomes(c, by="app"), "y"),
    (lambda c: plot_ring_time(c), "y"),
    (lambda c: plot_funnel(stages_table([2, 2, 2, 1])), "x"),
])
def test_every_count_axis_is_labelled_in_whole_numbers(draw, axis):
    ax = draw(few_calls()).axes[0]
    values = tick_values(ax.yaxis if axis == "y" else ax.xaxis)
    assert len(values) >= 2 and all(v == int(v) for v in values), values
