"""How ``make bench`` shows its figures: aligned text tables and targets judged from the measured figures.

Pure logic, no Ansible and no emulators, so that ``tests/unit/benchmarks``
can check it without running anything.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING = "-"


@dataclass(frozen=True)
class Target:
    """A figure that must be at most (or below) ``limit``; ``label`` says what it is measured against (``"baseline"``)."""

    limit: float
    label: str
    unit: str = "x"
    #: the figure must be below ``limit``, not at most
    strict: bool = False

    def verdict(self, value: float | None) -> str:
        """``met`` or ``NOT met`` for a measured ``value``; ``n/a`` when there is no figure to judge."""
        if value is None:
            return "n/a"
        within = value < self.limit if self.strict else value <= self.limit
        return "met" if within else "NOT met"

    def describe(self) -> str:
        limit = f"{self.limit:.2f}{self.unit}" if self.unit == "x" else f"{self.limit:.4g}{self.unit}"
        return f"{'<' if self.strict else '<='} {limit} {self.label}".rstrip()

    def judged(self, value: float | None) -> str:
        """The target and its verdict in one cell: ``<= 0.20x baseline: met``."""
        return f"{self.describe()}: {self.verdict(value)}"


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``, or ``None`` when either figure is missing (a run that failed or was not asked for)."""
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference


def fixed(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def times(value: float | None) -> str:
    """A ratio as ``0.18x``."""
    return MISSING if value is None else f"{value:.2f}x"


def table(header: list[str], rows: list[list[str]], title: str = "") -> str:
    """Columns padded to their widest cell; text columns left-aligned, figures right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    numeric = [all(_is_figure(row[index]) for row in rows) and bool(rows) for index in range(len(header))]

    def line(cells: list[str]) -> str:
        return " | ".join(cell.rjust(width) if right else cell.ljust(width) for cell, width, right in zip(cells, widths, numeric, strict=True)).rstrip()

    lines = [title] if title else []
    lines += [line(header), "-+-".join("-" * width for width in widths), *(line(row) for row in rows)]
    return "\n".join(lines)


def _is_figure(cell: str) -> bool:
    if cell == MISSING:
        return True
    try:
        float(cell.removesuffix("x"))
    except ValueError:
        return False
    return True
