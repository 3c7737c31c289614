"""Report rendering and building: snapshot of the .tex, PDF compile, LaTeX errors, atomic output, provenance.

The rendered .tex of a small fixed report is compared with ``tests/snapshots/report.tex``;
after an intended template change regenerate it with
``RANKBOUND_UPDATE_SNAPSHOTS=1 pytest tests/test_reports_build.py`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from reports import build
from reports.build import ReportBuildError, build_report
from reports.figures import line_plot
from reports.model import (
    ClaimRow,
    ExampleValue,
    Provenance,
    ReportData,
    StatementEntry,
    VerdictRow,
)
from reports.provenance import NOT_A_CHECKOUT, PACKAGES, SOURCE_ROOT, collect_provenance, cpu_model, git_state
from reports.render import render_report

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.tex"
UPDATE_SNAPSHOTS = os.environ.get("RANKBOUND_UPDATE_SNAPSHOTS") == "1"
HAS_LATEX = not build.missing_latex_programs()
needs_latex = pytest.mark.skipif(not HAS_LATEX, reason="latexmk or pdflatex not on PATH")

#: plain text with every LaTeX special character
SPECIALS = r"a_b 50% R&D #1 $5 {x} ~y ^z \w"

PROVENANCE = Provenance(
    packages={"rankbound": "0.1.0", "python": "3.11.7", "numpy": "2.0.0", "jinja2": "3.1.6"},
    git_commit="0123456789abcdef0123456789abcdef01234567",
    git_dirty=True,
    hostname="host_01",
    platform="Linux-6.1-x86_64",
    cpu="AMD EPYC (R&D edition)",
    cores=2,
    ram="15.6 GiB",
    gpu="none (torch.cuda not available)",
    preset_name="quick",
    preset_origin="shipped",
    seeds=(0, 1),
    wall_times={"train_models": 12.25, "checks": 3.5, "figures": 1.0},
    command_line="rankbound report --preset quick --out report_dir --note '50% & #1'",
    date_utc="2025-01-31T12:00:00Z",
)

#: the longest statement of the catalogue (derived.schatten_network_cover), conclusion and definition
NETWORK_RISK = (
    r"\Pr\big[\arg\max_j F_{\mathcal{A}}(x)_j \ne y\big] \le \hat{\mathcal{R}}_{\gamma} + \frac{24 \sum_{k=0}^{23} "
    r"\left(- \frac{n^{\frac{k}{16}}}{n} + \frac{n^{\frac{k}{16} + \frac{1}{16}}}{n}\right) \sqrt{\mathcal{H}{\left("
    r"\frac{\gamma n^{\frac{k}{16}}}{2 n} \right)}}}{n} + \frac{3 \sqrt{2} \sqrt{\log{\left(\frac{1}{\delta} \right)}}}"
    r"{2 \sqrt{n}} + \frac{8}{n^{\frac{3}{2}}}"
)
NETWORK_ENTROPY = (
    r"\mathcal{H}{\left(\epsilon \right)} = \sum_{i=1}^{L} \begin{cases} 0 & \text{for}\: {R}_{i} \leq \frac{\epsilon}"
    r"{4 L \|X\|_2 {\rho}_{i} \left(\prod_{j=1}^{i - 1} {\rho}_{j} {s}_{j}\right) \prod_{j=i + 1}^{L} {\rho}_{j} {s}_{j}}"
    r" \\\left({d}_{i - 1} + {d}_{i} + 1\right) \left(\log{\left(\frac{36 L \|X\|_2 {R}_{i} {\rho}_{i} \left(\prod_{j=1}"
    r"^{i - 1} {\rho}_{j} {s}_{j}\right) \prod_{j=i + 1}^{L} {\rho}_{j} {s}_{j}}{\epsilon} \right)}\right) \min\left("
    r"\left\lceil{\left(\frac{4 L \|X\|_2 {R}_{i} {\rho}_{i} \left(\prod_{j=1}^{i - 1} {\rho}_{j} {s}_{j}\right) "
    r"\prod_{j=i + 1}^{L} {\rho}_{j} {s}_{j}}{\epsilon}\right)^{\frac{2 {p}_{i}}{2 - {p}_{i}}}}\right\rceil - 1, "
    r"{d}_{i - 1}, {d}_{i}\right) & \text{otherwise} \end{cases}"
)


def network_statement() -> StatementEntry:
    return StatementEntry(
        id="derived.schatten_network_cover",
        title="Schatten-p network margin bound (proved substitute for Ledent et al.)",
        tag="P",
        tag_note="Dudley's constants (4, 12) are [M]",
        kind="bound",
        source="rankbound, from the notes' Part III",
        parameters=(
            r"L \in \left\{1, 2, \ldots\right\}",
            r"{p}_{i} \in \left(0, 2\right),\ i = 1, \dots, L",
            r"\gamma \in \left(0, \infty\right)",
            r"\delta \in \left(0, 1\right)",
        ),
        hypotheses=(r"{p}_{i} < 2\ \text{for all } i",),
        assumptions=("inputs bounded: ||x||_2 <= ||X||_2 for 100% of the data & labels in #classes",),
        forms=(("risk", "the margin bound, risk_0-1 <= ...", NETWORK_RISK, (NETWORK_ENTROPY,)),),
        claims=(),
        conventions={"norm_orientation": "rows = outputs (W x)", "log base": "natural, ln ~ log_e"},
        examples=(
            ExampleValue(form="risk", params={"L": "3", "gamma": "0.5", "n": "10^4"}, digits="3.1739e+6", vacuous=True),
            ExampleValue(form="risk", params={"L": "2", "delta": "0.05"}, digits="0.4182", vacuous=None),
        ),
    )


def candes_plan_statement() -> StatementEntry:
    return StatementEntry(
        id="candes_plan2011.lemma3_1",
        title="Frobenius net of unit-norm rank-r matrices",
        tag="M",
        tag_note="",
        kind="bound",
        source="Candès, Plan (2011), Lemma 3.1",
        parameters=(r"n_{1} \in \left\{1, 2, \ldots\right\}", r"\epsilon \in \left(0, 1\right)"),
        hypotheses=(),
        assumptions=(),
        forms=(("count", "", r"N \le \left(\frac{9}{\epsilon}\right)^{r \left(n_{1} + n_{2} + 1\right)}", ()),),
        claims=(r"\operatorname{rank} X \le r",),
        examples=(ExampleValue(form="count", params={"n1": "10", "eps": "0.1"}, digits="9.0e+42", vacuous=False),),
    )


def verdict_rows() -> tuple[VerdictRow, ...]:
    return (
        VerdictRow("candes_plan2011.lemma3_1", "covering.candes_plan_net", "count", "M", "theorem", "holds",
                   "1.2e+3", "9.0e+42", "1.3e-40", "measured 1200 <= bound", "all 3 layers"),
        VerdictRow("derived.schatten_network_cover", "generalization.network_margin", "risk", "P", "theorem", "vacuous",
                   "0.031", "3.1739e+6", "9.8e-9", "bound > 1 = trivial range; " + SPECIALS, "test set, 100% of batches"),
        VerdictRow("derived.schatten_network_cover", "generalization.network_margin", "risk", "P", "theorem", "violated",
                   "0.52", "0.4182", "1.24", "measured 0.52 > bound 0.4182 (gap_test - gap_train)", ""),
        VerdictRow("chen2024.stable_rank_decreases", "experiments.chen_stable_rank", "", "R~", "claim", "inconclusive",
                   "n/a", "", "", "training diverged at mu_V = 1e-2 {seed 1}", "seeds 0, 1"),
    )


def claim_rows() -> tuple[ClaimRow, ...]:
    return (
        ClaimRow("Chen et al. 2024", "stable rank falls as mu_V grows", "monotone decrease, Fig. 2",
                 "decrease from 7.9 to 1.3 (5 of 5 steps)", "supported", "stable_rank"),
        ClaimRow("Oymak et al. 2019", "‖Π_I y‖/‖y‖ after training (μ ≤ 0.1)", "0.99 (clean) & 0.90 (50% corrupted)",
                 "0.97 & 0.71 #runs=2", "not supported", "derived.schatten_network_cover"),
    )


@pytest.fixture
def figure_pdf(tmp_path: Path):
    frame = pd.DataFrame({"mu_V": [1e-4, 1e-3, 1e-2], "stable_rank": [7.9, 3.2, 1.3]})
    return line_plot(frame, "mu_V", "stable_rank", tmp_path / "source" / "stable_rank.pdf", logx=True,
                     caption="Stable rank against mu_V (weight decay); 100% of runs & seeds #0-#1.")


@pytest.fixture
def report(figure_pdf) -> ReportData:
    return ReportData(
        title="rankbound verification report: test_fixture #1",
        subtitle="Low-rank theory & measurements (quick preset, 50% scale)",
        provenance=PROVENANCE,
        statements=(network_statement(), candes_plan_statement()),
        verdicts=verdict_rows(),
        figures=(figure_pdf,),
        claims=claim_rows(),
        notes=(
            "The network bound is vacuous at n = 10^4: its value 3.1739e+6 exceeds the trivial range [0, 1].",
            "Escaping check: " + SPECIALS,
        ),
    )


def with_bad_latex(data: ReportData) -> ReportData:
    """The report with an undefined control sequence in a LaTeX field."""
    broken = dataclasses.replace(data.statements[1], hypotheses=(r"\notacommand{x} > 0",))
    return dataclasses.replace(data, statements=(data.statements[0], broken))


def leftovers(directory: Path) -> list[str]:
    """Staging or retired directories a build left next to its output."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith((".partial", ".old")))


