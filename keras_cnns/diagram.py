"""Draw a block (or a small model) as boxes and arrows, read from its real Keras graph.

    from keras_cnns import blocks, plots
    inputs = keras.Input((32, 32, 64))
    block = keras.Model(inputs, blocks.residual_block(inputs, 64, 3, name="res"))
    plots.block_diagram(block, title="basic residual block")

The layers and their connections come from ``model.get_config()`` (each layer's inbound tensors), so
the picture cannot disagree with the code: a layer appears once, at the depth of its longest path from
the input, and an arrow joins it to every layer it reads. Only matplotlib is needed (no Graphviz).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

#: box colours by layer kind (colour-blind-safe Okabe-Ito hues, light)
COLOURS = {
    "Conv2D": "#9ecae1", "GroupedConv2D": "#9ecae1", "DepthwiseConv2D": "#9ecae1", "Dense": "#9ecae1",
    "BatchNormalization": "#fdd0a2", "ReLU": "#c7e9c0", "Activation": "#c7e9c0",
    "Add": "#fcbba1", "Concatenate": "#fcbba1", "MaxPooling2D": "#dadaeb", "AveragePooling2D": "#dadaeb",
    "GlobalAveragePooling2D": "#dadaeb", "InputLayer": "#eeeeee",
}


def _inbound(layer_config: dict) -> list[str]:
    """Names of the layers whose outputs ``layer_config`` reads (from its ``inbound_nodes``)."""
    found: list[str] = []

    def walk(obj):
        if isinstance(obj, dict):
            history = obj.get("config", {}).get("keras_history") if isinstance(obj.get("config"), dict) else None
            if history:
                found.append(history[0])
            for value in obj.values():
                walk(value)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                walk(value)

    walk(layer_config.get("inbound_nodes", []))
    return list(dict.fromkeys(found))


def _label(config: dict) -> str:
    """``Conv2D 3x3, 64`` / ``BatchNorm`` / ``Add``: the layer's kind and its key settings."""
    kind, cfg = config["class_name"], config.get("config", {})
    if kind == "InputLayer":
        shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or []
        return "input " + "x".join(str(d) for d in shape[1:])
    if kind in ("Conv2D", "GroupedConv2D", "DepthwiseConv2D"):
        k = cfg.get("kernel_size", "?")
        k = f"{k[0]}x{k[1]}" if isinstance(k, (list, tuple)) else str(k)
        strides = cfg.get("strides", 1)
        s = strides[0] if isinstance(strides, (list, tuple)) else strides
        groups = cfg.get("groups", 1)
        extra = (f", /{s}" if s != 1 else "") + (f", {groups} groups" if groups and groups != 1 else "")
        return f"conv {k}, {cfg.get('filters', '?')}{extra}"
    if kind == "BatchNormalization":
        return "batch norm"
    if kind in ("ReLU", "Activation"):
        return cfg.get("activation", "relu") if kind == "Activation" else "relu"
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        p = cfg.get("pool_size", "?")
        p = f"{p[0]}x{p[1]}" if isinstance(p, (list, tuple)) else p
        return f"{'max' if kind.startswith('Max') else 'avg'} pool {p}"
    if kind == "Dense":
        return f"dense {cfg.get('units', '?')}"
    return {"Add": "add (+)", "Concatenate": "concatenate"}.get(kind, kind)


def graph(model) -> tuple[list[dict], dict[str, list[str]]]:
    """``(layers, inbound)``: the model's layer configs in order and, per name, the layers it reads."""
    layers = model.get_config()["layers"]
    return layers, {layer["name"]: _inbound(layer) for layer in layers}


def block_diagram(model, title: str | None = None, box_width: float = 2.3, dpi: int = 110) -> Figure:
    """A top-to-bottom diagram of ``model``'s layers (boxes) and connections (arrows).

    Args:
        model: a functional Keras model (typically one block between an ``Input`` and its output).
        title: figure title.
        box_width: width of a box in inches (its text is the layer kind and key settings).
        dpi: figure resolution (>= 100 so that it reads when projected).
    """
    layers, inbound = graph(model)
    children: dict[str, list[str]] = {layer["name"]: [] for layer in layers}
    for name, parents in inbound.items():
        for parent in parents:
            children.setdefault(parent, []).append(name)
    depth: dict[str, int] = {}
    column: dict[str, float] = {}
    for layer in layers:  # configs come in topological order
        name = layer["name"]
        parents = [p for p in inbound[name] if p in depth]
        depth[name] = 1 + max((depth[p] for p in parents), default=-1)
        if len(parents) > 1:  # a merge (add, concatenate): between the branches it joins
            column[name] = sum(column[p] for p in parents) / len(parents)
        elif parents:  # a chain stays in its column; a fork spreads its (non-merge) children out
            siblings = [c for c in children[parents[0]] if len(inbound[c]) == 1]
            k = siblings.index(name) if name in siblings else 0
            column[name] = column[parents[0]] + k - (len(siblings) - 1) / 2
        else:
            column[name] = 0.0
    low, high = min(column.values()), max(column.values())
    width, n_rows = high - low + 1, max(depth.values()) + 1
    step = box_width + 0.5
    curved = any(len(children[parent]) > 1 and len(inbound[name]) > 1 and depth[name] - depth[parent] > 1
                 and column[parent] == column[name] for name, parents in inbound.items() for parent in parents
                 if parent in depth)
    margin = min(0.25 * n_rows, 1.6) if curved else 0.1  # room on the right for a shortcut's curve
    fig = Figure(figsize=(max(3.2, width * step + margin), 0.62 * n_rows + 0.8), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 0.94 if title else 1])
    ax.set_xlim(0, width * step + margin)
    ax.set_ylim(-n_rows + 0.3, 0.8)
    ax.axis("off")
    centre = {name: ((column[name] - low + 0.5) * step, -depth[name]) for name in depth}
    config = {layer["name"]: layer for layer in layers}
    for name, (x, y) in centre.items():
        kind = config[name]["class_name"]
        ax.add_patch(FancyBboxPatch((x - box_width / 2, y - 0.2), box_width, 0.4,
                                    boxstyle="round,pad=0.02", facecolor=COLOURS.get(kind, "#ffffff"),
                                    edgecolor="#444444", linewidth=1))
        ax.text(x, y, _label(config[name]), ha="center", va="center", fontsize=10)
    for name, parents in inbound.items():
        for parent in parents:
            if parent not in centre:
                continue
            (x0, y0), (x1, y1) = centre[parent], centre[name]
            # a shortcut: from a fork straight into a merge, past other layers (red, curved round them)
            shortcut = len(children[parent]) > 1 and len(inbound[name]) > 1 and y0 - y1 > 1
            if shortcut and x0 == x1:  # leave the box's right edge and come back round the column
                start, end, bend = (x0 + box_width / 2, y0), (x1 + box_width / 2, y1), "arc3,rad=-0.35"
            else:
                start, end, bend = (x0, y0 - 0.2), (x1, y1 + 0.2), "arc3"
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.3,
                                         color="#c0392b" if shortcut else "#444444", connectionstyle=bend))
    if title:
        fig.suptitle(title, fontsize=12)
    return fig
