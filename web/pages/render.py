"""Rendering worker pages: the template context every page shares, links that keep the language, the friendly error page."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import (
    current_app,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape

from layers.layerdefs import Layer
from layers.store import StationStore
from web import i18n, params
from web.assets import static_url
from web.pages import hotlines, maps
from web.pages.tiles import TileProvider, choose_provider

BIG_TEXT_COOKIE = "yz_big"


def store() -> StationStore:
    """The configured store."""
    return current_app.extensions["yizhan.store"]


def tiles() -> TileProvider:
    """The configured tile provider."""
    return choose_provider(current_app.config)


def _args() -> dict[str, str]:
    """The query as one string per name (repeated checkboxes joined by commas). Unknown names are
    ignored on pages: shared links gain parameters (WeChat adds `from=`, `isappinstalled=`)."""
    return {name: ",".join(v.strip() for v in values if v.strip()) for name, values in request.args.lists()}


# ---- template helpers ---------------------------------------------------------------------
def link(endpoint: str, **values: Any) -> str:
    """url_for that keeps an explicit ?lang= so English readers stay in English."""
    explicit = i18n.explicit_language()
    if explicit and "lang" not in values:
        values["lang"] = explicit
    return url_for(endpoint, **values)


def _switch_url() -> str:
    other = "en" if i18n.current_language() == "zh" else "zh"
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", other)]
    return f"{request.path}?{urlencode(query)}"


def _template_globals() -> dict[str, Any]:
    lang = i18n.current_language()
    other = "en" if lang == "zh" else "zh"
    return {"_": i18n.gettext, "lang": lang, "html_lang": i18n.HTML_LANG[lang], "other_html_lang": i18n.HTML_LANG[other],
            "explicit_lang": i18n.explicit_language(), "link": link, "switch_url": _switch_url(),
            "static": static_url, "colour": lambda layer: maps.safe_colour(layer.colour), "placed": placed,
            "text_or": lambda key, default: i18n.translate(lang, key) if key in i18n.catalog(lang) else default}


def placed(key: str, **places: str) -> Markup:
    """A message whose placeholders are place names (data, shown as written): each is escaped and marked."""
    marked = {k: Markup('<span translate="no" data-place>') + escape(v) + Markup("</span>") for k, v in places.items()}
    return Markup(escape(i18n.gettext(key))).format(**marked)


def _service_choices(layers: Mapping[str, Layer], lang: str) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for layer in layers.values():
        for word in layer.services:
            seen.setdefault(word, layer.service_label(word, lang))
    return list(seen.items())


def render(template: str, status: int = 200, **context: Any):
    """A page with the forms' choices, the map parts and the map's script config."""
    lang = i18n.current_language()
    layers = store().layers
    parts = context.get("parts")
    config = {**(parts.config if parts else {}), "lang": lang, "strings": _js_strings(lang)}
    context.setdefault("chosen", {})
    context.setdefault("hotlines", hotlines.panel(context.get("at") or params.moment({}), lang, context.get("needs", ())))
    context.setdefault("big_text", request.cookies.get(BIG_TEXT_COOKIE) == "1")
    body = render_template(template, layers=list(layers.values()), services=_service_choices(layers, lang),
                           config=config, **_template_globals(), **context)
    return body, status, {"Content-Language": i18n.HTML_LANG[lang], "Vary": "Accept-Language, Accept-Encoding"}


def _js_strings(lang: str) -> dict[str, str]:
    keys = ("locating", "locate_failed", "all_day", "loading", "load_failed", "details", "today", "zoom_in",
            "state_open", "state_closed", "state_unknown")
    return {key: i18n.translate(lang, f"js.{key}") for key in keys}


# ---- errors: a friendly page in the reader's language, same status -------------------------
def error_page(status: int, code: str, parameter: str | None, detail: str):
    """The error as a page: what went wrong in plain words, the search form to try again."""
    lang = i18n.current_language()
    title = i18n.translate(lang, f"error.{status}.title") if f"error.{status}.title" in i18n.catalog("zh") \
        else i18n.translate(lang, "error.other.title")
    q = (request.args.get("q") or request.args.get("origin") or "")[:50]
    if f"error.code.{code}" in i18n.catalog("zh"):
        message = i18n.translate(lang, f"error.code.{code}", q=q)
    elif parameter:
        name = i18n.translate(lang, f"param.{parameter}") if f"param.{parameter}" in i18n.catalog("zh") else parameter
        message = i18n.translate(lang, "error.parameter", name=name)
    else:
        message = i18n.translate(lang, f"error.{status}.message") if f"error.{status}.message" in i18n.catalog("zh") \
            else i18n.translate(lang, "error.other.message")
    return render("error.html", status, title=title, message=message, status_code=status,
                  detail=detail[:200] if status < 500 else "", chosen={"q": q})