# ---------------------------------------------------------------------------- rendering
def test_rendered_tex_matches_snapshot(report):
    text = render_report(report)
    if UPDATE_SNAPSHOTS:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot: run with RANKBOUND_UPDATE_SNAPSHOTS=1 to create it"
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the rendered report differs from tests/snapshots/report.tex; if intended, "
        "regenerate with RANKBOUND_UPDATE_SNAPSHOTS=1 and review the diff"
    )


def test_plain_text_is_escaped_and_latex_is_verbatim(report):
    text = render_report(report)
    assert r"a\_b 50\% R\&D \#1 \$5 \{x\} \textasciitilde{}y \textasciicircum{}z \textbackslash{}w" in text
    assert SPECIALS not in text
    assert NETWORK_RISK in text and NETWORK_ENTROPY in text
    assert r"\begin{longtable}" in text and text.count(r"\subsection{Check group") == 3


def test_verdict_and_claim_values_are_validated():
    with pytest.raises(ValueError, match="verdict"):
        dataclasses.replace(verdict_rows()[0], verdict="fine")
    with pytest.raises(ValueError, match="claim verdict"):
        dataclasses.replace(claim_rows()[0], verdict="holds")


# ---------------------------------------------------------------------------- building
def test_without_latex_writes_tex_and_figures_and_says_how_to_compile(report, tmp_path, monkeypatch):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no program can be found
    result = build_report(report, tmp_path / "out")
    assert not result.compiled and result.pdf is None
    assert result.tex.read_text(encoding="utf-8") == render_report(report)
    assert [p.name for p in result.figures] == ["stable_rank.pdf"] and result.figures[0].stat().st_size > 0
    assert not (tmp_path / "out" / "report.pdf").exists()
    assert "latexmk -pdf -interaction=nonstopmode -halt-on-error report.tex" in result.message
    assert "texlive-latex-base" in result.message and "latexmk and pdflatex not found" in result.message
    assert leftovers(tmp_path) == []


