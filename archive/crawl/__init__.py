"""The crawl's library side: what to fetch (frontier), and the single writer that records it."""
