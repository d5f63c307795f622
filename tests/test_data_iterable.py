"""IterableDataset and ChainDataset against torch.utils.data: streams, chaining, lengths, and how a DataLoader
batches a stream (no sampler, consecutive samples, len from the stream's len, the options it refuses)."""
import numpy as np
import pytest

import cnnlab
from cnnlab.data.dataset import check_iterable_loader_options, iterable_loader_batches, iterable_loader_len

torch = pytest.importorskip("torch")
tud = torch.utils.data


def streams(m, n=7, with_len=True):
    """The same stream of (float, int) samples as an IterableDataset of library m (cnnlab.data or tud)."""
    class Stream(m.IterableDataset):
        def __iter__(self):
            return ((np.float32(i) / 2, i) for i in range(n))

    class Sized(Stream):
        def __len__(self):
            return n
    return Sized() if with_len else Stream()


def as_lists(batches):
    return [[np.asarray(x.numpy() if hasattr(x, "numpy") else x).tolist() for x in b] if isinstance(b, (list, tuple))
            else np.asarray(b.numpy()).tolist() for b in batches]


def test_iterable_dataset_chain_and_len_like_torch():
    for m in (cnnlab.data, tud):
        a, b = streams(m, 3), streams(m, 2)
        chained = a + b
        assert type(chained).__name__ == "ChainDataset"
        assert [i for _, i in chained] == [0, 1, 2, 0, 1] and len(chained) == 5
        with pytest.raises(TypeError):
            len(streams(m, 3, with_len=False))
    with pytest.raises(NotImplementedError, match="IterableDataset must implement __iter__"):
        iter(cnnlab.data.IterableDataset())
    assert cnnlab.utils.data.IterableDataset is cnnlab.data.IterableDataset
    with pytest.raises(TypeError, match="ChainDataset: every dataset must be an IterableDataset. Got list"):
        list(cnnlab.data.ChainDataset([streams(cnnlab.data, 2), [1, 2]]))


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (7, True), (10, False),
                                                   (None, False)])
def test_stream_batches_and_len_helpers_equal_torch(batch_size, drop_last):
    collate = cnnlab.data.default_collate if batch_size is not None else cnnlab.data.default_convert
    ours = list(iterable_loader_batches(streams(cnnlab.data), batch_size, drop_last, collate))
    theirs = tud.DataLoader(streams(tud), batch_size=batch_size, drop_last=drop_last)
    assert as_lists(ours) == as_lists(theirs)
    assert iterable_loader_len(streams(cnnlab.data), batch_size, drop_last) == len(theirs)
    with pytest.raises(TypeError):
        iterable_loader_len(streams(cnnlab.data, with_len=False), batch_size, drop_last)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0, 1]])])
def test_stream_options_refused_like_torch(kwargs):
    full = {**dict(shuffle=None, sampler=None, batch_sampler=None), **kwargs}
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: expected unspecified {name} option"):
        check_iterable_loader_options(**full)
    with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
        tud.DataLoader(streams(tud), **kwargs)
    check_iterable_loader_options(shuffle=False, sampler=None, batch_sampler=None)  # shuffle=False is accepted


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_dataloader_over_a_stream_equals_torch(batch_size, drop_last):
    ours = cnnlab.data.DataLoader(streams(cnnlab.data), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(streams(tud), batch_size=batch_size, drop_last=drop_last)
    assert as_lists(ours) == as_lists(theirs) and len(ours) == len(theirs)


def test_dataloader_refuses_shuffle_for_a_stream():
    try:
        cnnlab.data.DataLoader(streams(cnnlab.data), batch_size=2, shuffle=True)
        refused = False
    except ValueError as e:
        refused = "DataLoader with IterableDataset: expected unspecified shuffle option" in str(e)
    assert refused
