"""Getting in and owning the account: login_issue, account_issue, security_concern."""

from __future__ import annotations

from ticketlens.generator.model import Template

LOGIN: tuple[Template, ...] = (
    Template(
        name="login/wrong_password",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=(
            "[Can't|Cannot|Unable to] [log in|sign in|login]",
            "Login not working",
            "Password not accepted",
            "[Problem|Issue|Trouble] [logging in|signing in]",
            "can't get into my account",
        ),
        bodies=(
            "I've been trying to [log in|sign in] {time_period} but I keep getting \"{login_error}\". "
            "I'm [sure|pretty sure|100% sure] the password is right[, I even reset it twice|]. My username is {username}.",
            "Every time I enter my [email|email address] and password on {product} it says \"{login_error}\" "
            "and sends me back to the [login page|start]. I've tried {attempts} times [now|already|].",
            "Since [yesterday|Monday|the update|last week] I can't [log into|sign into|get into] my account. "
            "Same password I've always used, and it [worked|was fine] on my {device} [last week|until recently]. "
            "[The error is|It just says] \"{login_error}\".",
        ),
        short=(
            "cant log in, keeps saying {login_error}",
            "Login broken for me {time_period}, [help|please help|what's going on]",
            "why can't I sign in?? password is correct",
            "[Can't|Cannot] log in to {product}: \"{login_error}\"",
        ),
        details=(
            "I'm using {browser} on {os}. [I cleared cookies and tried a private window|Tried another browser too], same result.",
            "The account is registered to {email}[, in case that helps|].",
        ),
        stakes=("deadline", "blocked"),
        weight=1.4,
    ),
    Template(
        name="login/reset_email",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=(
            "Password reset email [never arrives|not arriving|missing]",
            "[Reset|Password reset] link [doesn't work|expired|broken]",
            "Forgot password - no email",
        ),
        bodies=(
            "I [forgot|can't remember] my password and requested a reset {attempts} times, but the email never arrives. "
            "[I checked spam and promotions|Not in spam either]. The address on the account is {email}.",
            "The password reset link you sent me [says \"This link has expired\"|goes to a blank page|just loops back to the login screen] "
            "as soon as I click it. [I clicked it within a minute of getting it.|It was a fresh link.]",
            "Tried to reset my password {relative_day}. The [reset|recovery] email came but the [link|button] gives \"{error_message}\".",
        ),
        short=(
            "reset password email not coming, checked spam",
            "Password reset link [is broken|says expired] every time",
            "no reset email for {email}",
        ),
        details=("I'm [on|using] {os}, [mail is|my email is] with {email}.",),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="login/two_factor",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=(
            "2FA code [not arriving|never comes]",
            "[Lost|New] phone - can't get [2FA|verification] codes",
            "Two-factor [problem|locked out]",
            "verification code [invalid|not working]",
        ),
        bodies=(
            "[I got a new phone|I switched phones|My phone was reset] and now I can't log in because the authenticator codes are gone. "
            "[I don't have the backup codes.|I can't find my recovery codes.] How do I get back into my account?",
            "The SMS verification code [never arrives|arrives after it has already expired|is always rejected as invalid]. "
            "I've requested it {attempts} times {time_period}. [My number hasn't changed.|The number ends in {count}.]",
            "When I sign in it asks for a verification code, [I type it in right away|I enter it immediately] and it says \"Verification code is invalid\". "
            "[My phone clock is correct, I checked.|Already synced the time on my phone.]",
        ),
        short=(
            "not getting the 2fa text to log in",
            "new phone, lost my authenticator, can't log in",
            "verification code keeps saying invalid, cant sign in",
        ),
        details=("Account: {email}. [I can verify my identity however you need.|Happy to send ID if needed.]",),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="login/locked",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Account locked", "Locked out after [failed attempts|too many tries]", "[Please unlock|Unlock] my account"),
        bodies=(
            "I mistyped my password a few times and now [my account is locked|it says \"Your account has been locked\"]. "
            "I've been locked out {time_period}. Username {username}.",
            "[Got|I got] locked out after too many attempts. The message said to try again in 30 minutes but [it's been hours|that was {relative_day}]. "
            "Can you unlock it?",
            "My PIN got blocked after {attempts} wrong tries on {product}. How do I [unblock it|reset it]?",
        ),
        short=("my account is locked, please unlock", "locked out after wrong password, unlock pls", "pin blocked, how do i reset it"),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="login/sso_outage",
        intent="login_issue",
        kind="complaint",
        urgency="critical",
        subjects=(
            "SSO login [down|broken] for [our whole company|everyone]",
            "Nobody at {company} can sign in",
            "[URGENT|Urgent]: SAML sign-in failing for all users",
        ),
        bodies=(
            "Since {clock_time} nobody at {company} can sign in through SSO. Everyone gets \"{login_error}\". "
            "That's {team_size} people who can't [work|get into their accounts]. We didn't change anything on our side.",
            "Single sign-on stopped working for our entire organisation {time_period}. Our identity provider shows the logins as successful "
            "but {product} bounces everyone back with \"{login_error}\". {team_size} staff are locked out.",
        ),
        short=(
            "SSO is broken for our entire company, {team_size} people can't log in",
            "nobody in our org can log in via SSO since {clock_time}!!",
        ),
        details=("Our workspace is {company}, admin contact {work_email}. [We can jump on a call any time.|Call me if that's faster.]",),
        weight=0.6,
    ),
    Template(
        name="login/logout_loop",
        intent="login_issue",
        kind="complaint",
        urgency="low",
        subjects=("Keeps logging me out", "Session [expires|times out] constantly", "logged out every few minutes"),
        bodies=(
            "{product} keeps logging me out every [few minutes|10 minutes or so|time I switch tabs]. "
            "I have to sign in again [all the time|constantly], which is [really annoying|a pain]. It's been like this {time_period}.",
            "I tick \"remember me\" but [it never remembers me|I get \"Session expired, please log in again\"] the next day. On {browser}.",
        ),
        short=("app logs me out every few minutes", "why do I have to log in again every single time"),
        stakes=("blocked",),
    ),
    Template(
        name="login/identity_check",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Identity verification [failing|keeps failing]", "Can't verify my identity to log in", "ID check rejected"),
        bodies=(
            "When I log in you ask me to verify my identity, but my [ID photo|selfie|passport scan] gets rejected every time "
            "with \"We couldn't verify it's you\". I've tried {attempts} times in good light.",
            "I'm stuck on the identity check at sign-in. [It says the document is unreadable.|It just spins and then fails.] "
            "Why do I even need to verify again?",
        ),
        short=("identity verification keeps rejecting my ID so I can't log in", "stuck on verify-it's-you screen at login"),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="login/magic_link",
        intent="login_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Sign-in link [expired|doesn't work]", "Magic link login broken", "Email login link not working"),
        bodies=(
            "I use the emailed sign-in link to log in, but [every link says \"This link has expired\"|the link opens and then nothing happens]. "
            "I'm clicking it [straight away|within seconds] on my {device}.",
            "The login link in the email [takes me to an error page|shows \"{error_message}\"]. "
            "I don't have a password, that's the only way I can get in.",
        ),
        short=("login link from email says expired straight away", "magic link not logging me in"),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="login/which_email",
        intent="login_issue",
        kind="request",
        urgency="low",
        subjects=("Which email did I sign up with?", "Forgot my username", "Help [logging in|getting into my account]"),
        bodies=(
            "I haven't used {product} for a while and I don't remember which email [I signed up with|is on my account]. "
            "It might be {email} or {email2}. Can you tell me which one so I can log in?",
            "I forgot my username. [Could you|Can you] help me find it? My name is {full_name}[ and I was on the {plan} plan|].",
        ),
        short=("forgot which email my login uses, can you check?", "what's my username? can't remember"),
        details=("[No rush, I just want to get back in at some point.|Not urgent.]",),
    ),
    Template(
        name="login/back_in",
        intent="login_issue",
        kind="praise",
        urgency="low",
        subjects=("Re: Can't log in", "[Sorted|Solved|Fixed], thanks!", "Back in!", "Re: {ticket_ref}"),
        bodies=(
            "Just letting you know I'm back in, the [reset link|new verification code|unlock] worked [this time|after all]. "
            "Thanks [so much for the quick help|for sorting it|a lot]!",
            "[Update on my login problem|Follow-up to {ticket_ref}]: [your agent|{first_name2}] walked me through it and I can sign in again. "
            "[Really appreciate it.|Great support, thank you!]",
        ),
        short=("all good now, I can log in again, thanks!", "login works again - thank you!!"),
        tones=("polite", "neutral", "grateful"),
        weight=0.6,
    ),
)

