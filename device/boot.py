"""boot.py: runs first at every reset. Kept tiny so a mistake here cannot brick the board.

It only lowers the GC threshold (small heaps fragment less when the collector
runs earlier). Everything else (store, clock, links, engine) is main.py's.
"""

import gc

gc.collect()
try:
    gc.threshold(gc.mem_free() // 4 + gc.mem_alloc())
except (AttributeError, ValueError):
    pass
