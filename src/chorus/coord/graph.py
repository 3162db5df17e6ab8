"""The coordination network as GEXF or GraphML, for Gephi and other graph tools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from chorus.errors import ChorusError
from chorus.store import Store

GraphFormat = Literal["gexf", "graphml"]
GRAPH_FORMATS: tuple[GraphFormat, ...] = ("gexf", "graphml")

_NODE_ATTRS = (("n_docs", "int"), ("community", "int"), ("originator", "double"))
_EDGE_ATTRS = (("n_objects", "int"), ("p_value", "double"), ("q_value", "double"))


def write_graph(store: Store, path: str | os.PathLike[str], *, format: GraphFormat) -> int:
    """Write sources as nodes and ``source_edges`` as weighted edges; returns the number of
    edges. Run ``chorus coord`` first."""
    if "source_edges" not in store.table_names():
        raise ChorusError("no coordination network in the store; run 'chorus coord' first")
    nodes = store.con.execute(
        "SELECT source, n_docs, community, originator FROM sources ORDER BY source"
    ).fetchall()
    edges = store.con.execute(
        """SELECT source_a, source_b, weight, n_objects, p_value, q_value FROM source_edges
           ORDER BY source_a, source_b"""
    ).fetchall()
    writer = _gexf if format == "gexf" else _graphml
    Path(path).write_text(writer(nodes, edges), encoding="utf-8")
    return len(edges)


def _value(value: object) -> str:
    return "" if value is None else str(value)


def _attvalues(attrs: list[object]) -> str:
    values = "".join(
        f'<attvalue for="{i}" value={quoteattr(_value(v))}/>'
        for i, v in enumerate(attrs)
        if v is not None
    )
    return f"<attvalues>{values}</attvalues>"


def _gexf(nodes: list[tuple[object, ...]], edges: list[tuple[object, ...]]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
        '<graph defaultedgetype="undirected">',
        '<attributes class="node">',
        *(f'<attribute id="{i}" title="{n}" type="{t}"/>' for i, (n, t) in enumerate(_NODE_ATTRS)),
        '</attributes><attributes class="edge">',
        *(f'<attribute id="{i}" title="{n}" type="{t}"/>' for i, (n, t) in enumerate(_EDGE_ATTRS)),
        "</attributes><nodes>",
    ]
    for source, *attrs in nodes:
        out.append(
            f"<node id={quoteattr(str(source))} label={quoteattr(str(source))}>"
            f"{_attvalues(attrs)}</node>"
        )
    out.append("</nodes><edges>")
    for number, (a, b, weight, *attrs) in enumerate(edges):
        out.append(
            f'<edge id="{number}" source={quoteattr(str(a))} target={quoteattr(str(b))} '
            f'weight="{weight}">{_attvalues(attrs)}</edge>'
        )
    out.append("</edges></graph></gexf>")
    return "\n".join(out) + "\n"


def _graphml(nodes: list[tuple[object, ...]], edges: list[tuple[object, ...]]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        *(f'<key id="{n}" for="node" attr.name="{n}" attr.type="{t}"/>' for n, t in _NODE_ATTRS),
        '<key id="weight" for="edge" attr.name="weight" attr.type="double"/>',
        *(f'<key id="{n}" for="edge" attr.name="{n}" attr.type="{t}"/>' for n, t in _EDGE_ATTRS),
        '<graph id="coordination" edgedefault="undirected">',
    ]
    for source, *attrs in nodes:
        data = "".join(
            f'<data key="{name}">{escape(_value(v))}</data>'
            for (name, _), v in zip(_NODE_ATTRS, attrs, strict=True)
            if v is not None
        )
        out.append(f"<node id={quoteattr(str(source))}>{data}</node>")
    for a, b, weight, *attrs in edges:
        data = f'<data key="weight">{weight}</data>' + "".join(
            f'<data key="{name}">{escape(_value(v))}</data>'
            for (name, _), v in zip(_EDGE_ATTRS, attrs, strict=True)
            if v is not None
        )
        out.append(f"<edge source={quoteattr(str(a))} target={quoteattr(str(b))}>{data}</edge>")
    out.append("</graph></graphml>")
    return "\n".join(out) + "\n"
