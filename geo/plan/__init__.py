"""Coverage and site choice (MCLP, p-median, HiGHS, candidate grids): pure functions. Imports geo only."""
