"""`python -m model`: see model.cli."""

from model.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
