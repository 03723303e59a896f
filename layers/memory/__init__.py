"""The serving copy both stores answer from: sphere index, k-d trees, stored rows. Imports geo and layers' top-level modules only."""
