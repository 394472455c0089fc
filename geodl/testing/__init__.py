"""Property assertions for layers and descriptors, used by geodl's own tests
and available to users testing their extensions.

Each ``assert_*`` raises ``AssertionError`` with the largest deviation found.
"""
from geodl.testing.properties import (
                                      assert_batch_consistent,
                                      assert_gradcheck,
                                      assert_isometry_invariant,
                                      assert_permutation_equivariant,
                                      assert_permutation_invariant,
                                      assert_rigid_invariant,
                                      random_rotation,
)

__all__ = ["assert_batch_consistent", "assert_gradcheck", "assert_isometry_invariant",
           "assert_permutation_equivariant", "assert_permutation_invariant",
           "assert_rigid_invariant", "random_rotation"]
