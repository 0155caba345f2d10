"""`python -m core.train` — kept as the name the lessons and earlier versions use for the command-line
trainer, which lives in the lab (lab/train.py: it loads data and runs a Trainer, a service, not the book)."""
from lab.train import main

if __name__ == "__main__":
    raise SystemExit(main())
