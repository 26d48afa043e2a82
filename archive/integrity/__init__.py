"""Evidence integrity: rebuild the index from WARC files alone (reindex), catch up after a crash,
and check fixity (verify)."""
