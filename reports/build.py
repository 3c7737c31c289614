"""Build a report directory: ``report.tex``, ``figures/*.pdf`` and ``report.pdf``.

Everything is written into a staging directory next to the output directory and moved
into place only once it is complete, so a failed build leaves no half report: a new
output directory does not appear, an existing one is left as it was. An existing one is
replaced by two renames (old out of the way, new in, old deleted); if the second rename
fails the old directory is put back. Only a directory that holds nothing but what a
build writes (:data:`REPORT_ENTRIES`) is ever replaced. :func:`check_output` makes these
checks, and checks that the parent can be written, before any work (``rankbound report``
calls it before training).

The staging directory ``.<out>.rankbound-<pid>-<hex>.partial`` is made with ``mkdir``, so
the report directory gets the permissions of the umask (0755 under 022). After a SIGKILL
the next build of the same output removes staging directories whose process is gone, and
puts back a retired ``.old`` directory when the kill came between the two renames
(:mod:`reports.outputs`).

The PDF is compiled with latexmk and pdflatex. Without them on PATH the LaTeX source
and figures are still written and the result says how to compile them. latexmk runs in
its own process group, which is killed when the build is interrupted (Ctrl-C) or times
out; a latexmk that exits 0 without writing ``report.pdf`` is a failed build.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reports.model import Figure, ReportData
from reports.outputs import check_writable, clean_after_kill, make_staging, move_into_place
from reports.render import render_report
from reports.texlog import error_excerpt

TEX_NAME = "report.tex"
PDF_NAME = "report.pdf"
LOG_NAME = "report.log"
FIGURES_DIR = "figures"
#: the entries of a built report directory; an existing directory holding anything else is not replaced
REPORT_ENTRIES = frozenset({TEX_NAME, PDF_NAME, LOG_NAME, FIGURES_DIR})
LATEXMK_COMMAND = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", TEX_NAME)
#: programs the compilation needs on PATH
LATEX_PROGRAMS = ("latexmk", "pdflatex")
#: Debian / Ubuntu packages that provide them and every package the template loads
DEBIAN_PACKAGES = (
    "texlive-latex-base",
    "texlive-latex-recommended",
    "texlive-fonts-recommended",
    "latexmk",
    "lmodern",
)
COMPILE_TIMEOUT_S = 300


class ReportBuildError(RuntimeError):
    """LaTeX failed; the message carries the log's error lines and the offending source line."""


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_report` wrote and whether it compiled the PDF."""

    out_dir: Path
    tex: Path
    figures: tuple[Path, ...]
    pdf: Path | None  #: None when not compiled
    log: Path | None  #: pdflatex's log, None when not compiled
    compiled: bool
    command: tuple[str, ...]  #: the latexmk command line, run in ``out_dir``
    message: str  #: what happened; how to compile when it was not compiled
    seconds: float  #: time spent compiling

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (self.tex, *self.figures, *(p for p in (self.pdf, self.log) if p is not None))


def missing_latex_programs() -> tuple[str, ...]:
    """The programs of :data:`LATEX_PROGRAMS` that are not on PATH."""
    return tuple(program for program in LATEX_PROGRAMS if shutil.which(program) is None)


def compile_instructions(out_dir: Path) -> str:
    """How to compile a report directory by hand."""
    return (
        f"to compile it: cd {shlex.quote(str(out_dir))} && {shlex.join(LATEXMK_COMMAND)} "
        f"(Debian/Ubuntu: apt-get install {' '.join(DEBIAN_PACKAGES)})"
    )


def build_report(data: ReportData, out_dir: Path, compile: bool = True) -> BuildResult:
    """Write ``out_dir/report.tex`` and ``out_dir/figures/*.pdf`` and compile ``report.pdf``.

    Raises :class:`ReportBuildError` when LaTeX fails, :class:`FileExistsError` when
    ``out_dir`` exists and holds files a build does not write, :class:`FileNotFoundError`
    when a figure's PDF is missing. On any error ``out_dir`` is left as it was.
    """
    out_dir = Path(out_dir).absolute()
    check_output(out_dir)
    _check_figures(data.figures)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_after_kill(out_dir)
    staging = make_staging(out_dir)
    try:
        tex_source = render_report(data)
        (staging / TEX_NAME).write_text(tex_source, encoding="utf-8")
        figure_names = _copy_figures(data.figures, staging / FIGURES_DIR)
        missing = missing_latex_programs()
        seconds = 0.0
        if not compile:
            message = f"LaTeX was not compiled (not requested); {compile_instructions(out_dir)}"
        elif missing:
            message = (
                f"LaTeX was not compiled: {' and '.join(missing)} not found on PATH; "
                f"{compile_instructions(out_dir)}"
            )
        else:
            seconds = _compile(staging, tex_source, out_dir)
            _remove_auxiliary_files(staging)
            message = f"compiled {out_dir / PDF_NAME} in {seconds:.1f} s"
        compiled = compile and not missing
        move_into_place(staging, out_dir, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(
        out_dir=out_dir,
        tex=out_dir / TEX_NAME,
        figures=tuple(out_dir / FIGURES_DIR / name for name in figure_names),
        pdf=out_dir / PDF_NAME if compiled else None,
        log=out_dir / LOG_NAME if compiled else None,
        compiled=compiled,
        command=LATEXMK_COMMAND,
        message=message,
        seconds=seconds,
    )


def check_output(out_dir: Path) -> None:
    """Raise before any work when a build could not write ``out_dir``.

    :class:`FileExistsError` when it exists and is not a directory or holds files a build does
    not write; :class:`~reports.outputs.OutputDirectoryError` when its parent cannot be
    created or written.
    """
    out_dir = Path(out_dir).absolute()
    _check_replaceable(out_dir)
    check_writable(out_dir.parent if os.path.lexists(out_dir) else out_dir)  # staging and renames happen in the parent


def _check_replaceable(out_dir: Path) -> None:
    if not os.path.lexists(out_dir):
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory")
    foreign = sorted(entry.name for entry in out_dir.iterdir() if entry.name not in REPORT_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"{out_dir} exists and holds {', '.join(foreign)}, which a report build does not write; "
            "refusing to replace it"
        )


def _check_figures(figures: Sequence[Figure]) -> None:
    for figure in figures:
        if not figure.path.is_file():
            raise FileNotFoundError(f"figure {figure.name!r}: {figure.path} does not exist")
        if figure.path.suffix.lower() != ".pdf":
            raise ValueError(f"figure {figure.name!r}: {figure.path} is not a PDF")


def _copy_figures(figures: Sequence[Figure], directory: Path) -> list[str]:
    directory.mkdir()
    names = []
    for figure in figures:
        name = f"{figure.name}.pdf"
        shutil.copyfile(figure.path, directory / name)
        names.append(name)
    return names


def _compile(directory: Path, tex_source: str, out_dir: Path) -> float:
    """Run latexmk in ``directory``; returns the seconds it took."""
    start = time.perf_counter()
    process = subprocess.Popen(
        LATEXMK_COMMAND,
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group, so a timeout stops pdflatex too
    )
    try:
        output, _ = process.communicate(timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise ReportBuildError(f"LaTeX did not finish within {COMPILE_TIMEOUT_S} s building {out_dir}") from None
    except BaseException:  # Ctrl-C and the like: latexmk's group does not see the terminal's SIGINT
        _stop(process)
        raise
    if process.returncode != 0:
        log_path = directory / LOG_NAME
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        excerpt = error_excerpt(log, TEX_NAME, tex_source) or "\n".join(output.splitlines()[-20:])
        raise ReportBuildError(
            f"LaTeX failed building {out_dir} ({shlex.join(LATEXMK_COMMAND)} exited with {process.returncode}):\n{excerpt}"
        )
    if not (directory / PDF_NAME).is_file():
        tail = "\n".join(output.splitlines()[-20:])
        raise ReportBuildError(f"LaTeX wrote no {PDF_NAME} building {out_dir} ({shlex.join(LATEXMK_COMMAND)} exited with 0):\n{tail}")
    return time.perf_counter() - start


def _stop(process: subprocess.Popen) -> None:
    """Kill latexmk's process group (pdflatex included) and reap latexmk."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group has already exited
        pass
    process.communicate()


def _remove_auxiliary_files(directory: Path) -> None:
    """Delete latexmk's and pdflatex's working files (.aux, .fls, .toc ...)."""
    for entry in directory.iterdir():
        if entry.name not in REPORT_ENTRIES:
            entry.unlink()
