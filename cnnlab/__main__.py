"""`python -m cnnlab ...` runs the cnnlab command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(invoked_as="python -m cnnlab"))
