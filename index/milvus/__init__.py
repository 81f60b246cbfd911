"""The index held in Milvus (CITEBOT_VECTOR_STORE=milvus): docs/large-corpora.md.

collections  the client, collection names and schemas, the index's state
sync         publish a local index version to Milvus
views        read an index version from Milvus alone, as a StoredIndex
"""
