"""``model lineage --png``: the lineage drawn with matplotlib and networkx (no Graphviz needed)."""

from __future__ import annotations

from pathlib import Path

from modelmint.errors import InputError
from modelmint.registry.lineage import Lineage


def draw_lineage(tree: Lineage, path: Path) -> None:
    """Draw the lineage as a PNG with matplotlib and networkx (no Graphviz needed).

    Ancestors run top to bottom, oldest first; each model's datasets sit to its left.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.DiGraph()
    pos: dict[str, tuple[float, float]] = {}
    labels: dict[str, str] = {}
    colors: dict[str, str] = {}
    models = list(tree.chain())[::-1]
    for row, m in enumerate(models):
        key = f"model/{m.token_id}"
        pos[key], colors[key] = (0.0, -row), "#dbe9f6"
        labels[key] = "\n".join(x for x in (f"model {m.token_id}", m.name, m.architecture) if x)
        if row:
            graph.add_edge(f"model/{models[row - 1].token_id}", key)
        for col, d in enumerate(m.datasets, start=1):
            dkey = f"dataset/{d.token_id}@{m.token_id}"
            pos[dkey], colors[dkey] = (-1.6 * col, -row), "#fdebd0"
            labels[dkey] = "\n".join(x for x in (f"dataset {d.token_id}", d.name) if x)
            graph.add_edge(dkey, key)
        graph.add_node(key)
    width = 2.6 + 2.2 * max((len(m.datasets) for m in models), default=0)
    fig, ax = plt.subplots(figsize=(width, 1.0 + 1.4 * len(models)))
    texts = nx.draw_networkx_labels(
        graph, pos, labels=labels, ax=ax, font_size=8, bbox={"boxstyle": "round,pad=0.4", "ec": "#555555"}
    )
    for key, text in texts.items():  # colour each label box by kind
        text.get_bbox_patch().set_facecolor(colors[key])
    for source, target in graph.edges:  # arrows clipped to the label boxes, so heads stay visible
        ax.annotate(
            "", xy=pos[target], xytext=pos[source],
            arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.2, "mutation_scale": 14,
                        "patchA": texts[source].get_bbox_patch(), "patchB": texts[target].get_bbox_patch()},
        )  # fmt: skip
    ax.set_title(f"lineage of model {tree.token_id}", fontsize=10)
    xs, ys = [x for x, _ in pos.values()], [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=150)
    except OSError as exc:  # a missing folder, a folder in the way, no permission
        raise InputError(
            f"cannot write {path} ({exc.strerror or exc})", "check the path and its permissions"
        ) from None
    finally:
        plt.close(fig)
