"""The product itself: bug_report (it misbehaves) and feature_request (it could do more)."""

from __future__ import annotations

from ticketlens.generator.model import Template

BUGS: tuple[Template, ...] = (
    Template(
        name="bug/crash",
        intent="bug_report",
        kind="complaint",
        urgency="medium",
        subjects=("[App|{product}] crashes when {action}", "Crash on {action}", "[Keeps|It keeps] crashing", "crash!!"),
        bodies=(
            "{product} crashes every time I try {action}. I'm on {os}, version {app_version}. [The error says|Last thing I see is] \"{error_message}\".",
            "Since [the last update|version {app_version}] the app closes itself [as soon as|whenever] I start {action}. "
            "[Reinstalled it, no change.|Restarting doesn't help.]",
            "Reproducible crash: open the {area}, start {action}, and [the whole window freezes and closes|it goes white and quits]. Happens every single time.",
        ),
        short=("app crashes when {action}", "{product} keeps crashing since the update", "crash every time i try {action}, v{app_version}"),
        details=(
            "Steps: 1) open the {area} 2) start {action} 3) crash. [Crash log attached.|I can send logs if you tell me where they are.]",
            "It worked fine in the previous version. [{os}, {device}.|Device: {device}, {os}.]",
        ),
        stakes=("deadline", "blocked", "team"),
        weight=1.4,
    ),
    Template(
        name="bug/sync",
        intent="bug_report",
        kind="complaint",
        urgency="medium",
        subjects=("{data_type} not syncing", "Sync [broken|stuck] between devices", "Changes [don't show up|missing] on my {device2}"),
        bodies=(
            "My {data_type} aren't syncing between my {device} and my {device2}. Changes I made on the {device} [this morning|yesterday|hours ago] still don't show on the {device2}.",
            "Sync has been stuck on \"syncing...\" {time_period}. New {data_type} I add on one device never appear on the other.",
        ),
        short=("{data_type} not syncing between {device} and {device2}", "sync stuck {time_period}"),
        details=("Version {app_version} on both. [Logged out and back in.|Sync log says {error_code}.]",),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="bug/export",
        intent="bug_report",
        kind="complaint",
        urgency="medium",
        subjects=("Export [broken|corrupted]", "{file_format} export doesn't open", "Empty export file"),
        bodies=(
            "When I export my {data_type} to {file_format} the file is [corrupted and won't open|empty, 0 KB|missing half the rows]. "
            "Tried {attempts} times with the same result.",
            "The {file_format} export from the {area} has [garbled characters|wrong dates|the columns shifted]. It used to work.",
        ),
        short=("{file_format} export is corrupted", "export gives an empty file"),
        stakes=("deadline",),
    ),
    Template(
        name="bug/cosmetic",
        intent="bug_report",
        kind="complaint",
        urgency="low",
        subjects=("Small UI glitch", "Typo on the {area}", "[Button|Text] overlapping on mobile", "Display issue in dark mode"),
        bodies=(
            "[Minor thing:|Not a big deal, but] on the {area} the [Save button overlaps the text|labels are cut off] on smaller screens.",
            "There's a typo on the {area}: it says \"[Recieve|Adress|Calender]\" instead of the correct spelling.",
            "In dark mode some of the text in the {area} is dark grey on black, so it's hard to read.",
        ),
        short=("typo on the {area} page", "button overlaps text in the {area} on my {device}", "dark mode makes some text unreadable"),
        details=("Screenshot attached. {browser}, {os}.",),
    ),
    Template(
        name="bug/notifications",
        intent="bug_report",
        kind="complaint",
        urgency="medium",
        subjects=("Notifications not [working|arriving]", "No [push|email] alerts", "Reminders stopped"),
        bodies=(
            "I haven't had any [push notifications|email alerts|reminders] {time_period}. Notifications are enabled in the app and on my {device}.",
            "Reminders fire [hours late|at the wrong time|twice] for my {data_type}. [I missed an appointment because of it.|Very confusing.]",
        ),
        short=("not getting any notifications {time_period}", "reminders arrive hours late"),
        stakes=("blocked",),
    ),
    Template(
        name="bug/slow",
        intent="bug_report",
        kind="complaint",
        urgency="medium",
        subjects=("Very slow", "[Dashboard|{area}] takes forever to load", "Performance [problem|degraded]"),
        bodies=(
            "The {area} takes [over a minute|30+ seconds|forever] to load {time_period}. It used to be instant. [Our internet is fine.|Other sites are fast.]",
            "Everything in {product} is really sluggish today, [typing lags|every click spins for seconds].",
        ),
        short=("{area} loading super slow", "app is painfully slow today"),
        stakes=("blocked", "team"),
    ),
    Template(
        name="bug/data_loss",
        intent="bug_report",
        kind="complaint",
        urgency="critical",
        subjects=("My data is gone", "{data_type} disappeared after update", "DATA LOSS", "Lost {count} {data_type}"),
        bodies=(
            "After [the update|syncing] {relative_day} {count} of my {data_type} are just gone. [Months of work.|This is everything we had.] "
            "Please tell me you have a backup.",
            "Everything in my {data_type} from the last [week|month|few days] has vanished from the account. The trash is empty.",
        ),
        short=("all my {data_type} disappeared after the update!!", "{count} {data_type} deleted by themselves, need them restored"),
        weight=0.7,
    ),
    Template(
        name="bug/outage",
        intent="bug_report",
        kind="complaint",
        urgency="critical",
        subjects=("[Site|Service|Everything] down?", "[URGENT|Urgent] - 500 errors everywhere", "Outage for all our users"),
        bodies=(
            "{product} is down for everyone at {company}. Every page returns \"{error_message}\" since {clock_time}. {team_size} people can't work.",
            "Is there an outage? Nothing loads, [the API returns 503 for every call|all our users see an error page]. [Status page says all green.|Your status page shows nothing.]",
        ),
        short=("is the service down? everything returns {error_message}", "outage - whole team can't use the app since {clock_time}"),
        weight=0.6,
    ),
    Template(
        name="bug/integration",
        intent="bug_report",
        kind="complaint",
        urgency="high",
        subjects=("{integration} integration stopped working", "{integration} sync [failing|broken]", "Webhooks not firing"),
        bodies=(
            "The {integration} integration stopped syncing {relative_day}. [New orders|New records] no longer show up and the log says {error_code}.",
            "Our webhooks haven't fired {time_period}, so [nothing reaches {integration}|our pipeline is stalled]. Reconnecting didn't help.",
        ),
        short=("{integration} integration broken, nothing syncs", "webhooks stopped firing"),
        stakes=("revenue", "team"),
    ),
    Template(
        name="bug/timezone",
        intent="bug_report",
        kind="complaint",
        urgency="low",
        subjects=("Times [off by an hour|wrong]", "Wrong time zone on {data_type}", "Dates shifted"),
        bodies=(
            "Since the clocks changed, all my {data_type} show an hour off. My time zone setting is correct.",
            "Due dates appear one day early for [people in our {country} office|some users]. Looks like a time zone bug.",
        ),
        short=("times are off by an hour since the clock change", "due dates show a day early"),
        stakes=("soon", "deadline"),
    ),
    Template(
        name="bug/search",
        intent="bug_report",
        kind="complaint",
        urgency="low",
        subjects=("Search [not finding|misses] things", "Search results wrong", "Filter broken"),
        bodies=(
            "Search doesn't find {data_type} that definitely exist. [I can see them in the list but searching the exact name gives nothing.|Only finds old ones.]",
            "Filtering by date in the {area} returns [nothing|everything] no matter what range I pick.",
        ),
        short=("search doesn't find my {data_type}", "date filter in {area} is broken"),
        stakes=("soon", "blocked"),
    ),
    Template(
        name="bug/fixed_thanks",
        intent="bug_report",
        kind="praise",
        urgency="low",
        subjects=("Re: crash", "Bug fixed - thanks!", "Re: {ticket_ref}"),
        bodies=(
            "Version {app_version} fixed the [crash|sync problem|export bug] I reported. Thanks for the quick fix, [great work|you're awesome]!",
            "Just confirming the problem is gone after the update. [Thanks to the team!|Appreciate you following up.]",
        ),
        short=("update fixed the bug, thanks!", "crash is gone in {app_version} - thank you"),
        tones=("polite", "neutral", "grateful"),
        weight=0.6,
    ),
)

