"""Documents: from files on disk to text with offsets.

loader      read .txt .md .pdf .html .docx into Documents (the I/O)
locations   PDF pages and heading paths as offsets into the loaded text
chunking    split text into chunks and sentences, with character offsets
splitter    llama-index's SentenceSplitter, imported narrowly
uploads     check and store uploaded files under a safe name
"""