def test_successful_build_replaces_a_previous_report(report, tmp_path):
    out = tmp_path / "out"
    build_report(report, out, compile=False)
    (out / "figures" / "stale.pdf").write_bytes(b"%PDF-old")
    retitled = dataclasses.replace(report, title="second build")
    result = build_report(retitled, out, compile=False)
    assert "second build" in result.tex.read_text(encoding="utf-8")
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["stable_rank.pdf"]
    assert leftovers(tmp_path) == []


def test_a_directory_with_other_files_is_not_replaced(report, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    with pytest.raises(FileExistsError, match="thesis.tex"):
        build_report(report, out, compile=False)
    assert (out / "thesis.tex").read_text() == "mine"


def test_missing_figure_fails_before_writing_anything(report, tmp_path):
    out = tmp_path / "out"
    build_report(report, out, compile=False)
    before = (out / "report.tex").read_text(encoding="utf-8")
    report.figures[0].path.unlink()
    with pytest.raises(FileNotFoundError, match="stable_rank"):
        build_report(dataclasses.replace(report, title="other"), out, compile=False)
    assert (out / "report.tex").read_text(encoding="utf-8") == before
    assert leftovers(tmp_path) == []


@pytest.mark.latex
@needs_latex
def test_compiled_pdf_shows_sections_numbers_and_escaped_text(report, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not on PATH")
    result = build_report(report, tmp_path / "out")
    assert result.compiled and result.pdf is not None and result.pdf.stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["figures", "report.log", "report.pdf", "report.tex"]
    text = subprocess.run(["pdftotext", "-layout", str(result.pdf), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("Provenance", "How to read this report", "Statements", "Verdicts", "Figures",
                    "The paper says / we measured", "Notes"):
        assert heading in text
    assert "3.1739e+6" in text and "--preset quick --out report_dir" in text
    assert SPECIALS in text
    assert "Overfull \\hbox" not in result.log.read_text(errors="replace")  # the long formula was scaled to fit


@pytest.mark.latex
@needs_latex
def test_latex_error_raises_with_log_lines_and_leaves_no_output(report, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ReportBuildError) as error:
        build_report(with_bad_latex(report), out)
    message = str(error.value)
    assert "! Undefined control sequence." in message
    assert "report.tex:" in message and r"\notacommand" in message
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.latex
@needs_latex
def test_failed_build_leaves_an_existing_report_untouched(report, tmp_path):
    out = tmp_path / "out"
    build_report(report, out, compile=False)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ReportBuildError):
        build_report(with_bad_latex(report), out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------- provenance
def test_provenance_of_this_run():
    provenance = collect_provenance("quick", "shipped", [0, 1], {"train": 1.5}, ["rankbound", "report", "--out", "a b"])
    assert list(provenance.packages) == list(PACKAGES)
    assert provenance.packages["rankbound"] != "not installed"
    assert provenance.command_line == "rankbound report --out 'a b'"
    assert provenance.seeds == (0, 1) and provenance.cores >= 1 and provenance.ram.endswith("GiB")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", provenance.date_utc)
    commit, dirty = git_state(SOURCE_ROOT)
    assert provenance.git_commit == commit and provenance.git_dirty == dirty


def test_git_state_outside_a_checkout(tmp_path):
    assert git_state(tmp_path) == (NOT_A_CHECKOUT, None)


def test_git_state_of_a_checkout(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not on PATH")

    def git(*arguments: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *arguments], check=True, capture_output=True)
    git("init", "-q")
    (tmp_path / "a.txt").write_text("a")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "a")
    commit, dirty = git_state(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{40}", commit) and dirty is False
    (tmp_path / "a.txt").write_text("b")
    assert git_state(tmp_path) == (commit, True)
    sub = tmp_path / "sub"
    sub.mkdir()
    assert git_state(sub) == (NOT_A_CHECKOUT, None)  # inside a checkout, but not its top level


def test_cpu_model_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"


def test_long_numbers_may_break_in_their_mantissa_only():
    """Certified digits overflow a table column unless LaTeX may break them; short numbers and exponents stay whole."""
    from reports.render import breakable_number

    assert breakable_number("3.935e-07") == r"\mbox{3.935e-07}"
    assert breakable_number("7.4457545856121e+2") == r"7.445754\allowbreak{}5856121\mbox{e+2}"
    long = "0.000123456789012345"
    assert breakable_number(long).replace(r"\allowbreak{}", "") == long


# ---------------------------------------------------------------------------- hostile builds (issue 13)
def fake_latex(tmp_path: Path, latexmk_body: str) -> Path:
    """A PATH directory whose ``latexmk`` runs ``latexmk_body`` (sh) and whose ``pdflatex`` does nothing."""
    bin_dir = tmp_path / "fake_bin"
    bin_dir.mkdir()
    for name, body in (("latexmk", latexmk_body), ("pdflatex", "exit 0")):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return bin_dir


def test_latexmk_without_a_pdf_is_a_failed_build(report, tmp_path, monkeypatch):
    """latexmk exits 0 but writes no report.pdf: the build fails and nothing is claimed or left."""
    monkeypatch.setenv("PATH", f"{fake_latex(tmp_path, 'echo pretending to compile; exit 0')}:/usr/bin:/bin")
    out = tmp_path / "out"
    with pytest.raises(ReportBuildError, match="LaTeX wrote no report.pdf") as error:
        build_report(report, out)
    assert "pretending to compile" in str(error.value)
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o027, 0o750)])
def test_report_directory_honours_the_umask(report, tmp_path, monkeypatch, umask, mode):
    monkeypatch.setenv("PATH", f"{fake_latex(tmp_path, 'echo %PDF-fake > report.pdf')}:/usr/bin:/bin")
    previous = os.umask(umask)
    try:
        result = build_report(report, tmp_path / "out")
    finally:
        os.umask(previous)
    assert result.compiled and result.pdf.read_text() == "%PDF-fake\n"
    assert (tmp_path / "out").stat().st_mode & 0o777 == mode
    assert (tmp_path / "out" / "figures").stat().st_mode & 0o777 == mode


#: no Linux process has this id (pid_max is at most 2^22)
DEAD_PID = 2**22 + 1


def test_staging_left_by_a_killed_build_is_removed_by_the_next(report, tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / f".out.rankbound-{DEAD_PID}-0123abcd.partial"
    live = tmp_path / f".out.rankbound-{os.getpid()}-89abcdef.partial"  # a concurrent build of this process
    for directory in (stale, live):
        (directory / "figures").mkdir(parents=True)
        (directory / "report.tex").write_text("half")
    build_report(report, out, compile=False)
    assert not stale.exists() and live.exists()
    assert (out / "report.tex").is_file()


def killed_between_renames(tmp_path: Path) -> Path:
    """What a build killed between its two renames leaves: the old report in a stale .old directory."""
    retired = tmp_path / f".out.rankbound-{DEAD_PID}-0123abcd.old"
    retired.mkdir()
    (retired / "report.tex").write_text("previous report")
    return retired


def test_retired_report_is_put_back_even_when_the_next_build_fails(report, tmp_path, monkeypatch):
    out, retired = tmp_path / "out", killed_between_renames(tmp_path)
    monkeypatch.setenv("PATH", f"{fake_latex(tmp_path, 'exit 1')}:/usr/bin:/bin")
    with pytest.raises(ReportBuildError):
        build_report(report, out)
    assert (out / "report.tex").read_text() == "previous report"
    assert not retired.exists() and leftovers(tmp_path) == []


def test_retired_report_is_dropped_once_a_report_is_in_place(report, tmp_path):
    out = tmp_path / "out"
    build_report(report, out, compile=False)
    retired = killed_between_renames(tmp_path)
    build_report(report, out, compile=False)
    assert not retired.exists() and "previous report" not in (out / "report.tex").read_text()
    assert leftovers(tmp_path) == []


INTERRUPTED_BUILD = """
import sys
from pathlib import Path
from reports import build
build._compile(Path(sys.argv[1]), "", Path(sys.argv[1]))
"""


def _gone(pid: int) -> bool:
    """No such process, or a zombie waiting for its reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_kills_latexmk_and_its_children(tmp_path):
    """SIGINT to the build: latexmk runs in its own process group (no terminal SIGINT reaches it),
    so the build must kill that group; here latexmk is a shell waiting on a child 'sleep'."""
    import signal
    import sys
    import time

    work = tmp_path / "work"
    work.mkdir()
    body = 'sleep 300 & echo $! > child.pid; echo $$ > latexmk.pid; wait'
    env = {**os.environ, "PATH": f"{fake_latex(tmp_path, body)}:/usr/bin:/bin", "PYTHONPATH": str(Path(build.__file__).parents[1])}
    process = subprocess.Popen([sys.executable, "-c", INTERRUPTED_BUILD, str(work)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ((work / "child.pid").exists() and (work / "latexmk.pid").exists()):
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read() if process.poll() is not None else ""
            time.sleep(0.05)
        time.sleep(0.2)  # the pid files are written; let the build sit in communicate()
        pids = [int((work / name).read_text()) for name in ("latexmk.pid", "child.pid")]
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in pids), pids
