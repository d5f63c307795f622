"""Pillow drawing of a Plan: one frame per output cell, the input grid on the left (padding shaded, the window
dark, its dilated extent outlined), the output grid on the right (cells written so far filled, the current one
dark), the formula and the step in the caption, a legend at the bottom."""
__all__ = ["render", "pillow"]

COLORS = {"input": "#bcd7f0", "zero": "#ffffff", "pad": "#dedede", "outside": "#ffffff", "tap": "#2f6fb0",
          "tap0": "#7ea6d3",
          "window": "#0b3d91", "done": "#a6dccb", "now": "#1b8a6b", "todo": "#ffffff", "line": "#7a7a7a",
          "hatch": "#b5b5b5", "text": "#111111", "faint": "#6b6b6b"}
LEGEND = (("input", "input"), ("pad", "padding"), ("zero", "inserted zero"), ("outside", "past the padding"),
          ("tap", "window on input"), ("tap0", "window on zeros"), ("done", "output written"), ("now", "output now"))


def pillow():
    """PIL's Image, ImageDraw and ImageFont, or an ImportError naming the extra to install."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError("cnnlab.animate draws with Pillow, which is not installed: pip install cnnlab[images] "
                          "(or pip install pillow)") from None
    return Image, ImageDraw, ImageFont


def _font(ImageFont, size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: the small bitmap font only
        return ImageFont.load_default()


def _text_width(font, text):
    return int(font.getlength(text)) if hasattr(font, "getlength") else 7 * len(text)


def _ranges(values):
    """'-1..1' for consecutive values, '-1, 1, 3' otherwise."""
    values = sorted(set(values))
    if len(values) > 1 and values[-1] - values[0] == len(values) - 1:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


def _step_line(plan, i, step, pool_mode):
    rows, cols = _ranges(y for y, _ in step.taps), _ranges(x for _, x in step.taps)
    what = {"max": "max", "avg": "mean"}.get(pool_mode, "sum of kernel * values")
    return (f"step {i + 1} of {len(plan.steps)}: output[{step.output[0]}, {step.output[1]}] = {what} over "
            f"grid rows {rows}, columns {cols}")


class _Layout:
    def __init__(self, plan, cell, font, small, caption, title, legend):
        self.cell, self.label = cell, max(22, cell * 3 // 4)
        self.gh, self.gw = plan.rows[1] - plan.rows[0] + 1, plan.cols[1] - plan.cols[0] + 1
        oh, ow = plan.output_size
        self.line = font.size + 6 if hasattr(font, "size") else 18
        self.top = 12 + self.line
        self.in_x, self.gap = 12 + self.label, max(70, cell * 2)
        self.out_x = max(self.in_x + self.gw * cell + self.gap, self.in_x + _text_width(font, title) + 24) + \
            self.label
        grids_w = self.out_x + ow * cell + 12
        text_w = max(_text_width(font, t) for t in caption) + 24
        self.legend_y = self.top + self.label + max(self.gh, oh) * cell + 12
        self.caption_y = self.legend_y + self.line + 8
        self.legend = legend
        legend_w = self.in_x - self.label + sum(20 + _text_width(small, t) + 18 for _, t in legend)
        self.width = max(grids_w, text_w, legend_w, 480)
        self.height = self.caption_y + self.line * len(caption) + 10


def _hatch(draw, box, color):
    x0, y0, x1, y1 = box
    size = x1 - x0
    for t in range(-size, size, 8):  # diagonal lines clipped to the cell
        a = (x0 + max(t, 0), y0 + max(-t, 0))
        b = (x0 + min(size, size + t), y0 + min(size, size - t))
        draw.line([a, b], fill=color, width=1)


def _grid_box(layout, x0, y0, r, c):
    s = layout.cell
    return (x0 + c * s, y0 + r * s, x0 + (c + 1) * s, y0 + (r + 1) * s)


def _legend(plan, pool_mode):
    """The legend's (color key, text) pairs for what this plan draws."""
    cells = [(y, x) for y in range(plan.rows[0], plan.rows[1] + 1) for x in range(plan.cols[0], plan.cols[1] + 1)]
    used = {plan.kind(y, x) for y, x in cells} | {"tap", "done", "now"}
    if any(plan.kind(y, x) != "input" for step in plan.steps for y, x in step.taps):
        used.add("tap0")
    names = dict(LEGEND, tap0="window off the input (ignored)" if pool_mode else "window on zeros")
    return [(key, names[key]) for key, _ in LEGEND if key in used]


