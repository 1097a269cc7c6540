"""My BERT: the code I wrote in the course notebooks, saved by %%my_bert (one file per module named in the cells)."""
