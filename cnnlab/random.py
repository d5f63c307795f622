"""Random number generation: a seedable Generator and the default one behind rand/randn/dropout/init.

Same seed, same numbers: `cnnlab.manual_seed(0)` makes every later random op repeat exactly. The numbers come
from NumPy's PCG64, so they differ from PyTorch's (whose generator is Mersenne Twister with its own transforms).
"""
import numpy as np

_DEFAULT_SEED = 67280421310721  # PyTorch's default_generator starts from this seed too


class Generator:
    """A source of random numbers with its own seed, as torch.Generator.

    >>> import cnnlab
    >>> g = cnnlab.Generator().manual_seed(42)
    >>> a = cnnlab.rand(3, generator=g)
    >>> b = cnnlab.rand(3, generator=cnnlab.Generator().manual_seed(42))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Reset to the stream of numbers for `seed`; returns self."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative. Got seed={seed}.")
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's full state (a dict), for checkpoints; `set_state` restores it."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state):
        self._seed = state["seed"]
        self.rng.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def rng(generator=None):
    """The NumPy Generator to draw from: the given cnnlab Generator's, else the default one's."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a cnnlab.Generator. Got {type(generator).__name__}.")
    return generator.rng


def manual_seed(seed):
    """Seed the default generator (rand, randn, randint, dropout, weight init, shuffling); returns it.

    >>> import cnnlab
    >>> _ = cnnlab.manual_seed(0); a = cnnlab.randn(2)
    >>> _ = cnnlab.manual_seed(0); b = cnnlab.randn(2)
    >>> a.tolist() == b.tolist()
    True
    """
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)
