"""The README's import-column tables, generated so they cannot drift."""

from hub.ingest.datasets import DATASETS


def columns_markdown() -> str:
    """One table per dataset: GraphQL field, required, accepted column titles."""
    parts = []
    for spec in DATASETS.values():
        parts.append(
            f"**{spec.name}** ({spec.label}); business key: {', '.join(spec.key)}\n"
        )
        parts.append("| field | required | column titles (besides the field name) |")
        parts.append("|---|---|---|")
        for f in spec.fields:
            unit = " + unit" if f.unit else ""
            titles = "、".join(f.headers) + unit
            parts.append(
                f"| `{f.input_name}` | {'yes' if f.required else ''} | {titles} |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
