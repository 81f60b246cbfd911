"""The index: documents in, searchable segments out. Rooms follow the data; every import points down this list.

documents/  load files, find pages and headings, split into chunks and sentences, accept uploads
embedding/  embedding models: torch, ONNX for queries, a hashed stand-in; chunk and sentence vectors
search/     BM25 (and its fast top-k) and FAISS: the structures a segment is searched with
store/      segments, versions, merging, locking and reading: the index on disk
milvus/     the same index held in Milvus instead (collections, publishing a version, reading it)
pipeline.py index folders of documents (the writing entry point); access.py opens the live index, local or Milvus
errors.py, diskspace.py, npyfiles.py, threads.py  shared by the rooms: errors, disk-full messages, .npy slices, a pool
chunking.py, lexical.py  old names of documents/chunking.py and search/lexical.py, kept for the reader issue
"""
