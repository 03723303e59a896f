"""The chord k-d tree behind nearest: pykdtree, single-threaded, answering as cKDTree does."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial import cKDTree

from geo.distance import unit_xyz
from layers.memory import chord_tree
from layers.memory.chord_tree import ChordTree


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(4)
    return unit_xyz(rng.uniform(73, 135, 20_000), rng.uniform(18, 53, 20_000))


def test_pykdtree_is_used_and_runs_one_thread():
    assert chord_tree.ENGINE == "pykdtree"


def test_an_operator_setting_of_omp_threads_is_left_alone_and_not_used():
    code = ("import os; from layers.memory import chord_tree; "
            "print(chord_tree.ENGINE, os.environ['OMP_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"OMP_NUM_THREADS": "4", "PATH": "/usr/bin:/bin", "PYTHONPATH": "."})
    assert out.stdout.split() == ["pykdtree", "4"]


@pytest.mark.parametrize("k", [1, 2, 7, 50])
def test_same_neighbours_and_chords_as_ckdtree(points, k):
    ours, reference = ChordTree(points), cKDTree(points)
    rng = np.random.default_rng(k)
    for q in unit_xyz(rng.uniform(73, 135, 200), rng.uniform(18, 53, 200)):
        chords, idx = ours.nearest(q, k)
        want_chords, want_idx = reference.query(q, k=[*range(1, k + 1)])
        assert np.array_equal(idx, want_idx)  # random points: no ties
        assert np.allclose(chords, want_chords, rtol=1e-14, atol=0)
        assert idx.dtype == np.int64 and chords.shape == idx.shape == (k,)


def test_a_bound_keeps_only_closer_points(points):
    tree, reference = ChordTree(points), cKDTree(points)
    q = points[17]
    chords, idx = tree.nearest(q, 30, bound=0.001)
    want = sorted(i for i in reference.query_ball_point(q, 0.001) if np.linalg.norm(points[i] - q) < 0.001)
    assert sorted(idx.tolist()) == want[:30] and np.all(chords < 0.001)
    assert tree.nearest(q, 5, bound=1e-12)[1].tolist() == [17]
    far = -q  # the antipode: nothing within a small chord
    assert tree.nearest(far, 3, bound=0.01)[1].size == 0
    assert tree.nearest(q, 3, bound=math.inf)[1].size == 3


def test_ball_lists_every_point_within_the_chord(points):
    tree, reference = ChordTree(points), cKDTree(points)
    q = points[99]
    assert sorted(tree.ball(q, 0.02).tolist()) == sorted(reference.query_ball_point(q, 0.02))


def test_a_tree_smaller_than_k_is_never_asked_beyond_its_size():
    tree = ChordTree(unit_xyz(np.array([100.0, 101.0]), np.array([30.0, 30.0])))
    chords, idx = tree.nearest(unit_xyz(np.array([100.2]), np.array([30.0]))[0], 2)
    assert idx.tolist() == [0, 1] and np.all(np.isfinite(chords))
