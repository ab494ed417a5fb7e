"""The text part derived once per template reads like the one derived from each message."""

from __future__ import annotations

from datetime import UTC, datetime

from patron.messages import authoring, rendering

BODY = """<h1>Hello {{ customer.first_name }},</h1>
<p>Your orders:</p>
<table>{% for order in orders %}
  <tr><td>Order {{ order.number }}</td><td>{{ order.total }}</td></tr>
{% endfor %}</table>
{# a comment #}
<p><a href="https://shop.example/new?c={{ customer.id }}">See what is new</a></p>"""


def _context(name: str, count: int) -> dict:
    orders = [dict(number=f"N{n}", total=f"{n}.00") for n in range(count)]
    return dict(
        customer=dict(first_name=name, id=7),
        orders=orders,
        unsubscribe_url="https://u/x",
        preferences_url="https://p/x",
    )


def _words(text: str) -> list[str]:
    """The words of a text, without table rules (where html2text puts them can differ)."""
    return [w for w in text.split() if w.strip("-|")]


def test_derived_text_has_the_words_of_the_per_message_conversion():
    source = rendering.Source(subject="Hi", body=BODY, layout=authoring.DEFAULT_LAYOUT_HTML)
    for name, count in (("Ann & <Bo>", 3), ("Zoë", 0), ("Al", 1)):
        rendered = rendering.render(source, _context(name, count))
        assert _words(rendered.text) == _words(rendering.html_to_text(rendered.html))
        assert f"Hello {name}," in rendered.text  # raw text: not HTML-escaped
        assert rendered.text.count("Order N") == count
        assert "https://u/x" in rendered.text and "c=7" in rendered.text


def test_a_block_tag_the_conversion_drops_falls_back_to_each_message():
    head = "<html><head><title>{% if x %}T{% endif %}</title></head><body>{{ x }}</body></html>"
    assert rendering.text_template(head) is None
    rendered = rendering.render(rendering.Source(subject="s", body=head), {"x": "hello"})
    assert rendered.text.strip() == "hello"


def test_a_hand_written_text_part_is_used_as_it_is():
    source = rendering.Source(subject="s", body="<p>{{ x }}</p>", text="Plain {{ x }}")
    rendered = rendering.render(source, {"x": datetime(2026, 1, 1, tzinfo=UTC).year})
    assert rendered.text == "Plain 2026"
