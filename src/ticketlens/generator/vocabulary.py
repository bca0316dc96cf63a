"""The words that fill template placeholders.

Each ``{name}`` in a template is drawn here once per ticket, so a ticket that mentions
``{device}`` twice names the same device twice. ``{name2}`` draws from the same pool as
``{name}`` but never returns the same value, for "synced on my {device} but not my {device2}".
Pools are wide on purpose: a classifier must not be able to key on a particular value.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Protocol


class Lookup(Protocol):
    def __call__(self, name: str) -> str: ...


Draw = Callable[[random.Random, Lookup], str]


def _pick(values: tuple[str, ...]) -> Draw:
    return lambda rng, _: rng.choice(values)


FIRST_NAMES = (
    "Aisha", "Ben", "Carlos", "Dana", "Elif", "Farah", "George", "Hana", "Ivan", "Jamal",
    "Keiko", "Liam", "Maria", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tomasz",
    "Uche", "Valentina", "Wei", "Ximena", "Yusuf", "Zoe", "Anders", "Bianca", "Chidi", "Dmitri",
    "Emma", "Fatima", "Grace", "Hiroshi", "Ingrid", "Jorge", "Kwame", "Lucia", "Mehmet", "Nora",
    "Oscar", "Priya", "Rafael", "Sofia", "Thandiwe", "Umar", "Vera", "Will", "Yara", "Zanele",
    "Alex", "Chris", "Jordan", "Taylor", "Morgan", "Kim", "Pat", "Robin", "Jess", "Mo",
)
LAST_NAMES = (
    "Okafor", "Schmidt", "Garcia", "Nguyen", "Kowalski", "Haddad", "Smith", "Tanaka", "Petrov",
    "Johnson", "Silva", "O'Brien", "Chen", "Patel", "Müller", "Rossi", "Dubois", "Kim", "Ali",
    "Andersson", "Mensah", "Fernández", "Ivanova", "Murphy", "Yilmaz", "Novak", "Costa", "Larsen",
    "Banerjee", "Walker", "Moreau", "Hughes", "Sato", "Adeyemi", "Lindqvist", "Brown", "Reyes",
)
COMPANIES = (
    "Northwind Traders", "Bluebird Bakery", "Kestrel Logistics", "Harbor Dental", "Lumen Studio",
    "Oakridge Realty", "Pixel & Pine", "Summit Legal LLP", "Tidewater Imports", "Greenleaf Co-op",
    "Brightpath Tutoring", "Copperfield Events", "Redwood Analytics", "Saffron Kitchen",
    "Ironclad Fitness", "Meadowlark Farms", "Quartz Consulting", "Riverbend Clinic",
    "Atlas Freight", "Juniper Design", "Nimbus Media", "Polaris Robotics", "Cedar & Stone",
)
JOB_TITLES = (
    "Office Manager", "CTO", "Founder", "Operations Lead", "Accountant", "IT Administrator",
    "Marketing Manager", "Head of Finance", "Freelance Designer", "Practice Manager",
    "Customer Success Lead", "Owner", "Software Engineer", "Project Coordinator", "HR Manager",
)
PRODUCTS = (
    "the web app", "the iOS app", "the Android app", "the desktop app", "the dashboard",
    "the browser extension", "the mobile app", "the admin console", "your site", "the Mac app",
)
OPERATING_SYSTEMS = (
    "Windows 11", "Windows 10", "macOS Sonoma 14.4", "macOS Ventura", "iOS 17.4", "iOS 18.1",
    "Android 14", "Android 13", "Ubuntu 22.04", "ChromeOS", "Fedora 40", "iPadOS 17",
)
BROWSERS = (
    "Chrome 124", "Chrome", "Firefox 126", "Safari 17", "Edge", "Brave", "Opera", "Firefox ESR",
    "Safari on iPhone", "Samsung Internet",
)
DEVICES = (
    "laptop", "work laptop", "desktop", "iPhone", "Pixel 8", "iPad", "Galaxy S23", "MacBook",
    "Surface tablet", "home PC", "Chromebook", "old Android phone",
)
ERROR_MESSAGES = (
    "Something went wrong. Please try again later.", "Error 500: Internal Server Error",
    "ERR_CONNECTION_RESET", "Request timed out", "Unexpected token < in JSON at position 0",
    "403 Forbidden", "We couldn't complete your request", "Oops! That didn't work.",
    "NullReferenceException: Object reference not set to an instance of an object",
    "502 Bad Gateway", "Network error, check your connection", "An unknown error occurred (code 0)",
    "Failed to fetch", "Service Unavailable",
)
LOGIN_ERRORS = (
    "Invalid email or password", "Too many attempts. Try again in 30 minutes",
    "Your account has been locked", "This link has expired", "Verification code is invalid",
    "SSO configuration error: no matching identity provider", "Session expired, please log in again",
    "We couldn't verify it's you", "User not found", "Authentication failed (401)",
)
DECLINE_REASONS = (
    "Your card was declined", "Do not honor", "Payment could not be processed",
    "3D Secure authentication failed", "Transaction not permitted", "insufficient funds",
    "card_declined", "Payment method not supported in your region", "Processing error, try again",
)
TIME_PERIODS = (
    "since this morning", "for two days", "since yesterday", "for about an hour",
    "since the last update", "all week", "for the past 3 hours", "since Friday",
    "on and off for a week", "since I changed my phone", "for 20 minutes now",
)
ATTEMPTS = ("three", "5", "like ten", "several", "a dozen", "two", "four", "countless", "6 or 7")
TASKS = (
    "send invoices to my clients", "finish the quarterly report", "run payroll",
    "onboard a new hire", "prepare for a board meeting", "ship tonight's release",
    "answer my customers", "close the month's books", "submit a grant application",
    "get my students their grades", "process today's orders", "sign a contract",
)
DEADLINE_EVENTS = (
    "client presentation", "board meeting", "payroll run", "tax filing", "product launch",
    "audit", "investor call", "court filing", "end-of-quarter close", "trade show",
)
WHEN_SOON = (
    "in an hour", "this afternoon", "tomorrow morning", "at 3pm today", "first thing Monday",
    "in 30 minutes", "tonight", "before noon", "by end of day",
)
PLANS = ("Starter", "Pro", "Business", "Enterprise", "Team", "Basic", "Plus", "Premium")
CURRENCIES = ("$", "$", "$", "€", "£", "CA$", "A$")
CARD_BRANDS = ("Visa", "Mastercard", "Amex", "Discover", "debit card", "company card")
PAYMENT_METHODS = (
    "PayPal", "Apple Pay", "Google Pay", "bank transfer", "my Visa card", "SEPA direct debit",
    "my company Amex", "a gift card", "ACH", "my debit card",
)
RELATIVE_DAYS = (
    "yesterday", "on Monday", "last week", "two days ago", "this morning", "on Friday",
    "last night", "earlier today", "at the weekend", "on the 1st",
)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FEATURES = (
    "dark mode", "bulk export to CSV", "a public API for reports", "keyboard shortcuts",
    "two-way sync with Google Calendar", "custom fields on contacts", "an offline mode",
    "SAML single sign-on", "hardware security key support", "recurring invoices",
    "a Spanish translation", "an undo button", "saved search filters", "a Gantt chart view",
    "role-based permissions", "scheduled reports by email", "a home screen widget",
    "multi-currency invoices", "Markdown in notes", "an audit log", "bulk editing",
    "time tracking", "a Linux desktop client", "webhooks for new records",
)
BENEFITS = (
    "save us hours every week", "make onboarding new staff much easier",
    "let us drop a second tool", "keep our auditors happy", "cut down on copy-paste mistakes",
    "help our team in Latin America", "make it usable at night", "let us automate reporting",
)
COMPETITORS = ("HelpHive", "Acme Desk", "Trellix Boards", "Paperjet", "Orbitly", "the tool we used before")
AREAS = (
    "dashboard", "reports page", "calendar", "invoices page", "settings screen", "search",
    "inbox", "contacts list", "project board", "analytics tab", "file browser", "checkout page",
)
ACTIONS = (
    "uploading a PDF", "saving a draft", "exporting the monthly report", "opening the calendar view",
    "adding a new contact", "switching workspaces", "attaching a photo", "printing an invoice",
    "sharing a folder", "importing a spreadsheet", "duplicating a project", "filtering by date",
)
DATA_TYPES = ("contacts", "invoices", "notes", "projects", "files", "calendar events", "tasks", "reports")
FILE_FORMATS = ("CSV", "PDF", "XLSX", "JSON", "DOCX", "ZIP")
INTEGRATIONS = (
    "Slack", "Google Drive", "Salesforce", "QuickBooks", "Zapier", "Microsoft Teams", "Shopify",
    "Xero", "HubSpot", "Dropbox", "Outlook", "Jira",
)
CITIES = (
    "Lagos, Nigeria", "São Paulo", "Minsk", "Jakarta", "Frankfurt", "Hanoi", "Bucharest",
    "Caracas", "Manila", "Kyiv", "Lima", "a city I've never been to", "Chicago", "Karachi",
)
PROFILE_FIELDS = (
    "email address", "phone number", "billing address", "company name", "display name",
    "time zone", "profile photo", "last name", "VAT number", "mailing address",
)
TENURES = ("two years", "since 2019", "over five years", "a few months", "almost a decade", "about a year")
COUNTRIES = ("Canada", "Germany", "Brazil", "India", "Australia", "South Africa", "Japan", "Mexico", "Poland")
LANGUAGES = ("Spanish", "German", "Portuguese", "Japanese", "French", "Arabic", "Polish", "Hindi")
DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.co.uk")


def _money(rng: random.Random, lookup: Lookup) -> str:
    # Charges cluster on plan prices; a few odd amounts keep it from looking canned.
    cents = rng.choice((99, 99, 0, 0, 50, rng.randint(0, 99)))
    whole = rng.choice((9, 12, 19, 29, 49, 79, 99, 149, 199, 299, rng.randint(5, 2500)))
    return f"{lookup('currency')}{whole}.{cents:02d}"


def _email(rng: random.Random, lookup: Lookup) -> str:
    first, last = lookup("first_name").lower(), lookup("last_name").lower()
    last = "".join(ch for ch in last if ch.isalpha() and ch.isascii()) or "x"
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}", f"{first}_{last[:3]}"))
    return f"{local}@{rng.choice(DOMAINS)}"


def _work_email(_: random.Random, lookup: Lookup) -> str:
    slug = "".join(ch for ch in lookup("company").lower() if ch.isalnum())
    first = "".join(ch for ch in lookup("first_name").lower() if ch.isalpha())
    return f"{first}@{slug}.com"


def _username(rng: random.Random, lookup: Lookup) -> str:
    base = lookup("first_name").lower()
    return rng.choice(
        (f"{base}{rng.randint(1, 9999)}", f"{base}_{lookup('last_name')[:3].lower()}", f"the_real_{base}")
    )


def _version(rng: random.Random, _: Lookup) -> str:
    return f"{rng.randint(2, 7)}.{rng.randint(0, 24)}.{rng.randint(0, 9)}"


def _digits(prefix: str, low: int, high: int) -> Draw:
    return lambda rng, _: f"{prefix}{rng.randint(low, high)}"


def _invoice_id(rng: random.Random, _: Lookup) -> str:
    return f"INV-{rng.randint(2023, 2026)}-{rng.randint(1, 9999):04d}"


def _txn_id(rng: random.Random, _: Lookup) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(12))


def _card(rng: random.Random, _: Lookup) -> str:
    return f"{rng.choice(CARD_BRANDS)} ending in {rng.randint(0, 9999):04d}"


def _ip(rng: random.Random, _: Lookup) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _date(rng: random.Random, lookup: Lookup) -> str:
    return rng.choice((lookup("relative_day"), f"on {lookup('month')} {rng.randint(1, 28)}"))


def _clock_time(rng: random.Random, _: Lookup) -> str:
    hour, minute = rng.randint(0, 23), rng.choice((0, 5, 12, 15, 30, 41, 45))
    return rng.choice((f"{hour:02d}:{minute:02d}", f"{hour % 12 or 12}:{minute:02d} {'am' if hour < 12 else 'pm'}"))


VOCABULARY: Mapping[str, Draw] = {
    "first_name": _pick(FIRST_NAMES),
    "last_name": _pick(LAST_NAMES),
    "full_name": lambda _, get: f"{get('first_name')} {get('last_name')}",
    "email": _email,
    "work_email": _work_email,
    "username": _username,
    "company": _pick(COMPANIES),
    "job_title": _pick(JOB_TITLES),
    "product": _pick(PRODUCTS),
    "os": _pick(OPERATING_SYSTEMS),
    "browser": _pick(BROWSERS),
    "device": _pick(DEVICES),
    "app_version": _version,
    "error_message": _pick(ERROR_MESSAGES),
    "error_code": lambda rng, _: f"{rng.choice(('E', 'ERR-', 'AUTH-', 'PAY-', 'SYNC-'))}{rng.randint(100, 9999)}",
    "login_error": _pick(LOGIN_ERRORS),
    "decline_reason": _pick(DECLINE_REASONS),
    "time_period": _pick(TIME_PERIODS),
    "attempts": _pick(ATTEMPTS),
    "task": _pick(TASKS),
    "deadline_event": _pick(DEADLINE_EVENTS),
    "when_soon": _pick(WHEN_SOON),
    "team_size": lambda rng, _: str(rng.choice((rng.randint(4, 30), rng.randint(30, 400)))),
    "count": lambda rng, _: str(rng.randint(2, 60)),
    "currency": _pick(CURRENCIES),
    "amount": _money,
    "plan": _pick(PLANS),
    "order_id": lambda rng, _: rng.choice(("ORD-", "#", "order ", "A")) + str(rng.randint(10_000, 9_999_999)),
    "invoice_id": _invoice_id,
    "txn_id": _txn_id,
    "ticket_ref": _digits("#", 10_000, 999_999),
    "card": _card,
    "payment_method": _pick(PAYMENT_METHODS),
    "relative_day": _pick(RELATIVE_DAYS),
    "date": _date,
    "month": _pick(MONTHS),
    "weekday": _pick(WEEKDAYS),
    "clock_time": _clock_time,
    "feature": _pick(FEATURES),
    "benefit": _pick(BENEFITS),
    "competitor": _pick(COMPETITORS),
    "area": _pick(AREAS),
    "action": _pick(ACTIONS),
    "data_type": _pick(DATA_TYPES),
    "file_format": _pick(FILE_FORMATS),
    "integration": _pick(INTEGRATIONS),
    "city": _pick(CITIES),
    "ip_address": _ip,
    "profile_field": _pick(PROFILE_FIELDS),
    "tenure": _pick(TENURES),
    "country": _pick(COUNTRIES),
    "language": _pick(LANGUAGES),
}


class Vars:
    """The placeholder values of one ticket, drawn lazily and remembered."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._values: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._values:
            self._values[name] = self._draw(name)
        return self._values[name]

    def _draw(self, name: str) -> str:
        if name in VOCABULARY:
            return VOCABULARY[name](self._rng, self)
        base = name.removesuffix("2")
        if base == name or base not in VOCABULARY:
            raise KeyError(f"unknown template variable {{{name}}}")
        taken = self(base)
        for _ in range(50):
            value = VOCABULARY[base](self._rng, self)
            if value != taken:
                return value
        raise ValueError(f"pool {base!r} has too few values for a distinct {{{name}}}")


def is_known(name: str) -> bool:
    """Whether a template may use ``{name}``."""
    return name in VOCABULARY or name.removesuffix("2") in VOCABULARY
