"""Money moving and money owed: payment_issue (a payment that fails or does not arrive) and
billing_issue (what was charged, invoiced or refunded)."""

from __future__ import annotations

from ticketlens.generator.model import Template

PAYMENT: tuple[Template, ...] = (
    Template(
        name="payment/declined",
        intent="payment_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Card declined", "Payment [keeps failing|won't go through]", "Can't [upgrade|pay] - declined", "declined?!"),
        bodies=(
            "I'm trying to upgrade to {plan} but my {card} keeps getting declined with \"{decline_reason}\". "
            "My bank says [there's no problem on their side|they don't see any attempt].",
            "Payment fails every time at checkout: \"{decline_reason}\". I tried {attempts} times and [two different cards|{payment_method} as well].",
            "[Your|The] payment page rejects my card {time_period}. It worked fine last month[ for the same amount|].",
        ),
        short=("card keeps getting declined when I try to pay", "payment won't go through: {decline_reason}", "why is my card declined, bank says it's fine"),
        details=("Amount is {amount}. [I'm on {browser}.|Tried on my {device} too.]",),
        stakes=("deadline", "blocked"),
        weight=1.3,
    ),
    Template(
        name="payment/pending",
        intent="payment_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Payment stuck on pending", "[Still|Why is it still] pending?", "Pending payment of {amount}"),
        bodies=(
            "I paid {amount} {date} and it still shows as pending. [The money has left my account already.|My bank shows it as taken.] "
            "How long does this take?",
            "My top-up of {amount} has been pending {time_period}. [Usually it's instant.|Is something wrong?]",
        ),
        short=("my payment has been pending {time_period}", "top up stuck on pending, money already gone from my bank"),
        stakes=("deadline",),
    ),
    Template(
        name="payment/checkout_error",
        intent="payment_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Error at checkout", "Checkout broken when paying", "Pay button [does nothing|gives an error]"),
        bodies=(
            "When I click Pay on the checkout page I get \"{error_message}\" and nothing happens. Tried {payment_method} and a card.",
            "The payment form spins forever after I enter my card and then says \"{error_message}\". [I don't know if I was charged.|Was I charged or not?]",
        ),
        short=("checkout gives {error_message} when I click pay", "can't complete payment, pay button broken"),
        stakes=("deadline", "revenue"),
    ),
    Template(
        name="payment/transfer_missing",
        intent="payment_issue",
        kind="complaint",
        urgency="high",
        subjects=("Transfer not received", "[Money|Payment] never arrived", "Where is my transfer?"),
        bodies=(
            "I sent {amount} to {first_name2} {date} through {product} and they still haven't received it. "
            "[It shows as completed on my side.|Reference {txn_id}.] Where is the money?",
            "A transfer of {amount} to my supplier [bounced back|disappeared]. It left my balance but never reached them.",
        ),
        short=("sent {amount} {date}, recipient never got it", "transfer shows completed but money never arrived"),
        details=("Transaction ID {txn_id}.",),
        stakes=("deadline",),
    ),
    Template(
        name="payment/add_card",
        intent="payment_issue",
        kind="complaint",
        urgency="low",
        subjects=("Can't add a payment method", "New card won't save", "Update card [failing|error]"),
        bodies=(
            "My old card expired and I'm trying to add the new one, but the form says \"{error_message}\". "
            "[Tried {attempts} times.|Also tried {payment_method}, same error.]",
            "I can't add {payment_method} as a payment method, the button is greyed out.",
        ),
        short=("can't add my new card, form gives an error", "unable to update payment method"),
        stakes=("soon", "blocked"),
    ),
    Template(
        name="payment/renewal_failed",
        intent="payment_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Renewal payment failed", "Subscription renewal didn't go through", "Account will be suspended - payment failed"),
        bodies=(
            "I got an email that our {plan} renewal failed and the account will be [suspended|downgraded] in {count} days. "
            "[The card is valid and has funds.|Nothing changed on our card.] Please retry the charge.",
            "Our automatic payment failed with \"{decline_reason}\". I don't want to lose access, how do I pay manually?",
        ),
        short=("renewal payment failed but card is fine, please retry", "auto payment failed, don't want to lose access"),
        stakes=("team", "deadline"),
    ),
    Template(
        name="payment/paid_not_active",
        intent="payment_issue",
        kind="complaint",
        urgency="high",
        subjects=("Paid but still on free plan", "Upgrade paid, not applied", "Where is my {plan} plan?"),
        bodies=(
            "I paid {amount} for the {plan} plan {date} (transaction {txn_id}) but my account still shows the free plan. "
            "The money is gone from my card.",
            "My upgrade payment went through but none of the {plan} features are unlocked. [Logged out and in again.|Waited a day.]",
        ),
        short=("paid {amount} for {plan} but my account didn't upgrade", "payment taken, upgrade not applied"),
        stakes=("deadline", "blocked"),
    ),
    Template(
        name="payment/cancel_transfer",
        intent="payment_issue",
        kind="request",
        urgency="high",
        subjects=("Cancel a payment", "Stop my transfer please", "Sent money to the wrong account"),
        bodies=(
            "I just sent {amount} to the wrong recipient. Can you [cancel|stop] the transfer before it goes through? Reference {txn_id}.",
            "Please cancel the payment I made {clock_time}, I entered the wrong account number.",
        ),
        short=("wrong recipient! please cancel my transfer {txn_id}", "can you stop a payment I just made by mistake"),
    ),
    Template(
        name="payment/bank_transfer_unmatched",
        intent="payment_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Bank transfer not showing", "Invoice still unpaid after transfer", "Payment not applied to {invoice_id}"),
        bodies=(
            "We paid invoice {invoice_id} by bank transfer {date}, {amount}, but your system still shows it as unpaid "
            "and we keep getting reminders.",
            "Our wire for {amount} arrived on your side according to our bank, but the account balance hasn't updated.",
        ),
        short=("paid {invoice_id} by bank transfer, still shows unpaid", "bank transfer not reflected in my balance"),
        details=("[Remittance advice attached.|The reference we used was {invoice_id}.]",),
        stakes=("deadline",),
    ),
    Template(
        name="payment/thanks",
        intent="payment_issue",
        kind="praise",
        urgency="low",
        subjects=("Re: payment failed", "Payment went through, thanks", "Re: {ticket_ref}"),
        bodies=(
            "The payment went through on the second try. Thanks [for the help|for your patience], everything is [working|active] now!",
            "Just confirming the transfer arrived. [Thank you for chasing it.|You guys are great.]",
        ),
        short=("payment worked now, thank you!", "got the transfer, thanks for the help"),
        tones=("polite", "neutral", "grateful"),
        weight=0.5,
    ),
)

