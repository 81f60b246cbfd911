"""The index on disk: immutable segments listed by small versions; one writer, many readers (docs/performance.md).

build             build and update the index: diff, write segments, merge, swap the version
segments          one immutable segment: text, chunks, sentences, vectors, BM25 postings
sentence_vectors  sentence vectors on disk: float16 (float32 in older segments), read as float32
filetable         the indexed files as compact tables, for a cheap folder-vs-index diff
merging           which segments to merge, and writing the merged one without re-embedding
merge_postings    the merged segment's BM25 postings and sentence keys, a slice at a time
respec            a segment with another FAISS index (flat to IVF), other files hard-linked
locking           one writer at a time: an flock on the index folder
reading           read a version's manifest and segments as one lazily read StoredIndex
views             a version's live rows across segments, numbered 0..n-1
"""

from index.store.reading import IndexConfig, StoredIndex

__all__ = ["IndexConfig", "StoredIndex"]
