"""Loading a corpus, one way from top to bottom of this list:

discovery (find the files) → reading (one file → a record or problems) → workers (runs
of files in processes) → cache_place / cache_format / freshness (the warm-start cache) →
early (workers forked before the app starts) → plan (one load, in order, as batches) →
background (a load in a thread, handed over by a queue).
"""
