"""A custom Dataset class, DataLoader iteration, Subset, drop_last, dict batches, torch.utils.data spelled out."""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset


class ShapesDataset(Dataset):
    def __init__(self, n, transform=None):
        rng = np.random.default_rng(0)
        self.images = rng.random((n, 1, 8, 8)).astype(np.float32)
        self.labels = rng.integers(0, 3, n)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx])
        label = int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        return image, label


class DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": torch.full((2,), float(i)), "y": i, "name": f"s{i}"}


if __name__ == "__main__":
    CHECK = {}
    ds = ShapesDataset(10, transform=lambda img: (img - 0.5) / 0.5)
    CHECK["len"] = len(ds)
    img, lab = ds[3]
    CHECK["item"] = (img, lab)
    loader = DataLoader(ds, batch_size=4, shuffle=False)
    CHECK["n_batches"] = len(loader)
    dataiter = iter(loader)
    images, labels = next(dataiter)
    CHECK["batch_images"] = images
    CHECK["batch_labels"] = labels
    CHECK["labels_dtype"] = str(labels.dtype)
    CHECK["batch_shapes"] = [tuple(x.shape) for x, _ in loader]
    CHECK["drop_last"] = len(DataLoader(ds, batch_size=4, drop_last=True))
    shuffled = DataLoader(ds, batch_size=3, shuffle=True)
    seen = torch.cat([y for _, y in shuffled])
    CHECK["shuffle_perm"] = sorted(seen.tolist())
    sub = Subset(ds, [0, 2, 4])
    CHECK["subset"] = [sub[i][1] for i in range(len(sub))]
    dl = torch.utils.data.DataLoader(DictDataset(), batch_size=2)
    b = next(iter(dl))
    CHECK["dict_batch"] = (b["x"], b["y"], b["name"])
    tds = torch.utils.data.TensorDataset(torch.arange(6).view(3, 2), torch.tensor([0, 1, 0]))
    CHECK["tensor_ds"] = tds[1]
    CHECK["dataset_attr"] = len(DataLoader(tds, batch_size=2).dataset)
    total = 0
    for i, (x, y) in enumerate(DataLoader(tds, batch_size=2, num_workers=0, pin_memory=False)):
        total += x.sum().item()
    CHECK["sum"] = total
    cat = torch.utils.data.ConcatDataset([tds, tds])
    CHECK["concat_len"] = len(cat)
    gen = torch.Generator()
    gen.manual_seed(0)
    CHECK["gen_loader"] = len(list(DataLoader(ds, batch_size=5, shuffle=True, generator=gen)))
    sampler = torch.utils.data.SubsetRandomSampler([1, 3, 5])
    CHECK["sampler"] = sorted(torch.cat([y for _, y in DataLoader(ds, batch_size=2, sampler=sampler)]).tolist())
    wsampler = torch.utils.data.WeightedRandomSampler([0.1, 0.9], num_samples=4, replacement=True)
    CHECK["weighted_len"] = len(list(wsampler))