BILLING: tuple[Template, ...] = (
    Template(
        name="billing/double_charge",
        intent="billing_issue",
        kind="complaint",
        urgency="high",
        subjects=("Charged twice", "Double charge on my card", "[Duplicate|Two] charges for {month}", "billed 2x"),
        bodies=(
            "I was charged {amount} twice {date} for the same [subscription|order {order_id}]. "
            "[Two identical charges on my {card}.|My statement shows both.] Please refund the duplicate.",
            "You billed me two times this month. One payment should be {amount}, I see it twice. Reference {txn_id}.",
        ),
        short=("charged twice for {month}, refund the duplicate please", "double charge of {amount} on my card"),
        details=("Screenshot of my bank statement attached.",),
        weight=1.3,
    ),
    Template(
        name="billing/charged_after_cancel",
        intent="billing_issue",
        kind="complaint",
        urgency="high",
        subjects=("Charged after cancelling", "I cancelled but you still billed me", "Refund - cancelled subscription"),
        bodies=(
            "I cancelled my subscription {date} and got a confirmation, but you still charged me {amount} [this month|today]. "
            "I want that refunded.",
            "Why am I still being billed? I closed my account in {month}. This is the [second|third] charge since.",
        ),
        short=("I cancelled but you charged me {amount} anyway", "still being billed after cancelling, refund please"),
    ),
    Template(
        name="billing/refund_request",
        intent="billing_issue",
        kind="request",
        urgency="low",
        subjects=("Refund request", "Can I get a refund?", "Upgraded by mistake"),
        bodies=(
            "I [accidentally upgraded to {plan}|renewed for a year instead of a month] {date}. Could I get a refund of {amount}? "
            "[I haven't used any of the new features.|Happy to stay on the monthly plan.]",
            "I'd like to request a refund for {invoice_id}, we ended up not using the extra seats.",
        ),
        short=("can I get a refund for the upgrade, it was a mistake", "refund for {invoice_id} please"),
        stakes=("soon",),
    ),
    Template(
        name="billing/refund_missing",
        intent="billing_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Refund not received", "Where is my refund?", "Refund still not on my card"),
        bodies=(
            "Your team confirmed a refund of {amount} {date} but it still hasn't appeared on my {card}. It's been [two weeks|{count} days].",
            "The refund for order {order_id} was supposed to take 5-7 days. It's been much longer.",
        ),
        short=("refund of {amount} still not on my card", "where is my refund, it's been weeks"),
        stakes=("deadline",),
    ),
    Template(
        name="billing/wrong_amount",
        intent="billing_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Invoice {invoice_id} is wrong", "Incorrect invoice amount", "Overbilled in {month}"),
        bodies=(
            "My {month} invoice ({invoice_id}) says {amount}, but my plan is {amount2} a month. [Can you review it?|Please correct it.]",
            "We were billed for [more seats than we have|{count} extra seats we never added]. The invoice total is wrong.",
        ),
        short=("invoice {invoice_id} is for the wrong amount", "we're billed for seats we don't have"),
        stakes=("deadline",),
    ),
    Template(
        name="billing/unexpected_fee",
        intent="billing_issue",
        kind="complaint",
        urgency="medium",
        subjects=("What is this fee?", "Extra charge on my [statement|invoice]", "Unexpected [service|exchange] fee"),
        bodies=(
            "There's an extra {amount} \"service fee\" on this month's invoice that I don't understand. Nobody told me about any fee.",
            "I pay from my account in {country} and this month I got a currency conversion fee plus a bad exchange rate. That wasn't on the pricing page.",
        ),
        short=("why is there an extra fee on my invoice", "got charged a fee I wasn't told about"),
    ),
    Template(
        name="billing/receipt",
        intent="billing_issue",
        kind="request",
        urgency="low",
        subjects=("Receipt needed", "Invoice for {month}?", "[Need|Requesting] an invoice copy"),
        bodies=(
            "Could you send me an official receipt for my {month} payment of {amount}? It's for my expense report. Email: {email}.",
            "I can't find the invoice for {month} in my account. Can you send a PDF copy to {work_email}?",
        ),
        short=("need a receipt for {month} for expenses", "can you resend the {month} invoice"),
        stakes=("soon", "deadline"),
    ),
    Template(
        name="billing/vat",
        intent="billing_issue",
        kind="request",
        urgency="low",
        subjects=("VAT number on invoices", "Company details on invoice", "Reissue invoice {invoice_id}"),
        bodies=(
            "Please add our VAT number and company name ({company}) to our invoices and reissue {invoice_id}. Our accountant needs it.",
            "The invoices show my personal name instead of {company}. Can you change the billing details and reissue the last {count}?",
        ),
        short=("please add our VAT number to invoices", "need invoice {invoice_id} reissued with company name"),
        stakes=("soon",),
    ),
    Template(
        name="billing/price_increase",
        intent="billing_issue",
        kind="complaint",
        urgency="medium",
        subjects=("Price went up without notice", "Why did my bill increase?", "{plan} price increase"),
        bodies=(
            "My bill went from {amount} to {amount2} this month and I never got any notice. [That's not okay.|Why?]",
            "We were charged the new {plan} price even though we're on an annual contract at the old rate.",
        ),
        short=("my bill went up with no notice", "charged new price despite annual contract"),
    ),
    Template(
        name="billing/proration",
        intent="billing_issue",
        kind="request",
        urgency="low",
        subjects=("Question about my next bill", "How is proration calculated?", "Downgrade billing question"),
        bodies=(
            "I moved from {plan} to {plan2} in the middle of the month. How will my next invoice be calculated? Do I get credit for the unused days?",
            "If I remove {count} seats today, when does the lower price start on my bill?",
        ),
        short=("how will I be billed if I downgrade mid-month?", "do I get credit for unused days after downgrading"),
    ),
    Template(
        name="billing/thanks",
        intent="billing_issue",
        kind="praise",
        urgency="low",
        subjects=("Refund received", "Re: charged twice", "Re: {ticket_ref}"),
        bodies=(
            "The refund arrived today. Thank you for sorting it out so quickly[, and for being so nice about it|]!",
            "Got the corrected invoice, [perfect|exactly what we needed]. Thanks for the fast turnaround.",
        ),
        short=("refund arrived, thanks a lot!", "corrected invoice received, thank you"),
        tones=("polite", "neutral", "grateful"),
        weight=0.6,
    ),
)

TEMPLATES: tuple[Template, ...] = PAYMENT + BILLING
