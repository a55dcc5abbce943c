# Sourced by scripts/bot and scripts/test: make .venv once, then use it.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
export PATH="$PWD/.venv/bin:$PATH"
