"""Questions, and mail that is not a support request at all: general_inquiry and other.

``other`` is deliberately varied: spam, chit-chat, auto-replies and mail meant for somebody
else, including stray complaints about another company, which sound like support tickets
but are not ours to act on (so their urgency is low).
"""

from __future__ import annotations

from ticketlens.generator.model import Template

INQUIRIES: tuple[Template, ...] = (
    Template(
        name="inquiry/plans",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("{plan} vs {plan2}?", "Question about plans", "Which plan do I need?", "Pricing question"),
        bodies=(
            "What's the difference between the {plan} and {plan2} plans? [We're a team of {team_size}.|It's just me for now.] Mostly we need {data_type} and reports.",
            "Does the {plan} plan include {feature}, or is that only on {plan2}?",
        ),
        short=("what's the difference between {plan} and {plan2}?", "does {plan} include {feature}?"),
        stakes=("soon",),
        weight=1.3,
    ),
    Template(
        name="inquiry/discount",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("[Student|Nonprofit|Education] discount?", "Discount for charities", "Pricing for schools"),
        bodies=(
            "Do you offer a discount for [students|nonprofits|registered charities|schools]? We're [a small charity in {country}|a university lab].",
            "Is there special pricing for [teachers|NGOs]? [The pricing page doesn't say.|I couldn't find it on the website.]",
        ),
        short=("do you have a student discount?", "any nonprofit pricing?"),
    ),
    Template(
        name="inquiry/contact",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Support hours?", "Phone number?", "How do I reach [sales|a person]?"),
        bodies=(
            "What are your support hours? Is there a phone number I can call, or is it email only?",
            "I'd like to talk to someone in sales about [a bigger plan|an invoice-based contract]. How do I book a call?",
        ),
        short=("what are your support hours", "is there a phone number for support?"),
    ),
    Template(
        name="inquiry/data_residency",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Where is our data hosted?", "Data residency [question|in the EU]", "Server location"),
        bodies=(
            "We're based in {country}. Where are your servers? Can we choose to keep our data in [the EU|our own region]?",
            "Which cloud provider and region do you host customer data in? [Our legal team asks.|Needed for our privacy notice.]",
        ),
        short=("where are your servers located?", "can we host our data in the EU?"),
        stakes=("soon",),
    ),
    Template(
        name="inquiry/platforms",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Does it work on {os}?", "Supported [devices|browsers]", "System requirements"),
        bodies=(
            "Does {product} run on {os}? [I'm thinking of switching.|Our office uses it.]",
            "Which browsers do you support? Some of our staff are on {browser}.",
        ),
        short=("does it work on {os}?", "is {browser} supported?"),
    ),
    Template(
        name="inquiry/how_to",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("How do I [share a folder|set up reminders|change the currency]?", "Quick question", "How to?", "[question|Question]"),
        bodies=(
            "How do I [share a folder with a client without giving them an account|add my logo to invoices|set up recurring tasks|change the default currency]? "
            "[I looked in the help centre but couldn't find it.|Couldn't see it in settings.]",
            "Is there a way to [import my {data_type} from a spreadsheet|print the {area}|move {data_type} between workspaces]?",
        ),
        short=("how do i add my logo to invoices?", "how can I import {data_type} from excel", "can I print the {area}?"),
        weight=1.4,
    ),
    Template(
        name="inquiry/limits",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Storage limits?", "Is there a limit on {data_type}?", "API rate limits"),
        bodies=(
            "Is there a limit on how many {data_type} I can store on the {plan} plan? [We have about {count} thousand.|We're growing fast.]",
            "What are the API rate limits? We'd be making about {count} requests a minute.",
        ),
        short=("how many {data_type} can I have on {plan}?", "what are the API rate limits?"),
    ),
    Template(
        name="inquiry/onboarding",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Training for our team?", "Onboarding [session|help]", "Do you offer demos?"),
        bodies=(
            "We're rolling {product} out to {team_size} people. Do you offer onboarding or training sessions?",
            "Can we book a live demo for our managers? [Next week would be ideal.|Any weekday works.]",
        ),
        short=("do you do onboarding sessions for teams?", "can we get a demo?"),
        stakes=("soon",),
    ),
    Template(
        name="inquiry/trial",
        intent="general_inquiry",
        kind="request",
        urgency="low",
        subjects=("Extend trial?", "Trial question", "What happens when my trial ends?"),
        bodies=(
            "Could you extend my trial by a week? [We're still evaluating with the team.|I was away for most of it.]",
            "What happens to my {data_type} when the free trial ends if I don't pay right away?",
        ),
        short=("can I extend my trial?", "what happens to my data after the trial ends?"),
        stakes=("soon",),
    ),
    Template(
        name="inquiry/fan_question",
        intent="general_inquiry",
        kind="praise",
        urgency="low",
        subjects=("Love it - quick question", "Referral program?", "Happy customer with a question"),
        bodies=(
            "Loving {product} so far, [it's made my week so much easier|best decision we made this year]! Quick question: do you have a referral program?",
            "Really enjoying the app. Is there a community forum or user group I can join?",
        ),
        short=("love the app! do you have a referral program?", "great product :) is there a user forum?"),
        tones=("polite", "neutral", "grateful"),
        weight=0.7,
    ),
)

