"""Exports in formats other tools read: WACZ packages (:mod:`archive.exports.wacz`) and CDXJ indexes
(:mod:`archive.exports.cdxj`), both built from the index rows and the WARC files as they are."""
