"""What a process keeps of what it made, bounded."""


class Made:
    """Values this process made, by everything they were made from, so that the same
    inputs make nothing again; emptied when `size` are kept, which bounds a worker's
    memory (the soak holds workers under 150 MB)."""

    def __init__(self, size: int):
        self.size = size
        self._values = {}

    def get(self, key, make):
        """The value made from `key`, made now by `make()` if this process has none."""
        value = self._values.get(key)
        if value is None:
            if len(self._values) >= self.size:
                self._values.clear()
            value = self._values[key] = make()
        return value

    def clear(self):
        self._values.clear()

    def __len__(self):
        return len(self._values)
