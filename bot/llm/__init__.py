"""Answers written by an LLM, still citing verbatim passages (CITEBOT_LLM): docs/how-it-answers.md#with-an-llm.

backends  the backends (none, openai-compatible, llama-cpp) behind a small streaming protocol; condensing follow-ups
repair    an LLM reply's [n] markers turned into verified quotes; sentences without one flagged or dropped
prompts   plain `$variable` templates from prompts/: system, answer, condense
"""
