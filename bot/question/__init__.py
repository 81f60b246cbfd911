"""What a question asks, read before answering it.

answer_types  the kind of answer it wants (a date for "when", a count for "how many") and its topic words
spelling      misspelled words respelled as the retrieved passages spell them
titles        the documents it names by title
overview      whether it asks what a whole document is about
"""
