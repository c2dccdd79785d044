"""Reading WhatsApp's webhook payloads: whatever shape arrives, only well-formed messages and
statuses come out, and nothing raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from publisher.channels.whatsapp_events import read_events

KEYS = ["entry", "changes", "value", "field", "messages", "statuses", "from", "text", "body"]
KEYS += ["id", "status", "errors", "code", "metadata"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(KEYS),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_payload_is_read_without_raising(payload: object) -> None:
    messages, statuses = read_events(payload)
    assert all(isinstance(m.text, str) for m in messages)
    assert all(s.status in ("sent", "delivered", "read", "failed") for s in statuses)


def test_a_quick_reply_button_counts_as_the_readers_words() -> None:
    payload = {
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": "1"},
                            "messages": [
                                {
                                    "from": "4917612345678",
                                    "timestamp": "1732000000",
                                    "type": "button",
                                    "button": {"payload": "STOP", "text": "Stop"},
                                }
                            ],
                        },
                    }
                ]
            }
        ]
    }
    ((message,), _) = read_events(payload)
    assert (message.phone, message.text) == ("4917612345678", "Stop")