OTHER: tuple[Template, ...] = (
    Template(
        name="other/seo_spam",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Boost your Google ranking", "Page 1 on Google guaranteed", "Partnership opportunity", "Quick question about your website"),
        bodies=(
            "Hello Webmaster, I noticed your website is not ranking for important keywords. Our SEO team can get you to page 1 of Google in 30 days, "
            "guaranteed. Reply \"YES\" for a free audit. Best regards, {full_name}, Digital Growth Expert",
            "Dear Sir/Madam, we offer high quality backlinks from DA 90+ sites at very competitive prices. [Packages start at {amount}.|Bulk discounts available.] "
            "Let me know if interested.",
        ),
        short=("We can put your site on page 1 of Google. Interested?", "Cheap high-DA backlinks, reply for price list"),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/crypto_spam",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Investment opportunity", "You have been selected", "Claim your reward"),
        bodies=(
            "Congratulations! You have been selected to receive {amount} in Bitcoin. To claim, send your wallet address and a small processing fee. "
            "Offer expires in 24 hours.",
            "Dear friend, I am a financial adviser with an exclusive crypto trading opportunity returning 40% monthly. Contact me on WhatsApp.",
        ),
        short=("Claim your free crypto reward now", "Earn 40% monthly with our trading bot"),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/guest_post",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Guest post", "Collaboration request", "Write for your blog?"),
        bodies=(
            "Hi there, I'm {full_name}, a freelance writer. I'd love to contribute a guest post to your blog on [productivity tips|remote work]. "
            "Would you accept a submission?",
            "Hey! I run a [podcast|YouTube channel] about small business tools. Would anyone from your team like to come on as a guest?",
        ),
        short=("would you accept a guest post on your blog?", "podcast guest invitation"),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/misdirected_memo",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Minutes from {weekday}", "Re: lunch", "Fwd: agenda", "Notes"),
        bodies=(
            "Hi {first_name2},\n\nAttached are the minutes from {weekday}'s meeting. [Please review before Friday.|Let me know if I missed anything.]\n\n{first_name}",
            "Hey {first_name2}, are we still on for lunch {weekday}? [Usual place at 12:30?|I can book a table.]",
            "[Mom|Hi Dad], the kids' school play is on {weekday} at 6. [Can you pick them up?|See you there!]",
        ),
        short=("{first_name2} can you send me the slides from today", "running 10 min late, start without me"),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/wrong_company",
        intent="other",
        kind="complaint",
        urgency="low",
        subjects=("Flight cancelled - compensation", "My [pizza|parcel] never came", "Complaint about your driver"),
        bodies=(
            "My flight to {city} was cancelled [at the gate|with two hours' notice] and nobody helped us find hotels. "
            "I want compensation for the [taxi|hotel] we paid. Booking {order_id}.",
            "Ordered a [pizza|large order] an hour and a half ago, still nothing, and the restaurant won't pick up the phone.",
            "Your driver was [rude|on his phone the whole time] and [missed our exit|dropped us at the wrong address]. I'd like my fare back.",
        ),
        short=("my flight got cancelled and I want compensation", "where is my pizza?? ordered 90 min ago"),
        tones=("neutral",),
        decorate=False,
        weight=0.6,
    ),
    Template(
        name="other/out_of_office",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Automatic reply: {ticket_ref}", "Out of office", "Auto-Reply: Re: your request"),
        bodies=(
            "I am out of the office until {weekday} with limited access to email. For urgent matters please contact {first_name2} at {work_email}.",
            "Thank you for your message. I'm currently on leave and will respond when I return.",
        ),
        short=("Out of office until {weekday}.", "Automatic reply: I am away with no email access."),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/hello",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("hi", "test", "(no subject)", "Hello", "?"),
        bodies=("hello?", "Hi, is anyone there?", "test message please ignore", "testing 1 2 3"),
        short=("hi", "test", "hello", "is this thing on", "."),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/bot_question",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("question", "are you real?", "random question"),
        bodies=(
            "Are you a real person or a bot?",
            "What's the weather going to be like in {city} this weekend?",
            "Can you recommend a good [pizza place|podcast|book] near {city}?",
            "How many calories are in a [banana|slice of pizza]?",
        ),
        short=("are you a bot", "what's the meaning of life", "tell me a joke"),
        tones=("neutral",),
        decorate=False,
    ),
    Template(
        name="other/have_a_nice_day",
        intent="other",
        kind="praise",
        urgency="low",
        subjects=("Have a great weekend", "Just saying hi", "Happy holidays!"),
        bodies=(
            "No question today, just wanted to say you're all [awesome|lovely people] and I hope you have a great weekend!",
            "Happy holidays to the whole team! [Thanks for a great year.|Enjoy the break.]",
        ),
        short=("have a nice day everyone :)", "happy friday, you folks rock"),
        tones=("polite", "neutral", "grateful"),
        decorate=False,
    ),
    Template(
        name="other/job_application",
        intent="other",
        kind="noise",
        urgency="low",
        subjects=("Application: {job_title}", "CV attached", "Open positions?"),
        bodies=(
            "Dear hiring manager, please find attached my CV for the {job_title} position. I have {tenure} of experience. Kind regards, {full_name}",
            "Hi, are you hiring? I'd love to work in customer support for you. My LinkedIn is attached.",
        ),
        short=("are you hiring?", "CV attached for the {job_title} role"),
        tones=("neutral",),
        decorate=False,
    ),
)

TEMPLATES: tuple[Template, ...] = INQUIRIES + OTHER
