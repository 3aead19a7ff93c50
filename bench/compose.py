"""Throughput of the composition hot paths: `python bench/compose.py`.

Prints analyses/s (planning measures every message) and renders/s (personalising a campaign).
"""

from __future__ import annotations

import timeit

from textopt.compose import analyze, compile_template, count_segments, measure

TEXTS = {
    "gsm short": "Boutique: -20% sur tout le magasin ce weekend ! STOP au 36111",
    "gsm long 400": ("Offre speciale [code] 10€ " * 16)[:400],
    "ucs2 apostrophe": "Boutique: c’est le moment, -20% ce weekend ! STOP au 36111",
    "emoji 300": "Promo 😀 ✨ " * 30,
}
CONTEXTS = [
    {"first_name": f"Client{i}", "attributes": {"city": "Lyon" if i % 2 else "Paris"}}
    for i in range(1000)
]


def rate(fn: object, number: int) -> float:
    """Calls per second of `fn`, best of three runs."""
    best = min(timeit.repeat(fn, number=number, repeat=3))  # type: ignore[arg-type]
    return number / best


def main() -> None:
    """Print the figures."""
    for name, text in TEXTS.items():
        print(
            f"{name:16} measure {rate(lambda t=text: measure(t), 50_000):>12,.0f}/s"
            f"   count_segments {rate(lambda t=text: count_segments(t), 50_000):>12,.0f}/s"
            f"   analyze {rate(lambda t=text: analyze(t), 50_000):>12,.0f}/s"
            f"   analyze+parts {rate(lambda t=text: analyze(t).parts, 20_000):>10,.0f}/s"
        )
    simple = compile_template("Bonjour {{ first_name }} de {{ attributes.city }}, -20% !")
    jinja = compile_template(
        "Bonjour {{ first_name | title }}{% if attributes.city %} de {{ attributes.city }}"
        "{% endif %}, -20% !"
    )
    constant = compile_template("Magasin ferme lundi")
    for name, template in (("simple", simple), ("jinja", jinja), ("constant", constant)):
        per_second = rate(lambda t=template: [t.render(c) for c in CONTEXTS], 20) * len(CONTEXTS)
        print(
            f"render {name:9} {per_second:>12,.0f}/s   1,000,000 in {1_000_000 / per_second:.1f} s"
        )
    validate = rate(lambda: simple.validate(CONTEXTS), 5) * len(CONTEXTS)
    print(f"validate simple  {validate:>12,.0f} contexts/s")


if __name__ == "__main__":
    main()
