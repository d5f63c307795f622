"""Edge detection on a real photo, as the lecture notes show it: the vertical and horizontal edge kernels, Sobel
and Scharr applied to scikit-image's camera man (a 512x512 photo bundled with scikit-image), and the edge
strength sqrt(Gx**2 + Gy**2).

    python examples/edge_detection.py --out pictures      # needs scikit-image and matplotlib

Writes edges.png (photo, kernel, result per kernel), gradient_magnitude.png and image_kernels.png (blur,
sharpen, edge_4: the notes' table of image kernels).
"""
import argparse
import os

import numpy as np

import cnnlab
from cnnlab import filters, viz
from cnnlab.utils import save_image


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pictures", help="folder for the pictures")
    parser.add_argument("--quick", action="store_true", help="a 128x128 version of the photo (the tests use it)")
    args = parser.parse_args(argv)
    try:
        from skimage import data
    except ImportError:
        raise SystemExit("this example reads scikit-image's bundled photos: pip install scikit-image") from None
    photo = data.camera()  # (512, 512) uint8, gray
    if args.quick:
        photo = photo[::4, ::4]
    os.makedirs(args.out, exist_ok=True)

    # cross-correlation with each kernel, as a Conv2d layer computes it; 'replicate' keeps the border from
    # looking like an edge
    for name in ("vertical_edge", "sobel_vertical", "scharr_vertical"):
        print(f"{name}:\n{filters.entries(name)}")
    viz.filter_response(photo, ["vertical_edge", "horizontal_edge", "sobel_vertical", "scharr_horizontal"],
                        path=os.path.join(args.out, "edges.png"))
    viz.filter_response(photo, ["gaussian_blur_5", "sharpen", "edge_4"], path=os.path.join(args.out,
                                                                                              "image_kernels.png"))

    magnitude = filters.gradient_magnitude(photo.astype(np.float32) / 255, "sobel", padding_mode="replicate")
    top = np.percentile(magnitude, 99)  # the strongest 1% saturate, so weaker edges show
    save_image(cnnlab.tensor(np.clip(magnitude / top, 0, 1))[None], os.path.join(args.out, "gradient_magnitude.png"))
    print(f"photo {photo.shape}, edge strength up to {magnitude.max():.2f}; pictures in {args.out}/")


if __name__ == "__main__":
    main()
