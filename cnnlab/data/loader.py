"""DataLoader: batches from a dataset, optionally shuffled by a seedable generator, with default_collate
and an optional background thread that prepares the next batch while the model computes."""
import collections.abc
import numbers
import queue
import threading

import numpy as np

from ..ops.shape import stack
from ..random import rng
from ..tensor import Tensor
from .dataset import TensorDataset


def default_collate(batch):
    """Merge a list of samples into a batch the way PyTorch does: tensors and arrays are stacked, ints become
    an int64 tensor, floats a float64 tensor, tuples/lists/dicts are collated element by element, strings
    stay a list.

    >>> import cnnlab
    >>> x, y = default_collate([(cnnlab.zeros(2), 1), (cnnlab.ones(2), 0)])
    >>> x.shape, y.tolist()
    (cnnlab.Size([2, 2]), [1, 0])
    """
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch))
    if isinstance(first, np.ndarray):
        return Tensor._wrap(np.stack(batch))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, collections.abc.Sequence):
        if any(len(s) != len(first) for s in batch):
            raise ValueError("default_collate: every sample in a batch must have the same number of elements. "
                             f"Got lengths {sorted({len(s) for s in batch})}.")
        return type(first)(default_collate(list(items)) for items in zip(*batch)) if isinstance(first, tuple) \
            else [default_collate(list(items)) for items in zip(*batch)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; pass collate_fn=.")


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a Dataset (anything with __getitem__ and __len__).
        batch_size (int, default 1): samples per batch; None yields single samples uncollated.
        shuffle (bool, default False): a new random order every epoch, drawn from `generator` (or the default
            generator), so the same seed gives the same order.
        drop_last (bool, default False): drop the last, smaller batch.
        collate_fn (callable, default default_collate): merges a list of samples into a batch.
        generator (cnnlab.Generator, default None): the source of the shuffling order.
        prefetch (bool, default False): prepare the next batch in a background thread. num_workers > 0 also
            turns it on (cnnlab uses one thread rather than worker processes).

    A TensorDataset with the default collate is batched by one fancy-indexing step per batch rather than one
    __getitem__ per sample.

    >>> import cnnlab
    >>> ds = TensorDataset(cnnlab.arange(10).float(), cnnlab.arange(10))
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=4)]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, prefetch_factor=None, persistent_workers=False, prefetch=False):
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None. Got batch_size={batch_size!r}.")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True cannot be used together.")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator
        self.num_workers = num_workers
        self.prefetch = prefetch or num_workers > 0

    def _batches_of_indices(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        else:
            order = rng(self.generator).permutation(n) if self.shuffle else np.arange(n)
        if self.batch_size is None:
            yield from order
            return
        stop = len(order) - (len(order) % self.batch_size if self.drop_last else 0)
        for start in range(0, stop, self.batch_size):
            yield order[start:start + self.batch_size]

    def _make_batch(self, indices):
        if self.batch_size is None and self.batch_sampler is None:
            return self.dataset[int(indices)]
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
            idx = np.asarray(indices, dtype=np.int64)
            return tuple(Tensor._wrap(t._data[idx]) for t in self.dataset.tensors)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self):
        batches = (self._make_batch(ix) for ix in self._batches_of_indices())
        return _prefetched(batches) if self.prefetch else batches

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_DONE = object()


def _prefetched(iterator, depth=2):
    """Run `iterator` in a daemon thread, `depth` items ahead; errors are re-raised in the consumer."""
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry):  # give up when the consumer has gone (a loop left with break)
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterator:
                if not put((item, None)):
                    return
        except BaseException as e:  # handed to the consumer
            put((None, e))
            return
        put((_DONE, None))

    threading.Thread(target=produce, daemon=True).start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
