"""The modal that asks for a missing secret; the answer lives in memory for this session only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch

SecretKind = Literal["secret_key", "usersig"]


@dataclass(frozen=True, slots=True)
class SecretAnswer:
    """What the agent typed; repr never shows the value."""

    kind: SecretKind
    value: str = field(repr=False)


class SecretPrompt(ModalScreen[SecretAnswer | None]):
    """Password input for the app's secret key (or a ready UserSig). Esc cancels."""

    HELP_GROUP = "Secret"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, *, profile: str | None, reason: str) -> None:
        super().__init__()
        self.profile = profile
        self.reason = reason

    def compose(self) -> ComposeResult:
        who = f"profile {self.profile}" if self.profile else "this connection"
        with Vertical(id="secret-dialog"):
            yield Static(Content.assemble((f" A secret is needed for {who}", "bold")), markup=False)
            yield Static(Content(self.reason), id="secret-reason", markup=False)
            yield Input(
                placeholder="the app's secret key from the IM console",
                password=True,
                id="secret-value",
            )
            yield Static("", id="secret-error", classes="field-error", markup=False)
            with Horizontal(id="secret-kind-row"):
                yield Switch(value=False, id="secret-is-usersig")
                yield Label("it is a ready UserSig, not the secret key")
            yield Static(
                Content.assemble(
                    (
                        "Kept in memory for this session only; never written to disk. "
                        "`roamtui login` stores it in the OS keyring.",
                        "$text-muted",
                    )
                ),
                markup=False,
            )
            with Horizontal(id="secret-buttons"):
                yield Button("Use it", variant="primary", id="secret-ok")
                yield Button("Cancel", id="secret-cancel")

    def on_mount(self) -> None:
        self.query_one("#secret-value", Input).focus()

    @on(Switch.Changed, "#secret-is-usersig")
    def _kind_changed(self, event: Switch.Changed) -> None:
        field_input = self.query_one("#secret-value", Input)
        field_input.placeholder = (
            "a UserSig signed for the admin identifier"
            if event.value
            else "the app's secret key from the IM console"
        )

    @on(Input.Submitted, "#secret-value")
    @on(Button.Pressed, "#secret-ok")
    def _accept(self) -> None:
        value = self.query_one("#secret-value", Input).value.strip()
        if not value:
            error = self.query_one("#secret-error", Static)
            error.update("Type the secret, or press Esc to cancel.")
            return
        kind: SecretKind = (
            "usersig" if self.query_one("#secret-is-usersig", Switch).value else "secret_key"
        )
        self.dismiss(SecretAnswer(kind, value))

    @on(Button.Pressed, "#secret-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
