"""Embedding: text to vectors.

models       embedding models by name: the folder a package ships, and its dimension
embeddings   the torch embedder (sentence-transformers via llama-index), batched, with token vectors
onnx_embed   query vectors without torch: the model exported to ONNX
query_embed  choose the query embedder: ONNX when usable, else torch
hash_embed   a deterministic stand-in embedder for tests and benchmarks
vectors      chunk and sentence vectors for new documents (the `chunk_vectors` setting)
"""
