"""DataLoader: batches from a dataset in the order of a sampler (shuffled by a seedable generator, or any
Sampler), with default_collate and an optional background thread that prepares the next batch while the model
computes. Matches torch.utils.data.DataLoader as a single-process, CPU-only loader."""
import collections.abc
import copy
import numbers
import queue
import threading

import numpy as np

from ..ops.shape import stack
from ..tensor import Tensor
from .dataset import (IterableDataset, Subset, TensorDataset, check_iterable_loader_options, iterable_loader_batches,
                      iterable_loader_len)
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _numpy_to_tensor(x):
    """NumPy arrays and scalars as tensors (keeping their dtype); None for string/object arrays."""
    arr = np.asarray(x)
    return None if arr.dtype.kind in "OSUV" else Tensor._wrap(arr)


def default_collate(batch):
    """Merge a list of samples into a batch the way PyTorch does: tensors and arrays are stacked, NumPy scalars
    keep their dtype, Python ints become an int64 tensor, floats a float64 tensor, dicts and (named)tuples are
    collated field by field (a tuple of fields comes back as a list, as in PyTorch), strings stay a list.

    >>> import cnnlab
    >>> x, y = default_collate([(cnnlab.zeros(2), 1), (cnnlab.ones(2), 0)])
    >>> x.shape, y.tolist()
    (cnnlab.Size([2, 2]), [1, 0])
    """
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch))
    if isinstance(first, (np.ndarray, np.generic)) and not isinstance(first, (np.str_, np.bytes_)):
        out = _numpy_to_tensor(np.stack(batch) if isinstance(first, np.ndarray) else np.asarray(batch))
        if out is None:
            raise TypeError(f"default_collate: cannot batch NumPy arrays of dtype {np.asarray(first).dtype}; "
                            "pass collate_fn=.")
        return out
    if isinstance(first, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, collections.abc.Sequence):
        if any(len(s) != len(first) for s in batch):
            raise ValueError("default_collate: every sample in a batch must have the same number of elements. "
                             f"Got lengths {sorted({len(s) for s in batch})}.")
        fields = [default_collate(list(items)) for items in zip(*batch)]
        return type(first)(*fields) if isinstance(first, tuple) and hasattr(first, "_fields") else fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; pass collate_fn=.")


def default_convert(data):
    """What the loader does to each sample when batching is off (batch_size=None): NumPy arrays and scalars
    become tensors, containers are converted element by element, anything else is returned unchanged.
    Matches torch.utils.data.default_convert.

    >>> import numpy as np
    >>> default_convert({"x": np.zeros(2), "name": "a"})["x"].dtype
    cnnlab.float64
    """
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        out = _numpy_to_tensor(data)
        return data if out is None else out
    if isinstance(data, collections.abc.Mapping):
        try:
            clone = copy.copy(data)
            clone.update({k: default_convert(data[k]) for k in data})
            return clone
        except (TypeError, AttributeError):
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes, range)):
        return [default_convert(d) for d in data]
    return data


def get_worker_info():
    """None: cnnlab loads data in the main process (no worker processes). Matches
    torch.utils.data.get_worker_info called outside a worker."""
    return None