ACCOUNT: tuple[Template, ...] = (
    Template(
        name="account/update_field",
        intent="account_issue",
        kind="complaint",
        urgency="low",
        subjects=(
            "Can't update my {profile_field}",
            "[Profile|Account settings] won't save",
            "{profile_field} change not saving",
        ),
        bodies=(
            "I'm trying to change my {profile_field} in [account settings|my profile] but when I hit save I get \"{error_message}\". "
            "Tried on my {device} and my {device2}, [same thing|no luck].",
            "Every time I update my {profile_field} it looks saved, but after a refresh the old one is back.",
        ),
        short=("can't change my {profile_field}, save does nothing", "profile won't save: {error_message}"),
        details=("[Browser|Using] {browser} on {os}.",),
        stakes=("soon",),
    ),
    Template(
        name="account/change_email",
        intent="account_issue",
        kind="request",
        urgency="low",
        subjects=("Change [account|login] email", "Update the email on my account", "New email address"),
        bodies=(
            "[I'm leaving {company}|I changed jobs|My old address is being shut down] so I need to move my account from {email} to {email2}. "
            "[How do I do that?|Can you change it for me?]",
            "Could you update the email address on my account? Old: {email}, new: {email2}. [Thanks.|]",
        ),
        short=("how do i change my account email to {email2}", "please switch my email to {email2}"),
        stakes=("soon",),
    ),
    Template(
        name="account/close",
        intent="account_issue",
        kind="request",
        urgency="low",
        subjects=("[Close|Delete|Cancel] my account", "Account deletion request", "Please remove my account"),
        bodies=(
            "Please [close|delete] my account ({email}) and [all the data attached to it|everything you store about me]. "
            "[Please confirm by email when it's done.|I'd like a confirmation once it's gone.]",
            "I won't be needing {product} anymore[ since we're switching to {competitor}|]. How do I delete my account for good?",
        ),
        short=("please delete my account", "how do I close my account", "remove my account and data pls"),
        details=("[Under GDPR|As is my right under GDPR], please also delete any backups within the legal time frame.",),
    ),
    Template(
        name="account/merge",
        intent="account_issue",
        kind="request",
        urgency="low",
        subjects=("Two accounts - please merge", "[Duplicate|Double] account", "Merge my accounts"),
        bodies=(
            "I [accidentally|somehow] ended up with two accounts, one under {email} and one under {email2}. "
            "Can you merge them so all my {data_type} are in one place?",
            "I signed up again by mistake with my work address. Is there a way to combine the two accounts?",
        ),
        short=("can you merge my 2 accounts ({email} and {email2})?", "made a duplicate account by mistake, can you merge them"),
        stakes=("soon",),
    ),
    Template(
        name="account/invite",
        intent="account_issue",
        kind="complaint",
        urgency="medium",
        subjects=("[Team|Workspace] invites not arriving", "Can't add a [colleague|user] to our account", "Invite [broken|fails]"),
        bodies=(
            "I invited {first_name2} to our workspace {attempts} times but the invite never arrives. "
            "[Not in spam.|They checked spam.] [Other invites worked before.|]",
            "When I try to add a new user under Settings > Team I get \"{error_message}\". We have seats left on the {plan} plan.",
        ),
        short=("invites to my team never arrive", "can't add a user to our account: {error_message}"),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="account/ownership",
        intent="account_issue",
        kind="request",
        urgency="medium",
        subjects=("Transfer account ownership", "Our admin left - need owner access", "Change [workspace|account] owner"),
        bodies=(
            "Our account owner {first_name2} [left the company|is on long leave] and nobody else has admin rights. "
            "How can we transfer ownership of the {company} account to me? I'm the {job_title}.",
            "We need to change the owner of our workspace from {first_name2}'s address to mine ({work_email}). What do you need from us?",
        ),
        short=("need to transfer account ownership, our admin left", "how do we change the account owner"),
        details=("[I can send a letter on company letterhead.|Our CEO can confirm by email.]",),
        stakes=("blocked", "deadline"),
    ),
    Template(
        name="account/suspended",
        intent="account_issue",
        kind="complaint",
        urgency="high",
        subjects=("Account suspended [without warning|for no reason]", "Why was my account [disabled|suspended]?", "Account deactivated"),
        bodies=(
            "I logged in {relative_day} and found my account suspended. [No email, no warning.|I never got any notice.] "
            "All my {data_type} are in there and I can't reach them. Why was it suspended?",
            "We got a message that our account is \"under review\" and everything is read-only. [Nobody told us why.|What did we do?] "
            "We rely on it [every day|for our whole business].",
        ),
        short=("my account got suspended with no explanation, I need my data", "why is my account disabled??"),
        stakes=("deadline", "revenue"),
    ),
    Template(
        name="account/data_export",
        intent="account_issue",
        kind="request",
        urgency="low",
        subjects=("Data access request", "Copy of my personal data", "GDPR [request|Article 15]"),
        bodies=(
            "Under GDPR I'd like a copy of all personal data you hold about me, account {email}. [A machine-readable file is fine.|CSV or JSON is fine.]",
            "Could you send me an export of everything stored on my account? [I'm not leaving, I just want a backup.|It's for my records.]",
        ),
        short=("please send me a copy of my personal data (GDPR)", "can I get an export of all my account data?"),
    ),
    Template(
        name="account/unsubscribe",
        intent="account_issue",
        kind="complaint",
        urgency="low",
        subjects=("Still getting emails after unsubscribing", "[Stop|Please stop] the newsletters", "Unsubscribe not working"),
        bodies=(
            "I unsubscribed from your marketing emails [twice|{relative_day}|weeks ago] and I'm still getting them. "
            "Please take {email} off [every list|all your mailing lists].",
            "The notification settings say all emails are off but I still get {count} emails a week from you.",
        ),
        short=("stop emailing me, I unsubscribed already", "unsubscribe link doesn't work"),
    ),
    Template(
        name="account/thanks",
        intent="account_issue",
        kind="praise",
        urgency="low",
        subjects=("Re: merge my accounts", "Thanks for the account fix", "Re: {ticket_ref}"),
        bodies=(
            "Thanks for [merging my accounts|updating my email|transferring the ownership] so quickly, everything is [in one place|working] now. "
            "[Great service.|You made that easy.]",
            "[Quick note|Just a note] to say the changes to my account went through [fine|perfectly]. [Much appreciated!|Thank you!]",
        ),
        short=("account change worked, thank you!", "thanks, my profile is fixed now"),
        tones=("polite", "neutral", "grateful"),
        weight=0.6,
    ),
)

