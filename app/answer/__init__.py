"""Answering: the engine that loads a collection once and answers, and the abstention rule.

In: a question and a store. Out: an `Answer` with an abstention level ("answered", "related",
"nothing"), its passages verbatim and the notices (correction, follow-up, other language).
"""