class DataLoader:
    """Iterate over a dataset in batches. Matches torch.utils.data.DataLoader (single process, CPU only).

    Args:
        dataset: a Dataset (anything with __getitem__ and __len__).
        batch_size (int, default 1): samples per batch; None turns batching off (one converted sample per step).
        shuffle (bool, default False): a new random order every epoch (a RandomSampler over the dataset),
            drawn from `generator`, so the same seed gives the same order.
        sampler (Sampler or iterable of indices, default None): the order of the indices; excludes shuffle.
        batch_sampler (iterable of lists of indices, default None): whole batches of indices; excludes
            batch_size, shuffle, sampler and drop_last.
        num_workers (int, default 0): accepted for compatibility; there are no worker processes. A value > 0
            turns on the background prefetch thread.
        collate_fn (callable, default default_collate, or default_convert without batching): merges a list
            of samples into a batch.
        drop_last (bool, default False): drop the last, smaller batch.
        generator (cnnlab.Generator, default None): the source of the shuffling order.
        prefetch (bool, default False): prepare the next batch in a background thread (cnnlab's addition).
        pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers,
            pin_memory_device, in_order: accepted and checked as PyTorch checks them; they have no effect here
            (worker_init_fn is never called, since there are no workers).

    Raises:
        ValueError: for the combinations PyTorch rejects (sampler with shuffle; batch_sampler with batch_size,
            shuffle, sampler or drop_last; batch_size=None with drop_last; persistent_workers or
            prefetch_factor without workers; negative num_workers or timeout).

    A TensorDataset (or a Subset of one, as random_split makes) with the default collate is batched by one
    fancy-indexing step per batch rather than one __getitem__ per sample.

    >>> import cnnlab
    >>> ds = TensorDataset(cnnlab.arange(10).float(), cnnlab.arange(10))
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=4)]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, prefetch=False):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:  # a stream: no sampler, batches of consecutive samples
            check_iterable_loader_options(shuffle, sampler, batch_sampler)
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle (the sampler sets the "
                             f"order). Got shuffle=True, sampler={type(sampler).__name__}.")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 f"sampler, and drop_last. Got batch_size={batch_size!r}, shuffle={shuffle}, "
                                 f"sampler={None if sampler is None else type(sampler).__name__}, "
                                 f"drop_last={drop_last}.")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                                 "exclusive with drop_last. Got batch_size=None, drop_last=True.")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int or None. Got batch_size={batch_size!r}.")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self._iterable = iterable
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        batching = batch_sampler is not None or (iterable and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if batching else default_convert)
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers, self.multiprocessing_context = persistent_workers, multiprocessing_context
        self.prefetch = prefetch or num_workers > 0

    def _tensor_rows(self):
        """(tensors, index map) when each sample is a row of a TensorDataset's tensors, maybe through Subsets
        (random_split), and the collate is the default: then a batch is one fancy-indexing step per tensor."""
        if self.collate_fn is not default_collate:
            return None
        ds, index_map = self.dataset, None
        while type(ds) is Subset:
            outer = np.asarray(ds.indices, dtype=np.int64)
            index_map = outer if index_map is None else outer[index_map]
            ds = ds.dataset
        return (ds.tensors, index_map) if type(ds) is TensorDataset else None

    def _make_batch(self, indices, rows):
        if rows is not None:
            tensors, index_map = rows
            idx = np.asarray(indices, dtype=np.int64)
            idx = idx if index_map is None else index_map[idx]
            return [Tensor._wrap(t._data[idx]) for t in tensors]
        if isinstance(indices, np.ndarray):
            indices = indices.tolist()
        return self.collate_fn([self.dataset[i] for i in indices])

    def _batches(self):
        if self._iterable:
            return iterable_loader_batches(self.dataset, self.batch_size, self.drop_last, self.collate_fn)
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        index_batches = self.batch_sampler
        if type(index_batches) is BatchSampler:
            # the order is drawn here, in the caller's thread, so a prefetch thread never races the main thread
            # for the shared generator (same seed, same order, with or without prefetch)
            arrays = index_batches._index_arrays()
            index_batches = index_batches if arrays is None else arrays
        rows = self._tensor_rows()
        return (self._make_batch(indices, rows) for indices in index_batches)

    def __iter__(self):
        batches = self._batches()
        return _prefetched(batches) if self.prefetch else batches

    def __len__(self):
        if self._iterable:
            return iterable_loader_len(self.dataset, self.batch_size, self.drop_last)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context):
    """PyTorch's checks of the worker options (which have no effect here), so code valid there is valid here
    and code PyTorch rejects is rejected."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError("DataLoader: num_workers option should be non-negative; use num_workers=0 to disable "
                         f"multiprocessing. Got num_workers={num_workers!r}.")
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative. Got timeout={timeout!r}.")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; let "
                         "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None. Got "
                         f"num_workers=0, prefetch_factor={prefetch_factor!r}.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(f"DataLoader: prefetch_factor option should be non-negative. Got "
                         f"prefetch_factor={prefetch_factor!r}.")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0. Got num_workers=0, "
                         "persistent_workers=True.")
    if multiprocessing_context is not None and num_workers == 0:
        raise ValueError("DataLoader: multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0). Got num_workers=0, multiprocessing_context={multiprocessing_context!r}.")


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
