"""The pages of the insights: explanations (attribution, attacks, sweeps, the dataset view), what each
filter likes and its concept labels, ablations, and the network overview."""
