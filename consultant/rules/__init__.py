"""Coding rules: each a small named unit that reads the analysis and the facts and concludes
(with its citations) or says why it cannot. See ``library`` for the list, ``model`` for the
shapes, ``sources`` for the documents cited."""
