"""Evaluation: question sets with verbatim gold quotes scored with pytrec_eval, BEIR sets, the gate.

In: JSON Lines question sets and an engine. Out: Recall@k, MRR@10, nDCG@10 and abstention rates,
compared with `eval/baseline.json`; calibration data for the abstention rule.
"""