def _base(plan, layout, font, small, titles, Image, ImageDraw, pool_mode):
    """Everything that does not change from frame to frame: the input grid, the labels, the legend."""
    img = Image.new("RGB", (layout.width, layout.height), "white")
    draw = ImageDraw.Draw(img)
    y0 = layout.top + layout.label
    draw.text((layout.in_x, 8), titles[0], fill=COLORS["text"], font=font)
    draw.text((layout.out_x, 8), titles[1], fill=COLORS["text"], font=font)
    for r, y in enumerate(range(plan.rows[0], plan.rows[1] + 1)):
        for c, x in enumerate(range(plan.cols[0], plan.cols[1] + 1)):
            kind = plan.kind(y, x)
            box = _grid_box(layout, layout.in_x, y0, r, c)
            draw.rectangle(box, fill=COLORS[kind], outline=COLORS["line"])
            if kind in ("pad", "outside"):
                _hatch(draw, box, COLORS["hatch"])
            if kind in ("pad", "zero") and not pool_mode:
                draw.text((box[0] + layout.cell // 2, box[1] + layout.cell // 2), "0", fill=COLORS["faint"],
                          font=small, anchor="mm")
    for c, x in enumerate(range(plan.cols[0], plan.cols[1] + 1)):  # coordinates: negative = padding
        draw.text((layout.in_x + c * layout.cell + layout.cell // 2, layout.top + layout.label // 2), str(x),
                  fill=COLORS["faint"], font=small, anchor="mm")
    for r, y in enumerate(range(plan.rows[0], plan.rows[1] + 1)):
        draw.text((layout.in_x - layout.label // 2 - 2, y0 + r * layout.cell + layout.cell // 2), str(y),
                  fill=COLORS["faint"], font=small, anchor="mm")
    for c in range(plan.output_size[1]):
        draw.text((layout.out_x + c * layout.cell + layout.cell // 2, layout.top + layout.label // 2), str(c),
                  fill=COLORS["faint"], font=small, anchor="mm")
    for r in range(plan.output_size[0]):
        draw.text((layout.out_x - layout.label // 2 - 2, y0 + r * layout.cell + layout.cell // 2), str(r),
                  fill=COLORS["faint"], font=small, anchor="mm")
    ax = layout.in_x + layout.gw * layout.cell + 10  # the arrow from input to output
    ay = y0 + min(layout.gh, plan.output_size[0]) * layout.cell // 2
    draw.line([(ax, ay), (layout.out_x - layout.label - 6, ay)], fill=COLORS["line"], width=3)
    tip = layout.out_x - layout.label - 6
    draw.polygon([(tip, ay), (tip - 10, ay - 6), (tip - 10, ay + 6)], fill=COLORS["line"])
    x = layout.in_x - layout.label
    for key, text in layout.legend:
        box = (x, layout.legend_y + 2, x + 14, layout.legend_y + 16)
        draw.rectangle(box, fill=COLORS[key], outline=COLORS["line"])
        if key in ("pad", "outside"):
            _hatch(draw, box, COLORS["hatch"])
        draw.text((x + 20, layout.legend_y), text, fill=COLORS["text"], font=small)
        x += 20 + _text_width(small, text) + 18
    return img


def render(plan, cell=32, pool_mode=None):
    """The frames of a Plan as RGB PIL Images, one per output cell (see cnnlab.animate.conv)."""
    Image, ImageDraw, ImageFont = pillow()
    font, small = _font(ImageFont, 16), _font(ImageFont, max(11, min(14, cell // 2)))
    captions = [plan.caption + (_step_line(plan, i, s, pool_mode),) for i, s in enumerate(plan.steps)]
    h, w = plan.input_size
    padded = plan.rows[1] - plan.rows[0] + 1 != h or plan.cols[1] - plan.cols[0] + 1 != w
    titles = (f"input {h}x{w}" + (" (hatched: outside the input)" if padded else ""),
              f"output {plan.output_size[0]}x{plan.output_size[1]}")
    widest = max(captions, key=lambda c: max(_text_width(font, t) for t in c))
    layout = _Layout(plan, cell, font, small, widest, titles[0], _legend(plan, pool_mode))
    base = _base(plan, layout, font, small, titles, Image, ImageDraw, pool_mode)
    y0 = layout.top + layout.label
    frames = []
    for i, step in enumerate(plan.steps):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for y, x in step.taps:
            r, c = y - plan.rows[0], x - plan.cols[0]
            box = _grid_box(layout, layout.in_x, y0, r, c)
            reads_input = plan.kind(y, x) == "input"
            draw.rectangle(box, fill=COLORS["tap" if reads_input else "tap0"], outline=COLORS["line"])
            if not reads_input and not pool_mode:
                draw.text((box[0] + cell // 2, box[1] + cell // 2), "0", fill="white", font=small, anchor="mm")
        top = min(y for y, _ in step.taps) - plan.rows[0]
        left = min(x for _, x in step.taps) - plan.cols[0]
        box = _grid_box(layout, layout.in_x, y0, top, left)
        draw.rectangle((box[0], box[1], box[0] + plan.window[1] * cell, box[1] + plan.window[0] * cell),
                       outline=COLORS["window"], width=3)
        for j, other in enumerate(plan.steps):
            kind = "done" if j < i else "now" if j == i else "todo"
            box = _grid_box(layout, layout.out_x, y0, *other.output)
            draw.rectangle(box, fill=COLORS[kind], outline=COLORS["line"])
        draw.rectangle(_grid_box(layout, layout.out_x, y0, *step.output), outline=COLORS["window"], width=3)
        for k, text in enumerate(captions[i]):
            draw.text((12, layout.caption_y + k * layout.line), text, fill=COLORS["text"], font=font)
        frames.append(img)
    return frames
