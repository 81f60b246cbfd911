"""Search structures a segment is searched with.

lexical       the shared tokenizer and BM25 (postings, vocabulary, scores)
lexical_topk  BM25's top k without scoring every chunk (MaxScore)
titles        documents by the words of their file names, kept with each segment
vectorstores  FAISS (exact or IVF) over chunk vectors
"""