FEATURES: tuple[Template, ...] = (
    Template(
        name="feature/add",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("Feature request: {feature}", "[Please add|Add] {feature}", "Suggestion", "idea: {feature}"),
        bodies=(
            "Could you add {feature}? [It would {benefit}.|We'd use it daily.]",
            "[It would be great|It'd be really useful] to have {feature} in {product}. [Any chance?|Is it on the roadmap?]",
            "One thing I'm missing is {feature}. [Right now I work around it with spreadsheets.|I have to do it by hand today.]",
        ),
        short=("please add {feature}", "any plans for {feature}?", "would love {feature}"),
        details=("Our use case: we're a team of {team_size} at {company} and this would {benefit}.",),
        stakes=("soon",),
        weight=1.4,
    ),
    Template(
        name="feature/competitor",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("{competitor} has {feature}", "Missing {feature}", "Will you support {feature}?"),
        bodies=(
            "{competitor} offers {feature} and [some of my team keep asking why we don't have it|it's the one thing we miss]. Are you planning it?",
            "We're [comparing you with|evaluating] {competitor}. The main gap is {feature}. Is it coming?",
        ),
        short=("{competitor} has {feature}, when will you?", "any plans for {feature} like {competitor} has?"),
        stakes=("soon",),
    ),
    Template(
        name="feature/integration",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("Integration with {integration}?", "[Request|Please build]: {integration} integration", "Connect to {integration}"),
        bodies=(
            "Do you plan an integration with {integration}? We [copy data between the two by hand|use Zapier as a workaround] and it's clumsy.",
            "Please add a native {integration} connector so our {data_type} flow there automatically.",
        ),
        short=("{integration} integration please", "any chance of a {integration} integration?"),
        stakes=("soon",),
    ),
    Template(
        name="feature/api",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("API [request|endpoint] for {data_type}", "Public API?", "Need an API to export {data_type}"),
        bodies=(
            "We'd like an API endpoint to [read|create|bulk update] {data_type}, so we can connect our own systems. Is that on the roadmap?",
            "Please expose {data_type} through the API with [pagination and a date filter|webhooks on change].",
        ),
        short=("please add an API for {data_type}", "need API access to {data_type}"),
        stakes=("soon",),
    ),
    Template(
        name="feature/permissions",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("More granular permissions", "Read-only role?", "[Request|Suggestion]: user roles"),
        bodies=(
            "We need a read-only role so [interns|contractors|clients] can see {data_type} but not delete them.",
            "Could admins restrict who can [export|delete] {data_type}? Right now everyone can.",
        ),
        short=("please add a read-only user role", "need finer permissions for {data_type}"),
        stakes=("soon",),
    ),
    Template(
        name="feature/language",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("{language} translation", "Support for {language}?", "Interface in {language}"),
        bodies=(
            "Most of our staff read {language} better than English. Could you add a {language} version of the interface?",
            "Is a {language} translation planned? [We'd happily help translate.|Our office in {country} would really benefit.]",
        ),
        short=("please add {language} language", "{language} translation when?"),
    ),
    Template(
        name="feature/mobile_parity",
        intent="feature_request",
        kind="request",
        urgency="low",
        subjects=("{area} on mobile", "Bring {feature} to the app", "Mobile app missing features"),
        bodies=(
            "The {area} exists on the web but not in the mobile app. Could you bring it to mobile? I'm on my {device} most of the day.",
            "Please add {feature} to the mobile app too, not just the desktop.",
        ),
        short=("want the {area} in the mobile app", "add {feature} to mobile please"),
    ),
    Template(
        name="feature/love_it_but",
        intent="feature_request",
        kind="praise",
        urgency="low",
        subjects=("Love it! One idea", "Great app - small suggestion", "Suggestion from a fan"),
        bodies=(
            "I've been using {product} for {tenure} and [absolutely love it|it's the best tool I pay for]. The one thing that would make it perfect is {feature}.",
            "Huge fan of the new {area}, [it's beautiful|it saves me so much time]. Next wish: {feature}!",
        ),
        short=("love the app! would be perfect with {feature}", "great work on the {area}, now please add {feature} :)"),
        tones=("polite", "neutral", "grateful"),
    ),
    Template(
        name="feature/roadmap_thanks",
        intent="feature_request",
        kind="praise",
        urgency="low",
        subjects=("Thanks for shipping {feature}", "{feature} - thank you!", "Re: feature request"),
        bodies=(
            "Thank you for adding {feature}, [it's exactly what we asked for|our team is thrilled]. Could the next step be {feature2}?",
            "Just saw {feature} in the release notes. [Brilliant, thanks for listening!|Love it.] If you ever add {feature2} too, even better.",
        ),
        short=("thanks for adding {feature}! {feature2} next? :)", "{feature} is great, thank you for listening"),
        tones=("polite", "neutral", "grateful"),
        weight=0.7,
    ),
    Template(
        name="feature/still_missing",
        intent="feature_request",
        kind="complaint",  # an exasperated "still no X??" is a complaint, so NEGATIVE in any tone
        urgency="low",
        subjects=("Why is there no {feature}?", "{feature} PLEASE", "Still no {feature}??"),
        bodies=(
            "It's {month} and there's still no {feature}. [This has been requested for years.|Everyone on the forum is asking.] Why is it so hard?",
            "I REALLY need {feature}. [Doing this by hand is painful.|Every other tool has it.]",
        ),
        short=("still no {feature}??", "PLEASE add {feature} already"),
    ),
)

TEMPLATES: tuple[Template, ...] = BUGS + FEATURES
