"""Every ticket template, by intent. One module per area keeps each file readable."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ticketlens.generator.model import INTENTS, Template
from ticketlens.generator.templates import access, misc, money, product

TEMPLATES: tuple[Template, ...] = access.TEMPLATES + money.TEMPLATES + product.TEMPLATES + misc.TEMPLATES
BY_INTENT: Mapping[str, tuple[Template, ...]] = MappingProxyType(
    {intent: tuple(t for t in TEMPLATES if t.intent == intent) for intent in INTENTS}
)
