"""Partner change: move a whole WABA, all its numbers at once, to another integration partner."""
