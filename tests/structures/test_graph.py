"""networkx round trips of graphs (geodl.structures.graph) and their input checks."""
import networkx as nx
import pytest

from geodl.structures import from_networkx, to_networkx


def test_networkx_round_trip_with_attributes_and_names():
    g = nx.Graph()
    g.add_node("a", x=[1.0, 2.0], label=0)
    g.add_node("b", x=[3.0, 4.0], label=1)
    g.add_node("c", x=[5.0, 6.0], label=1)
    g.add_edge("a", "b", weight=0.5)
    g.add_edge("b", "c", weight=2.0)
    data = from_networkx(g)
    assert data.x.shape == (3, 2) and data.label.tolist() == [0, 1, 1]
    assert data.edge_index.shape == (2, 4) and data.weight.shape == (4,)
    back = to_networkx(data, node_attrs=["x", "label"], edge_attrs=["weight"])
    assert set(back.nodes) == {"a", "b", "c"}
    assert back.nodes["c"]["x"] == [5.0, 6.0] and back.nodes["a"]["label"] == 0
    assert back["b"]["c"]["weight"] == 2.0 and back["a"]["b"]["weight"] == 0.5
    assert not back.is_directed()


def test_karate_club_round_trip():
    g = nx.karate_club_graph()
    data = from_networkx(g, node_attrs=["club"], edge_attrs=["weight"])
    back = to_networkx(data, edge_attrs=["weight"])
    assert nx.utils.graphs_equal(nx.Graph(back.edges), nx.Graph(g.edges))
    assert all(back[u][v]["weight"] == d["weight"] for u, v, d in g.edges(data=True))


def test_from_networkx_rejects_bad_graphs():
    with pytest.raises(ValueError, match="no nodes"):
        from_networkx(nx.Graph())
    with pytest.raises(TypeError):
        from_networkx([(0, 1)])
