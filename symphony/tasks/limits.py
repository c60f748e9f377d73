"""The limits and defaults of the task API that its callers (the CLI, the server) show before
loading anything heavy."""
MAX_GUIDANCE = 5.0  # style guidance weight, 0 (off) .. this
FILL_CANDIDATES = 8  # fills drawn per infilled hole, decoded as one batch; the best-joined one is kept
MAX_FILL_CANDIDATES = 16
MAX_BARS = 512
MAX_COUNT = 100  # pieces per generate request (-n)
