"""The shared rich progress bar: what it shows, and that a disabled one does nothing."""

import io

from rich.console import Console

from pymc_bnn._runtime.progress import progress_bar


def test_bar_shows_title_count_and_status():
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    with progress_bar(True, "ADVI", 1000, "steps", console=console) as bar:
        bar(completed=400, status="steps  ELBO -12.5")
        bar(advance=100, title="ADVI (restart 2)")
    text = console.file.getvalue()
    assert "ADVI (restart 2)" in text and "500/1000" in text and "ELBO -12.5" in text


def test_disabled_bar_accepts_updates_and_prints_nothing(capsys):
    with progress_bar(False, "ADVI", 10) as bar:
        bar(completed=5, status="anything", title="x", total=20)
    assert capsys.readouterr() == ("", "")


def test_bar_of_an_unknown_total_counts_what_is_done():
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    with progress_bar(True, "Statistics", None, "rows read", console=console) as bar:
        bar(completed=1500)
    assert "1500/?" in console.file.getvalue()
