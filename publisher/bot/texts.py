"""What the editors' bot says, in German and English. Values are Telegram HTML; placeholders are
filled with escaped text."""

from __future__ import annotations

from html import escape
from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "refused": "Sorry, this bot is only for the newsroom's editors.",
        "approvers_only": "Only approvers may do that.",
        "help": (
            "<b>publisher</b>, the social desk\n"
            "/queue &lt;url or article id&gt; [channels] [now|HH:MM|+15m|next] – preview, "
            "queue\n"
            "/list – what is queued\n/log – recent deliveries\n/show &lt;id&gt; – one post\n"
            "/edit &lt;id&gt; &lt;channel&gt; &lt;text&gt; – new text for a post\n"
            "/approve &lt;id&gt;, /cancel &lt;id&gt;, /retry &lt;id&gt;\n"
            "/pause &lt;channel&gt;, /resume &lt;channel&gt;"
        ),
        "usage": "Usage: {usage}",
        "error": "⚠️ {message}",
        "preview_head": "<b>{headline}</b>\nTiming: {timing}",
        "when_now": "now",
        "when_next": "each channel's next free slot",
        "no_slots": "No posting slots on {channels}: choose now or a time.",
        "preview_channel": "<b>{channel}</b> ({length}/{limit} {unit})",
        "button_now": "Post now",
        "button_queue": "Add to queue",
        "button_edit": "Edit",
        "button_cancel": "Cancel",
        "button_approve": "Approve",
        "button_retry": "Retry",
        "button_sent": "It is online",
        "button_resume": "Resume",
        "button_nolink": "Post it without the link",
        "link_missing": "⚠️ {message}. Send the text again with the link, or:",
        "queued": "✅ Queued: {posts}",
        "held_for_edit": (
            "✏️ Held for editing: {posts}\nSend /edit &lt;id&gt; &lt;channel&gt; &lt;text&gt;, "
            "then /approve &lt;id&gt;."
        ),
        "discarded": "Discarded.",
        "expired": "This preview has expired; send /queue again.",
        "button_stale": "This button no longer works.",
        "empty_list": "Nothing is queued.",
        "empty_log": "No deliveries yet.",
        "done": "Done: post {id} {verb}.",
        "edited": "Post {id} on {channel}: {length}/{limit} {unit}.",
        "paused": "Channel {channel} paused.",
        "resumed": "Channel {channel} resumed.",
        "notify_failed": "❌ Post {id} on {channel} failed: {error}",
        "notify_uncertain": (
            "❓ Post {id} on {channel} may or may not be online (the worker stopped while "
            "sending). Check the platform, then say what happened."
        ),
        "notify_approval": "🕓 Post {id} on {channel} waits for approval:\n{text}",
        "notify_paused": "⏸ Channel {channel} is paused: {reason}",
        "pause_help_credentials": "Renew its credentials, then resume it.",
        "pause_help_settings": "Check the channel's settings (page, chat or account), "
        "then resume it.",
        "pause_help_permissions": "Grant the account the permissions it lacks, then resume it.",
        "pause_help_rate_limit": "The platform asked for a pause; it ends by itself.",
        "pause_help_editor": "Resume it when it may post again.",
        "verb_approve": "approved",
        "verb_cancel": "cancelled",
        "verb_retry": "queued again",
        "verb_sent": "marked as sent",
    },
    "de": {
        "refused": "Entschuldigung, dieser Bot ist nur für die Redaktion.",
        "approvers_only": "Das dürfen nur Freigebende.",
        "help": (
            "<b>publisher</b>, der Social Desk\n"
            "/queue &lt;URL oder Artikel-ID&gt; [Kanäle] [jetzt|HH:MM|+15m|next] – Vorschau, "
            "einplanen\n"
            "/list – was eingeplant ist\n/log – letzte Zustellungen\n/show &lt;id&gt; – ein Post\n"
            "/edit &lt;id&gt; &lt;Kanal&gt; &lt;Text&gt; – neuer Text für einen Post\n"
            "/approve &lt;id&gt;, /cancel &lt;id&gt;, /retry &lt;id&gt;\n"
            "/pause &lt;Kanal&gt;, /resume &lt;Kanal&gt;"
        ),
        "usage": "So geht es: {usage}",
        "error": "⚠️ {message}",
        "preview_head": "<b>{headline}</b>\nZeitpunkt: {timing}",
        "when_now": "sofort",
        "when_next": "nächster freier Slot je Kanal",
        "no_slots": "Keine Sendezeiten für {channels}: bitte sofort oder eine Uhrzeit wählen.",
        "preview_channel": "<b>{channel}</b> ({length}/{limit} {unit})",
        "button_now": "Jetzt posten",
        "button_queue": "Einplanen",
        "button_edit": "Bearbeiten",
        "button_cancel": "Verwerfen",
        "button_approve": "Freigeben",
        "button_retry": "Erneut senden",
        "button_sent": "Ist online",
        "button_resume": "Fortsetzen",
        "button_nolink": "Ohne den Link posten",
        "link_missing": "⚠️ {message}. Den Text mit Link noch einmal schicken, oder:",
        "queued": "✅ Eingeplant: {posts}",
        "held_for_edit": (
            "✏️ Zum Bearbeiten zurückgehalten: {posts}\nSchicken Sie /edit &lt;id&gt; "
            "&lt;Kanal&gt; &lt;Text&gt;, dann /approve &lt;id&gt;."
        ),
        "discarded": "Verworfen.",
        "expired": "Diese Vorschau ist abgelaufen; bitte /queue erneut senden.",
        "button_stale": "Dieser Knopf funktioniert nicht mehr.",
        "empty_list": "Nichts eingeplant.",
        "empty_log": "Noch keine Zustellungen.",
        "done": "Erledigt: Post {id} {verb}.",
        "edited": "Post {id} auf {channel}: {length}/{limit} {unit}.",
        "paused": "Kanal {channel} pausiert.",
        "resumed": "Kanal {channel} läuft wieder.",
        "notify_failed": "❌ Post {id} auf {channel} ist gescheitert: {error}",
        "notify_uncertain": (
            "❓ Post {id} auf {channel} ist vielleicht online, vielleicht nicht (der Worker "
            "brach beim Senden ab). Bitte auf der Plattform nachsehen und Bescheid geben."
        ),
        "notify_approval": "🕓 Post {id} auf {channel} wartet auf Freigabe:\n{text}",
        "notify_paused": "⏸ Kanal {channel} ist pausiert: {reason}",
        "pause_help_credentials": "Zugangsdaten erneuern, dann fortsetzen.",
        "pause_help_settings": "Einstellungen des Kanals prüfen (Seite, Chat, Konto), "
        "dann fortsetzen.",
        "pause_help_permissions": "Dem Konto die fehlenden Rechte geben, dann fortsetzen.",
        "pause_help_rate_limit": "Die Plattform hat um eine Pause gebeten; sie endet von selbst.",
        "pause_help_editor": "Fortsetzen, sobald gepostet werden darf.",
        "verb_approve": "freigegeben",
        "verb_cancel": "verworfen",
        "verb_retry": "neu eingeplant",
        "verb_sent": "als gesendet markiert",
    },
}


def say(language: str, key: str, **values: Any) -> str:
    """The text `key` in `language` (else English), with `values` HTML-escaped."""
    table = TEXTS.get(language, TEXTS["en"])
    return table[key].format(**{k: escape(str(v), quote=False) for k, v in values.items()})
