"""Perplexity-correlation data selection (Thrush, Potts and Hashimoto, 2024), as ccsieve jobs.

Over many existing language models, the domains whose loss correlates with benchmark performance
are the ones worth pretraining on; no model is trained to find them. The steps, each importable:

- :mod:`.domains`: registered domains, chunking and per-domain sampling of a pool of documents;
- :mod:`.scoring`, :mod:`.kenlm_family`, :mod:`.hf_family`, :mod:`.ray_scoring`: loss of each model on
  each chunk (KenLM or Hugging Face causal LMs; many models on Ray GPU actors), cached per model;
- :mod:`.bpb`: the BPB matrix (models x domains) and benchmark errors;
- :mod:`.estimators`, :mod:`.projection`: the paper's estimators and projections, in numpy;
- :mod:`.fit`: estimate, project, label domains, train the fastText student;
- :mod:`.select`: keep the top-scoring documents up to a token budget.

The jobs are ``jobs/bpb.py``, ``jobs/pplcorr_fit.py`` and ``jobs/pplcorr_select.py``; the method and the
commands are in docs/perplexity-correlations.md.
"""
