"""The `cnnlab` command (also `python -m cnnlab`)."""
import argparse
import sys


def _demo(args):
    from . import demo
    demo.run(write=print)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="cnnlab", description="Build, train and understand CNNs on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="a small CNN's forward and backward pass, with shapes and gradient norms")
    p.set_defaults(func=_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as e:
        print(f"cnnlab {args.command}: {e}", file=sys.stderr)
        return 1
