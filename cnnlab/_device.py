"""cnnlab.device: where a tensor lives (the CPU). Below tensor.py, which hands it out as Tensor.device."""


class device:
    """Where a tensor lives: always the CPU here. `device('cpu')`, `device('cpu', 0)` and `device(other)` work;
    a CUDA or MPS device raises, with a message that says cnnlab is CPU-only. Matches torch.device.

    >>> import cnnlab
    >>> cnnlab.device("cpu")
    device(type='cpu')
    """
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name = str(type)
        if ":" in name:
            name, _, idx = name.partition(":")
            index = int(idx) if idx.isdigit() else index
        if name != "cpu":
            raise ValueError(f"device: cnnlab runs on the CPU only; use 'cpu' (torch.cuda.is_available() is "
                             f"False here). Got device={str(type)!r}.")
        self.type, self.index = "cpu", index

    def __repr__(self):
        return f"device(type='cpu'{'' if self.index is None else f', index={self.index}'})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and other.type == self.type and other.index == self.index

    def __hash__(self):
        return hash(("cpu", self.index))
