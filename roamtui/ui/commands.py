"""Every key binding as a catalogue, shared by the help screen and the command palette.

The catalogue is read from the bindings of the focused widget, its ancestors, the screen and
the app, so a binding added by any widget shows up in help and in the palette without anyone
keeping a list in sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

if TYPE_CHECKING:
    from textual.dom import DOMNode

# Textual's own palette already lists these, and ctrl+c is its "are you sure" hint.
_SKIP_IN_PALETTE = frozenset({"command_palette", "quit", "help_quit", "app.quit"})

# Friendly names for the themes offered by the palette; Textual's "Theme" command has them all.
THEMES: tuple[tuple[str, str], ...] = (
    ("textual-dark", "dark"),
    ("textual-light", "light"),
    ("ansi-dark", "ANSI dark (terminal colours)"),
    ("ansi-light", "ANSI light (terminal colours)"),
)


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One action with every key that triggers it."""

    group: str
    keys: tuple[str, ...]
    description: str
    action: str
    node: DOMNode
    shown_in_footer: bool

    @property
    def keys_text(self) -> str:
        return ", ".join(self.keys)  # not " / ": "/" is a key (find)


def group_name(node: DOMNode) -> str:
    """The help section a binding belongs to: `HELP_GROUP` of its node, else its class name."""
    if isinstance(node, App):
        return "Everywhere"
    explicit = getattr(node, "HELP_GROUP", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    name = type(node).__name__
    return name.removesuffix("Screen") or name


def _describe(action: str, description: str) -> str:
    if description:
        return description
    # Bindings without a description (Textual's scroll keys) get their action spelled out.
    words = action.rpartition(".")[2].split("(")[0].replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _refused(node: DOMNode, binding: Binding) -> bool:
    """Whether `node` refuses the binding's action now (``check_action`` says False): one key
    bound to two actions (`q`: quit or back) is listed as the one it does."""
    _, name, params = parse_action(binding.action)
    return node.check_action(name, params) is False


def _node_bindings(node: DOMNode) -> dict[str, Binding]:
    """Key → binding declared by `node`'s class and its bases (subclasses override); of one
    class's bindings of a key, the first that `node` does not refuse."""
    merged: dict[str, Binding] = {}
    keep_textual = isinstance(node, App | Screen)
    # Most derived first, so the class's own keys come before the ones it inherits.
    for base in type(node).__mro__:
        # A widget's inherited Textual keys (ScrollView's sideways scrolling, Input's editing)
        # are noise in roamtui's help; a screen's (tab focus) and the app's (ctrl+q) are not.
        if not keep_textual and base.__module__.startswith("textual."):
            continue
        own = list(Binding.make_bindings(base.__dict__.get("BINDINGS", [])))
        for binding in own:
            twin = sum(b.key == binding.key for b in own) > 1
            if twin and _refused(node, binding):
                continue
            merged.setdefault(binding.key, binding)
    return merged


def _binding_chain(screen: Screen[Any]) -> list[DOMNode]:
    """The focused widget and its ancestors (or the screen) and the app, innermost first.

    Only roamtui's own widgets count: the editing keys of a focused Input are not news.
    """
    focused = screen.focused
    nodes: list[DOMNode] = list(focused.ancestors_with_self) if focused is not None else [screen]
    if screen.app not in nodes:
        nodes.append(screen.app)
    return [
        node
        for node in nodes
        if isinstance(node, App | Screen) or type(node).__module__.startswith("roamtui.")
    ]


def key_entries(screen: Screen[Any]) -> list[KeyEntry]:
    """Every binding that applies on `screen`, merged per (node, action), innermost first.

    Unlike `Screen.active_bindings` this keeps actions that are disabled right now (e.g. retry
    when nothing failed): help must list every key. A key bound at two levels is listed where
    it takes effect: the innermost node, unless an outer binding has priority.
    """
    app = screen.app
    owner: dict[str, tuple[DOMNode, Binding]] = {}
    for node in _binding_chain(screen):
        for key, binding in _node_bindings(node).items():
            if key not in owner or (binding.priority and not owner[key][1].priority):
                owner[key] = (node, binding)
    merged: dict[tuple[int, str], KeyEntry] = {}
    for key, (node, binding) in owner.items():
        if binding.system and not binding.description:
            continue
        display = app.get_key_display(binding) or key
        identity = (id(node), binding.action)
        existing = merged.get(identity)
        if existing is None:
            merged[identity] = KeyEntry(
                group=group_name(node),
                keys=(display,),
                description=_describe(binding.action, binding.description),
                action=binding.action,
                node=node,
                shown_in_footer=binding.show,
            )
        elif display not in existing.keys:
            merged[identity] = KeyEntry(
                group=existing.group,
                keys=(*existing.keys, display),
                description=existing.description,
                action=existing.action,
                node=node,
                shown_in_footer=existing.shown_in_footer or binding.show,
            )
    return list(merged.values())


def grouped(entries: Iterable[KeyEntry]) -> list[tuple[str, list[KeyEntry]]]:
    """Entries by group, groups in first-seen order, with "Everywhere" last."""
    groups: dict[str, list[KeyEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    ordered = sorted(groups.items(), key=lambda item: item[0] == "Everywhere")
    return ordered


def _run(app: App[Any], action: str, node: DOMNode) -> Callable[[], Any]:
    return partial(app.run_action, action, node)


class RoamCommands(Provider):
    """Palette entries: every key binding of the current screen, plus the theme choices."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app = self.app
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        for entry in key_entries(self.screen):
            if entry.action in _SKIP_IN_PALETTE:
                continue
            title = f"{entry.group}: {entry.description}"
            commands.append((title, f"key: {entry.keys_text}", _run(app, entry.action, entry.node)))
        for theme, label in THEMES:
            if theme in app.available_themes:
                switch = partial(_set_theme, app, theme)
                commands.append((f"Theme: {label}", f"switch to the {theme} theme", switch))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


def _set_theme(app: App[Any], theme: str) -> None:
    app.theme = theme
