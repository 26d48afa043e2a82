"""WARC files: building records, writing them (store), reading one back, scanning files, repair."""
