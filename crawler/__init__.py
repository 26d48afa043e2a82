"""The Scrapy project behind ``citevault crawl``: settings, the ``evidence`` spider, the WARC middleware.

Scrapy types stay in this package; what crosses into ``archive`` is plain data (:class:`archive.warc.builder.HttpExchange`).
"""
