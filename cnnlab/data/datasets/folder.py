"""ImageFolder: one sub-folder per class, images decoded with Pillow."""
import os

from ..dataset import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path):
    """Open an image file as an RGB Pillow image, with an error that names the file when it can't."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImportError("ImageFolder needs Pillow: pip install Pillow (or pip install 'cnnlab[images]').") from None
    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"ImageFolder: cannot read the image {path} ({type(e).__name__}: {e}).") from None


class ImageFolder(Dataset):
    """Images arranged as root/<class>/<image>; classes are the sorted folder names, labels their index.

    Args:
        root (str), transform, target_transform (callable, default None),
        loader (callable, default: Pillow, RGB), is_valid_file (callable, default: by extension).

    Attributes: classes, class_to_idx, samples [(path, label)], targets.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=None, is_valid_file=None,
                 extensions=IMG_EXTENSIONS):
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"ImageFolder: no such folder. Got root={self.root!r}.")
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {self.root} has no class sub-folders (expected root/<class>/<img>).")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        valid = is_valid_file or (lambda p: p.lower().endswith(tuple(extensions)))
        self.samples = []
        for c in self.classes:
            for folder, _, files in sorted(os.walk(os.path.join(self.root, c), followlinks=True)):
                self.samples += [(os.path.join(folder, f), self.class_to_idx[c]) for f in sorted(files)
                                 if valid(os.path.join(folder, f))]
        if not self.samples:
            raise FileNotFoundError(f"ImageFolder: found no images in {self.root} (extensions {', '.join(extensions)}).")
        self.targets = [t for _, t in self.samples]
        self.imgs = self.samples
        self.loader = loader or pil_loader
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
