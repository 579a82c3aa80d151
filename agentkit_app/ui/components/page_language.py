"""``<html lang>`` in step with the UI language, so screen readers and the browser speak the page's language."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var, VarData
from reflex.vars.base import ImportVar

from agentkit_app.ui.states.prefs import PrefsState


class DocumentLanguage(rx.Fragment):
    """Renders nothing; sets ``document.documentElement.lang`` to ``lang`` whenever it changes."""

    lang: rx.Var[str]

    def _render(self):  # the value drives the effect below; a fragment takes no such prop
        return super()._render().remove_props("lang")

    def add_hooks(self) -> list[str | Var]:
        """Return the effect that writes the language on the ``<html>`` element."""
        lang = str(self.lang)
        return [
            Var(
                f"useEffect(() => {{ if ({lang}) document.documentElement.lang = {lang}; }}, [{lang}]);",
                _var_data=VarData.merge(
                    self.lang._get_all_var_data(), VarData(imports={"react": [ImportVar(tag="useEffect")]})
                ),
            )
        ]


def page_language() -> rx.Component:
    """Keep ``<html lang>`` on the UI language (zh-CN or en) from the moment the page has its state."""
    return DocumentLanguage.create(lang=PrefsState.html_lang)
