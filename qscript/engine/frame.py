"""A Frame: the rows flowing between LOAD stages (field names, columns, row count)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qscript.expr.column import Column


@dataclass
class Frame:
    names: list[str]
    columns: dict[str, Column]
    length: int

    def take(self, index: np.ndarray) -> Frame:
        columns = {name: self.columns[name].take(index) for name in self.names}
        length = int(index.sum()) if index.dtype == bool else len(index)
        return Frame(list(self.names), columns, length)

    def head(self, count: int) -> Frame:
        return self.take(np.arange(min(count, self.length)))