SECURITY: tuple[Template, ...] = (
    Template(
        name="security/suspicious_login",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Login from [{city}|an unknown location]", "Suspicious sign-in - not me", "Someone logged into my account?"),
        bodies=(
            "I just got an alert about a new sign-in from {city} (IP {ip_address}) at {clock_time}. That wasn't me, I'm at home. "
            "[I changed my password right away.|What should I do?]",
            "My activity log shows logins from a {device} I don't own, {relative_day}. Has my account been compromised?",
        ),
        short=("got a login alert from {city}, that was NOT me", "someone else logged into my account from {ip_address}"),
        details=("[Please check what they accessed.|Can you tell me what they looked at?]",),
    ),
    Template(
        name="security/takeover",
        intent="security_concern",
        kind="complaint",
        urgency="critical",
        subjects=("My account was hacked", "[Someone|Somebody] changed my password and email", "HACKED ACCOUNT"),
        bodies=(
            "Someone got into my account, changed the password and the email address, and now I'm locked out. "
            "[They are still using it.|I can see they're sending messages as me.] Please freeze it now.",
            "My account has been taken over. I got an email that my address was changed to one I don't know, "
            "and [now my password doesn't work|my saved card is still on there]. Please help me get it back.",
        ),
        short=("my account was hacked, they changed my email, please lock it", "hacked! someone took over my account"),
        details=("The original email was {email}. [I can prove it's mine.|I have the old invoices.]",),
    ),
    Template(
        name="security/phishing",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Phishing email [using your name|pretending to be you]", "Is this email from you?", "Fake [invoice|login page] with your logo"),
        bodies=(
            "I received an email that looks like it's from you asking me to [confirm my card details|log in to avoid suspension|pay an overdue invoice]. "
            "The link goes to a [weird|strange] domain. [I didn't click it.|I'm afraid I typed my password in before noticing.]",
            "A few of our staff got a fake \"{product} security alert\" {relative_day} with a login link. Just so you know, someone is phishing your customers.",
        ),
        short=("got a phishing mail pretending to be you", "is this 'verify your account' email really from you? looks fake"),
    ),
    Template(
        name="security/unrequested_codes",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Getting codes I didn't request", "Verification codes [out of nowhere|I didn't ask for]", "Someone trying to log into my account?"),
        bodies=(
            "I keep getting login verification codes by text that I didn't ask for, {count} of them since {clock_time}. "
            "Is someone trying to get into my account?",
            "Password reset emails keep arriving for my account but I'm not the one requesting them.",
        ),
        short=("keep getting 2fa codes I didn't request", "someone is requesting password resets on my account"),
    ),
    Template(
        name="security/vulnerability",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Security vulnerability report", "[Responsible disclosure|Vulnerability]: XSS in {area}", "Possible security hole"),
        bodies=(
            "I found a [stored XSS|an IDOR|an open redirect] in the {area}: [a crafted name field runs script for anyone who views it|"
            "changing the id in the URL shows other users' records]. Where can I send details privately?",
            "While testing our integration I noticed the API returns other accounts' data if you change the account id. "
            "I haven't shared this anywhere. Do you have a security contact or bug bounty?",
        ),
        short=("found a security vulnerability in {area}, who do I report it to", "possible IDOR in your API, please give me a security contact"),
    ),
    Template(
        name="security/data_exposure",
        intent="security_concern",
        kind="complaint",
        urgency="critical",
        subjects=("I can see another customer's data", "Data leak: [other company's|someone else's] {data_type}", "Wrong account data showing"),
        bodies=(
            "When I opened the {area} this morning I saw {data_type} that belong to [another company|someone else], with their names and emails. "
            "[This is a serious privacy breach.|Someone could be seeing ours too.]",
            "Our export contained {count} {data_type} that aren't ours. If we can see theirs, who can see ours?",
        ),
        short=("I can see someone else's {data_type} in my account!", "your app is showing me other customers' data"),
    ),
    Template(
        name="security/leaked_key",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("API key leaked", "[Revoke|Please revoke] our API key", "Accidentally published credentials"),
        bodies=(
            "One of our developers pushed our API key to a public GitHub repo {relative_day}. Please revoke it [asap|right away] "
            "and tell me how to issue a new one.",
            "Our API token was exposed in a screenshot we posted publicly. Can you check whether it has been used from anywhere unusual?",
        ),
        short=("our api key got leaked on github, please revoke it", "exposed API token, need it revoked"),
    ),
    Template(
        name="security/unrecognised_charge",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Charge I don't recognise", "Unauthorised [payment|charge]", "Fraud on my card?"),
        bodies=(
            "There's a charge of {amount} from you on my {card} {date} that I didn't make. I don't even have a paid plan. "
            "Was my card [stolen|used by someone else]?",
            "I see {count} payments on my account that I never authorised. Somebody must have my details.",
        ),
        short=("unauthorised charge {amount} on my card from you, not me", "payment i didnt make on my account, fraud?"),
    ),
    Template(
        name="security/lost_device",
        intent="security_concern",
        kind="complaint",
        urgency="high",
        subjects=("Phone stolen - log me out everywhere", "Lost [laptop|phone] with the app signed in", "Remote sign-out"),
        bodies=(
            "My {device} was stolen {relative_day} and {product} was still logged in on it. Please sign it out and "
            "[make sure nobody can get in|block that session].",
            "I lost my phone on the train. Can you kill all sessions on my account? I can't find the option.",
        ),
        short=("my phone was stolen and the app is logged in, sign me out everywhere", "lost my laptop, please end all sessions"),
    ),
    Template(
        name="security/compliance_question",
        intent="security_concern",
        kind="request",
        urgency="low",
        subjects=("Security questionnaire", "SOC 2 report?", "Encryption [at rest|question]"),
        bodies=(
            "Our security team is reviewing vendors. Is customer data encrypted at rest and in transit, and can you share your SOC 2 report?",
            "Do you support enforcing two-factor authentication for all users in a workspace, and do you keep an audit log of logins?",
        ),
        short=("do you encrypt data at rest? need it for a security review", "can you send your SOC 2 report"),
        stakes=("soon",),
    ),
    Template(
        name="security/thanks",
        intent="security_concern",
        kind="praise",
        urgency="low",
        subjects=("Thanks for catching that", "Re: suspicious sign-in", "Re: {ticket_ref}"),
        bodies=(
            "Thank you for locking my account so quickly after that suspicious login. I've set up two-factor now. [Really impressed.|Great job.]",
            "Your team revoked the leaked key within minutes. [Excellent response, thank you.|Much appreciated.]",
        ),
        short=("thanks for locking my account so fast after the hack attempt!", "appreciate the quick security response"),
        tones=("polite", "neutral", "grateful"),
        weight=0.5,
    ),
)

TEMPLATES: tuple[Template, ...] = LOGIN + ACCOUNT + SECURITY
